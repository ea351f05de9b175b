// ZabStorage: a ZAB node's stable storage in its data directory: wal.log (a
// WriteAheadLog of epoch, log-edit and snapshot-marker records) and
// snapshot.bin (the latest snapshot, replaced atomically). stage(ready) writes
// a Ready's snapshot, log edit and epochs; sync() makes everything staged
// durable with one fsync (group commit). Construction recovers the
// PersistentState; corruption throws WalCorruption. After construction, use
// from one thread at a time (the StorageWorker's).
#pragma once

#include <filesystem>
#include <memory>

#include "runtime/logger.h"
#include "runtime/storage_env.h"
#include "runtime/write_ahead_log.h"
#include "zab/zab_node.h"
#include "zab/zab_persistent_state.h"

namespace chaosbench::zab {

class ZabStorage {
 public:
  // `env`: where the files live (the real filesystem, or a simulator's disk).
  ZabStorage(const std::filesystem::path& data_directory, bool fsync_enabled, targets::Logger& logger,
             targets::StorageEnv& env = targets::posix_storage_env());

  const PersistentState& state() const { return state_; }
  void stage(const Ready& ready);
  void sync() { wal_->sync(); }
  std::uint64_t sync_count() const { return wal_->sync_count(); }

 private:
  void recover();

  std::filesystem::path data_directory_;
  bool fsync_enabled_;
  targets::Logger& logger_;
  targets::StorageEnv& env_;
  std::unique_ptr<targets::WriteAheadLog> wal_;
  PersistentState state_;  // mirror of what is durable, for rewriting the WAL after a snapshot
};

}  // namespace chaosbench::zab
