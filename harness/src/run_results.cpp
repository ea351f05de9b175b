#include "chaosbench/harness/run_results.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <set>

#include <fmt/format.h>

namespace chaosbench::harness {

using checkers::OpType;

OutcomeCounts count_outcomes(const checkers::History& history) {
  OutcomeCounts counts;
  std::uint64_t completions = 0;
  for (std::size_t index = 0; index < history.operations.size(); ++index) {
    const auto& operation = history.operations[index];
    if (operation.process == checkers::kNemesisProcess) continue;
    switch (operation.type) {
      case OpType::invoke:
        ++counts.invoked;
        break;
      case OpType::ok:
        ++counts.ok;
        ++completions;
        break;
      case OpType::fail:
        ++counts.fail;
        ++completions;
        break;
      case OpType::info:
        ++counts.info;
        ++completions;
        break;
    }
    if (operation.type == OpType::fail || operation.type == OpType::info) {
      if (const std::string* error = history.error(index)) {
        ++(operation.type == OpType::fail ? counts.fail_errors : counts.info_errors)[*error];
      }
    }
  }
  counts.info += counts.invoked - std::min(counts.invoked, completions);  // never completed
  return counts;
}

bool is_unserved_error(std::string_view error) {
  const std::string_view code = error.substr(0, std::min(error.find_first_of(": "), error.size()));
  return code == "unsupported" || code == "unknown_op" || code == "malformed" || code == "type_error";
}

UnservedOperations find_unserved_operations(const checkers::History& history) {
  UnservedOperations unserved;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_function;  // completions, unserved
  for (std::size_t index = 0; index < history.operations.size(); ++index) {
    const auto& operation = history.operations[index];
    if (operation.process == checkers::kNemesisProcess || operation.type == OpType::invoke) continue;
    ++unserved.completions;
    auto& [completions, unserved_here] = per_function[history.function_name(operation)];
    ++completions;
    const std::string* error = history.error(index);
    if (operation.type == OpType::ok || error == nullptr || !is_unserved_error(*error)) continue;
    ++unserved.unserved;
    ++unserved_here;
    ++unserved.by_error[*error];
  }
  for (const auto& [function, counts] : per_function) {
    if (counts.first > 0 && counts.second == counts.first) unserved.functions_never_served.push_back(function);
  }
  return unserved;
}

nlohmann::json to_json(const UnservedOperations& unserved) {
  return {{"completions", unserved.completions},
          {"unserved", unserved.unserved},
          {"by_error", unserved.by_error},
          {"functions_never_served", unserved.functions_never_served}};
}

LatencySummary summarize_latencies(std::vector<std::int64_t> nanoseconds) {
  LatencySummary summary;
  summary.count = nanoseconds.size();
  if (nanoseconds.empty()) return summary;
  std::sort(nanoseconds.begin(), nanoseconds.end());
  auto rank = [&](double percentile) {
    const auto position =
        static_cast<std::size_t>(std::ceil(percentile / 100.0 * static_cast<double>(nanoseconds.size())));
    return static_cast<double>(nanoseconds[std::clamp<std::size_t>(position, 1, nanoseconds.size()) - 1]) / 1e6;
  };
  summary.p50_ms = rank(50);
  summary.p90_ms = rank(90);
  summary.p99_ms = rank(99);
  summary.p999_ms = rank(99.9);
  summary.max_ms = static_cast<double>(nanoseconds.back()) / 1e6;
  summary.mean_ms =
      std::accumulate(nanoseconds.begin(), nanoseconds.end(), 0.0) / static_cast<double>(nanoseconds.size()) / 1e6;
  return summary;
}

std::map<std::string, Availability> availability_by_fault(const checkers::History& history,
                                                          const std::vector<CompletionSample>& samples) {
  std::map<std::string, Availability> availability;
  std::multiset<std::string> active;
  auto sample = samples.begin();
  auto count_until = [&](std::int64_t time) {
    for (; sample != samples.end() && sample->time < time; ++sample) {
      auto count = [&](const std::string& key) {
        auto& entry = availability[key];
        ++entry.completed;
        if (sample->available) ++entry.available;
        if (sample->ok) ++entry.ok;
      };
      if (active.empty()) {
        count("none");
      } else {
        for (auto kind = active.begin(); kind != active.end(); kind = active.upper_bound(*kind)) count(*kind);
      }
    }
  };
  for (const auto& operation : history.operations) {
    if (operation.process != checkers::kNemesisProcess) continue;
    const std::string& function = history.function_name(operation);
    const bool start = function.rfind("start-", 0) == 0;
    // A fault is active from its start's completion (when it has been applied;
    // not at all when that completion reports an error) to its stop's invocation.
    if (start ? operation.type != OpType::info : operation.type != OpType::invoke) continue;
    count_until(operation.time);
    if (start) {
      const nlohmann::json done = history.values.to_json(operation.value);
      if (done.is_object() && done.contains("error")) continue;
      active.insert(function.substr(6));
      availability[function.substr(6)];  // listed even when nothing completed
    } else if (function.rfind("stop-", 0) == 0) {
      auto found = active.find(function.substr(5));
      if (found != active.end()) active.erase(found);
    }
  }
  count_until(INT64_MAX);
  return availability;
}

Availability availability_without_faults(const std::map<std::string, Availability>& availability) {
  const auto quiet = availability.find("none");
  return quiet == availability.end() ? Availability{} : quiet->second;
}

std::string not_a_valid_test_reason(const Availability& without_faults) {
  if (without_faults.ok > 0) return "";
  return fmt::format(
      "no operation was ok while no fault was active ({} completion(s) then, 0 ok): the system was never seen "
      "working, so the run tested nothing",
      without_faults.completed);
}

std::string describe_errors(const std::map<std::string, std::uint64_t>& errors) {
  std::vector<std::pair<std::string, std::uint64_t>> sorted(errors.begin(), errors.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  constexpr std::size_t kShown = 5;  // adapters put node and path in their errors: there can be many kinds
  std::string text;
  for (std::size_t index = 0; index < std::min(sorted.size(), kShown); ++index) {
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", sorted[index].first, sorted[index].second);
  }
  if (sorted.size() > kShown) text += fmt::format(", {} more kinds (results.json)", sorted.size() - kShown);
  return text;
}

nlohmann::json to_json(const OutcomeCounts& counts) {
  return {{"invoked", counts.invoked},
          {"ok", counts.ok},
          {"fail", counts.fail},
          {"info", counts.info},
          {"fail_errors", counts.fail_errors},
          {"info_errors", counts.info_errors}};
}

nlohmann::json to_json(const LatencySummary& summary) {
  return {{"count", summary.count},    {"p50_ms", summary.p50_ms},   {"p90_ms", summary.p90_ms},
          {"p99_ms", summary.p99_ms},  {"p999_ms", summary.p999_ms}, {"max_ms", summary.max_ms},
          {"mean_ms", summary.mean_ms}};
}

nlohmann::json to_json(const std::map<std::string, Availability>& availability) {
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [fault, entry] : availability) {
    document[fault] = {{"available", entry.available},
                       {"completed", entry.completed},
                       {"ok", entry.ok},
                       {"availability", entry.ratio()}};
  }
  return document;
}

}  // namespace chaosbench::harness
