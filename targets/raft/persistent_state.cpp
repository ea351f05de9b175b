#include "raft/persistent_state.h"

#include <fmt/format.h>

#include <stdexcept>

namespace chaosbench::raft {

void persist_snapshot(PersistentState& state, const Snapshot& snapshot) {
  if (snapshot.index <= state.snapshot.index) return;
  const std::uint64_t log_last = state.snapshot.index + state.entries.size();
  const bool holds_last_entry =
      snapshot.index <= log_last && state.entries[snapshot.index - state.snapshot.index - 1].term == snapshot.term;
  if (holds_last_entry) {
    state.entries.erase(state.entries.begin(),
                        state.entries.begin() + static_cast<std::ptrdiff_t>(snapshot.index - state.snapshot.index));
  } else {
    state.entries.clear();
  }
  state.snapshot = snapshot;
}

void persist_entries(PersistentState& state, const std::vector<LogEntry>& entries) {
  for (const auto& entry : entries) {
    if (entry.index <= state.snapshot.index) continue;
    const std::uint64_t log_last = state.snapshot.index + state.entries.size();
    if (entry.index > log_last + 1) {
      throw std::runtime_error(fmt::format("log gap: writing entry {} after last entry {}", entry.index, log_last));
    }
    state.entries.resize(entry.index - state.snapshot.index - 1);
    state.entries.push_back(entry);
  }
}

}  // namespace chaosbench::raft
