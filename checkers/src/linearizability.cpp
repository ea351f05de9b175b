#include "chaosbench/checkers/linearizability.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "partitions.h"
#include "reads_from.h"
#include "visited_states.h"

namespace chaosbench::checkers {
namespace {

constexpr std::uint32_t kInfinitePosition = 0xffffffffu;
constexpr const char* kPostponedReason = "postponed: over its share of the time";
constexpr const char* kNotStartedReason = "time limit reached before this partition was searched";

// Under a time limit, partitions are searched in passes: in each of the first
// kSharedPasses passes a partition may take its fair share of the time left (time
// left x workers / partitions in the pass); one over it is postponed to the next
// pass, so a few hard keys cannot take the whole limit from thousands of easy ones.
// The last pass (or any pass with no more partitions than workers) has no share.
constexpr int kSharedPasses = 2;
using Clock = std::chrono::steady_clock;

// Where the deepest search got stuck; in the evidence pass also the prefix and
// the states seen at that point.
struct SearchOutcome {
  Verdict verdict = Verdict::valid;
  std::string limit_reason;
  std::uint64_t states_explored = 0;
  std::size_t best_depth = 0;
  std::uint32_t blocking_op = 0;
  std::vector<std::uint32_t> prefix_ops;
  std::vector<std::uint32_t> states_before;
};

struct EvidenceRequest {
  std::size_t depth;
  std::uint32_t blocking_op;
};

// Wing & Gong's search with Lowe's memoisation over a doubly linked list of call
// and return entries (as in Porcupine), for one partition.
class PartitionSearch {
 public:
  PartitionSearch(std::span<const ModelOperation> operations, Model& model, const SearchLimits& limits,
                  bool prune_equivalent_orders)
      : operations_(operations), model_(model), limits_(limits), prune_(prune_equivalent_orders) {
    build_entries();
    dominator_.assign(operations_.size(), kNoDominator);
    if (prune_) find_dominators();
    zobrist_.resize(operations.size());
    for (std::size_t op = 0; op < operations.size(); ++op) zobrist_[op] = mix64(op * 0x9E3779B97F4A7C15ULL + 1);
  }

  // Past share_end (before the deadline): `unknown` with kPostponedReason.
  SearchOutcome run(const EvidenceRequest* evidence, Clock::time_point share_end = Clock::time_point::max()) {
    SearchOutcome outcome;
    const std::size_t words = std::max<std::size_t>(1, (operations_.size() + 63) / 64);
    VisitedStates<std::uint64_t> explored(words, limits_);
    std::vector<std::uint64_t> bits(words, 0);
    std::uint64_t set_hash = 0;
    std::size_t remaining = 0;
    for (const ModelOperation& op : operations_) remaining += op.outcome_unknown ? 0 : 1;
    std::uint32_t state = model_.initial_state();
    struct Frame {
      std::int32_t entry;
      std::uint32_t previous_state;
      bool forced;  // a read taken as the only child worth trying (see take_matching_read)
    };
    std::vector<Frame> stack;
    stack.reserve(operations_.size());
    std::set<std::uint32_t> states_at_block;

    if (remaining == 0) return outcome;
    std::int32_t current = entries_[0].next;
    std::uint64_t iterations = 0;
    // Linearizes `call` (whose step from `state` gives `next_state`) unless that
    // configuration was explored already; false then.
    auto descend = [&](std::int32_t call, std::uint32_t next_state, bool forced) {
      const std::uint32_t op = entries_[call].op;
      const std::uint64_t bit = std::uint64_t{1} << (op & 63);
      bits[op >> 6] |= bit;
      const std::uint64_t next_hash = set_hash ^ zobrist_[op];
      if (!explored.insert(next_hash, next_state, bits.data())) {
        bits[op >> 6] &= ~bit;
        return false;
      }
      stack.push_back(Frame{call, state, forced});
      state = next_state;
      set_hash = next_hash;
      lift(call);
      if (!operations_[op].outcome_unknown) --remaining;
      return true;
    };
    bool fresh = true;  // at a configuration just reached: look for a read to take first
    while (true) {
      if ((++iterations & 1023) == 0) {
        if (limits_.stop->load(std::memory_order_relaxed)) {
          outcome.verdict = Verdict::unknown;
          outcome.limit_reason = kNotCheckedAfterInvalidReason;
          break;
        }
        const Clock::time_point now = Clock::now();
        if (now > limits_.deadline) {
          outcome.verdict = Verdict::unknown;
          outcome.limit_reason = "time limit reached";
          break;
        }
        if (now > share_end) {
          outcome.verdict = Verdict::unknown;
          outcome.limit_reason = kPostponedReason;
          break;
        }
        if (explored.over_memory_limit()) {
          outcome.verdict = Verdict::unknown;
          outcome.limit_reason = "memory limit reached";
          break;
        }
      }
      bool stuck = false;
      if (fresh && prune_) {
        fresh = false;
        if (std::int32_t read = matching_read(state); read != kNoEntry) {
          if (!descend(read, state, true)) {
            stuck = true;  // the one child worth trying was explored already
          } else {
            if (remaining == 0) break;
            current = entries_[0].next;
            fresh = true;
            continue;
          }
        }
      }
      const Entry& entry = entries_[current];
      if (!stuck && entry.is_call) {
        const std::uint32_t dominator = dominator_[entry.op];
        if (dominator == kNoDominator || (bits[dominator >> 6] >> (dominator & 63) & 1)) {
          std::uint32_t next_state = model_.step(state, entry.op);
          if (next_state != Model::kImpossible && descend(current, next_state, false)) {
            if (remaining == 0) break;  // the rest may all be "never"
            current = entries_[0].next;
            fresh = true;
            continue;
          }
        }
        current = entry.next;
        continue;
      }
      // A return entry whose call is not linearized yet: this path is stuck.
      if (!stuck && stack.size() > outcome.best_depth) {
        outcome.best_depth = stack.size();
        outcome.blocking_op = entry.op;
      }
      if (!stuck && evidence && entry.op == evidence->blocking_op) {
        if (outcome.prefix_ops.empty() && stack.size() == evidence->depth) {
          for (const Frame& frame : stack) outcome.prefix_ops.push_back(entries_[frame.entry].op);
        }
        if (states_at_block.size() < 16) states_at_block.insert(state);
      }
      // Back up to the last configuration with children left to try: past every
      // forced read (its configuration had no other child worth trying).
      bool forced = true;
      while (forced && !stack.empty()) {
        Frame frame = stack.back();
        stack.pop_back();
        std::uint32_t op = entries_[frame.entry].op;
        bits[op >> 6] &= ~(std::uint64_t{1} << (op & 63));
        set_hash ^= zobrist_[op];
        state = frame.previous_state;
        unlift(frame.entry);
        if (!operations_[op].outcome_unknown) ++remaining;
        current = entries_[frame.entry].next;
        forced = frame.forced;
      }
      if (forced) {  // backed up past the first configuration
        outcome.verdict = Verdict::invalid;
        break;
      }
    }
    outcome.states_explored = explored.size();
    outcome.states_before.assign(states_at_block.begin(), states_at_block.end());
    return outcome;
  }

 private:
  struct Entry {
    std::int32_t previous = -1;
    std::int32_t next = -1;
    std::int32_t match = -1;  // a call's return entry
    std::uint32_t op = 0;
    bool is_call = false;
  };

  void build_entries() {
    struct Event {
      std::uint32_t position;
      std::uint32_t op;
      bool is_call;
    };
    std::vector<Event> events;
    events.reserve(operations_.size() * 2);
    for (std::uint32_t op = 0; op < operations_.size(); ++op) {
      const ModelOperation& operation = operations_[op];
      events.push_back(Event{operation.invocation, op, true});
      // An info op may take effect at any point after its invocation: its return is at infinity.
      std::uint32_t return_position = operation.outcome_unknown ? kInfinitePosition : operation.completion;
      events.push_back(Event{return_position, op, false});
    }
    std::sort(events.begin(), events.end(), [](const Event& left, const Event& right) {
      if (left.position != right.position) return left.position < right.position;
      return left.op < right.op;
    });
    entries_.resize(events.size() + 1);  // entry 0 is the head sentinel
    std::vector<std::int32_t> call_entry(operations_.size(), -1);
    for (std::size_t index = 0; index < events.size(); ++index) {
      auto entry_index = static_cast<std::int32_t>(index + 1);
      Entry& entry = entries_[entry_index];
      entry.op = events[index].op;
      entry.is_call = events[index].is_call;
      entry.previous = entry_index - 1;
      entry.next = index + 1 < events.size() ? entry_index + 1 : -1;
      if (entry.is_call) {
        call_entry[entry.op] = entry_index;
      } else {
        entries_[call_entry[entry.op]].match = entry_index;
      }
    }
    entries_[0].next = events.empty() ? -1 : 1;
  }

  // A read not linearized yet that may be linearized now and sees `state`, or
  // kNoEntry. Taking it first loses nothing: a read leaves the state as it is,
  // and no op left can have ended before it began (it is before every return
  // entry still in the list), so any linearization of the rest can start with it.
  std::int32_t matching_read(std::uint32_t state) {
    for (std::int32_t entry = entries_[0].next; entry != -1 && entries_[entry].is_call; entry = entries_[entry].next) {
      if (is_read_only(operations_[entries_[entry].op]) && model_.step(state, entries_[entry].op) == state) {
        return entry;
      }
    }
    return kNoEntry;
  }

  // dominator_[e]: an op with the same effect as e (same kind, key, arguments and
  // outcome) that began earlier and ended no later (the nearest such), or
  // kNoDominator. While the dominator is not linearized, e is not tried: swapping
  // the two in any linearization that takes e first gives one that takes the
  // dominator first, which the search tries.
  void find_dominators() {
    std::map<std::tuple<int, std::uint32_t, std::uint32_t, std::uint32_t, bool>, std::vector<std::uint32_t>> classes;
    for (std::uint32_t op = 0; op < operations_.size(); ++op) {
      const ModelOperation& operation = operations_[op];
      if (is_read_only(operation)) continue;  // reads are taken by matching_read
      classes[{static_cast<int>(operation.kind), operation.key_slot, operation.argument.id, operation.second.id,
               operation.outcome_unknown}]
          .push_back(op);
    }
    auto end_of = [&](std::uint32_t op) {
      const ModelOperation& operation = operations_[op];
      return operation.outcome_unknown ? kInfinitePosition : operation.completion;
    };
    std::vector<std::uint32_t> rising;  // ops by invocation whose ends rise
    for (auto& [effect, members] : classes) {
      std::sort(members.begin(), members.end(), [&](std::uint32_t left, std::uint32_t right) {
        return operations_[left].invocation < operations_[right].invocation;
      });
      rising.clear();
      for (std::uint32_t op : members) {
        while (!rising.empty() && end_of(rising.back()) > end_of(op)) rising.pop_back();
        if (!rising.empty()) dominator_[op] = rising.back();
        rising.push_back(op);
      }
    }
  }

  void lift(std::int32_t call) {
    Entry& entry = entries_[call];
    entries_[entry.previous].next = entry.next;
    entries_[entry.next].previous = entry.previous;
    Entry& match = entries_[entry.match];
    entries_[match.previous].next = match.next;
    if (match.next != -1) entries_[match.next].previous = match.previous;
  }

  void unlift(std::int32_t call) {
    Entry& entry = entries_[call];
    Entry& match = entries_[entry.match];
    entries_[match.previous].next = entry.match;
    if (match.next != -1) entries_[match.next].previous = entry.match;
    entries_[entry.previous].next = call;
    entries_[entry.next].previous = call;
  }

  static constexpr std::int32_t kNoEntry = -1;
  static constexpr std::uint32_t kNoDominator = 0xffffffffu;
  std::span<const ModelOperation> operations_;
  Model& model_;
  const SearchLimits& limits_;
  bool prune_;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> dominator_;
  std::vector<std::uint64_t> zobrist_;
};

// Evidence common to both deciders: the blocking op and the ops whose intervals
// overlap it (an op with no known end overlaps everything after it).
void add_blocking_evidence(PartitionReport& report, const Partition& partition, const OperationDecoder& decoder,
                           std::uint32_t blocking_op) {
  const ModelOperation& blocking = partition.operations[blocking_op];
  report.blocking_invocation = blocking.invocation;
  report.blocking_operation = describe_operation(decoder, blocking);
  auto end_of = [](const ModelOperation& op) {
    return op.outcome_unknown || op.completion == OperationPair::kNoCompletion ? kInfinitePosition : op.completion;
  };
  for (const ModelOperation& op : partition.operations) {
    if (op.invocation == blocking.invocation) continue;
    if (op.invocation < end_of(blocking) && end_of(op) > blocking.invocation) {
      report.concurrent_invocations.push_back(op.invocation);
      if (report.concurrent_operations.size() < 20)
        report.concurrent_operations.push_back(describe_operation(decoder, op));
    }
  }
}

PartitionReport check_partition(const Partition& partition, const LinearizabilityOptions& options,
                                const OperationDecoder& decoder, const SearchLimits& limits,
                                Clock::time_point share_end) {
  PartitionReport report;
  report.key = partition.key;
  report.operations = partition.operations.size();
  if (options.decide_unique_writes_from_reads) {
    if (auto decided = decide_from_reads(partition.operations, options.model, decoder, partition.key_count)) {
      report.decided_from_reads = true;
      report.verdict = decided->verdict;
      if (decided->verdict == Verdict::valid) return report;
      report.reason = decided->reason;
      add_blocking_evidence(report, partition, decoder, decided->blocking_op);
      return report;
    }
  }
  auto model = make_model(options.model, decoder, partition.operations, partition.key_count);
  PartitionSearch search(partition.operations, *model, limits, options.prune_equivalent_orders);
  SearchOutcome outcome = search.run(nullptr, share_end);
  report.verdict = outcome.verdict;
  report.states_explored = outcome.states_explored;
  if (outcome.verdict == Verdict::unknown) {
    report.reason = outcome.limit_reason == kNotCheckedAfterInvalidReason || outcome.limit_reason == kPostponedReason
                        ? outcome.limit_reason
                        : fmt::format("{} after {} explored states", outcome.limit_reason, outcome.states_explored);
    return report;
  }
  if (outcome.verdict == Verdict::valid) return report;

  add_blocking_evidence(report, partition, decoder, outcome.blocking_op);
  report.reason = fmt::format("{} cannot be linearized", report.blocking_operation);
  if (!options.collect_evidence) return report;
  EvidenceRequest request{outcome.best_depth, outcome.blocking_op};
  SearchOutcome evidence = search.run(&request);
  for (std::uint32_t state : evidence.states_before) report.states_before.push_back(model->describe_state(state));
  for (std::uint32_t op : evidence.prefix_ops) report.longest_prefix.push_back(partition.operations[op].invocation);
  return report;
}

}  // namespace

LinearizabilityResult check_linearizability(const History& history, const LinearizabilityOptions& options) {
  auto started = std::chrono::steady_clock::now();
  LinearizabilityResult result = check_linearizability(history, options, pair_operations(history));
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

LinearizabilityResult check_linearizability(const History& history, const LinearizabilityOptions& options,
                                            const std::vector<OperationPair>& pairs) {
  auto started = std::chrono::steady_clock::now();
  LinearizabilityResult result;
  OperationDecoder decoder(history, options.model.kind);
  JudgeFloor floor;
  std::vector<Partition> partitions =
      build_partitions(history, pairs, decoder, options.partition_by_key, options.model.kind, {}, &floor);
  result.nothing_to_judge = options.model.kind == ModelKind::mutex
                                ? floor.missing_update("acquire")
                                : floor.missing("write, cas or append", "read", "update");
  for (const Partition& partition : partitions) result.operations += partition.operations.size();
  result.partitions = partitions.size();

  std::atomic<std::size_t> memory_used{0};
  std::atomic<bool> stop{false};
  SearchLimits limits;
  limits.stop = &stop;
  limits.memory_limit = options.memory_limit_bytes;
  limits.memory_used = &memory_used;
  if (options.time_limit.count() > 0) limits.deadline = started + options.time_limit;

  // Smallest partitions first: an invalid history is usually decided by a quick
  // partition, before a large one has explored much.
  std::vector<std::size_t> order(partitions.size());
  for (std::size_t index = 0; index < order.size(); ++index) order[index] = index;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t left, std::size_t right) {
    return partitions[left].operations.size() < partitions[right].operations.size();
  });
  std::vector<PartitionReport> reports(partitions.size());
  const std::size_t workers = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  for (int pass = 0;; ++pass) {
    std::chrono::nanoseconds share = std::chrono::nanoseconds::max();
    const bool shared = pass < kSharedPasses && order.size() > workers && limits.deadline != Clock::time_point::max();
    if (shared) share = (limits.deadline - Clock::now()) * static_cast<long>(workers) / static_cast<long>(order.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (std::size_t taken = next++; taken < order.size(); taken = next++) {
        std::size_t index = order[taken];
        PartitionReport& report = reports[index];
        if (stop.load() || Clock::now() > limits.deadline) {
          report.key = partitions[index].key;
          report.operations = partitions[index].operations.size();
          report.verdict = Verdict::unknown;
          // Fresh (no reason yet) or postponed by an earlier pass.
          report.reason = stop.load() ? std::string(kNotCheckedAfterInvalidReason)
                          : report.reason.empty()
                              ? std::string(kNotStartedReason)
                              : fmt::format("time limit reached after {} explored states", report.states_explored);
          continue;
        }
        report = check_partition(partitions[index], options, decoder, limits,
                                 shared ? Clock::now() + share : Clock::time_point::max());
        if (report.verdict == Verdict::invalid && !options.check_every_partition) stop = true;
      }
    };
    run_workers(options.threads, order.size(), worker);
    std::erase_if(order, [&](std::size_t index) { return reports[index].reason != kPostponedReason; });
    if (order.empty() || !shared) break;
  }

  std::size_t unknown_count = 0;
  for (PartitionReport& report : reports) {
    result.states_explored += report.states_explored;
    if (report.decided_from_reads) ++result.partitions_decided_from_reads;
    if (report.reason == kNotCheckedAfterInvalidReason) {
      ++result.partitions_not_checked;  // only ever alongside an invalid partition
      continue;
    }
    result.verdict = combine(result.verdict, report.verdict);
    if (report.verdict == Verdict::unknown) ++unknown_count;
    if (report.verdict == Verdict::valid) result.linearizable_partitions.emplace_back(report.key, report.operations);
    if (report.verdict != Verdict::valid) result.reports.push_back(std::move(report));
  }
  auto key_label = [](const PartitionReport& report) {
    return report.key.empty() ? std::string() : fmt::format("key {}: ", report.key);
  };
  if (result.verdict == Verdict::valid) {
    result.reason =
        fmt::format("{} operations in {} partition(s) are linearizable", result.operations, result.partitions);
  } else if (result.verdict == Verdict::invalid) {
    auto first = std::find_if(result.reports.begin(), result.reports.end(),
                              [](const PartitionReport& report) { return report.verdict == Verdict::invalid; });
    result.reason = key_label(*first) + first->reason;
    if (result.partitions_not_checked) {
      result.reason += fmt::format(" ({} other partition(s) not checked)", result.partitions_not_checked);
    }
  } else {
    result.reason = fmt::format("{} of {} partition(s) undecided: {}{}", unknown_count, result.partitions,
                                key_label(result.reports.front()), result.reports.front().reason);
  }
  if (result.verdict == Verdict::valid && !result.nothing_to_judge.empty()) {
    result.verdict = Verdict::unknown;
    result.reason = result.nothing_to_judge;
  }
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

nlohmann::json to_json(const LinearizabilityResult& result) {
  nlohmann::json partitions = nlohmann::json::array();
  for (const PartitionReport& report : result.reports) {
    nlohmann::json entry{{"key", report.key},
                         {"verdict", to_string(report.verdict)},
                         {"reason", report.reason},
                         {"operations", report.operations},
                         {"states_explored", report.states_explored}};
    if (report.verdict == Verdict::invalid) {
      entry["blocking_operation"] = report.blocking_operation;
      entry["blocking_index"] = report.blocking_invocation;
      entry["concurrent_indices"] = report.concurrent_invocations;
      entry["concurrent_operations"] = report.concurrent_operations;
      entry["states_before"] = report.states_before;
      entry["longest_linearizable_prefix"] = report.longest_prefix;
    }
    partitions.push_back(std::move(entry));
  }
  return nlohmann::json{{"checker", "linearizable"},
                        {"verdict", to_string(result.verdict)},
                        {"reason", result.reason},
                        {"operations", result.operations},
                        {"partitions", result.partitions},
                        {"partitions_not_checked", result.partitions_not_checked},
                        {"partitions_decided_from_reads", result.partitions_decided_from_reads},
                        {"states_explored", result.states_explored},
                        {"elapsed_seconds", result.elapsed_seconds},
                        {"anomalies", std::move(partitions)}};
}

std::string describe(const LinearizabilityResult& result, const History& history) {
  std::string text = fmt::format("{}: {}\n", to_string(result.verdict), result.reason);
  for (const PartitionReport& report : result.reports) {
    text += fmt::format("  {}{}: {}\n", report.key.empty() ? "" : "key " + report.key + " ", to_string(report.verdict),
                        report.reason);
    if (report.verdict != Verdict::invalid) continue;
    if (!report.states_before.empty()) {
      std::string states;
      for (const std::string& state : report.states_before) states += (states.empty() ? "" : ", ") + state;
      text += fmt::format("    possible states just before it: {}\n", states);
    }
    text += fmt::format("    {} concurrent op(s)\n", report.concurrent_invocations.size());
    for (const std::string& op : report.concurrent_operations) text += fmt::format("      {}\n", op);
    text += fmt::format("    longest linearizable prefix: {} op(s)", report.longest_prefix.size());
    std::size_t shown = std::min<std::size_t>(report.longest_prefix.size(), 8);
    if (shown) text += ", ending with";
    for (std::size_t index = report.longest_prefix.size() - shown; index < report.longest_prefix.size(); ++index) {
      std::uint32_t invocation = report.longest_prefix[index];
      text += fmt::format(" #{} {}", invocation, history.function_name(history.operations[invocation]));
    }
    text += "\n";
  }
  return text;
}

}  // namespace chaosbench::checkers
