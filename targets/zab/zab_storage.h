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

#include <nlohmann/json.hpp>

#include "runtime/node_storage.h"
#include "zab/zab_node.h"
#include "zab/zab_persistent_state.h"

namespace chaosbench::zab {

class ZabStorage : public targets::NodeStorage {
 public:
  // `env`: where the files live (the real filesystem, or a simulator's disk).
  ZabStorage(const std::filesystem::path& data_directory, bool fsync_enabled, targets::Logger& logger,
             targets::StorageEnv& env = targets::posix_storage_env());

  const PersistentState& state() const { return state_; }
  void stage(const Ready& ready);

 private:
  void replay(const nlohmann::json& record);  // one WAL record into state_
  void recover_snapshot();

  PersistentState state_;  // mirror of what is durable, for rewriting the WAL after a snapshot
};

}  // namespace chaosbench::zab
