#include "chaosbench/reports/data_shaping.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

namespace chaosbench::reports {

using checkers::History;
using checkers::OpType;
using nlohmann::json;

std::vector<OperationSpan> operation_spans(const History& history) {
  const auto pairs = checkers::pair_operations(history);
  const std::int64_t last_time = history_time_range(history).end;
  std::vector<OperationSpan> spans;
  spans.reserve(pairs.size());
  for (const auto& pair : pairs) {
    const auto& invocation = history.operations[pair.invocation];
    OperationSpan span;
    span.invocation = pair.invocation;
    span.completion = pair.completion;
    span.start = invocation.time;
    span.process = invocation.process;
    span.function = invocation.function;
    span.outcome = pair.outcome;
    span.completed = pair.completion != checkers::OperationPair::kNoCompletion;
    span.end = span.completed ? history.operations[pair.completion].time : std::max(last_time, span.start);
    if (span.end < span.start) span.end = span.start;  // clocks of imported histories may disagree
    spans.push_back(span);
  }
  std::stable_sort(spans.begin(), spans.end(), [](const OperationSpan& left, const OperationSpan& right) {
    return left.start != right.start ? left.start < right.start : left.invocation < right.invocation;
  });
  return spans;
}

TimeRange history_time_range(const History& history) {
  if (history.operations.empty()) return {};
  TimeRange range{history.operations.front().time, history.operations.front().time};
  for (const auto& operation : history.operations) {
    range.begin = std::min(range.begin, operation.time);
    range.end = std::max(range.end, operation.time);
  }
  return range;
}

std::int64_t choose_bucket_width(std::int64_t span, std::size_t max_buckets) {
  if (span <= 0 || max_buckets == 0) return 1;
  const double raw = static_cast<double>(span) / static_cast<double>(max_buckets);
  double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw, 1.0))));
  for (;;) {
    for (double step : {1.0, 2.0, 5.0}) {
      const auto width = static_cast<std::int64_t>(step * magnitude);
      if (width >= 1 && (span + width - 1) / width <= static_cast<std::int64_t>(max_buckets)) return width;
    }
    magnitude *= 10;
  }
}

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::vector<TimeBucket> bucket_operations(const std::vector<OperationSpan>& spans, TimeRange range,
                                          std::int64_t width) {
  width = std::max<std::int64_t>(width, 1);
  const std::int64_t span = std::max<std::int64_t>(range.end - range.begin, 0);
  const auto count = static_cast<std::size_t>(span / width + 1);
  std::vector<TimeBucket> buckets(count);
  std::vector<std::vector<std::int64_t>> latencies(count);
  for (std::size_t index = 0; index < count; ++index) {
    buckets[index].start = range.begin + static_cast<std::int64_t>(index) * width;
  }
  for (const auto& operation : spans) {
    if (!operation.completed) continue;
    const std::int64_t offset = std::clamp<std::int64_t>(operation.end - range.begin, 0, span);
    const auto index = static_cast<std::size_t>(offset / width);
    auto& bucket = buckets[index];
    switch (operation.outcome) {
      case OpType::ok:
        ++bucket.ok;
        latencies[index].push_back(operation.latency());
        break;
      case OpType::fail:
        ++bucket.fail;
        break;
      default:
        ++bucket.info;
        break;
    }
  }
  for (std::size_t index = 0; index < count; ++index) {
    auto& samples = latencies[index];
    if (samples.empty()) continue;
    std::sort(samples.begin(), samples.end());
    buckets[index].p50 = percentile(samples, 50);
    buckets[index].p95 = percentile(samples, 95);
    buckets[index].p99 = percentile(samples, 99);
    buckets[index].max = samples.back();
  }
  return buckets;
}

namespace {

struct FaultRule {
  std::string kind;
  bool opens = false;
};

// What a nemesis function does to a fault window of which kind; nullopt: an instant event.
std::optional<FaultRule> classify_nemesis_function(const std::string& function) {
  if (function.rfind("start-", 0) == 0 && function.size() > 6) return FaultRule{function.substr(6), true};
  if (function.rfind("stop-", 0) == 0 && function.size() > 5) return FaultRule{function.substr(5), false};
  static const std::map<std::string, FaultRule, std::less<>> rules = {
      {"kill", {"kill", true}},          {"restart", {"kill", false}},      {"pause", {"pause", true}},
      {"resume", {"pause", false}},      {"bump-clock", {"clock", true}},   {"strobe-clock", {"clock", true}},
      {"clock-bump", {"clock", true}},   {"clock-strobe", {"clock", true}}, {"reset-clock", {"clock", false}},
      {"clock-reset", {"clock", false}}, {"stop", {"partition", false}}};
  if (auto found = rules.find(function); found != rules.end()) return found->second;
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (const auto& part : parts) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

std::string scalar_text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

std::string cut(std::string text, std::size_t max_length) {
  if (text.size() > max_length) {
    text.resize(max_length > 3 ? max_length - 3 : max_length);
    text += "...";
  }
  return text;
}

std::string describe_grudge(const json& grudge, bool one_way = false) {
  // {"n1": ["n3", "n4"], ...}: node -> nodes it does not hear from. Two-way:
  // "n1 x n3,n4"; one-way, where the direction matters: "n1 does not hear n3,n4".
  std::vector<std::string> parts;
  for (const auto& [node, others] : grudge.items()) {
    if (!others.is_array() || others.empty()) continue;
    std::vector<std::string> names;
    for (const auto& other : others) names.push_back(scalar_text(other));
    parts.push_back(node + (one_way ? " does not hear " : " x ") + join(names, ","));
  }
  return join(parts, "; ");
}

// A storage fault ({"nodes","request","effects"}): the nodes, what was asked,
// and per node what faultfs did (files cut back, the file corrupted).
std::string describe_storage_fault(const json& value) {
  std::vector<std::string> nodes;
  for (const auto& node : value["nodes"]) nodes.push_back(scalar_text(node));
  const json& request = value["request"];
  const std::string op = request.is_object() ? request.value("op", std::string("?")) : std::string("?");
  std::vector<std::string> asked;
  for (const char* field : {"mode", "operations", "probability", "space_left", "delay_ms", "count"}) {
    if (request.is_object() && request.contains(field))
      asked.push_back(std::string(field) + "=" + scalar_text(request[field]));
  }
  std::string text = join(nodes, ",") + ": " + op;
  if (!asked.empty()) text += " (" + join(asked, " ") + ")";
  if (!value.contains("effects") || !value["effects"].is_object()) return text;
  std::vector<std::string> effects;
  for (const auto& [node, effect] : value["effects"].items()) {
    if (!effect.is_object()) continue;
    if (effect.contains("files") && effect["files"].is_array()) {
      for (const auto& file : effect["files"]) {
        effects.push_back(fmt::format("{} {} {}->{} B", node, scalar_text(file.value("path", json("?"))),
                                      scalar_text(file.value("size_before", json(0))),
                                      scalar_text(file.value("size_after", json(0)))));
      }
      const auto dropped = effect.value("entries_dropped", json::array());
      if (dropped.is_array() && !dropped.empty())
        effects.push_back(fmt::format("{} {} entries dropped", node, dropped.size()));
    } else if (effect.contains("file")) {
      effects.push_back(node + " " + scalar_text(effect["file"]));
    }
  }
  if (!effects.empty()) text += ": " + join(effects, "; ");
  return text;
}

}  // namespace

std::string describe_fault_value(const std::string& kind, const json& value, std::size_t max_length) {
  std::string text;
  if (value.is_null()) return {};
  if (value.is_object() && value.contains("error")) {
    text = "error: " + scalar_text(value["error"]);
  } else if (kind == "node-exited" && value.is_object() && value.contains("node") && value.contains("status")) {
    // "n1 exited with 3", "n1's sentinel killed by signal 9"
    text = scalar_text(value["node"]) + (value.contains("companion") ? "'s " + scalar_text(value["companion"]) : "") +
           " " + scalar_text(value["status"]);
  } else if (value.is_object() && value.contains("nodes") && value.contains("request")) {
    text = describe_storage_fault(value);
  } else if (value.is_object() && value.contains("shape")) {
    text = scalar_text(value["shape"]);
    if (value.contains("leader") && !value["leader"].is_null())
      text += " (leader " + scalar_text(value["leader"]) + ")";
    if (value.contains("grudge") && value["grudge"].is_object()) {
      const std::string grudge = describe_grudge(value["grudge"], value.value("one_way", false));
      if (!grudge.empty()) text += ": " + grudge;
    }
  } else if (value.is_array() && std::all_of(value.begin(), value.end(),
                                             [](const json& item) { return item.is_string() || item.is_number(); })) {
    std::vector<std::string> names;
    for (const auto& item : value) names.push_back(scalar_text(item));
    text = join(names, ", ");
  } else if (value.is_object() && (kind == "clock" || value.contains("offsets"))) {
    const json& offsets = value.contains("offsets") ? value["offsets"] : value;
    std::vector<std::string> parts;
    if (value.contains("mode")) parts.push_back(scalar_text(value["mode"]));
    for (const auto& [node, offset] : offsets.items()) {
      if (offset.is_number()) {
        parts.push_back(fmt::format("{} {:+g}s", node, offset.get<double>()));
      } else if (node != "mode" && node != "period_ms") {
        parts.push_back(node + " " + scalar_text(offset));
      }
    }
    text = join(parts, " ");
  } else if (value.is_object() && kind == "partition" &&
             std::all_of(value.begin(), value.end(), [](const json& item) { return item.is_array(); })) {
    text = describe_grudge(value);
  } else if (value.is_object() &&
             std::all_of(value.begin(), value.end(), [](const json& item) { return item.is_number(); })) {
    std::vector<std::string> parts;
    for (const auto& [node, number] : value.items()) parts.push_back(node + " " + number.dump());
    text = join(parts, ", ");
  } else {
    text = scalar_text(value);
  }
  return cut(std::move(text), max_length);
}

std::vector<FaultWindow> fault_windows(const History& history) {
  std::vector<FaultWindow> windows;
  std::map<std::string, std::vector<std::size_t>> open;  // kind -> indices into windows
  // The nemesis op waiting for its completion: its function and what it did.
  struct Pending {
    std::string function;
    std::optional<std::size_t> opened;  // window it opened
    std::vector<std::size_t> closed;    // windows it closed
  };
  std::optional<Pending> pending;
  const std::int64_t history_end = history_time_range(history).end;

  for (std::uint32_t index = 0; index < history.operations.size(); ++index) {
    const auto& operation = history.operations[index];
    if (operation.process != checkers::kNemesisProcess) continue;
    const std::string& function = history.function_name(operation);
    const json value = history.values.to_json(operation.value);
    if (operation.type != OpType::invoke) {
      // The completion: a better label (it says what was actually done) and the closing time.
      if (pending && pending->function == function) {
        if (pending->opened) {
          auto& window = windows[*pending->opened];
          const std::string label = describe_fault_value(window.kind, value);
          if (!label.empty()) window.label = label;
          if (value.is_object() && value.contains("error")) window.failed = true;
          if (window.instant) window.end = window.start;
        }
        for (std::size_t closed : pending->closed) {
          windows[closed].end = operation.time;
          windows[closed].end_index = index;
        }
        pending.reset();
      } else if (!pending) {
        // A completion without an invocation (some imported histories record only these): an event.
        FaultWindow event{function,       describe_fault_value(function, value),
                          function,       operation.time,
                          operation.time, index,
                          index,          false,
                          true,           false};
        windows.push_back(std::move(event));
      }
      continue;
    }
    pending = Pending{function, std::nullopt, {}};
    auto rule = classify_nemesis_function(function);
    // Bare "start": restarts killed nodes if any are down, else Jepsen's partitioner starting a partition.
    if (function == "start")
      rule = open.count("kill") && !open["kill"].empty() ? FaultRule{"kill", false} : FaultRule{"partition", true};
    if (!rule) {
      windows.push_back({function, describe_fault_value(function, value), function, operation.time, operation.time,
                         index, index, false, true, false});
      pending->opened = windows.size() - 1;
      continue;
    }
    if (rule->opens) {
      FaultWindow window{rule->kind,  describe_fault_value(rule->kind, value),
                         function,    operation.time,
                         history_end, index,
                         index,       true,
                         false,       false};
      windows.push_back(std::move(window));
      open[rule->kind].push_back(windows.size() - 1);
      pending->opened = windows.size() - 1;
    } else {
      for (std::size_t closed : open[rule->kind]) {
        windows[closed].open = false;
        windows[closed].end = operation.time;
        windows[closed].end_index = index;
        pending->closed.push_back(closed);
      }
      open[rule->kind].clear();
    }
  }
  return windows;
}

std::vector<WindowAvailability> availability_per_window(const std::vector<OperationSpan>& spans,
                                                        const std::vector<FaultWindow>& windows) {
  // Completion times per outcome, sorted, so each window is three binary searches.
  std::vector<std::int64_t> ok_times, fail_times, info_times;
  for (const auto& operation : spans) {
    if (!operation.completed) continue;
    (operation.outcome == OpType::ok     ? ok_times
     : operation.outcome == OpType::fail ? fail_times
                                         : info_times)
        .push_back(operation.end);
  }
  for (auto* times : {&ok_times, &fail_times, &info_times}) std::sort(times->begin(), times->end());
  auto count_between = [](const std::vector<std::int64_t>& times, std::int64_t begin, std::int64_t end) {
    return static_cast<std::uint64_t>(std::upper_bound(times.begin(), times.end(), end) -
                                      std::lower_bound(times.begin(), times.end(), begin));
  };
  std::vector<WindowAvailability> result;
  std::vector<std::pair<std::int64_t, std::int64_t>> intervals;
  for (std::size_t index = 0; index < windows.size(); ++index) {
    const auto& window = windows[index];
    if (window.instant) continue;
    WindowAvailability entry;
    entry.window = static_cast<int>(index);
    entry.ok = count_between(ok_times, window.start, window.end);
    entry.fail = count_between(fail_times, window.start, window.end);
    entry.info = count_between(info_times, window.start, window.end);
    result.push_back(entry);
    intervals.emplace_back(window.start, window.end);
  }
  // Outside every window: merge the intervals, count what falls inside them, subtract.
  std::sort(intervals.begin(), intervals.end());
  std::vector<std::pair<std::int64_t, std::int64_t>> merged;
  for (const auto& interval : intervals) {
    if (!merged.empty() && interval.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, interval.second);
    } else {
      merged.push_back(interval);
    }
  }
  WindowAvailability outside;
  outside.ok = ok_times.size();
  outside.fail = fail_times.size();
  outside.info = info_times.size();
  for (const auto& [begin, end] : merged) {
    outside.ok -= count_between(ok_times, begin, end);
    outside.fail -= count_between(fail_times, begin, end);
    outside.info -= count_between(info_times, begin, end);
  }
  result.push_back(outside);
  return result;
}

LaneAssignment assign_lanes(const std::vector<OperationSpan>& spans, std::size_t max_lanes) {
  // Each process's active interval: first invocation to last end.
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> active;
  for (const auto& operation : spans) {
    auto [entry, inserted] = active.try_emplace(operation.process, operation.start, operation.end);
    if (!inserted) {
      entry->second.first = std::min(entry->second.first, operation.start);
      entry->second.second = std::max(entry->second.second, operation.end);
    }
  }
  LaneAssignment assignment;
  for (const auto& [process, interval] : active) assignment.processes.push_back(process);
  assignment.lane_of.resize(assignment.processes.size());
  if (assignment.processes.size() <= max_lanes) {
    for (std::uint32_t lane = 0; lane < assignment.lane_of.size(); ++lane) assignment.lane_of[lane] = lane;
    assignment.lanes = static_cast<std::uint32_t>(assignment.processes.size());
    return assignment;
  }
  assignment.packed = true;
  std::vector<std::size_t> order(assignment.processes.size());
  for (std::size_t index = 0; index < order.size(); ++index) order[index] = index;
  std::sort(order.begin(), order.end(), [&](std::size_t left, std::size_t right) {
    return active[assignment.processes[left]].first < active[assignment.processes[right]].first;
  });
  std::vector<std::int64_t> lane_busy_until;  // greedy first fit
  for (std::size_t position : order) {
    const auto& [begin, end] = active[assignment.processes[position]];
    std::size_t lane = 0;
    while (lane < lane_busy_until.size() && lane_busy_until[lane] >= begin) ++lane;
    if (lane == lane_busy_until.size()) lane_busy_until.push_back(end);
    lane_busy_until[lane] = end;
    assignment.lane_of[position] = static_cast<std::uint32_t>(lane);
  }
  assignment.lanes = static_cast<std::uint32_t>(lane_busy_until.size());
  return assignment;
}

}  // namespace chaosbench::reports
