// Node logs scanned after the run for lines that betray a crash bug, as
// Jepsen's log-file-pattern checker: --log-pattern REGEX (ECMAScript,
// repeatable; "none" for no scan), by default refnode's and the sanitizers'
// fatal errors, Go panics and uncaught Java errors. Any matching line makes
// the verdict invalid; the first matches are kept as evidence.
#pragma once

#include <cstddef>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/verdict.h"

namespace chaosbench::harness {

// What --log-pattern means when it is not given.
const std::vector<std::string>& default_log_patterns();

struct LogPattern {
  std::string text;
  std::regex regex;
};

// Throws std::invalid_argument (one line naming the pattern and what is wrong
// with it) for a pattern std::regex cannot compile. {"none"} gives no pattern.
std::vector<LogPattern> compile_log_patterns(const std::vector<std::string>& patterns);

struct LogMatch {
  std::string node;      // the directory under nodes/
  std::string file;      // log, sentinel.log, ...
  std::size_t line = 0;  // 1-based
  std::string text;      // the line, cut to 300 characters
  std::string pattern;
};

struct LogScan {
  checkers::Verdict verdict = checkers::Verdict::valid;  // invalid when a line matched; unknown: nothing scanned
  std::size_t patterns = 0;
  std::size_t files = 0;
  std::size_t lines = 0;
  std::size_t matched_lines = 0;
  std::vector<LogMatch> matches;  // the first kMaxKept, in node, file, line order
  std::string reason;             // one line
};

inline constexpr std::size_t kMaxKeptLogMatches = 20;

// Every regular file named "log" or "*.log" directly under nodes/<node>/.
// A file that cannot be read is a match-less file noted in the reason.
LogScan scan_node_logs(const std::filesystem::path& nodes_directory, const std::vector<LogPattern>& patterns);

nlohmann::json to_json(const LogScan& scan);
// The evidence lines shown under the summary's checker line.
std::string describe_matches(const LogScan& scan);

}  // namespace chaosbench::harness
