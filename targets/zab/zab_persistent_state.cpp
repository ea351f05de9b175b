#include "zab/zab_persistent_state.h"

#include <algorithm>
#include <stdexcept>

namespace chaosbench::zab {

void persist_snapshot(PersistentState& state, const Snapshot& snapshot) {
  state.snapshot = snapshot;
  std::erase_if(state.log, [&](const Txn& txn) { return txn.zxid <= snapshot.zxid; });
}

void persist_txns(PersistentState& state, const Zxid& truncate_after, const std::vector<Txn>& txns) {
  std::erase_if(state.log, [&](const Txn& txn) { return txn.zxid > truncate_after; });
  for (const auto& txn : txns) {
    if (txn.zxid <= state.snapshot.zxid) continue;
    if (!state.log.empty() && txn.zxid <= state.log.back().zxid) {
      throw std::runtime_error("zab log: txn " + to_string(txn.zxid) + " does not follow " +
                               to_string(state.log.back().zxid));
    }
    state.log.push_back(txn);
  }
}

}  // namespace chaosbench::zab
