// PersistentState: what a Raft node keeps on stable storage (hard state,
// latest snapshot, log after it) and the two edits a Ready makes to it. The
// WAL replays its records through these same functions, and the simulator
// uses them as its "disk", so both restart from identical state.
#pragma once

#include <vector>

#include "raft/raft_types.h"

namespace chaosbench::raft {

struct PersistentState {
  HardState hard_state;
  Snapshot snapshot;
  std::vector<LogEntry> entries;  // entries after snapshot.index, contiguous
};

// Installs a snapshot: keeps the log suffix after it if the log holds the
// snapshot's last entry with the same term, otherwise drops the whole log.
void persist_snapshot(PersistentState& state, const Snapshot& snapshot);

// Writes entries: the first entry's index replaces everything from there on.
// Entries already covered by the snapshot are skipped. Throws
// std::runtime_error if the entries would leave a gap.
void persist_entries(PersistentState& state, const std::vector<LogEntry>& entries);

}  // namespace chaosbench::raft
