#include "chaosbench/reports/run_inputs.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/history_io.h"
#include "chaosbench/reports/report_error.h"

namespace chaosbench::reports {

namespace fs = std::filesystem;
using checkers::Verdict;
using nlohmann::json;

namespace {

std::string string_field(const json& object, const char* name) {
  if (!object.is_object()) return {};
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) return {};
  return found->is_string() ? found->get<std::string>() : found->dump();
}

void add_checkers(const json& map, const std::string& suffix, std::vector<CheckerOutcome>& outcomes) {
  if (!map.is_object()) return;
  for (const auto& [name, body] : map.items()) {
    CheckerOutcome outcome;
    outcome.name = name + suffix;
    outcome.details = body;
    if (body.is_object()) {
      outcome.verdict = checkers::parse_verdict(string_field(body, "verdict")).value_or(Verdict::unknown);
      outcome.reason = string_field(body, "reason");
    } else if (body.is_string()) {  // {"name": "valid"}
      outcome.verdict = checkers::parse_verdict(body.get<std::string>()).value_or(Verdict::unknown);
    }
    outcomes.push_back(std::move(outcome));
  }
}

std::string read_whole_file(const fs::path& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) throw ReportError(fmt::format("{}: cannot open", path.string()));
  std::ostringstream buffer;
  buffer << input.rdbuf();
  if (input.bad()) throw ReportError(fmt::format("{}: cannot read", path.string()));
  return std::move(buffer).str();
}

bool looks_crashed(std::string_view line) {
  std::string lower(line);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* word : {"panic", "abort", "fatal", "terminate called", "segmentation fault", "exited",
                           "failed to start", "core dumped"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

json read_json_file(const fs::path& path) {
  if (!fs::exists(path)) throw ReportError(fmt::format("{}: missing", path.string()));
  const std::string text = read_whole_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    throw ReportError(fmt::format("{}: malformed JSON: {}", path.string(), error.what()));
  }
}

std::vector<CheckerOutcome> read_checker_outcomes(const json& results, const std::string& source) {
  if (!results.is_object()) throw ReportError(fmt::format("{}: expected a JSON object", source));
  std::vector<CheckerOutcome> outcomes;
  if (auto found = results.find("checkers"); found != results.end()) add_checkers(*found, "", outcomes);
  if (auto found = results.find("checker"); found != results.end() && found->is_object()) {
    add_checkers(*found, "", outcomes);
  }
  if (auto files = results.find("files"); files != results.end() && files->is_array()) {
    for (const auto& file : *files) {
      if (!file.is_object()) continue;
      const std::string suffix =
          files->size() > 1 ? fmt::format(" ({})", fs::path(string_field(file, "file")).filename().string()) : "";
      if (auto found = file.find("checkers"); found != file.end()) add_checkers(*found, suffix, outcomes);
      if (auto error = file.find("error"); error != file.end() && error->is_string()) {
        outcomes.push_back({"input" + suffix, Verdict::unknown, error->get<std::string>(), file});
      }
    }
  }
  return outcomes;
}

Verdict overall_verdict(const json& results, const std::vector<CheckerOutcome>& outcomes) {
  if (auto stated = checkers::parse_verdict(string_field(results, "verdict"))) return *stated;
  if (outcomes.empty()) return Verdict::unknown;
  Verdict verdict = Verdict::valid;
  for (const auto& outcome : outcomes) verdict = checkers::combine(verdict, outcome.verdict);
  return verdict;
}

std::vector<NodeLog> read_node_logs(const fs::path& run_directory, const json& results, std::size_t tail_lines) {
  std::vector<NodeLog> logs;
  const fs::path nodes = run_directory / "nodes";
  std::error_code error;
  if (!fs::is_directory(nodes, error)) return logs;
  const bool harness_failed = results.is_object() && results.value("harness_failed", false) == true;
  for (const auto& entry : fs::directory_iterator(nodes)) {
    if (!entry.is_directory()) continue;
    NodeLog log;
    log.node = entry.path().filename().string();
    log.relative_path = "nodes/" + log.node + "/log";
    const fs::path path = entry.path() / "log";
    log.exists = fs::is_regular_file(path, error);
    if (log.exists) {
      log.size_bytes = fs::file_size(path);
      std::ifstream input(path, std::ios::binary);
      if (!input) throw ReportError(fmt::format("{}: cannot open", path.string()));
      constexpr std::uintmax_t kTailBytes = 16 * 1024;
      if (log.size_bytes > kTailBytes) input.seekg(static_cast<std::streamoff>(log.size_bytes - kTailBytes));
      std::ostringstream buffer;
      buffer << input.rdbuf();
      std::string text = std::move(buffer).str();
      std::vector<std::string_view> lines;
      std::string_view rest(text);
      while (!rest.empty()) {
        const std::size_t end = rest.find('\n');
        lines.push_back(rest.substr(0, end));
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
      }
      if (log.size_bytes > kTailBytes && !lines.empty()) lines.erase(lines.begin());  // partial first line
      if (lines.size() > tail_lines) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(tail_lines));
      std::string reason;
      if (harness_failed) reason = "the harness reported a failure";
      for (auto line = lines.rbegin(); reason.empty() && line != lines.rend() && line - lines.rbegin() < 10; ++line) {
        if (looks_crashed(*line)) reason = "the log ends with an error";
      }
      if (!reason.empty()) {
        std::string tail;
        for (const auto line : lines) tail.append(line).push_back('\n');
        log.tail = std::move(tail);
        log.tail_reason = std::move(reason);
      }
    } else {
      log.tail = std::string();
      log.tail_reason = "no log was written (the node may have failed to start)";
    }
    logs.push_back(std::move(log));
  }
  std::sort(logs.begin(), logs.end(), [](const NodeLog& left, const NodeLog& right) {
    // n2 before n10: shorter names first, then lexicographic.
    if (left.node.size() != right.node.size()) return left.node.size() < right.node.size();
    return left.node < right.node;
  });
  return logs;
}

RunInputs load_run_inputs(const fs::path& run_directory) {
  std::error_code error;
  if (!fs::is_directory(run_directory, error)) {
    throw ReportError(fmt::format("{}: not a run directory", run_directory.string()));
  }
  RunInputs inputs;
  inputs.directory = run_directory;
  const fs::path results_path = run_directory / "results.json";
  const fs::path history_path = run_directory / "history.jsonl";
  inputs.results = read_json_file(results_path);
  if (!inputs.results.is_object()) throw ReportError(fmt::format("{}: expected a JSON object", results_path.string()));
  if (!fs::exists(history_path)) throw ReportError(fmt::format("{}: missing", history_path.string()));
  try {
    inputs.history = checkers::read_history_file(history_path, checkers::HistoryFormat::jsonl);
  } catch (const checkers::HistoryError& failure) {
    throw ReportError(failure.what());
  }
  const fs::path test_path = run_directory / "test.json";
  if (fs::exists(test_path)) {
    inputs.test = read_json_file(test_path);
    if (!inputs.test.is_object()) throw ReportError(fmt::format("{}: expected a JSON object", test_path.string()));
  }
  inputs.checkers = read_checker_outcomes(inputs.results, results_path.string());
  inputs.verdict = overall_verdict(inputs.results, inputs.checkers);
  inputs.node_logs = read_node_logs(run_directory, inputs.results);
  return inputs;
}

}  // namespace chaosbench::reports
