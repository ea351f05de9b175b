// Sequential consistency checker (Lamport): is there one total order of the ops,
// legal for the model (model.h), that keeps each process's own order? No
// real-time constraint. Depth-first search over (next op per process, model
// state) with memoisation; info ops are their process's last and may be left
// out; fail ops are dropped. Time/memory limits yield `unknown`. Pure function.
// Linearizability is checked first (fast; at most half the time limit, 2 s
// without one; it stops at the first non-linearizable partition unless
// check_every_partition): linearizable means SC. Only the other partitions are
// searched, the non-linearizable ones first, then those not reached.
// Nothing to judge (unknown, not valid): as for linearizability (linearizability.h).
//
// Sequential consistency is NOT compositional: a history whose every key is
// sequentially consistent on its own ("per-key SC", partition_by_key = true,
// the default, cheap and parallel) may still have no single order for all keys
// together. partition_by_key = false checks the whole history as one object
// ("whole-history SC"), which is the real definition and can be much slower.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/model.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::checkers {

struct SequentialOptions {
  ModelOptions model;
  bool partition_by_key = true;             // per-key SC; false = whole-history SC
  bool check_every_partition = false;       // keep going after one invalid partition
  std::chrono::milliseconds time_limit{0};  // 0: no limit
  std::size_t memory_limit_bytes = std::size_t{8} << 30;
  unsigned threads = 0;          // 0: all cores
  bool collect_evidence = true;  // costs a copy of the search path at each deeper dead end
};

struct SequentialPartitionReport {
  std::string key;  // "" when not partitioned
  Verdict verdict = Verdict::valid;
  std::string reason;
  std::size_t operations = 0;
  std::size_t processes = 0;
  std::uint64_t states_explored = 0;
  // Evidence for invalid: the longest legal order found (invocation indices),
  // the model state after it, and each process's next op, none of which could go next.
  std::vector<std::uint32_t> longest_order;
  std::string state_after_longest_order;
  std::vector<std::uint32_t> blocked_invocations;
  std::vector<std::string> blocked_operations;
};

struct SequentialResult {
  Verdict verdict = Verdict::valid;
  std::string reason;
  bool per_key = true;
  std::size_t partitions = 0;
  std::size_t linearizable_partitions = 0;  // settled by the linearizability search
  std::size_t partitions_not_checked = 0;
  std::size_t operations = 0;
  std::uint64_t states_explored = 0;
  double elapsed_seconds = 0;
  std::vector<SequentialPartitionReport> reports;  // invalid or unknown partitions only
};

// Throws HistoryError on malformed histories (unpaired ops, unknown functions).
SequentialResult check_sequential_consistency(const History& history, const SequentialOptions& options);

nlohmann::json to_json(const SequentialResult& result);
std::string describe(const SequentialResult& result, const History& history);

}  // namespace chaosbench::checkers
