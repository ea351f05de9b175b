// What a report is made from: one run directory's history.jsonl, results.json
// (required) and test.json (optional), plus the node logs under nodes/.
// load_run_inputs() throws ReportError (one line, naming the file) when a
// required file is missing or malformed. The result is read-only data.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::reports {

// One checker's outcome as results.json states it. `details` is the checker's
// whole JSON object (evidence included), shown generically unless the report
// knows the checker (linearizable).
struct CheckerOutcome {
  std::string name;
  checkers::Verdict verdict = checkers::Verdict::unknown;
  std::string reason;
  nlohmann::json details;
};

// Reads the checkers from results.json, in any of the shapes the harness
// writes: {"checkers": {name: {...}}} (preferred), {"checker": {name: {...}}}
// (harness run), or {"files": [{"checkers": {...}}]} (harness check --output;
// names get the file's name appended when there are several files). A checker
// without a verdict or with an unknown verdict word is `unknown`; `source`
// names the file in the ReportError thrown when results is not an object.
std::vector<CheckerOutcome> read_checker_outcomes(const nlohmann::json& results, const std::string& source);

// Overall verdict: results.json's "verdict" when present, else the checkers'
// combined (any invalid, then any unknown, else valid; no checkers: unknown).
checkers::Verdict overall_verdict(const nlohmann::json& results, const std::vector<CheckerOutcome>& outcomes);

struct NodeLog {
  std::string node;           // directory name under nodes/
  std::string relative_path;  // "nodes/<node>/log"
  bool exists = false;
  std::uintmax_t size_bytes = 0;
  std::optional<std::string> tail;  // last lines, when the node looks crashed
  std::string tail_reason;          // why the tail is shown
};

struct RunInputs {
  std::filesystem::path directory;
  nlohmann::json test = nlohmann::json::object();  // {} when test.json is absent
  nlohmann::json results;
  checkers::History history;
  std::vector<CheckerOutcome> checkers;
  checkers::Verdict verdict = checkers::Verdict::unknown;
  std::vector<NodeLog> node_logs;
};

RunInputs load_run_inputs(const std::filesystem::path& run_directory);

// Reads a JSON file (ReportError naming the file when missing or malformed).
nlohmann::json read_json_file(const std::filesystem::path& path);

// Lists nodes/<n>/log. A log's tail (the last `tail_lines` lines, at most 16 KiB)
// is attached when the node looks like it crashed or failed to start: the run's
// results say the harness failed, or one of the log's last lines mentions a
// fatal error (panic, abort, fatal, terminate, segmentation fault, exited,
// failed to start).
std::vector<NodeLog> read_node_logs(const std::filesystem::path& run_directory, const nlohmann::json& results,
                                    std::size_t tail_lines = 40);

}  // namespace chaosbench::reports
