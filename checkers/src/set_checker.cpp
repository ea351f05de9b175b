#include "chaosbench/checkers/set_checker.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "judge_floor.h"

namespace chaosbench::checkers {
namespace {

struct Read {
  std::int64_t invoked;
  std::int64_t completed;
  std::uint32_t op;
  std::set<std::string> elements;
};

struct Element {
  std::uint32_t add_op = 0;
  OpType outcome = OpType::info;
  bool added = false;
  std::int64_t acknowledged = INT64_MAX;  // completion time of an ok add
};

}  // namespace

CheckResult check_set(const History& history, const SetOptions& options) {
  auto started = std::chrono::steady_clock::now();
  CheckResult result;
  result.checker = "set";
  std::map<std::string, Element> elements;
  std::vector<Read> reads;
  std::map<std::string, std::size_t> duplicated;
  JudgeFloor floor;
  for (const OperationPair& pair : pair_operations(history)) {
    const Operation& invocation = history.operations[pair.invocation];
    const std::string& function = history.function_name(invocation);
    if (function == "add") {
      Element& element = elements[history.values.to_text(invocation.value)];
      element.added = true;
      element.add_op = pair.invocation;
      element.outcome = pair.outcome;
      if (pair.outcome == OpType::ok) {
        element.acknowledged = history.operations[pair.completion].time;
        floor.update(0, pair.invocation, true);
      }
      continue;
    }
    if (function != "read") {
      throw HistoryError(
          fmt::format("op {}: field 'f': the set checker knows add and read, got '{}'", pair.invocation, function));
    }
    if (pair.outcome != OpType::ok) continue;
    const Operation& completion = history.operations[pair.completion];
    nlohmann::json value = history.values.to_json(completion.value);
    if (!value.is_array()) {
      throw HistoryError(fmt::format("op {}: field 'value': a set read must be a list, got {}", pair.completion,
                                     history.values.to_text(completion.value)));
    }
    floor.ok_read(0, pair.completion);
    Read read{invocation.time, completion.time, pair.invocation, {}};
    for (const auto& item : value) {
      if (!read.elements.insert(item.dump()).second) ++duplicated[item.dump()];
    }
    reads.push_back(std::move(read));
  }
  std::sort(reads.begin(), reads.end(),
            [](const Read& left, const Read& right) { return left.invoked < right.invoked; });

  std::size_t acknowledged = 0, stable = 0, stale = 0, lost = 0, never_read = 0, recovered = 0;
  std::vector<std::string> lost_samples, stale_samples, unexpected_samples;
  std::set<std::string> read_elements;
  for (const Read& read : reads) read_elements.insert(read.elements.begin(), read.elements.end());
  for (auto& [text, element] : elements) {
    acknowledged += element.outcome == OpType::ok;
    std::int64_t known = element.acknowledged;
    for (const Read& read : reads) {
      if (read.elements.contains(text)) known = std::min(known, read.completed);
    }
    if (element.outcome != OpType::ok && element.outcome != OpType::fail && read_elements.contains(text)) ++recovered;
    if (known == INT64_MAX) continue;  // never known to exist
    bool any_after = false, last_present = false, ever_absent = false;
    const Read* last_read = nullptr;
    for (const Read& read : reads) {
      if (read.invoked <= known) continue;
      any_after = true;
      last_present = read.elements.contains(text);
      ever_absent |= !last_present;
      last_read = &read;
    }
    if (!any_after) {
      ++never_read;
    } else if (!last_present) {
      ++lost;
      if (lost_samples.size() < options.max_evidence) {
        lost_samples.push_back(fmt::format("{} (added by op {}, {}) is missing from the last read, op {}", text,
                                           element.add_op, to_string(element.outcome), last_read->op));
      }
    } else if (ever_absent) {
      ++stale;
      if (stale_samples.size() < options.max_evidence) {
        stale_samples.push_back(fmt::format(
            "{} (added by op {}) was missing from a read after it was known, then came back", text, element.add_op));
      }
    } else {
      ++stable;
    }
  }
  std::size_t unexpected = 0;
  for (const std::string& text : read_elements) {
    if (elements.contains(text)) continue;
    ++unexpected;
    if (unexpected_samples.size() < options.max_evidence)
      unexpected_samples.push_back(text + " was read but never added");
  }
  std::size_t duplicated_count = duplicated.size();

  result.details = {{"attempted", elements.size()},
                    {"acknowledged", acknowledged},
                    {"stable", stable},
                    {"stale", stale},
                    {"lost", lost},
                    {"never_read", never_read},
                    {"unexpected", unexpected},
                    {"recovered", recovered},
                    {"duplicated", duplicated_count},
                    {"reads", reads.size()},
                    {"lost_samples", lost_samples},
                    {"stale_samples", stale_samples},
                    {"unexpected_samples", unexpected_samples}};
  for (const auto& lines : {lost_samples, unexpected_samples, stale_samples}) {
    for (const std::string& line : lines) result.evidence.push_back(line);
  }
  for (const auto& [text, count] : duplicated) {
    if (result.evidence.size() < 3 * options.max_evidence)
      result.evidence.push_back(fmt::format("{} appears twice in a read", text));
  }
  bool invalid = lost > 0 || unexpected > 0 || duplicated_count > 0 || (options.stale_reads_invalid && stale > 0);
  std::string counts = fmt::format(
      "{} attempted, {} acknowledged, {} stable, {} stale, {} lost, {} never read, {} unexpected, "
      "{} recovered, {} duplicated",
      elements.size(), acknowledged, stable, stale, lost, never_read, unexpected, recovered, duplicated_count);
  if (invalid) {
    result.verdict = Verdict::invalid;
    result.reason = counts;
  } else if (std::string nothing = floor.missing("add", "read", "add"); !nothing.empty()) {
    result.verdict = Verdict::unknown;
    result.reason = nothing + " (" + counts + ")";
  } else {
    result.verdict = Verdict::valid;
    result.reason = counts;
  }
  result.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace chaosbench::checkers
