// RaftStorage: a Raft node's stable storage in its data directory: wal.log (a
// WriteAheadLog of hard-state, entries and snapshot-marker records) and
// snapshot.bin (the latest snapshot, replaced atomically). stage(ready) writes
// a Ready's snapshot, entries and hard state; sync() makes everything staged
// durable with one fsync (group commit); save() is both. Construction recovers
// the PersistentState; corruption throws WalCorruption. After construction,
// use from one thread at a time (the StorageWorker's).
#pragma once

#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "raft/persistent_state.h"
#include "raft/raft_node.h"
#include "runtime/node_storage.h"

namespace chaosbench::raft {

class RaftStorage : public targets::NodeStorage {
 public:
  // `env`: where the files live (the real filesystem, or a simulator's disk).
  RaftStorage(const std::filesystem::path& data_directory, bool fsync_enabled, targets::Logger& logger,
              targets::StorageEnv& env = targets::posix_storage_env());

  const PersistentState& state() const { return state_; }
  void stage(const Ready& ready);
  void save(const Ready& ready) {
    stage(ready);
    sync();
  }

 private:
  void replay(const nlohmann::json& record);  // one WAL record into state_
  void recover_snapshot();

  PersistentState state_;  // mirror of what is durable, for rewriting the WAL after a snapshot
};

}  // namespace chaosbench::raft
