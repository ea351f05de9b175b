// QuorumStorage: a quorum replica's durable state, one WriteAheadLog
// (quorum.wal in the data directory) of opaque records written by QuorumNode.
// append() stages records, sync() makes them durable (group commit),
// rewrite() atomically replaces the log with a compacted record list. After
// construction use from one thread at a time (the StorageWorker's).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runtime/write_ahead_log.h"

namespace chaosbench::quorum {

class QuorumStorage {
 public:
  // Creates the directory if needed and recovers; throws WalCorruption or std::system_error.
  QuorumStorage(const std::filesystem::path& data_directory, bool fsync_enabled,
                targets::StorageEnv& env = targets::posix_storage_env());

  // The records found at start; release_recovered() frees them once the node has read them.
  const std::vector<std::string>& recovered() const { return wal_->recovered(); }
  void release_recovered() { wal_->release_recovered(); }
  void append(const std::vector<std::string>& records);
  void rewrite(const std::vector<std::string>& records) { wal_->rewrite(records); }
  void sync() { wal_->sync(); }
  std::uint64_t sync_count() const { return wal_->sync_count(); }
  std::uint64_t size_bytes() const { return wal_->size_bytes(); }
  // Bytes of a torn tail the WAL's recovery cut off when it was opened.
  std::uint64_t truncated_tail_bytes() const { return wal_->truncated_tail_bytes(); }

 private:
  std::unique_ptr<targets::WriteAheadLog> wal_;
};

}  // namespace chaosbench::quorum
