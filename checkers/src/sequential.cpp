#include "chaosbench/checkers/sequential.h"

#include "chaosbench/checkers/linearizability.h"

#include <algorithm>
#include <atomic>
#include <map>

#include <fmt/format.h>

#include "partitions.h"
#include "visited_states.h"

namespace chaosbench::checkers {
namespace {

constexpr std::uint32_t kNoCandidate = 0xffffffffu;
constexpr std::uint32_t kExhausted = 0xfffffffeu;  // a node whose only child failed

struct Outcome {
  Verdict verdict = Verdict::valid;
  std::string limit_reason;
  std::uint64_t states_explored = 0;
  std::size_t best_depth = 0;
  // Evidence (when asked): the search at the first dead end of depth best_depth.
  bool evidence_taken = false;
  std::vector<std::uint32_t> order;
  std::vector<std::uint32_t> positions;
  std::uint32_t state = 0;
};

// Finds blocked reads that can never go again, for the register and kv models.
// A state only changes by "extensions" (kv appends: the text grows) and
// "resets" (writes/puts, cas): a read whose value the current state cannot
// extend to (register: differs; kv: the state is not a prefix of the text
// read) can only go after an unexecuted reset whose value extends to it.
class DeadReadDetector {
 public:
  DeadReadDetector(const std::vector<ModelOperation>& operations, Model& model, const ModelOptions& options,
                   const OperationDecoder& decoder)
      : operations_(operations),
        model_(model),
        options_(options),
        decoder_(decoder),
        enabled_(options.kind == ModelKind::cas_register || options.kind == ModelKind::kv) {}

  bool enabled() const { return enabled_; }

  void set_processes(const std::vector<std::vector<std::uint32_t>>& processes) {
    slot_.assign(operations_.size(), 0);
    index_in_process_.assign(operations_.size(), 0);
    for (std::uint32_t process = 0; process < processes.size(); ++process) {
      for (std::uint32_t index = 0; index < processes[process].size(); ++index) {
        slot_[processes[process][index]] = process;
        index_in_process_[processes[process][index]] = index;
      }
    }
    processes_ = &processes;
    resets_for_read_.assign(operations_.size(), {});
    computed_.assign(operations_.size(), 0);
  }

  bool some_read_is_dead(std::uint32_t state, const std::vector<std::uint32_t>& positions) {
    for (std::size_t process = 0; process < positions.size(); ++process) {
      if (positions[process] >= (*processes_)[process].size()) continue;
      std::uint32_t read = (*processes_)[process][positions[process]];
      const ModelOperation& op = operations_[read];
      if (!is_read_only(op) || op.outcome_unknown) continue;
      if (op.argument.is_null() && options_.nil_read == NilRead::any) continue;
      if (extends_to(state, read)) continue;
      if (!computed_[read]) compute_resets(read);
      bool reachable = false;
      for (std::uint32_t reset : resets_for_read_[read]) {
        if (positions[slot_[reset]] <= index_in_process_[reset]) {
          reachable = true;
          break;
        }
      }
      if (!reachable) return true;
    }
    return false;
  }

 private:
  using Kind = ModelOperation::Kind;

  std::string_view text(Value value) const {
    const ValuePool& values = decoder_.history().values;
    if (value.is_null() || value.id >= values.size() || !values.is_string(value)) return {};
    return values.as_string(value);
  }
  const std::string& state_text(std::uint32_t state) {
    if (state >= state_texts_.size()) {
      state_texts_.resize(state + 1);
      state_known_.resize(state + 1, 0);
    }
    if (!state_known_[state]) {
      std::optional<std::string> text = model_.state_text(state);
      state_texts_[state] =
          text ? std::move(*text) : nlohmann::json::parse(model_.describe_state(state)).get<std::string>();
      state_known_[state] = 1;
    }
    return state_texts_[state];
  }
  bool extends_to(std::uint32_t state, std::uint32_t read) {
    if (options_.kind == ModelKind::cas_register) return model_.step(state, read) != Model::kImpossible;
    std::string_view wanted = text(operations_[read].argument);
    if (std::optional<bool> prefix = model_.state_is_prefix_of(state, wanted)) return *prefix;
    return wanted.starts_with(state_text(state));
  }
  void compute_resets(std::uint32_t read) {
    computed_[read] = 1;
    const ModelOperation& target = operations_[read];
    for (std::uint32_t index = 0; index < operations_.size(); ++index) {
      const ModelOperation& op = operations_[index];
      if (op.kind == Kind::write) {
        bool leads = options_.kind == ModelKind::cas_register ? op.argument == target.argument
                                                              : text(target.argument).starts_with(text(op.argument));
        if (leads) resets_for_read_[read].push_back(index);
      } else if (op.kind == Kind::cas && op.second == target.argument) {
        resets_for_read_[read].push_back(index);
      }
    }
  }

  const std::vector<ModelOperation>& operations_;
  Model& model_;
  const ModelOptions& options_;
  const OperationDecoder& decoder_;
  bool enabled_;
  const std::vector<std::vector<std::uint32_t>>* processes_ = nullptr;
  std::vector<std::uint32_t> slot_;
  std::vector<std::uint32_t> index_in_process_;
  std::vector<std::vector<std::uint32_t>> resets_for_read_;
  std::vector<char> computed_;
  std::vector<std::string> state_texts_;
  std::vector<char> state_known_;
};

class SequentialSearch {
 public:
  SequentialSearch(const std::vector<ModelOperation>& operations, Model& model, const SearchLimits& limits,
                   const ModelOptions& options, const OperationDecoder& decoder)
      : operations_(operations), model_(model), limits_(limits), reads_(operations, model, options, decoder) {}

  // Per-process op lists (indices into operations), in invocation order.
  void set_processes(std::vector<std::vector<std::uint32_t>> processes) {
    processes_ = std::move(processes);
    reads_.set_processes(processes_);
    zobrist_offset_.assign(processes_.size() + 1, 0);
    for (std::size_t process = 0; process < processes_.size(); ++process) {
      zobrist_offset_[process + 1] =
          zobrist_offset_[process] + static_cast<std::uint32_t>(processes_[process].size()) + 1;
    }
    zobrist_.resize(zobrist_offset_.back());
    for (std::size_t index = 0; index < zobrist_.size(); ++index)
      zobrist_[index] = mix64(index * 0x9E3779B97F4A7C15ULL + 7);
  }

  // With want_evidence, every dead end deeper than any before is recorded, so
  // an invalid outcome carries the first dead end of the greatest depth (one
  // search, no second pass).
  Outcome run(bool want_evidence) {
    Outcome outcome;
    const std::size_t width = processes_.size();
    std::vector<std::uint32_t> positions(width, 0);
    std::uint64_t hash = 0;
    for (std::size_t process = 0; process < width; ++process) hash ^= zobrist_[zobrist_offset_[process]];
    std::size_t remaining = 0;
    for (const ModelOperation& op : operations_) remaining += op.outcome_unknown ? 0 : 1;
    if (remaining == 0) return outcome;
    VisitedStates<std::uint32_t> visited(std::max<std::size_t>(width, 1), limits_, 64);
    std::uint32_t state = model_.initial_state();
    visited.insert(hash, state, positions.data());

    struct Frame {
      std::uint32_t process;
      std::uint32_t previous_state;
      bool parent_forced;
    };
    std::vector<Frame> stack;
    std::uint32_t last_tried = kNoCandidate;  // none tried yet at this node
    bool had_child = false;
    std::uint64_t iterations = 0;
    auto invocation_of_next = [&](std::size_t process) {
      return positions[process] < processes_[process].size()
                 ? operations_[processes_[process][positions[process]]].invocation
                 : kNoCandidate;
    };
    while (true) {
      if ((++iterations & 1023) == 0) {
        if (limits_.stop->load(std::memory_order_relaxed)) {
          outcome.verdict = Verdict::unknown;
          outcome.limit_reason = kNotCheckedAfterInvalidReason;
          break;
        }
        if (std::chrono::steady_clock::now() > limits_.deadline) {
          outcome.verdict = Verdict::unknown;
          outcome.limit_reason = "time limit reached";
          break;
        }
        if (visited.over_memory_limit()) {
          outcome.verdict = Verdict::unknown;
          outcome.limit_reason = "memory limit reached";
          break;
        }
      }
      // A read that can go now is the only child worth trying: if any order of
      // the rest works, one that starts with this read works too (it changes no
      // state and only ops of other processes move behind it).
      std::uint32_t chosen = kNoCandidate;
      std::uint32_t chosen_invocation = kNoCandidate;
      bool forced = false;
      if (last_tried == kNoCandidate) {
        for (std::size_t process = 0; process < width && !forced; ++process) {
          if (positions[process] >= processes_[process].size()) continue;
          std::uint32_t op = processes_[process][positions[process]];
          if (!is_read_only(operations_[op]) || model_.step(state, op) == Model::kImpossible) continue;
          forced = true;
          chosen = static_cast<std::uint32_t>(process);
          chosen_invocation = kExhausted;  // coming back here means this node failed
        }
      }
      // No read can go now. If some blocked read can never go again, this node is dead.
      if (last_tried == kNoCandidate && !forced && reads_.enabled() && reads_.some_read_is_dead(state, positions)) {
        last_tried = kExhausted;
      }
      // Otherwise the process whose next op was invoked earliest after the last
      // one tried here (real-time order first: valid histories finish fast).
      for (std::size_t process = 0; process < width && !forced; ++process) {
        std::uint32_t invocation = invocation_of_next(process);
        if (invocation == kNoCandidate) continue;
        if (last_tried != kNoCandidate && invocation <= last_tried) continue;
        if (invocation < chosen_invocation) {
          chosen_invocation = invocation;
          chosen = static_cast<std::uint32_t>(process);
        }
      }
      if (chosen == kNoCandidate) {
        // Dead end (or every child explored): backtrack.
        if (!had_child && (stack.size() > outcome.best_depth || (stack.empty() && !outcome.evidence_taken))) {
          outcome.best_depth = stack.size();
          if (want_evidence) {
            outcome.evidence_taken = true;
            outcome.order.clear();
            for (const Frame& frame : stack) outcome.order.push_back(frame.process);
            outcome.positions = positions;
            outcome.state = state;
          }
        }
        if (stack.empty()) {
          outcome.verdict = Verdict::invalid;
          break;
        }
        Frame frame = stack.back();
        stack.pop_back();
        --positions[frame.process];
        std::uint32_t base = zobrist_offset_[frame.process];
        hash ^= zobrist_[base + positions[frame.process] + 1] ^ zobrist_[base + positions[frame.process]];
        std::uint32_t op = processes_[frame.process][positions[frame.process]];
        if (!operations_[op].outcome_unknown) ++remaining;
        state = frame.previous_state;
        last_tried = frame.parent_forced ? kExhausted : operations_[op].invocation;
        had_child = true;
        continue;
      }
      last_tried = chosen_invocation;
      std::uint32_t op = processes_[chosen][positions[chosen]];
      std::uint32_t next_state = model_.step(state, op);
      if (next_state == Model::kImpossible) continue;
      std::uint32_t base = zobrist_offset_[chosen];
      std::uint64_t next_hash = hash ^ zobrist_[base + positions[chosen]] ^ zobrist_[base + positions[chosen] + 1];
      ++positions[chosen];
      if (!visited.insert(next_hash, next_state, positions.data())) {
        --positions[chosen];
        continue;
      }
      stack.push_back(Frame{chosen, state, forced});
      hash = next_hash;
      state = next_state;
      last_tried = kNoCandidate;
      had_child = false;
      if (!operations_[op].outcome_unknown && --remaining == 0) break;
    }
    outcome.states_explored = visited.size();
    return outcome;
  }

  const std::vector<std::vector<std::uint32_t>>& processes() const { return processes_; }

 private:
  const std::vector<ModelOperation>& operations_;
  Model& model_;
  const SearchLimits& limits_;
  DeadReadDetector reads_;
  std::vector<std::vector<std::uint32_t>> processes_;
  std::vector<std::uint32_t> zobrist_offset_;
  std::vector<std::uint64_t> zobrist_;
};

SequentialPartitionReport check_partition(const History& history, const Partition& partition,
                                          const SequentialOptions& options, const OperationDecoder& decoder,
                                          const SearchLimits& limits) {
  SequentialPartitionReport report;
  report.key = partition.key;
  report.operations = partition.operations.size();
  std::map<std::int64_t, std::uint32_t> slot_of_process;
  std::vector<std::vector<std::uint32_t>> processes;
  for (std::uint32_t index = 0; index < partition.operations.size(); ++index) {
    std::int64_t process = history.operations[partition.operations[index].invocation].process;
    auto [it, inserted] = slot_of_process.try_emplace(process, static_cast<std::uint32_t>(processes.size()));
    if (inserted) processes.emplace_back();
    processes[it->second].push_back(index);
  }
  report.processes = processes.size();
  auto model = make_model(options.model, decoder, partition.operations, partition.key_count);
  SequentialSearch search(partition.operations, *model, limits, options.model, decoder);
  search.set_processes(std::move(processes));
  Outcome outcome = search.run(options.collect_evidence);
  report.verdict = outcome.verdict;
  report.states_explored = outcome.states_explored;
  if (outcome.verdict == Verdict::unknown) {
    report.reason = outcome.limit_reason == kNotCheckedAfterInvalidReason
                        ? kNotCheckedAfterInvalidReason
                        : fmt::format("{} after {} explored states", outcome.limit_reason, outcome.states_explored);
    return report;
  }
  if (outcome.verdict == Verdict::valid) return report;
  report.reason =
      fmt::format("no order of the {} ops keeps every process's own order; the longest legal order has {} op(s)",
                  partition.operations.size(), outcome.best_depth);
  if (!options.collect_evidence || !outcome.evidence_taken) return report;
  const Outcome& evidence = outcome;
  std::vector<std::uint32_t> cursor(search.processes().size(), 0);
  for (std::uint32_t process : evidence.order) {
    report.longest_order.push_back(partition.operations[search.processes()[process][cursor[process]++]].invocation);
  }
  report.state_after_longest_order = model->describe_state(evidence.state);
  for (std::size_t process = 0; process < search.processes().size(); ++process) {
    if (evidence.positions[process] >= search.processes()[process].size()) continue;
    const ModelOperation& op = partition.operations[search.processes()[process][evidence.positions[process]]];
    report.blocked_invocations.push_back(op.invocation);
    if (report.blocked_operations.size() < 20) report.blocked_operations.push_back(describe_operation(decoder, op));
  }
  if (!report.blocked_operations.empty()) {
    // Show a blocked read when there is one: it is what the state cannot satisfy.
    std::string example = report.blocked_operations.front();
    for (std::size_t index = 0; index < report.blocked_invocations.size() && index < report.blocked_operations.size();
         ++index) {
      std::uint32_t invocation = report.blocked_invocations[index];
      auto found = std::find_if(partition.operations.begin(), partition.operations.end(),
                                [&](const ModelOperation& op) { return op.invocation == invocation; });
      if (found != partition.operations.end() && is_read_only(*found)) {
        example = report.blocked_operations[index];
        break;
      }
    }
    report.reason =
        fmt::format("after the longest legal order ({} ops, state {}), no process's next op can go next, e.g. {}",
                    report.longest_order.size(), report.state_after_longest_order, example);
  }
  return report;
}

}  // namespace

SequentialResult check_sequential_consistency(const History& history, const SequentialOptions& options) {
  auto started = std::chrono::steady_clock::now();
  SequentialResult result;
  result.per_key = options.partition_by_key;
  // Linearizable implies sequentially consistent, and the WGL search (pruned by
  // real time) is usually far faster: one pass over the partitions, with at
  // most half the time limit (2 s without one), settles the linearizable ones;
  // only the others are searched for a sequential order.
  LinearizabilityOptions linearizable;
  linearizable.model = options.model;
  linearizable.partition_by_key = options.partition_by_key;
  // By default it stops at the first non-linearizable partition (the rest stay
  // unsettled and go to the SC search, smallest first), as the linearizability
  // checker does: one hard partition then cannot eat the time limit.
  linearizable.check_every_partition = options.check_every_partition;
  linearizable.memory_limit_bytes = options.memory_limit_bytes;
  linearizable.threads = options.threads;
  linearizable.collect_evidence = false;
  linearizable.time_limit = options.time_limit.count() > 0 ? options.time_limit / 2 : std::chrono::milliseconds(2000);
  const std::vector<OperationPair> pairs = pair_operations(history);
  LinearizabilityResult witness = check_linearizability(history, linearizable, pairs);
  // Settled: the partitions found linearizable. Suspects: those found not
  // linearizable (or undecided); the SC search takes them first, as the likely
  // culprits. The rest (not reached by the witness) come after.
  enum KeyClass : std::uint8_t { not_reached, not_reached_counted, suspect, settled };
  std::vector<std::uint8_t> key_class(history.keys.size() + 1, not_reached);
  auto key_id = [&](const std::string& key) { return key.empty() ? 0 : history.keys.find(key).value_or(0); };
  for (const PartitionReport& report : witness.reports) key_class[key_id(report.key)] = suspect;
  // Settled ops are neither decoded nor copied again.
  // (No report: the search found it linearizable; its verdict may still be unknown, nothing to judge.)
  bool everything_settled = !options.partition_by_key && witness.reports.empty();
  if (options.partition_by_key) {
    for (const auto& [key, operations] : witness.linearizable_partitions) {
      key_class[key_id(key)] = settled;
      ++result.linearizable_partitions;
      result.operations += operations;
    }
  } else if (everything_settled) {
    result.linearizable_partitions = 1;
    result.operations = witness.operations;
  }
  OperationDecoder decoder(history, options.model.kind);
  // Per key, the suspects are built and searched first; the other unsettled
  // keys are decoded only if no suspect is invalid (or every partition is
  // wanted): on a history with one bad key the rest is never copied.
  auto build = [&](KeyClass wanted) {
    std::vector<Partition> partitions;
    if (everything_settled) return partitions;
    partitions =
        build_partitions(history, pairs, decoder, options.partition_by_key, options.model.kind,
                         [&](std::uint32_t key) { return !options.partition_by_key || key_class[key] == wanted; });
    for (const Partition& partition : partitions) result.operations += partition.operations.size();
    // Smallest first: a small partition settles fast and an invalid one stops the rest.
    std::stable_sort(partitions.begin(), partitions.end(), [](const Partition& left, const Partition& right) {
      return left.operations.size() < right.operations.size();
    });
    return partitions;
  };

  std::atomic<std::size_t> memory_used{0};
  std::atomic<bool> stop{false};
  SearchLimits limits;
  limits.stop = &stop;
  limits.memory_limit = options.memory_limit_bytes;
  limits.memory_used = &memory_used;
  if (options.time_limit.count() > 0) limits.deadline = started + options.time_limit;

  std::vector<SequentialPartitionReport> reports;
  auto search_partitions = [&](const std::vector<Partition>& partitions) {
    const std::size_t first_report = reports.size();
    reports.resize(first_report + partitions.size());
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (std::size_t index = next++; index < partitions.size(); index = next++) {
        SequentialPartitionReport& report = reports[first_report + index];
        if (stop.load()) {
          report.key = partitions[index].key;
          report.verdict = Verdict::unknown;
          report.reason = kNotCheckedAfterInvalidReason;
          continue;
        }
        report = check_partition(history, partitions[index], options, decoder, limits);
        if (report.verdict == Verdict::invalid && !options.check_every_partition) stop = true;
      }
    };
    run_workers(options.threads, partitions.size(), worker);
  };
  const std::vector<Partition> suspects = build(suspect);
  search_partitions(suspects);
  result.partitions = result.linearizable_partitions + suspects.size();
  if (options.partition_by_key && !stop.load()) {
    const std::vector<Partition> later = build(not_reached);
    result.partitions += later.size();
    search_partitions(later);
  } else if (options.partition_by_key) {
    // Stopped at an invalid suspect: the keys never reached are counted, not decoded.
    for (const OperationPair& pair : pairs) {
      std::uint8_t& key = key_class[history.operations[pair.invocation].key];
      if (pair.outcome == OpType::fail || key != not_reached) continue;
      key = not_reached_counted;
      ++result.partitions;
      ++result.partitions_not_checked;
    }
  }

  std::size_t unknown_count = 0;
  for (SequentialPartitionReport& report : reports) {
    result.states_explored += report.states_explored;
    if (report.reason == kNotCheckedAfterInvalidReason) {
      ++result.partitions_not_checked;
      continue;
    }
    result.verdict = combine(result.verdict, report.verdict);
    if (report.verdict == Verdict::unknown) ++unknown_count;
    if (report.verdict != Verdict::valid) result.reports.push_back(std::move(report));
  }
  auto key_label = [](const SequentialPartitionReport& report) {
    return report.key.empty() ? std::string() : fmt::format("key {}: ", report.key);
  };
  const char* scope = options.partition_by_key ? "per key" : "as a whole";
  if (result.verdict == Verdict::valid) {
    result.reason = fmt::format("{} operations in {} partition(s) are sequentially consistent ({})", result.operations,
                                result.partitions, scope);
  } else if (result.verdict == Verdict::invalid) {
    auto first =
        std::find_if(result.reports.begin(), result.reports.end(),
                     [](const SequentialPartitionReport& report) { return report.verdict == Verdict::invalid; });
    result.reason = fmt::format("not sequentially consistent ({}): {}{}", scope, key_label(*first), first->reason);
    if (result.partitions_not_checked) {
      result.reason += fmt::format(" ({} other partition(s) not checked)", result.partitions_not_checked);
    }
  } else {
    result.reason = fmt::format("{} of {} partition(s) undecided: {}{}", unknown_count, result.partitions,
                                key_label(result.reports.front()), result.reports.front().reason);
  }
  if (result.verdict == Verdict::valid && !witness.nothing_to_judge.empty()) {  // counted by the witness's walk
    result.verdict = Verdict::unknown;
    result.reason = witness.nothing_to_judge;
  }
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

nlohmann::json to_json(const SequentialResult& result) {
  nlohmann::json partitions = nlohmann::json::array();
  for (const SequentialPartitionReport& report : result.reports) {
    nlohmann::json entry{{"key", report.key},
                         {"verdict", to_string(report.verdict)},
                         {"reason", report.reason},
                         {"operations", report.operations},
                         {"processes", report.processes},
                         {"states_explored", report.states_explored}};
    if (report.verdict == Verdict::invalid) {
      entry["longest_order"] = report.longest_order;
      entry["state_after_longest_order"] = report.state_after_longest_order;
      entry["blocked_indices"] = report.blocked_invocations;
      entry["blocked_operations"] = report.blocked_operations;
    }
    partitions.push_back(std::move(entry));
  }
  return nlohmann::json{{"checker", "sequential"},
                        {"verdict", to_string(result.verdict)},
                        {"reason", result.reason},
                        {"scope", result.per_key ? "per-key" : "whole-history"},
                        {"operations", result.operations},
                        {"partitions", result.partitions},
                        {"linearizable_partitions", result.linearizable_partitions},
                        {"partitions_not_checked", result.partitions_not_checked},
                        {"states_explored", result.states_explored},
                        {"elapsed_seconds", result.elapsed_seconds},
                        {"anomalies", std::move(partitions)}};
}

std::string describe(const SequentialResult& result, const History& history) {
  std::string text = fmt::format("{}: {}\n", to_string(result.verdict), result.reason);
  for (const SequentialPartitionReport& report : result.reports) {
    text += fmt::format("  {}{}: {}\n", report.key.empty() ? "" : "key " + report.key + " ", to_string(report.verdict),
                        report.reason);
    if (report.verdict != Verdict::invalid) continue;
    std::size_t shown = std::min<std::size_t>(report.longest_order.size(), 8);
    text +=
        fmt::format("    longest legal order: {} op(s){}", report.longest_order.size(), shown ? ", ending with" : "");
    for (std::size_t index = report.longest_order.size() - shown; index < report.longest_order.size(); ++index) {
      std::uint32_t invocation = report.longest_order[index];
      text += fmt::format(" #{} {}", invocation, history.function_name(history.operations[invocation]));
    }
    text += "\n    next op of each process, none possible then:\n";
    for (const std::string& op : report.blocked_operations) text += fmt::format("      {}\n", op);
  }
  return text;
}

}  // namespace chaosbench::checkers
