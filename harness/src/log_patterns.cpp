#include "chaosbench/harness/log_patterns.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace chaosbench::harness {

const std::vector<std::string>& default_log_patterns() {
  static const std::vector<std::string> patterns = {
      // refnode (C++): an uncaught exception, a failed assert, a sanitizer report.
      "terminate called after throwing",
      "Assertion .* failed",
      "ERROR: (Address|Thread|Memory|Leak)Sanitizer",
      "runtime error: ",
      // Go (etcd): a panic or a fatal runtime error, at the start of the line.
      "^panic: ",
      "^fatal error: ",
      // Java (ZooKeeper): an exception no handler caught, or the JVM out of memory.
      "Exception in thread \"",
      "java\\.lang\\.(OutOfMemoryError|StackOverflowError|AssertionError)",
      // Redis: its crash report.
      "REDIS BUG REPORT START",
  };
  return patterns;
}

std::vector<LogPattern> compile_log_patterns(const std::vector<std::string>& patterns) {
  std::vector<LogPattern> compiled;
  if (patterns.size() == 1 && patterns[0] == "none") return compiled;
  for (const std::string& text : patterns) {
    if (text.empty()) throw std::invalid_argument("--log-pattern: an empty pattern matches every line");
    try {
      compiled.push_back({text, std::regex(text, std::regex::ECMAScript | std::regex::optimize)});
    } catch (const std::regex_error& error) {
      throw std::invalid_argument(fmt::format("--log-pattern '{}': not a regular expression: {}", text, error.what()));
    }
  }
  return compiled;
}

LogScan scan_node_logs(const std::filesystem::path& nodes_directory, const std::vector<LogPattern>& patterns) {
  namespace fs = std::filesystem;
  LogScan scan;
  scan.patterns = patterns.size();
  if (patterns.empty()) {
    scan.verdict = checkers::Verdict::unknown;
    scan.reason = "no pattern to look for (--log-pattern none)";
    return scan;
  }
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& node : fs::directory_iterator(nodes_directory, error)) {
    if (!node.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(node.path(), error)) {
      const std::string name = file.path().filename().string();
      if (file.is_regular_file() && (name == "log" || name.ends_with(".log"))) files.push_back(file.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> unreadable;
  for (const fs::path& path : files) {
    std::ifstream input(path);
    if (!input) {
      unreadable.push_back(path.parent_path().filename().string() + "/" + path.filename().string());
      continue;
    }
    ++scan.files;
    std::string line;
    std::size_t number = 0;
    while (std::getline(input, line)) {
      ++number;
      ++scan.lines;
      for (const LogPattern& pattern : patterns) {
        if (!std::regex_search(line, pattern.regex)) continue;
        ++scan.matched_lines;
        if (scan.matches.size() < kMaxKeptLogMatches) {
          scan.matches.push_back({path.parent_path().filename().string(), path.filename().string(), number,
                                  line.size() > 300 ? line.substr(0, 297) + "..." : line, pattern.text});
        }
        break;
      }
    }
  }
  const std::string unread = unreadable.empty() ? "" : fmt::format("; cannot read {}", fmt::join(unreadable, ", "));
  if (scan.matched_lines > 0) {
    scan.verdict = checkers::Verdict::invalid;
    const LogMatch& first = scan.matches.front();
    scan.reason = fmt::format("{} line(s) of the node logs match a --log-pattern, first {}/{}:{} ('{}'){}",
                              scan.matched_lines, first.node, first.file, first.line, first.pattern, unread);
  } else if (scan.files == 0) {
    scan.verdict = checkers::Verdict::unknown;
    scan.reason = fmt::format("no node log to scan under {}{}", nodes_directory.string(), unread);
  } else {
    scan.reason = fmt::format("no line of {} log(s) ({} lines) matches the {} pattern(s){}", scan.files, scan.lines,
                              scan.patterns, unread);
  }
  return scan;
}

nlohmann::json to_json(const LogScan& scan) {
  nlohmann::json matches = nlohmann::json::array();
  for (const LogMatch& match : scan.matches) {
    matches.push_back({{"node", match.node},
                       {"file", match.file},
                       {"line", match.line},
                       {"text", match.text},
                       {"pattern", match.pattern}});
  }
  return {{"checker", "log-patterns"},
          {"verdict", checkers::to_string(scan.verdict)},
          {"reason", scan.reason},
          {"patterns", scan.patterns},
          {"files", scan.files},
          {"lines", scan.lines},
          {"matched_lines", scan.matched_lines},
          {"matches", matches}};
}

std::string describe_matches(const LogScan& scan) {
  std::string text;
  for (const LogMatch& match : scan.matches) {
    text += fmt::format("{}{}/{}:{}: {}", text.empty() ? "" : "\n", match.node, match.file, match.line, match.text);
  }
  return text;
}

}  // namespace chaosbench::harness
