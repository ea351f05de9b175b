#include "chaosbench/nemesis/faultfs/fault_filesystem.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/falloc.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

#include <fmt/format.h>

namespace chaosbench::nemesis::faultfs {
namespace {

int negative_errno() { return -errno; }

// Strips the leading "/" FUSE paths carry.
std::string relative(const std::string& path) {
  std::size_t start = 0;
  while (start < path.size() && path[start] == '/') ++start;
  return path.substr(start);
}

std::string read_range(int descriptor, std::uint64_t offset, std::uint64_t length) {
  std::string bytes(length, '\0');
  std::size_t done = 0;
  while (done < length) {
    const ssize_t count = ::pread(descriptor, bytes.data() + done, length - done, static_cast<off_t>(offset + done));
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    done += static_cast<std::size_t>(count);
  }
  bytes.resize(done);
  return bytes;
}

void write_range(int descriptor, std::uint64_t offset, const std::string& bytes, const std::string& what) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t count =
        ::pwrite(descriptor, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) throw FaultError(fmt::format("faultfs: cannot write back {}: {}", what, std::strerror(errno)));
    done += static_cast<std::size_t>(count);
  }
}

std::uint64_t size_of(int descriptor) {
  struct stat attributes {};
  if (::fstat(descriptor, &attributes) != 0) return 0;
  return static_cast<std::uint64_t>(attributes.st_size);
}

// An open descriptor closed when it goes out of scope.
struct Descriptor {
  int value = -1;
  explicit Descriptor(int descriptor) : value(descriptor) {}
  ~Descriptor() {
    if (value >= 0) ::close(value);
  }
  Descriptor(Descriptor&& other) noexcept : value(other.value) { other.value = -1; }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
};

Descriptor open_or_throw(const std::filesystem::path& path, int flags) {
  Descriptor descriptor(::open(path.c_str(), flags | O_CLOEXEC));
  if (descriptor.value < 0)
    throw FaultError(fmt::format("faultfs: cannot open {}: {}", path.string(), std::strerror(errno)));
  return descriptor;
}

}  // namespace

nlohmann::json LossReport::to_json() const {
  nlohmann::json changed = nlohmann::json::array();
  for (const auto& file : files) {
    changed.push_back({{"path", file.path},
                       {"size_before", file.size_before},
                       {"size_after", file.size_after},
                       {"bytes_restored", file.bytes_restored}});
  }
  return {{"files", changed}, {"entries_dropped", entries_dropped}, {"entries_restored", entries_restored}};
}

OperationSet parse_operation_set(const std::string& text) {
  OperationSet set;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string word = text.substr(start, end - start);
    if (word == "read") {
      set.read = true;
    } else if (word == "write") {
      set.write = true;
    } else if (word == "fsync") {
      set.fsync = true;
    } else if (word == "all") {
      set = {true, true, true};
    } else {
      throw FaultError(fmt::format("unknown operation '{}' (known: read, write, fsync, all)", word));
    }
    start = end + 1;
  }
  return set;
}

std::optional<MetadataDurability> parse_metadata_durability(const std::string& text) {
  if (text == "strict") return MetadataDurability::strict;
  if (text == "journaled") return MetadataDurability::journaled;
  return std::nullopt;
}

FaultFilesystem::FaultFilesystem(std::filesystem::path backing, std::filesystem::path state, std::uint64_t seed,
                                 MetadataDurability metadata)
    : backing_(std::move(backing) / "."),  // "/.": a magic link (/proc/self/fd/N) is followed even by lstat
      state_(std::move(state)),
      kept_files_(state_ / "kept"),
      kept_directories_(state_ / "kept-directories"),
      random_(seed),
      metadata_(metadata) {
  std::error_code error;
  if (!std::filesystem::is_directory(backing_, error))
    throw FaultError(fmt::format("faultfs: backing directory {} does not exist", backing_.string()));
  for (const auto& directory : {kept_files_, kept_directories_}) {
    std::filesystem::remove_all(directory, error);
    std::filesystem::create_directories(directory, error);
    if (error) throw FaultError(fmt::format("faultfs: cannot create {}: {}", directory.string(), error.message()));
  }
  struct stat backing_attributes {};
  struct stat state_attributes {};
  if (::stat(backing_.c_str(), &backing_attributes) != 0 || ::stat(state_.c_str(), &state_attributes) != 0 ||
      backing_attributes.st_dev != state_attributes.st_dev) {
    throw FaultError(fmt::format("faultfs: state directory {} must be on the same file system as {}", state_.string(),
                                 backing_.string()));
  }
}

FaultFilesystem::~FaultFilesystem() {
  for (auto& [number, handle] : handles_) ::close(handle.descriptor);
}

std::string FaultFilesystem::backing_path(const std::string& path) const {
  const std::string rest = relative(path);
  return rest.empty() ? backing_.string() : (backing_ / rest).string();
}

std::filesystem::path FaultFilesystem::parent_of(const std::string& path) const {
  return std::filesystem::path("/" + relative(path)).parent_path();
}

FaultFilesystem::Entries FaultFilesystem::list_directory(const std::filesystem::path& directory) const {
  Entries entries;
  DIR* stream = ::opendir(directory.c_str());
  if (!stream) return entries;
  while (const dirent* item = ::readdir(stream)) {
    const std::string name = item->d_name;
    if (name == "." || name == "..") continue;
    const auto path = directory / name;
    struct stat attributes {};
    if (::lstat(path.c_str(), &attributes) != 0) continue;
    Entry entry{Entry::Type::file, attributes.st_ino, {}};
    if (S_ISDIR(attributes.st_mode)) {
      entry.type = Entry::Type::directory;
    } else if (S_ISLNK(attributes.st_mode)) {
      entry.type = Entry::Type::symlink;
      char target[4096];
      const ssize_t length = ::readlink(path.c_str(), target, sizeof target);
      if (length > 0) entry.symlink_target.assign(target, static_cast<std::size_t>(length));
    }
    entries.emplace(name, std::move(entry));
  }
  ::closedir(stream);
  return entries;
}

void FaultFilesystem::reference(const Entries& entries, int delta) {
  for (const auto& [name, entry] : entries) {
    if (entry.type == Entry::Type::symlink) continue;
    int& count = snapshot_references_[entry.inode];
    count += delta;
    if (count > 0) continue;
    snapshot_references_.erase(entry.inode);
    std::error_code error;
    const auto kept = (entry.type == Entry::Type::file ? kept_files_ : kept_directories_) / std::to_string(entry.inode);
    std::filesystem::remove(kept, error);
  }
}

int FaultFilesystem::remember_directory(const std::string& directory_path) {
  struct stat attributes {};
  const std::string path = backing_path(directory_path);
  if (::lstat(path.c_str(), &attributes) != 0) return negative_errno();
  if (!S_ISDIR(attributes.st_mode)) return -ENOTDIR;
  if (directory_snapshots_.count(attributes.st_ino)) return 0;
  Entries entries = list_directory(path);
  reference(entries, +1);
  directory_snapshots_.emplace(attributes.st_ino, std::move(entries));
  return 0;
}

int FaultFilesystem::keep_if_durable(const std::string& path) {
  struct stat attributes {};
  const std::string full = backing_path(path);
  if (::lstat(full.c_str(), &attributes) != 0) return negative_errno();
  if (S_ISDIR(attributes.st_mode) || S_ISLNK(attributes.st_mode)) return 0;
  if (!snapshot_references_.count(attributes.st_ino)) return 0;
  const auto kept = kept_files_ / std::to_string(attributes.st_ino);
  if (::link(full.c_str(), kept.c_str()) != 0 && errno != EEXIST) return negative_errno();
  return 0;
}

FaultFilesystem::FileState& FaultFilesystem::file_state(ino_t inode) { return files_[inode]; }

void FaultFilesystem::record_overwrite(int descriptor, FileState& state, std::uint64_t offset, std::uint64_t length) {
  if (!state.dirty) {
    state.dirty = true;
    state.synced_size = size_of(descriptor);
    state.undo.clear();
  }
  if (offset >= state.synced_size || length == 0) return;
  const std::uint64_t end = std::min(offset + length, state.synced_size);
  std::string bytes = read_range(descriptor, offset, end - offset);
  if (!bytes.empty()) state.undo.push_back({offset, std::move(bytes)});
}

void FaultFilesystem::mark_synced(int descriptor, FileState& state) {
  state.dirty = false;
  state.undo.clear();
  state.last_write.reset();
  state.synced_size = size_of(descriptor);
}

int FaultFilesystem::lookup_handle(std::uint64_t handle, Handle& result) {
  auto found = handles_.find(handle);
  if (found == handles_.end()) return -EBADF;
  if (found->second.generation != generation_) return -EIO;  // opened before a power loss
  result = found->second;
  return 0;
}

void FaultFilesystem::wait_if_slow(bool OperationSet::*operation) {
  std::chrono::milliseconds delay{0};
  {
    std::lock_guard lock(mutex_);
    if (delay_operations_.*operation) delay = delay_;
  }
  if (delay.count() > 0) std::this_thread::sleep_for(delay);  // not holding the lock
}

int FaultFilesystem::injected(const OperationSet& applies, bool OperationSet::*operation) {
  if (error_probability_ <= 0 || !(applies.*operation)) return 0;
  if (std::uniform_real_distribution<double>(0, 1)(random_) < error_probability_) return -EIO;
  return 0;
}

// --- file operations ---

int FaultFilesystem::getattr(const std::string& path, struct stat* attributes) {
  return ::lstat(backing_path(path).c_str(), attributes) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::fgetattr(std::uint64_t number, struct stat* attributes) {
  std::lock_guard lock(mutex_);
  auto found = handles_.find(number);
  if (found == handles_.end()) return -EBADF;
  return ::fstat(found->second.descriptor, attributes) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::readlink(const std::string& path, std::string& target) {
  char buffer[4096];
  const ssize_t length = ::readlink(backing_path(path).c_str(), buffer, sizeof buffer);
  if (length < 0) return negative_errno();
  target.assign(buffer, static_cast<std::size_t>(length));
  return 0;
}

int FaultFilesystem::mkdir(const std::string& path, mode_t mode) {
  std::lock_guard lock(mutex_);
  if (space_left_ && *space_left_ == 0) return -ENOSPC;
  if (int result = remember_parent(path)) return result;
  const std::string full = backing_path(path);
  if (::mkdir(full.c_str(), mode) != 0) return negative_errno();
  struct stat attributes {};
  if (::lstat(full.c_str(), &attributes) != 0) return negative_errno();
  auto stale = directory_snapshots_.find(attributes.st_ino);
  if (stale != directory_snapshots_.end()) {
    reference(stale->second, -1);
    directory_snapshots_.erase(stale);
  }
  directory_snapshots_.emplace(attributes.st_ino, Entries{});  // new: no durable entries yet
  return 0;
}

int FaultFilesystem::mknod(const std::string& path, mode_t mode, dev_t device) {
  std::lock_guard lock(mutex_);
  if (space_left_ && *space_left_ == 0) return -ENOSPC;
  if (int result = remember_parent(path)) return result;
  const std::string full = backing_path(path);
  if (::mknod(full.c_str(), mode, device) != 0) return negative_errno();
  struct stat attributes {};
  if (::lstat(full.c_str(), &attributes) == 0) files_[attributes.st_ino] = FileState{true, 0, {}, {}};
  return 0;
}

int FaultFilesystem::unlink(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (int result = remember_parent(path)) return result;
  if (int result = keep_if_durable(path)) return result;
  return ::unlink(backing_path(path).c_str()) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::rmdir(const std::string& path) {
  std::lock_guard lock(mutex_);
  const std::string full = backing_path(path);
  struct stat attributes {};
  if (::lstat(full.c_str(), &attributes) != 0) return negative_errno();
  if (!S_ISDIR(attributes.st_mode)) return -ENOTDIR;
  if (!list_directory(full).empty()) return -ENOTEMPTY;
  if (int result = remember_parent(path)) return result;
  if (snapshot_references_.count(attributes.st_ino)) {
    // A durable entry still names it: keep the inode (and its snapshot) alive.
    const auto kept = kept_directories_ / std::to_string(attributes.st_ino);
    return ::rename(full.c_str(), kept.c_str()) == 0 ? 0 : negative_errno();
  }
  if (::rmdir(full.c_str()) != 0) return negative_errno();
  auto snapshot = directory_snapshots_.find(attributes.st_ino);
  if (snapshot != directory_snapshots_.end()) {
    reference(snapshot->second, -1);
    directory_snapshots_.erase(snapshot);
  }
  return 0;
}

int FaultFilesystem::symlink(const std::string& target, const std::string& path) {
  std::lock_guard lock(mutex_);
  if (int result = remember_parent(path)) return result;
  return ::symlink(target.c_str(), backing_path(path).c_str()) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::rename(const std::string& from, const std::string& to, unsigned int flags) {
  std::lock_guard lock(mutex_);
  if (flags & ~static_cast<unsigned int>(RENAME_NOREPLACE)) return -EINVAL;  // RENAME_EXCHANGE, WHITEOUT
  const std::string source = backing_path(from);
  const std::string destination = backing_path(to);
  struct stat source_attributes {};
  if (::lstat(source.c_str(), &source_attributes) != 0) return negative_errno();
  struct stat victim {};
  const bool replaces = ::lstat(destination.c_str(), &victim) == 0;
  if (replaces) {
    if (flags & RENAME_NOREPLACE) return -EEXIST;
    if (victim.st_ino == source_attributes.st_ino) return 0;  // the same file: rename does nothing
    if (S_ISDIR(victim.st_mode) && !S_ISDIR(source_attributes.st_mode)) return -EISDIR;
    if (!S_ISDIR(victim.st_mode) && S_ISDIR(source_attributes.st_mode)) return -ENOTDIR;
    if (S_ISDIR(victim.st_mode) && !list_directory(destination).empty()) return -ENOTEMPTY;
  }
  if (int result = remember_parent(from)) return result;
  if (int result = remember_parent(to)) return result;
  if (replaces) {
    if (S_ISDIR(victim.st_mode)) {
      if (snapshot_references_.count(victim.st_ino)) {
        const auto kept = kept_directories_ / std::to_string(victim.st_ino);
        if (::rename(destination.c_str(), kept.c_str()) != 0) return negative_errno();
      }
    } else if (int result = keep_if_durable(to)) {
      return result;
    }
  }
  return ::rename(source.c_str(), destination.c_str()) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::link(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  if (int result = remember_parent(to)) return result;
  return ::link(backing_path(from).c_str(), backing_path(to).c_str()) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::chmod(const std::string& path, mode_t mode) {
  return ::chmod(backing_path(path).c_str(), mode) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::chown(const std::string& path, uid_t user, gid_t group) {
  return ::lchown(backing_path(path).c_str(), user, group) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::utimens(const std::string& path, const struct timespec times[2]) {
  return ::utimensat(AT_FDCWD, backing_path(path).c_str(), times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::truncate(const std::string& path, off_t size) {
  Descriptor descriptor(::open(backing_path(path).c_str(), O_RDWR | O_CLOEXEC));
  if (descriptor.value < 0) return negative_errno();
  std::lock_guard lock(mutex_);
  struct stat attributes {};
  if (::fstat(descriptor.value, &attributes) != 0) return negative_errno();
  FileState& state = file_state(attributes.st_ino);
  const auto current = static_cast<std::uint64_t>(attributes.st_size);
  record_overwrite(descriptor.value, state, static_cast<std::uint64_t>(size),
                   current > static_cast<std::uint64_t>(size) ? current - static_cast<std::uint64_t>(size) : 0);
  state.last_write.reset();
  return ::ftruncate(descriptor.value, size) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::ftruncate(std::uint64_t number, off_t size) {
  std::lock_guard lock(mutex_);
  Handle handle;
  if (int result = lookup_handle(number, handle)) return result;
  FileState& state = file_state(handle.inode);
  const std::uint64_t current = size_of(handle.descriptor);
  record_overwrite(handle.descriptor, state, static_cast<std::uint64_t>(size),
                   current > static_cast<std::uint64_t>(size) ? current - static_cast<std::uint64_t>(size) : 0);
  state.last_write.reset();
  return ::ftruncate(handle.descriptor, size) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::open(const std::string& path, int flags, std::uint64_t& number) {
  std::lock_guard lock(mutex_);
  // Read-write whatever the caller asked: the old bytes of an overwrite are read
  // back for the undo record (the kernel enforces the caller's access mode).
  const std::string full = backing_path(path);
  const int base = flags & ~(O_APPEND | O_TRUNC | O_CREAT | O_ACCMODE);
  int descriptor = ::open(full.c_str(), base | O_RDWR | O_CLOEXEC);
  if (descriptor < 0 && (errno == EACCES || errno == EISDIR || errno == EROFS))
    descriptor = ::open(full.c_str(), (flags & ~(O_APPEND | O_TRUNC | O_CREAT)) | O_CLOEXEC);
  if (descriptor < 0) return negative_errno();
  struct stat attributes {};
  ::fstat(descriptor, &attributes);
  if ((flags & O_TRUNC) && attributes.st_size > 0) {
    FileState& state = file_state(attributes.st_ino);
    record_overwrite(descriptor, state, 0, static_cast<std::uint64_t>(attributes.st_size));
    state.last_write.reset();
    if (::ftruncate(descriptor, 0) != 0) {
      const int error = errno;
      ::close(descriptor);
      return -error;
    }
  }
  number = next_handle_++;
  handles_[number] = Handle{descriptor, attributes.st_ino, flags, generation_};
  return 0;
}

int FaultFilesystem::create(const std::string& path, mode_t mode, int flags, std::uint64_t& number) {
  std::unique_lock lock(mutex_);
  const std::string full = backing_path(path);
  struct stat existing {};
  if (::lstat(full.c_str(), &existing) == 0) {
    if (flags & O_EXCL) return -EEXIST;
    lock.unlock();
    return open(path, flags & ~O_CREAT, number);
  }
  if (space_left_ && *space_left_ == 0) return -ENOSPC;
  if (int result = remember_parent(path)) return result;
  const int descriptor =
      ::open(full.c_str(), (flags & ~(O_APPEND | O_TRUNC | O_ACCMODE)) | O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (descriptor < 0) return negative_errno();
  struct stat attributes {};
  ::fstat(descriptor, &attributes);
  files_[attributes.st_ino] = FileState{true, 0, {}, {}};  // never synced: empty after a power loss
  number = next_handle_++;
  handles_[number] = Handle{descriptor, attributes.st_ino, flags, generation_};
  return 0;
}

long FaultFilesystem::read(std::uint64_t number, char* buffer, std::size_t size, off_t offset) {
  wait_if_slow(&OperationSet::read);
  int descriptor = -1;
  {
    std::lock_guard lock(mutex_);
    if (int error = injected(error_operations_, &OperationSet::read)) return error;
    Handle handle;
    if (int result = lookup_handle(number, handle)) return result;
    descriptor = handle.descriptor;
  }
  const ssize_t count = ::pread(descriptor, buffer, size, offset);
  return count < 0 ? negative_errno() : count;
}

long FaultFilesystem::write(std::uint64_t number, const char* buffer, std::size_t size, off_t offset) {
  wait_if_slow(&OperationSet::write);
  std::lock_guard lock(mutex_);
  if (int error = injected(error_operations_, &OperationSet::write)) return error;
  Handle handle;
  if (int result = lookup_handle(number, handle)) return result;
  if (space_left_) {
    if (*space_left_ == 0) return -ENOSPC;
    size = static_cast<std::size_t>(std::min<std::uint64_t>(size, *space_left_));
  }
  FileState& state = file_state(handle.inode);
  const auto start = static_cast<std::uint64_t>(offset);
  record_overwrite(handle.descriptor, state, start, size);
  LastWrite last;
  last.offset = start;
  last.length = size;
  last.size_before = size_of(handle.descriptor);
  if (start < last.size_before)
    last.bytes_before = read_range(handle.descriptor, start, std::min<std::uint64_t>(size, last.size_before - start));
  const ssize_t written = ::pwrite(handle.descriptor, buffer, size, offset);
  if (written < 0) return negative_errno();
  last.length = static_cast<std::uint64_t>(written);
  state.last_write = std::move(last);
  if (space_left_) *space_left_ -= static_cast<std::uint64_t>(written);
  if (handle.flags & (O_SYNC | O_DSYNC)) {
    if (::fdatasync(handle.descriptor) != 0) return negative_errno();
    mark_synced(handle.descriptor, state);
  }
  return written;
}

int FaultFilesystem::fsync(std::uint64_t number, bool data_only) {
  wait_if_slow(&OperationSet::fsync);
  std::lock_guard lock(mutex_);
  if (int error = injected(error_operations_, &OperationSet::fsync)) return error;
  Handle handle;
  if (int result = lookup_handle(number, handle)) return result;
  if ((data_only ? ::fdatasync(handle.descriptor) : ::fsync(handle.descriptor)) != 0) return negative_errno();
  mark_synced(handle.descriptor, file_state(handle.inode));
  if (metadata_ == MetadataDurability::journaled) commit_all_directories();
  return 0;
}

void FaultFilesystem::commit_all_directories() {
  for (auto& [inode, entries] : directory_snapshots_) reference(entries, -1);
  directory_snapshots_.clear();
}

int FaultFilesystem::fallocate(std::uint64_t number, int mode, off_t offset, off_t length) {
  std::lock_guard lock(mutex_);
  Handle handle;
  if (int result = lookup_handle(number, handle)) return result;
  FileState& state = file_state(handle.inode);
  if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) {
    const std::uint64_t current = size_of(handle.descriptor);
    const auto start = static_cast<std::uint64_t>(offset);
    // Collapse and insert move every byte after the offset.
    const bool shifts = mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE);
    record_overwrite(handle.descriptor, state, start,
                     shifts ? (current > start ? current - start : 0) : static_cast<std::uint64_t>(length));
  } else {
    record_overwrite(handle.descriptor, state, 0, 0);  // the size may grow
  }
  state.last_write.reset();
  return ::fallocate(handle.descriptor, mode, offset, length) == 0 ? 0 : negative_errno();
}

int FaultFilesystem::release(std::uint64_t number) {
  std::lock_guard lock(mutex_);
  auto found = handles_.find(number);
  if (found == handles_.end()) return -EBADF;
  ::close(found->second.descriptor);
  handles_.erase(found);
  return 0;
}

int FaultFilesystem::fsync_directory(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (int error = injected(error_operations_, &OperationSet::fsync)) return error;
  const std::string full = backing_path(path);
  Descriptor descriptor(::open(full.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (descriptor.value < 0) return negative_errno();
  if (::fsync(descriptor.value) != 0) return negative_errno();
  struct stat attributes {};
  if (::fstat(descriptor.value, &attributes) != 0) return negative_errno();
  if (metadata_ == MetadataDurability::journaled) {
    commit_all_directories();
    return 0;
  }
  auto snapshot = directory_snapshots_.find(attributes.st_ino);
  if (snapshot != directory_snapshots_.end()) {
    // Its current entries are durable now; they name inodes that exist.
    Entries entries = std::move(snapshot->second);
    directory_snapshots_.erase(snapshot);
    reference(entries, -1);
  }
  return 0;
}

int FaultFilesystem::statfs(struct statvfs* result) {
  if (::statvfs(backing_.c_str(), result) != 0) return negative_errno();
  std::lock_guard lock(mutex_);
  if (space_left_ && result->f_bsize > 0) {
    const auto blocks = static_cast<fsblkcnt_t>(*space_left_ / result->f_bsize);
    result->f_bavail = std::min(result->f_bavail, blocks);
    result->f_bfree = std::min(result->f_bfree, blocks);
  }
  return 0;
}

int FaultFilesystem::readdir(const std::string& path,
                             const std::function<void(const std::string&, const struct stat&)>& entry) {
  const std::string full = backing_path(path);
  DIR* stream = ::opendir(full.c_str());
  if (!stream) return negative_errno();
  while (const dirent* item = ::readdir(stream)) {
    struct stat attributes {};
    const std::string name = item->d_name;
    if (::fstatat(dirfd(stream), item->d_name, &attributes, AT_SYMLINK_NOFOLLOW) != 0) continue;
    entry(name, attributes);
  }
  ::closedir(stream);
  return 0;
}

int FaultFilesystem::access(const std::string& path, int mask) {
  return ::access(backing_path(path).c_str(), mask) == 0 ? 0 : negative_errno();
}

// --- faults ---

namespace {
// Every path under root (relative, "a/b"), with the inode behind it.
struct TreeListing {
  std::map<ino_t, std::string> file_paths;       // first path naming each non-directory inode
  std::map<ino_t, std::string> directory_paths;  // root is ""
  std::set<std::string> paths;
};

TreeListing list_tree(const std::filesystem::path& root) {
  TreeListing listing;
  struct stat root_attributes {};
  if (::lstat(root.c_str(), &root_attributes) == 0) listing.directory_paths[root_attributes.st_ino] = "";
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(root, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    // Lexical: resolving links here could walk back into the mount itself.
    const std::string path = it->path().lexically_relative(root).string();
    struct stat attributes {};
    if (::lstat(it->path().c_str(), &attributes) != 0) continue;
    listing.paths.insert(path);
    if (S_ISDIR(attributes.st_mode)) {
      listing.directory_paths[attributes.st_ino] = path;
    } else {
      listing.file_paths.emplace(attributes.st_ino, path);
    }
  }
  return listing;
}
}  // namespace

LossReport FaultFilesystem::lose_unsynced(bool torn_tails) {
  std::lock_guard lock(mutex_);
  LossReport report;
  const TreeListing before = list_tree(backing_);
  auto source_of = [&](ino_t inode) -> std::optional<std::filesystem::path> {
    auto found = before.file_paths.find(inode);
    if (found != before.file_paths.end()) return backing_ / found->second;
    const auto kept = kept_files_ / std::to_string(inode);
    std::error_code error;
    if (std::filesystem::exists(std::filesystem::symlink_status(kept, error))) return kept;
    return std::nullopt;
  };

  // 1. File contents back to their last fsync.
  for (auto& [inode, state] : files_) {
    if (!state.dirty) continue;
    const auto source = source_of(inode);
    if (!source) continue;  // no durable entry names it: it vanishes with the tree below
    Descriptor descriptor = open_or_throw(*source, O_RDWR);
    LossReport::FileChange change;
    auto named = before.file_paths.find(inode);
    change.path = named != before.file_paths.end() ? named->second : fmt::format("(removed inode {})", inode);
    change.size_before = size_of(descriptor.value);
    for (auto undo = state.undo.rbegin(); undo != state.undo.rend(); ++undo) {
      write_range(descriptor.value, undo->offset, undo->bytes, change.path);
      change.bytes_restored += undo->bytes.size();
    }
    std::uint64_t size_after = state.synced_size;
    if (torn_tails && change.size_before > state.synced_size)
      size_after += std::uniform_int_distribution<std::uint64_t>(0, change.size_before - state.synced_size)(random_);
    if (::ftruncate(descriptor.value, static_cast<off_t>(size_after)) != 0)
      throw FaultError(fmt::format("faultfs: cannot truncate {}: {}", change.path, std::strerror(errno)));
    change.size_after = size_after;
    if (change.size_before != change.size_after || change.bytes_restored > 0) report.files.push_back(change);
  }

  // 2. The durable tree, built in a staging directory from hard links.
  const auto staging = state_ / "staging";
  std::error_code error;
  std::filesystem::remove_all(staging, error);
  std::filesystem::create_directory(staging, error);
  if (error) throw FaultError(fmt::format("faultfs: cannot create {}: {}", staging.string(), error.message()));
  std::set<std::string> after;
  auto durable_entries = [&](ino_t directory) {
    auto snapshot = directory_snapshots_.find(directory);
    if (snapshot != directory_snapshots_.end()) return snapshot->second;
    auto current = before.directory_paths.find(directory);
    if (current == before.directory_paths.end()) return Entries{};
    return list_directory(current->second.empty() ? backing_ : backing_ / current->second);
  };
  // A directory renamed from one directory to another, where both were synced at
  // different times, is named durably in two places; a directory lives in one.
  // It stays where it is now if that entry is durable, else at its first durable
  // entry met (depth first, by name).
  std::map<std::string, ino_t> directory_at;
  for (const auto& [inode, path] : before.directory_paths) directory_at[path] = inode;
  auto durable_where_it_is = [&](ino_t directory) -> std::optional<std::pair<ino_t, std::string>> {
    auto current = before.directory_paths.find(directory);
    if (current == before.directory_paths.end() || current->second.empty()) return std::nullopt;
    const std::filesystem::path path = current->second;
    const ino_t parent = directory_at[path.has_parent_path() ? path.parent_path().string() : ""];
    const std::string name = path.filename().string();
    const Entries entries = durable_entries(parent);
    auto entry = entries.find(name);
    if (entry == entries.end() || entry->second.inode != directory) return std::nullopt;
    return std::make_pair(parent, name);
  };
  std::set<ino_t> directories_built;
  std::function<void(ino_t, const std::filesystem::path&, const std::string&)> build =
      [&](ino_t directory, const std::filesystem::path& into, const std::string& prefix) {
        const Entries entries = durable_entries(directory);
        for (const auto& [name, entry] : entries) {
          if (entry.type == Entry::Type::directory) {
            if (directories_built.count(entry.inode)) continue;
            const auto stays = durable_where_it_is(entry.inode);
            if (stays && *stays != std::make_pair(directory, name)) continue;
            directories_built.insert(entry.inode);
          }
          const auto target = into / name;
          const std::string path = prefix.empty() ? name : prefix + "/" + name;
          after.insert(path);
          if (entry.type == Entry::Type::symlink) {
            if (::symlink(entry.symlink_target.c_str(), target.c_str()) != 0)
              throw FaultError(fmt::format("faultfs: cannot restore symlink {}: {}", path, std::strerror(errno)));
          } else if (entry.type == Entry::Type::directory) {
            mode_t mode = 0755;
            struct stat attributes {};
            if (auto current = before.directory_paths.find(entry.inode);
                current != before.directory_paths.end() &&
                ::lstat((backing_ / current->second).c_str(), &attributes) == 0) {
              mode = attributes.st_mode & 07777;
            }
            if (::mkdir(target.c_str(), mode) != 0)
              throw FaultError(fmt::format("faultfs: cannot restore directory {}: {}", path, std::strerror(errno)));
            build(entry.inode, target, path);
          } else {
            const auto source = source_of(entry.inode);
            if (!source)
              throw FaultError(
                  fmt::format("faultfs: the durable entry {} names inode {}, which nothing keeps", path, entry.inode));
            if (::link(source->c_str(), target.c_str()) != 0)
              throw FaultError(fmt::format("faultfs: cannot restore {}: {}", path, std::strerror(errno)));
          }
        }
      };
  struct stat root_attributes {};
  if (::lstat(backing_.c_str(), &root_attributes) != 0)
    throw FaultError(fmt::format("faultfs: cannot stat {}: {}", backing_.string(), std::strerror(errno)));
  build(root_attributes.st_ino, staging, "");

  // 3. Swap: the backing directory's entries replaced by the staged ones.
  for (const auto& item : std::filesystem::directory_iterator(backing_)) {
    std::filesystem::remove_all(item.path(), error);
    if (error) throw FaultError(fmt::format("faultfs: cannot remove {}: {}", item.path().string(), error.message()));
  }
  for (const auto& item : std::filesystem::directory_iterator(staging)) {
    std::filesystem::rename(item.path(), backing_ / item.path().filename(), error);
    if (error) throw FaultError(fmt::format("faultfs: cannot move {} back: {}", item.path().string(), error.message()));
  }
  std::filesystem::remove_all(staging, error);

  for (const auto& path : before.paths) {
    if (!after.count(path)) report.entries_dropped.push_back(path);
  }
  for (const auto& path : after) {
    if (!before.paths.count(path)) report.entries_restored.push_back(path);
  }

  files_.clear();
  directory_snapshots_.clear();
  snapshot_references_.clear();
  for (const auto& directory : {kept_files_, kept_directories_}) {
    std::filesystem::remove_all(directory, error);
    std::filesystem::create_directories(directory, error);
  }
  ++generation_;
  return report;
}

nlohmann::json FaultFilesystem::tear(const std::string& glob) {
  std::lock_guard lock(mutex_);
  const TreeListing listing = list_tree(backing_);
  std::vector<std::pair<ino_t, std::string>> candidates;
  for (const auto& [inode, state] : files_) {
    if (!state.dirty || !state.last_write || state.last_write->length == 0) continue;
    auto path = listing.file_paths.find(inode);
    if (path == listing.file_paths.end()) continue;
    if (::fnmatch(glob.c_str(), path->second.c_str(), 0) == 0) candidates.emplace_back(inode, path->second);
  }
  if (candidates.empty()) return nullptr;
  std::sort(candidates.begin(), candidates.end());
  const auto& [inode, path] = candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(random_)];
  FileState& state = files_[inode];
  const LastWrite last = *state.last_write;
  const std::uint64_t kept = std::uniform_int_distribution<std::uint64_t>(0, last.length - 1)(random_);
  Descriptor descriptor = open_or_throw(backing_ / path, O_RDWR);
  if (kept < last.bytes_before.size())
    write_range(descriptor.value, last.offset + kept, last.bytes_before.substr(kept), path);
  if (last.offset + last.length > last.size_before) {
    const std::uint64_t size = std::max(last.size_before, last.offset + kept);
    if (::ftruncate(descriptor.value, static_cast<off_t>(size)) != 0)
      throw FaultError(fmt::format("faultfs: cannot truncate {}: {}", path, std::strerror(errno)));
  }
  state.last_write.reset();
  ++generation_;
  return {{"file", path}, {"offset", last.offset}, {"length", last.length}, {"kept", kept}};
}

nlohmann::json FaultFilesystem::corrupt(const std::string& glob, const std::string& mode, std::uint64_t count) {
  if (mode != "bitflip" && mode != "zero" && mode != "truncate")
    throw FaultError(fmt::format("unknown corruption mode '{}' (known: bitflip, zero, truncate)", mode));
  if (count == 0) throw FaultError("corrupt: count must be at least 1");
  std::lock_guard lock(mutex_);
  const TreeListing listing = list_tree(backing_);
  std::vector<std::string> candidates;
  for (const auto& [inode, path] : listing.file_paths) {
    struct stat attributes {};
    if (::lstat((backing_ / path).c_str(), &attributes) != 0 || !S_ISREG(attributes.st_mode) || attributes.st_size == 0)
      continue;
    if (::fnmatch(glob.c_str(), path.c_str(), 0) == 0) candidates.push_back(path);
  }
  if (candidates.empty()) throw FaultError(fmt::format("corrupt: no non-empty file matches '{}'", glob));
  std::sort(candidates.begin(), candidates.end());
  const std::string path = candidates[std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(random_)];
  Descriptor descriptor = open_or_throw(backing_ / path, O_RDWR);
  const std::uint64_t size = size_of(descriptor.value);
  nlohmann::json result = {{"file", path}, {"mode", mode}, {"size", size}};
  if (mode == "bitflip") {
    std::vector<std::uint64_t> bits;
    for (std::uint64_t flip = 0; flip < count; ++flip) {
      const std::uint64_t bit = std::uniform_int_distribution<std::uint64_t>(0, size * 8 - 1)(random_);
      std::string byte = read_range(descriptor.value, bit / 8, 1);
      byte[0] = static_cast<char>(byte[0] ^ (1 << (bit % 8)));
      write_range(descriptor.value, bit / 8, byte, path);
      bits.push_back(bit);
    }
    result["bits"] = bits;
  } else if (mode == "zero") {
    const std::uint64_t offset = std::uniform_int_distribution<std::uint64_t>(0, size - 1)(random_);
    const std::uint64_t length = std::min(count, size - offset);
    write_range(descriptor.value, offset, std::string(length, '\0'), path);
    result["range"] = {offset, length};
  } else {
    const std::uint64_t cut = std::min(count, size);
    if (::ftruncate(descriptor.value, static_cast<off_t>(size - cut)) != 0)
      throw FaultError(fmt::format("faultfs: cannot truncate {}: {}", path, std::strerror(errno)));
    result["range"] = {size - cut, cut};
  }
  return result;
}

void FaultFilesystem::set_error(OperationSet operations, double probability) {
  if (probability < 0 || probability > 1)
    throw FaultError(fmt::format("error probability {} is not between 0 and 1", probability));
  std::lock_guard lock(mutex_);
  error_operations_ = operations;
  error_probability_ = probability;
}

void FaultFilesystem::set_space_left(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  space_left_ = bytes;
}

void FaultFilesystem::set_delay(OperationSet operations, std::chrono::milliseconds delay) {
  if (delay.count() < 0) throw FaultError("delay must not be negative");
  std::lock_guard lock(mutex_);
  delay_operations_ = operations;
  delay_ = delay;
}

void FaultFilesystem::clear_faults() {
  std::lock_guard lock(mutex_);
  error_operations_ = {};
  error_probability_ = 0;
  space_left_.reset();
  delay_operations_ = {};
  delay_ = std::chrono::milliseconds(0);
}

nlohmann::json FaultFilesystem::status() {
  std::lock_guard lock(mutex_);
  std::uint64_t unsynced_files = 0;
  std::uint64_t undo_bytes = 0;
  for (const auto& [inode, state] : files_) {
    if (!state.dirty) continue;
    ++unsynced_files;
    for (const auto& undo : state.undo) undo_bytes += undo.bytes.size();
  }
  auto names = [](const OperationSet& set) {
    std::vector<std::string> result;
    if (set.read) result.push_back("read");
    if (set.write) result.push_back("write");
    if (set.fsync) result.push_back("fsync");
    return result;
  };
  nlohmann::json faults = nlohmann::json::object();
  if (error_probability_ > 0)
    faults["error"] = {{"operations", names(error_operations_)}, {"probability", error_probability_}};
  if (space_left_) faults["full"] = {{"space_left", *space_left_}};
  if (delay_.count() > 0) faults["slow"] = {{"operations", names(delay_operations_)}, {"delay_ms", delay_.count()}};
  return {{"metadata", metadata_ == MetadataDurability::strict ? "strict" : "journaled"},
          {"unsynced_files", unsynced_files},
          {"overwritten_synced_bytes", undo_bytes},
          {"dirty_directories", directory_snapshots_.size()},
          {"open_handles", handles_.size()},
          {"faults", faults}};
}

}  // namespace chaosbench::nemesis::faultfs
