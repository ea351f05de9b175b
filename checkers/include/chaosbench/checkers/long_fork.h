// Long-fork checker (Jepsen's jepsen.tests.long-fork): txns are either one
// write of a key (["w",k,v] or ["append",k,v]) or reads only; every key is
// written at most once. Two ok reads of the same group of keys must be ordered:
// one saw every write the other saw. A pair where each saw a write the other
// missed is a fork (invalid); a second write to a key makes the verdict unknown.
#pragma once

#include <cstddef>

#include "chaosbench/checkers/check_result.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

struct LongForkOptions {
  std::size_t group_size = 2;  // Jepsen's default: keys each read txn reads (elle-cli's --group-size)
  std::size_t max_evidence = 20;
};

// checker "long-fork"; details: forks ([[op index, op index], ...], the first
// max_evidence), fork_count, groups, reads, writes. A history it cannot read
// (an f other than txn, a micro-op other than r/w/append) throws HistoryError.
CheckResult check_long_fork(const History& history, const LongForkOptions& options = {});

}  // namespace chaosbench::checkers
