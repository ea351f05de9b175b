// WriteAheadLog: a file header ["chaoswal"][u64 synced bytes][u32 CRC32C(the
// 16 bytes before)] then records, each [u32 length][u32 CRC32C(payload)][u32
// CRC32C(the 8 bytes before)][payload] (little-endian). Appends are buffered;
// sync() writes them and fdatasyncs once (group commit), and with them
// rewrites the header to claim what the previous sync made durable.
// Opening recovers by one rule (docs/architecture.md, storage): a tail past
// the claim that is too short for a header, ends inside a record whose header
// checks, or is zeros from a record boundary on, is a torn write and is
// truncated (fsynced); a record that fails a check while the file holds all of
// its bytes, a damaged file header, or a log that ends before its claim is
// corruption of synced data and throws WalCorruption naming the file and offset.
// Every file operation goes through a StorageEnv (the real filesystem unless
// given another, e.g. the simulator's disk). Not thread-safe. All I/O errors
// throw std::system_error.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/storage_env.h"

namespace chaosbench::targets {

class WalCorruption : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class WriteAheadLog {
 public:
  static constexpr std::uint32_t kMaxRecordBytes = 1u << 30;
  static constexpr std::size_t kHeaderBytes = 12;      // a record's header
  static constexpr std::size_t kFileHeaderBytes = 20;  // the file's, before the first record

  // Opens (creating if absent) and recovers; the surviving records are in recovered().
  WriteAheadLog(std::filesystem::path path, bool fsync_enabled, StorageEnv& env = posix_storage_env());
  ~WriteAheadLog();
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;

  const std::vector<std::string>& recovered() const { return recovered_; }
  void release_recovered() {
    recovered_.clear();
    recovered_.shrink_to_fit();
  }
  std::uint64_t truncated_tail_bytes() const { return truncated_tail_bytes_; }

  void append(std::string_view payload);
  // Writes everything appended so far and makes it durable with one fdatasync.
  void sync();
  // Atomically replaces the whole log with `records` (write to a temporary
  // file, fsync, rename, fsync the directory). Used after a snapshot.
  void rewrite(const std::vector<std::string>& records);

  std::uint64_t size_bytes() const { return file_size_ + buffer_.size(); }
  // The prefix of the file the header vouches for as synced.
  std::uint64_t claimed_synced_bytes() const { return claimed_synced_; }
  std::uint64_t sync_count() const { return sync_count_; }

  // Writes `payload` as a single-record file atomically (snapshots), and reads
  // it back (nullopt when there is no such file).
  static void write_file_atomically(const std::filesystem::path& path, std::string_view payload, bool fsync_enabled,
                                    StorageEnv& env = posix_storage_env());
  static std::optional<std::string> read_checked_file(const std::filesystem::path& path,
                                                      StorageEnv& env = posix_storage_env());

 private:
  void recover();
  void create_empty();

  std::filesystem::path path_;
  bool fsync_enabled_;
  StorageEnv& env_;
  std::unique_ptr<AppendableFile> file_;
  std::string buffer_;
  std::uint64_t file_size_ = 0;
  std::uint64_t synced_size_ = 0;     // the file's size at the last completed fdatasync
  std::uint64_t claimed_synced_ = 0;  // what the header on disk claims
  std::uint64_t truncated_tail_bytes_ = 0;
  std::atomic<std::uint64_t> sync_count_ = 0;
  std::vector<std::string> recovered_;
};

}  // namespace chaosbench::targets
