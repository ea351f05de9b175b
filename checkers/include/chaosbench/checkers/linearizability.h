// Linearizability checker: Wing-Gong/Lowe search with memoised (linearized set,
// state) pairs, per-key partitioning (P-compositionality) checked in parallel,
// info ops that may take effect at any later point or never, fail ops dropped.
// A time or memory limit yields `unknown`, never a guess. Pure function of the history.
// Nothing to judge (unknown, not valid): no ok write/cas/append (mutex: acquire), or no ok read
// completing after the invocation of an ok/info update of its key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/model.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::checkers {

struct LinearizabilityOptions {
  ModelOptions model;
  bool partition_by_key = true;
  // One invalid partition makes the history invalid: by default the search of
  // the other partitions stops then (they are reported as not checked).
  bool check_every_partition = false;
  std::chrono::milliseconds time_limit{0};                // 0: no limit
  std::size_t memory_limit_bytes = std::size_t{8} << 30;  // memo tables of all partitions together
  unsigned threads = 0;                                   // 0: all cores
  // Evidence (counterexample) for invalid partitions costs a second search of
  // that partition; turn it off when only the verdict matters.
  bool collect_evidence = true;
  // Registers whose writes all carry distinct values are decided from what each
  // read saw, in O(n log n), instead of by the search (off: search everything).
  bool decide_unique_writes_from_reads = true;
  // The search takes a read that sees the current state at once and never tries
  // an op before an earlier-begun, no-later-ending op of the same effect; both
  // keep every verdict (off: every order is tried, for cross-checks).
  bool prune_equivalent_orders = true;
};

// Why one partition (usually one key) is not linearizable, or was not decided.
struct PartitionReport {
  std::string key;  // "" when the history has no keys or is not partitioned
  Verdict verdict = Verdict::valid;
  std::string reason;
  std::size_t operations = 0;  // ops searched (fail ops and unknown reads dropped)
  std::uint64_t states_explored = 0;
  bool decided_from_reads = false;  // by the reads-from decision, not the search
  // Evidence for invalid: the op whose completion came before any linearization
  // could place it, ops concurrent with it, the states the object could be in
  // just before it, and the longest linearizable prefix found (in order).
  std::string blocking_operation;
  std::uint32_t blocking_invocation = 0;
  std::vector<std::uint32_t> concurrent_invocations;
  std::vector<std::string> concurrent_operations;
  std::vector<std::string> states_before;
  std::vector<std::uint32_t> longest_prefix;  // invocation indices
};

struct LinearizabilityResult {
  Verdict verdict = Verdict::valid;
  std::string reason;  // one line
  std::size_t partitions = 0;
  std::size_t partitions_not_checked = 0;  // stopped because another partition was invalid
  std::size_t partitions_decided_from_reads = 0;
  std::size_t operations = 0;
  std::uint64_t states_explored = 0;
  double elapsed_seconds = 0;
  std::vector<PartitionReport> reports;  // only partitions that are invalid or unknown
  // The partitions searched and found linearizable: key ("" when not
  // partitioned) and ops searched. Not in to_json; the sequential checker
  // takes these as settled.
  std::vector<std::pair<std::string, std::size_t>> linearizable_partitions;
  // "nothing to judge: ..." when the history has nothing to judge, else ""; set
  // whatever the verdict (the reason when the search alone found it valid).
  std::string nothing_to_judge;
};

// Throws HistoryError on malformed histories (unpaired ops, unknown functions).
LinearizabilityResult check_linearizability(const History& history, const LinearizabilityOptions& options);
// The same, given the history's pair_operations() (callers that need the
// pairs too compute them once).
LinearizabilityResult check_linearizability(const History& history, const LinearizabilityOptions& options,
                                            const std::vector<OperationPair>& pairs);

nlohmann::json to_json(const LinearizabilityResult& result);
// Several lines for a terminal: verdict, then per reported partition its evidence.
std::string describe(const LinearizabilityResult& result, const History& history);

}  // namespace chaosbench::checkers
