#include "runtime/storage_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include <fmt/format.h>

namespace chaosbench::targets {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void write_all(int descriptor, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(descriptor, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno(what);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void sync_directory(const std::filesystem::path& directory) {
  const int descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (descriptor < 0) throw_errno(fmt::format("open directory {}", directory.string()));
  if (::fsync(descriptor) != 0) {
    ::close(descriptor);
    throw_errno(fmt::format("fsync directory {}", directory.string()));
  }
  ::close(descriptor);
}

// The directory holding path ("." for a bare file name).
std::filesystem::path parent_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

class PosixAppendableFile final : public AppendableFile {
 public:
  explicit PosixAppendableFile(std::filesystem::path path) : path_(std::move(path)) {
    // Not O_APPEND: Linux's pwrite on an O_APPEND file ignores the offset.
    descriptor_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (descriptor_ < 0) throw_errno(fmt::format("open {}", path_.string()));
    if (::lseek(descriptor_, 0, SEEK_END) < 0) {
      ::close(descriptor_);
      throw_errno(fmt::format("seek {}", path_.string()));
    }
  }
  ~PosixAppendableFile() override { ::close(descriptor_); }
  void append(std::string_view bytes) override {
    write_all(descriptor_, bytes, fmt::format("write {}", path_.string()));
  }
  void write_at(std::uint64_t offset, std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t written = ::pwrite(descriptor_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
      if (written < 0) {
        if (errno == EINTR) continue;
        throw_errno(fmt::format("write {}", path_.string()));
      }
      bytes.remove_prefix(static_cast<std::size_t>(written));
      offset += static_cast<std::uint64_t>(written);
    }
  }
  void sync() override {
    if (::fdatasync(descriptor_) != 0) throw_errno(fmt::format("fdatasync {}", path_.string()));
  }

 private:
  std::filesystem::path path_;
  int descriptor_ = -1;
};

class PosixStorageEnv final : public StorageEnv {
 public:
  std::optional<std::string> read_file(const std::filesystem::path& path) override {
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) {
      if (errno == ENOENT) return std::nullopt;
      throw_errno(fmt::format("open {}", path.string()));
    }
    std::string contents;
    char chunk[1 << 16];
    while (true) {
      const ssize_t count = ::read(descriptor, chunk, sizeof chunk);
      if (count < 0) {
        if (errno == EINTR) continue;
        ::close(descriptor);
        throw_errno(fmt::format("read {}", path.string()));
      }
      if (count == 0) break;
      contents.append(chunk, static_cast<std::size_t>(count));
    }
    ::close(descriptor);
    return contents;
  }

  // A file this call creates is durable only once its directory entry is:
  // the parent directory is synced (a power loss may otherwise drop the
  // whole file, fsynced data and all).
  std::unique_ptr<AppendableFile> open_appendable(const std::filesystem::path& path) override {
    std::error_code error;
    const bool existed = std::filesystem::exists(path, error);
    auto file = std::make_unique<PosixAppendableFile>(path);
    if (!existed) sync_directory(parent_of(path));
    return file;
  }

  void truncate_file(const std::filesystem::path& path, std::uint64_t size, bool sync) override {
    const int descriptor = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (descriptor < 0) throw_errno(fmt::format("open {}", path.string()));
    if (::ftruncate(descriptor, static_cast<off_t>(size)) != 0) {
      ::close(descriptor);
      throw_errno(fmt::format("truncate {}", path.string()));
    }
    if (sync && ::fsync(descriptor) != 0) {
      ::close(descriptor);
      throw_errno(fmt::format("fsync {}", path.string()));
    }
    ::close(descriptor);
  }

  void replace_file(const std::filesystem::path& path, std::string_view contents, bool sync) override {
    const auto temporary = std::filesystem::path(path.string() + ".tmp");
    const int descriptor = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (descriptor < 0) throw_errno(fmt::format("open {}", temporary.string()));
    write_all(descriptor, contents, fmt::format("write {}", temporary.string()));
    if (sync && ::fsync(descriptor) != 0) {
      ::close(descriptor);
      throw_errno(fmt::format("fsync {}", temporary.string()));
    }
    ::close(descriptor);
    std::filesystem::rename(temporary, path);
    if (sync) sync_directory(parent_of(path));
  }

  // Each directory created is synced into its parent, top down.
  void create_directories(const std::filesystem::path& path) override {
    std::vector<std::filesystem::path> missing;
    for (auto directory = path; !directory.empty() && !std::filesystem::exists(directory);
         directory = directory.parent_path()) {
      missing.push_back(directory);
      if (directory == directory.parent_path()) break;
    }
    std::filesystem::create_directories(path);
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) sync_directory(parent_of(*it));
  }
};

}  // namespace

StorageEnv& posix_storage_env() {
  static PosixStorageEnv env;
  return env;
}

}  // namespace chaosbench::targets
