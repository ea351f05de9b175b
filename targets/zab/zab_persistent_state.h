// ZabPersistentState: what a ZAB node keeps on stable storage (acceptedEpoch,
// currentEpoch, latest snapshot, transaction log after it) and the edits a
// Ready makes to it. The WAL replays its records through these functions and
// the simulator uses them as its "disk", so both restart from identical state.
#pragma once

#include <optional>
#include <vector>

#include "zab/zab_types.h"

namespace chaosbench::zab {

struct EpochState {
  std::uint64_t accepted_epoch = 0;  // last NEWEPOCH acknowledged
  std::uint64_t current_epoch = 0;   // last NEWLEADER acknowledged
  bool operator==(const EpochState&) const = default;
};

struct PersistentState {
  EpochState epochs;
  Snapshot snapshot;
  std::vector<Txn> log;  // txns after snapshot.zxid, strictly increasing zxids
};

// Installs a snapshot and drops every logged txn it covers.
void persist_snapshot(PersistentState& state, const Snapshot& snapshot);

// Drops every txn after `truncate_after`, then appends `txns` (those already
// covered by the snapshot are skipped). Throws std::runtime_error if the
// appended zxids would not be strictly increasing.
void persist_txns(PersistentState& state, const Zxid& truncate_after, const std::vector<Txn>& txns);

}  // namespace chaosbench::zab
