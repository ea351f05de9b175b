#include "chaosbench/reports/html_report.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "chaosbench/reports/data_shaping.h"
#include "markup.h"
#include "report_assets.h"

namespace chaosbench::reports {

using checkers::OpType;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxBuckets = 150;
constexpr std::size_t kMaxLanes = 48;
constexpr std::size_t kMaxValueText = 200;

// test.json keeps flags under "options"; results.json repeats some. First found wins.
json lookup(const RunInputs& inputs, const char* name) {
  for (const json* source :
       {&inputs.test,
        inputs.test.is_object() && inputs.test.contains("options") ? &inputs.test["options"] : &inputs.test,
        &inputs.results}) {
    if (source->is_object()) {
      auto found = source->find(name);
      if (found != source->end() && !found->is_null()) return *found;
    }
  }
  return nullptr;
}

std::string shell_quote(const std::string& argument) {
  if (!argument.empty() && argument.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                      "-_=./:,+@%") == std::string::npos) {
    return argument;
  }
  std::string quoted = "'";
  for (char c : argument) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string command_line_text(const json& command_line) {
  if (command_line.is_string()) return command_line.get<std::string>();
  if (!command_line.is_array()) return {};
  std::string text;
  for (const auto& argument : command_line) {
    if (!text.empty()) text += ' ';
    text += shell_quote(argument.is_string() ? argument.get<std::string>() : argument.dump());
  }
  return text;
}

// True when the history carries no times (readers then use time = position).
bool history_untimed(const checkers::History& history) {
  for (std::size_t index = 0; index < history.operations.size(); ++index) {
    if (history.operations[index].time != static_cast<std::int64_t>(index)) return false;
  }
  return true;
}

json run_metadata(const RunInputs& inputs, double duration_seconds) {
  json run = json::object();
  run["directory"] = inputs.directory.filename().string();
  if (inputs.directory.has_parent_path()) {
    run["directory"] = (inputs.directory.parent_path().filename() / inputs.directory.filename()).string();
  }
  for (const char* name : {"test", "target", "workload", "nemesis", "seed", "started_at", "version", "rate",
                           "concurrency", "time_limit", "nemesis_interval"}) {
    json value = lookup(inputs, name);
    if (!value.is_null()) run[name] = value;
  }
  if (!run.contains("test")) run["test"] = inputs.directory.parent_path().filename().string();
  const json nodes = lookup(inputs, "nodes");
  if (nodes.is_array()) {
    run["nodes"] = nodes.size();
  } else if (nodes.is_number()) {
    run["nodes"] = nodes;
  }
  std::string command = command_line_text(lookup(inputs, "command_line"));
  // A run without --seed drew one at random: add it, so the line reproduces the run.
  const json seed = lookup(inputs, "seed");
  if (!command.empty() && !seed.is_null() && command.find(" run ") != std::string::npos &&
      command.find("--seed") == std::string::npos) {
    command += " --seed " + (seed.is_string() ? seed.get<std::string>() : seed.dump());
  }
  if (!command.empty()) run["command_line"] = command;
  run["duration_seconds"] = duration_seconds;
  for (const char* flag : {"interrupted", "harness_failed"}) {
    if (inputs.results.value(flag, false) == true) run[flag] = true;
  }
  const json failure_reason = inputs.results.value("harness_failure_reason", json());
  if (failure_reason.is_string() && !failure_reason.get<std::string>().empty())
    run["harness_failure_reason"] = failure_reason;
  const json& valid_test = inputs.results.contains("valid_test") ? inputs.results["valid_test"] : json();
  if (valid_test.is_object() && valid_test.value("valid", true) == false)
    run["not_a_test_reason"] = valid_test.value("reason", std::string("not a valid test"));
  return run;
}

}  // namespace

json build_report_data(const RunInputs& inputs) {
  const checkers::History& history = inputs.history;
  const bool untimed = history_untimed(history);
  // Ticks: microseconds for timed histories (history time is in ns), positions otherwise.
  const std::int64_t divisor = untimed ? 1 : 1000;
  const TimeRange range = history_time_range(history);
  auto tick = [&](std::int64_t time) { return (time - range.begin) / divisor; };

  const std::vector<OperationSpan> spans = operation_spans(history);
  const LaneAssignment lanes = assign_lanes(spans, kMaxLanes);
  std::unordered_map<std::int64_t, std::uint32_t> process_slot;
  for (std::uint32_t index = 0; index < lanes.processes.size(); ++index) process_slot[lanes.processes[index]] = index;

  // Columnar operations; dense re-numbering of functions, keys, nodes and values.
  std::vector<std::uint32_t> function_slot(history.functions.size(), UINT32_MAX);
  std::vector<std::uint32_t> value_slot(history.values.size(), UINT32_MAX);
  json functions = json::array(), values = json::array({nullptr});
  value_slot[0] = 0;
  auto function_of = [&](std::uint32_t id) {
    if (function_slot[id] == UINT32_MAX) {
      function_slot[id] = static_cast<std::uint32_t>(functions.size());
      functions.push_back(history.functions.name(id));
    }
    return function_slot[id];
  };
  auto value_of = [&](checkers::Value value) {
    if (value_slot[value.id] == UINT32_MAX) {
      value_slot[value.id] = static_cast<std::uint32_t>(values.size());
      std::string text = history.values.to_text(value);
      if (text.size() > kMaxValueText) text = text.substr(0, kMaxValueText - 3) + "...";
      values.push_back(std::move(text));
    }
    return value_slot[value.id];
  };

  const std::size_t count = spans.size();
  std::vector<std::int64_t> start_delta(count), duration(count), index_delta(count), completion_delta(count);
  std::vector<std::uint32_t> outcome(count), function(count), lane(count), process(count), key(count), node(count),
      invoke_value(count), completion_value(count), error(count);
  std::int64_t previous_start = 0, previous_index = 0;
  std::vector<std::int64_t> ok_latencies;
  std::uint64_t ok = 0, fail = 0, info = 0, pending = 0;
  for (std::size_t row = 0; row < count; ++row) {
    const OperationSpan& span = spans[row];
    const auto& invocation = history.operations[span.invocation];
    const std::int64_t start = tick(span.start);
    start_delta[row] = start - previous_start;
    previous_start = start;
    duration[row] = tick(span.end) - start;
    index_delta[row] = static_cast<std::int64_t>(span.invocation) - previous_index;
    previous_index = span.invocation;
    completion_delta[row] = span.completed ? static_cast<std::int64_t>(span.completion - span.invocation) : 0;
    outcome[row] = !span.completed ? 3 : span.outcome == OpType::ok ? 0 : span.outcome == OpType::fail ? 1 : 2;
    if (!span.completed)
      ++pending;
    else if (span.outcome == OpType::ok)
      ++ok, ok_latencies.push_back(span.latency());
    else if (span.outcome == OpType::fail)
      ++fail;
    else
      ++info;
    function[row] = function_of(span.function);
    const std::uint32_t slot = process_slot.at(span.process);
    process[row] = slot;
    lane[row] = lanes.lane_of[slot];
    key[row] = invocation.key;
    node[row] = invocation.node;
    invoke_value[row] = value_of(invocation.value);
    completion_value[row] = span.completed ? value_of(history.operations[span.completion].value) : 0;
    if (span.completed) {
      const auto recorded = history.error_of_operation.find(span.completion);
      if (recorded != history.error_of_operation.end()) error[row] = recorded->second;
    }
  }
  std::sort(ok_latencies.begin(), ok_latencies.end());

  json operations = {
      {"count", count}, {"s", start_delta}, {"d", duration},         {"o", outcome},      {"f", function},
      {"l", lane},      {"i", index_delta}, {"c", completion_delta}, {"v", invoke_value}, {"w", completion_value}};
  if (lanes.packed) operations["p"] = process;
  if (std::any_of(key.begin(), key.end(), [](std::uint32_t id) { return id != 0; })) operations["k"] = key;
  if (std::any_of(node.begin(), node.end(), [](std::uint32_t id) { return id != 0; })) operations["n"] = node;
  if (!history.error_of_operation.empty()) operations["e"] = error;

  json processes = json::array();
  for (std::int64_t number : lanes.processes) processes.push_back(number);
  json keys = json::array(), nodes = json::array();
  for (std::uint32_t id = 0; id < history.keys.size(); ++id) keys.push_back(history.keys.name(id));
  for (std::uint32_t id = 0; id < history.nodes.size(); ++id) nodes.push_back(history.nodes.name(id));
  json errors = json::array();
  for (std::uint32_t id = 0; id < history.errors.size(); ++id) errors.push_back(history.errors.name(id));

  // Buckets in ticks.
  const std::int64_t span_ticks = tick(range.end);
  const std::int64_t width_ticks = choose_bucket_width(span_ticks, kMaxBuckets);
  const auto buckets = bucket_operations(spans, range, width_ticks * divisor);
  json bucket_json = {{"width", width_ticks}};
  for (const char* column : {"ok", "fail", "info", "p50", "p95", "p99", "max"}) bucket_json[column] = json::array();
  for (const auto& bucket : buckets) {
    bucket_json["ok"].push_back(bucket.ok);
    bucket_json["fail"].push_back(bucket.fail);
    bucket_json["info"].push_back(bucket.info);
    bucket_json["p50"].push_back(bucket.p50 / divisor);
    bucket_json["p95"].push_back(bucket.p95 / divisor);
    bucket_json["p99"].push_back(bucket.p99 / divisor);
    bucket_json["max"].push_back(bucket.max / divisor);
  }

  const auto windows = fault_windows(history);
  json faults = json::array();
  for (const auto& window : windows) {
    faults.push_back({{"kind", window.kind},
                      {"label", window.label},
                      {"f", window.function},
                      {"start", tick(window.start)},
                      {"end", tick(window.end)},
                      {"start_index", window.start_index},
                      {"end_index", window.end_index},
                      {"open", window.open},
                      {"instant", window.instant},
                      {"failed", window.failed}});
  }
  json availability = json::array();
  for (const auto& entry : availability_per_window(spans, windows)) {
    availability.push_back({{"window", entry.window},
                            {"ok", entry.ok},
                            {"fail", entry.fail},
                            {"info", entry.info},
                            {"ratio", entry.ratio()}});
  }

  json checker_list = json::array();
  for (const auto& outcome_entry : inputs.checkers) {
    checker_list.push_back({{"name", outcome_entry.name},
                            {"verdict", checkers::to_string(outcome_entry.verdict)},
                            {"reason", outcome_entry.reason},
                            {"details", outcome_entry.details}});
  }
  json node_logs = json::array();
  for (const auto& log : inputs.node_logs) {
    json entry = {{"node", log.node}, {"path", log.relative_path}, {"exists", log.exists}, {"size", log.size_bytes}};
    if (log.tail) {
      entry["tail"] = *log.tail;
      entry["tail_reason"] = log.tail_reason;
    }
    node_logs.push_back(std::move(entry));
  }

  const double duration_seconds =
      untimed ? inputs.results.value("workload_seconds", 0.0) : static_cast<double>(range.end - range.begin) / 1e9;
  json summary = {{"ok", ok},           {"fail", fail},        {"info", info},
                  {"pending", pending}, {"operations", count}, {"history_entries", history.size()}};
  if (!ok_latencies.empty()) {
    summary["p50"] = percentile(ok_latencies, 50) / divisor;
    summary["p99"] = percentile(ok_latencies, 99) / divisor;
    summary["max"] = ok_latencies.back() / divisor;
  }

  // The harness's own latency summary (measured from the intended send time, so
  // queueing behind a slow system counts), shown beside the history's numbers.
  json results_latency = nullptr;
  for (const char* name : {"latency_from_intended_send", "latency"}) {
    if (inputs.results.contains(name) && inputs.results[name].is_object()) results_latency = inputs.results[name];
  }

  // The moment the online check proved an anomaly (`harness run --check-online`).
  json detection = nullptr;
  const json& results = inputs.results;
  if (!untimed && results.is_object() && results.contains("time_to_detection_ms") &&
      results["time_to_detection_ms"].is_number()) {
    const json online = results.value("online_check", json::object());
    const auto nanoseconds = static_cast<std::int64_t>(results["time_to_detection_ms"].get<double>() * 1e6);
    detection = {{"time", tick(nanoseconds)},
                 {"checker", online.is_object() ? online.value("checker", "") : ""},
                 {"reason", online.is_object() ? online.value("reason", "") : ""},
                 {"stopped_early", results.value("stopped_early", false)}};
  }

  return {{"format", 1},
          {"results_latency", results_latency},
          {"detection", detection},
          {"verdict", checkers::to_string(inputs.verdict)},
          {"run", run_metadata(inputs, duration_seconds)},
          {"time", {{"unit", untimed ? "position" : "us"}, {"end", span_ticks}}},
          {"summary", summary},
          {"checkers", checker_list},
          {"functions", functions},
          {"values", values},
          {"keys", keys},
          {"nodes", nodes},
          {"errors", errors},
          {"processes", processes},
          {"lanes", {{"count", lanes.lanes}, {"packed", lanes.packed}}},
          {"ops", operations},
          {"buckets", bucket_json},
          {"faults", faults},
          {"availability", availability},
          {"node_logs", node_logs}};
}

std::string embeddable_json(const json& document) {
  const std::string text = document.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string escaped;
  escaped.reserve(text.size() + text.size() / 64);
  for (std::size_t index = 0; index < text.size(); ++index) {
    const char c = text[index];
    if (c == '<') {
      escaped += "\\u003c";
    } else if (c == '>') {
      escaped += "\\u003e";
    } else if (c == '&') {
      escaped += "\\u0026";
    } else if (c == '\xe2' && index + 2 < text.size() && text[index + 1] == '\x80' &&
               (text[index + 2] == '\xa8' || text[index + 2] == '\xa9')) {
      escaped += text[index + 2] == '\xa8' ? "\\u2028" : "\\u2029";
      index += 2;
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string escape_html(std::string_view text) { return escape_markup(text, "&#39;"); }

std::string render_html_report(const RunInputs& inputs) {
  const json data = build_report_data(inputs);
  const std::string title = fmt::format("{} {}: {}", data["run"].value("test", std::string("run")),
                                        inputs.directory.filename().string(), checkers::to_string(inputs.verdict));
  std::string page;
  page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  page +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      "script-src 'unsafe-inline'; img-src data:\">\n";
  page += "<title>" + escape_html(title) + "</title>\n<style>\n";
  page += assets::kReportCss;
  page += "</style>\n</head>\n<body>\n";
  page +=
      "<noscript><p>This report draws its charts with JavaScript; the raw data is in the "
      "report-data block of this file, and in history.jsonl and results.json beside it.</p></noscript>\n";
  page += "<main id=\"app\"></main>\n";
  page += "<script type=\"application/json\" id=\"report-data\">";
  page += embeddable_json(data);
  page += "</script>\n<script>\n";
  page += assets::kReportJs;
  page += "</script>\n</body>\n</html>\n";
  return page;
}

}  // namespace chaosbench::reports
