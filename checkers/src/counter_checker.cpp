#include "chaosbench/checkers/counter_checker.h"

#include <chrono>
#include <unordered_map>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "judge_floor.h"

namespace chaosbench::checkers {

CheckResult check_counter(const History& history, const CounterOptions& options) {
  auto started = std::chrono::steady_clock::now();
  CheckResult result;
  result.checker = "counter";
  std::vector<OperationPair> pairs = pair_operations(history);
  // Per history index: what happens there.
  std::unordered_map<std::uint32_t, const OperationPair*> by_invocation, by_completion;
  for (const OperationPair& pair : pairs) {
    by_invocation[pair.invocation] = &pair;
    if (pair.completion != OperationPair::kNoCompletion) by_completion[pair.completion] = &pair;
  }
  auto integer = [&](Value value, std::uint32_t index, const char* what) {
    if (!history.values.is_int(value)) {
      throw HistoryError(fmt::format("op {}: field 'value': {} must be an integer, got {}", index, what,
                                     history.values.to_text(value)));
    }
    return history.values.as_int(value);
  };
  // Sums so far: adds certainly in effect (ok completions) and possibly in effect
  // (invoked, not failed), positive and negative apart. A read's value is at least
  // the positive adds certain before it began plus every negative add invoked before
  // it ended, at most every positive add invoked before it ended plus the negative
  // adds certain before it began.
  std::int64_t certain_positive = 0, possible_positive = 0, certain_negative = 0, possible_negative = 0;
  struct AtInvoke {
    std::int64_t certain_positive, certain_negative;
  };
  std::unordered_map<std::uint32_t, AtInvoke> at_invoke;
  std::size_t read_count = 0, errors = 0, adds_ok = 0, adds_unknown = 0;
  JudgeFloor floor;
  for (std::uint32_t index = 0; index < history.size(); ++index) {
    const Operation& op = history.operations[index];
    if (op.process == kNemesisProcess) continue;
    const std::string& function = history.function_name(op);
    if (function != "add" && function != "read") {
      throw HistoryError(
          fmt::format("op {}: field 'f': the counter checker knows add and read, got '{}'", index, function));
    }
    if (op.type == OpType::invoke) {
      const OperationPair& pair = *by_invocation.at(index);
      if (function == "read") {
        at_invoke[index] = AtInvoke{certain_positive, certain_negative};
      } else if (pair.outcome != OpType::fail) {
        std::int64_t amount = integer(op.value, index, "an add");
        // It may take effect from now on.
        if (amount > 0)
          possible_positive += amount;
        else
          possible_negative += amount;
        if (pair.outcome == OpType::ok) {
          ++adds_ok;
          floor.update(0, index, true);
        } else {
          ++adds_unknown;
        }
      }
      continue;
    }
    auto found = by_completion.find(index);
    if (found == by_completion.end() || op.type != OpType::ok) continue;
    const OperationPair& pair = *found->second;
    if (function == "add") {
      std::int64_t amount = integer(history.operations[pair.invocation].value, pair.invocation, "an add");
      // It has certainly taken effect.
      if (amount > 0)
        certain_positive += amount;
      else
        certain_negative += amount;
      continue;
    }
    ++read_count;
    floor.ok_read(0, index);
    std::int64_t value = integer(op.value, index, "a counter read");
    const AtInvoke& began = at_invoke.at(pair.invocation);
    const std::int64_t minimum = options.initial + began.certain_positive + possible_negative;
    const std::int64_t maximum = options.initial + possible_positive + began.certain_negative;
    if (value < minimum || value > maximum) {
      ++errors;
      if (result.evidence.size() < options.max_evidence) {
        result.evidence.push_back(fmt::format("op {} read {}, outside the possible range [{}, {}]", pair.invocation,
                                              value, minimum, maximum));
      }
    }
  }
  const std::int64_t final_lower = options.initial + certain_positive + possible_negative;
  const std::int64_t final_upper = options.initial + possible_positive + certain_negative;
  result.details = {{"reads", read_count},
                    {"errors", errors},
                    {"adds_ok", adds_ok},
                    {"adds_unknown", adds_unknown},
                    {"final_bounds", {final_lower, final_upper}}};
  if (errors > 0) {
    result.verdict = Verdict::invalid;
    result.reason = fmt::format("{} of {} read(s) outside the bounds the adds allow", errors, read_count);
  } else if (std::string nothing = floor.missing("add", "read", "add"); !nothing.empty()) {
    result.verdict = Verdict::unknown;
    result.reason = nothing;
  } else {
    result.verdict = Verdict::valid;
    result.reason = fmt::format("{} read(s) within bounds ({} ok adds, {} unknown); final value in [{}, {}]",
                                read_count, adds_ok, adds_unknown, final_lower, final_upper);
  }
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chaosbench::checkers
