// FaultFilesystem: the core of faultfs. Every file operation a process makes
// on the mount is performed on a backing directory and recorded: per file, what
// was written since its last fsync (undo records of overwritten synced bytes,
// the synced size); per directory, its entries as of its last fsync. From that
// it can put the tree back exactly into its last synced state (lose_unsynced,
// a power loss), tear the last write of a file, corrupt a file, and make
// operations fail (EIO, ENOSPC) or slow. File operations return 0 / a count or
// -errno, as FUSE wants; fault operations throw FaultError. Thread-safe.
#pragma once

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace chaosbench::nemesis::faultfs {

class FaultError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Which operations an injected error or delay applies to.
struct OperationSet {
  bool read = false;
  bool write = false;
  bool fsync = false;
  bool any() const { return read || write || fsync; }
};

// What lose_unsynced did, for the history: files whose contents went back,
// and directory entries that vanished or came back.
struct LossReport {
  struct FileChange {
    std::string path;
    std::uint64_t size_before = 0;
    std::uint64_t size_after = 0;
    std::uint64_t bytes_restored = 0;  // overwritten synced bytes written back
  };
  std::vector<FileChange> files;
  std::vector<std::string> entries_dropped;   // in the tree before, not after
  std::vector<std::string> entries_restored;  // not in the tree before, back after
  nlohmann::json to_json() const;
};

// When a directory entry (create, rename, unlink, mkdir, ...) becomes durable.
// strict: when its directory is fsynced (POSIX). journaled: also when any file
// or directory is fsynced, as a metadata journal commits every pending
// namespace change at once (ext4's data=ordered, XFS).
enum class MetadataDurability { strict, journaled };
std::optional<MetadataDurability> parse_metadata_durability(const std::string& text);

class FaultFilesystem {
 public:
  // backing: the directory the mount shows. state: a directory on the same
  // file system, outside backing, for hard links that keep removed files alive
  // while a durable entry still names them. seed: every random choice.
  FaultFilesystem(std::filesystem::path backing, std::filesystem::path state, std::uint64_t seed,
                  MetadataDurability metadata = MetadataDurability::strict);
  ~FaultFilesystem();
  FaultFilesystem(const FaultFilesystem&) = delete;
  FaultFilesystem& operator=(const FaultFilesystem&) = delete;

  // --- file operations; paths are relative to the mount ("/a/b" or "a/b") ---
  int getattr(const std::string& path, struct stat* attributes);
  int fgetattr(std::uint64_t handle, struct stat* attributes);
  int readlink(const std::string& path, std::string& target);
  int mkdir(const std::string& path, mode_t mode);
  int mknod(const std::string& path, mode_t mode, dev_t device);
  int unlink(const std::string& path);
  int rmdir(const std::string& path);
  int symlink(const std::string& target, const std::string& path);
  int rename(const std::string& from, const std::string& to, unsigned int flags);
  int link(const std::string& from, const std::string& to);
  int chmod(const std::string& path, mode_t mode);
  int chown(const std::string& path, uid_t user, gid_t group);
  int truncate(const std::string& path, off_t size);
  int ftruncate(std::uint64_t handle, off_t size);
  int utimens(const std::string& path, const struct timespec times[2]);
  // open/create give a handle for read/write/fsync/release.
  int open(const std::string& path, int flags, std::uint64_t& handle);
  int create(const std::string& path, mode_t mode, int flags, std::uint64_t& handle);
  long read(std::uint64_t handle, char* buffer, std::size_t size, off_t offset);
  long write(std::uint64_t handle, const char* buffer, std::size_t size, off_t offset);
  int fsync(std::uint64_t handle, bool data_only);
  int fallocate(std::uint64_t handle, int mode, off_t offset, off_t length);
  int release(std::uint64_t handle);
  int fsync_directory(const std::string& path);
  int statfs(struct statvfs* result);
  // Calls entry(name, attributes) for each entry of the directory, "." and ".." first.
  int readdir(const std::string& path, const std::function<void(const std::string&, const struct stat&)>& entry);
  int access(const std::string& path, int mask);

  // --- faults ---
  // Power loss: every file back to its contents at its last fsync (never
  // synced: empty), every directory back to its entries at its last fsync
  // (entries made since vanish, entries removed since come back). Handles
  // opened before it fail with EIO afterwards (the process that had them is
  // gone). The synced state becomes the new state. torn_tails: of what was
  // appended past a file's synced size, a seeded random prefix survives (the
  // disk wrote some of the tail, in order, before the power went), so a log's
  // last record may be cut anywhere.
  LossReport lose_unsynced(bool torn_tails = false);
  // A write torn at a crash: of the files whose last write is not yet synced
  // (those whose relative path matches `glob`, fnmatch), one is drawn, and of
  // its last write only a seeded random prefix is kept; the rest of that write
  // is undone. Other unsynced data stays. Returns what it did (null: no file
  // had an unsynced last write).
  nlohmann::json tear(const std::string& glob);
  // Corrupts one regular non-empty file matching glob, drawn: mode "bitflip"
  // (flip `count` bits), "zero" (zero `count` bytes from a random offset) or
  // "truncate" (cut the last `count` bytes, at most the whole file). Returns
  // {"file","mode",...offsets or ranges}; throws FaultError when no file matches.
  nlohmann::json corrupt(const std::string& glob, const std::string& mode, std::uint64_t count);
  // From now on, read/write/fsync in `operations` fail with EIO with this probability.
  void set_error(OperationSet operations, double probability);
  // Writes past `bytes` more bytes fail with ENOSPC (a write that crosses it is short).
  void set_space_left(std::uint64_t bytes);
  // Every operation in `operations` sleeps this long first.
  void set_delay(OperationSet operations, std::chrono::milliseconds delay);
  // Clears error, full and slow.
  void clear_faults();
  // {"unsynced_files","overwritten_synced_bytes","dirty_directories","open_handles","faults":{...}}
  nlohmann::json status();

 private:
  struct Entry {
    enum class Type { file, directory, symlink } type;
    ino_t inode = 0;
    std::string symlink_target;
  };
  using Entries = std::map<std::string, Entry>;
  struct UndoRecord {
    std::uint64_t offset;
    std::string bytes;  // what the synced range held before an overwrite
  };
  struct LastWrite {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    std::uint64_t size_before = 0;
    std::string bytes_before;  // of [offset, min(offset + length, size_before))
  };
  struct FileState {
    bool dirty = false;  // written since its last fsync
    std::uint64_t synced_size = 0;
    std::vector<UndoRecord> undo;
    std::optional<LastWrite> last_write;
  };
  struct Handle {
    int descriptor = -1;
    ino_t inode = 0;
    int flags = 0;
    std::uint64_t generation = 0;
  };

  std::string backing_path(const std::string& path) const;
  std::filesystem::path parent_of(const std::string& path) const;
  // Before a directory changes: keeps its entries as of its last fsync.
  int remember_directory(const std::string& directory_path);
  int remember_parent(const std::string& path) { return remember_directory(parent_of(path).string()); }
  void reference(const Entries& entries, int delta);
  // Before a file entry goes away: a hard link in state/ if a durable entry names it.
  int keep_if_durable(const std::string& path);
  FileState& file_state(ino_t inode);
  // Records the synced bytes [offset, offset + length) are about to change.
  void record_overwrite(int descriptor, FileState& state, std::uint64_t offset, std::uint64_t length);
  int lookup_handle(std::uint64_t handle, Handle& result);
  void mark_synced(int descriptor, FileState& state);
  int injected(const OperationSet& applies, bool OperationSet::*operation);
  // Sleeps the injected delay first when `operation` is slowed (disk-slow).
  void wait_if_slow(bool OperationSet::*operation);
  // Every directory's current entries become durable.
  void commit_all_directories();
  Entries list_directory(const std::filesystem::path& directory) const;

  std::filesystem::path backing_;
  std::filesystem::path state_;
  std::filesystem::path kept_files_;        // state/kept/<inode>
  std::filesystem::path kept_directories_;  // state/kept-directories/<inode>
  std::mt19937_64 random_;
  MetadataDurability metadata_;

  std::mutex mutex_;  // guards every member below
  std::unordered_map<ino_t, FileState> files_;
  std::unordered_map<ino_t, Entries> directory_snapshots_;  // directories changed since their fsync
  std::unordered_map<ino_t, int> snapshot_references_;      // inode -> durable entries naming it
  std::unordered_map<std::uint64_t, Handle> handles_;
  std::uint64_t next_handle_ = 1;
  std::uint64_t generation_ = 0;

  OperationSet error_operations_;
  double error_probability_ = 0;
  std::optional<std::uint64_t> space_left_;
  OperationSet delay_operations_;
  std::chrono::milliseconds delay_{0};
};

// Parses "read,write,fsync" (or "all"); throws FaultError naming a bad word.
OperationSet parse_operation_set(const std::string& text);

}  // namespace chaosbench::nemesis::faultfs
