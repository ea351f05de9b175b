// StorageEnv: every file operation the node's storage makes (LevelDB's Env
// idea): the WAL, snapshots and persistent state call it, never the OS. The
// POSIX one (posix_storage_env) is the real filesystem; the simulator's
// (sim/simulated_disk.h) keeps files in memory and loses what was written but
// not synced when it crashes. Errors throw std::system_error naming the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chaosbench::targets {

// A file opened for appending; its first bytes (a header within one disk
// sector, so a power loss keeps the old or the new bytes whole) may also be
// overwritten in place. Durable only after sync().
class AppendableFile {
 public:
  virtual ~AppendableFile() = default;
  virtual void append(std::string_view bytes) = 0;
  virtual void write_at(std::uint64_t offset, std::string_view bytes) = 0;
  virtual void sync() = 0;  // fdatasync
};

class StorageEnv {
 public:
  virtual ~StorageEnv() = default;
  // The whole file as this process sees it, or nullopt when there is none.
  virtual std::optional<std::string> read_file(const std::filesystem::path& path) = 0;
  // Opens for appending, creating the file if absent.
  virtual std::unique_ptr<AppendableFile> open_appendable(const std::filesystem::path& path) = 0;
  // Cuts the file to `size` bytes (recovery drops a torn tail), durably when
  // `sync`: a power loss afterwards cannot bring the cut bytes back.
  virtual void truncate_file(const std::filesystem::path& path, std::uint64_t size, bool sync) = 0;
  // Replaces the file with `contents` atomically: a temporary file, synced when
  // `sync`, renamed over it, then the directory synced.
  virtual void replace_file(const std::filesystem::path& path, std::string_view contents, bool sync) = 0;
  virtual void create_directories(const std::filesystem::path& path) = 0;
};

// The real filesystem (one shared instance; stateless, thread-safe).
StorageEnv& posix_storage_env();

}  // namespace chaosbench::targets
