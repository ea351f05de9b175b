// The log-pattern scan: the default patterns catch the lines real crashes
// print (libstdc++'s terminate, a Go panic, an uncaught Java exception) and
// none of refnode's ordinary lines; only nodes/<node>/log and *.log are read;
// bad patterns are refused in one line; nothing to scan is unknown.
#include "chaosbench/harness/log_patterns.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "harness_process_support.h"

namespace chaosbench {
namespace {

namespace fs = std::filesystem;
using harness::compile_log_patterns;
using harness::default_log_patterns;
using harness::scan_node_logs;
using harness_process_support::TemporaryDirectory;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// Lines refnode writes in ordinary runs with faults, kills and fail-stops.
const char* kOrdinaryRefnodeLines =
    "2026-12-07T12:54:28.269Z n1 starting term=0 recovered: term 0 vote '' snapshot 0 entries 1..0\n"
    "2026-12-07T12:54:28.643Z n1 follower term=0 connected to peer n3\n"
    "2026-12-07T12:54:30.001Z n1 leader term=2 fatal: write-ahead log: Input/output error\n"
    "2026-12-07T12:54:31.001Z n1 follower term=3 failpoint before-fsync fired: crash\n";

TEST(LogPatterns, DefaultsCatchCrashesAndNotOrdinaryLines) {
  TemporaryDirectory directory("logs");
  const fs::path nodes = directory.path / "nodes";
  write(nodes / "n1" / "log", kOrdinaryRefnodeLines);
  write(nodes / "n2" / "log",
        std::string(kOrdinaryRefnodeLines) +
            "terminate called after throwing an instance of 'std::out_of_range'\n  what():  map::at\n");
  write(nodes / "n3" / "log", "panic: runtime error: index out of range [3] with length 3\n");
  write(nodes / "n4" / "sentinel.log",
        "Exception in thread \"main\" java.lang.NullPointerException\n\tat Main.main(Main.java:3)\n");
  write(nodes / "n5" / "data" / "log", "panic: not a log: inside the data directory\n");
  write(nodes / "n5" / "notes.txt", "panic: not a log file name\n");

  const auto scan = scan_node_logs(nodes, compile_log_patterns(default_log_patterns()));
  EXPECT_EQ(scan.verdict, checkers::Verdict::invalid);
  EXPECT_EQ(scan.files, 4u);
  EXPECT_EQ(scan.matched_lines, 3u) << harness::describe_matches(scan);
  ASSERT_EQ(scan.matches.size(), 3u);
  EXPECT_EQ(scan.matches[0].node, "n2");
  EXPECT_EQ(scan.matches[0].line, 5u);
  EXPECT_EQ(scan.matches[0].pattern, "terminate called after throwing");
  EXPECT_EQ(scan.matches[1].node, "n3");
  EXPECT_EQ(scan.matches[2].file, "sentinel.log");
  EXPECT_NE(scan.reason.find("3 line(s) of the node logs match a --log-pattern, first n2/log:5"), std::string::npos)
      << scan.reason;
  const auto json = harness::to_json(scan);
  EXPECT_EQ(json["verdict"], "invalid");
  EXPECT_EQ(json["matches"][1]["text"], "panic: runtime error: index out of range [3] with length 3");

  write(nodes / "n2" / "log", kOrdinaryRefnodeLines);
  write(nodes / "n3" / "log", kOrdinaryRefnodeLines);
  fs::remove(nodes / "n4" / "sentinel.log");
  const auto clean = scan_node_logs(nodes, compile_log_patterns(default_log_patterns()));
  EXPECT_EQ(clean.verdict, checkers::Verdict::valid) << harness::describe_matches(clean);
  EXPECT_EQ(clean.lines, 12u);
}

TEST(LogPatterns, OwnPatternsKeepTheFirstMatchesAndCountAll) {
  TemporaryDirectory directory("logs");
  std::string many;
  for (int line = 0; line < 50; ++line) many += "connected to peer n2\n";
  write(directory.path / "n1" / "log", many);
  const auto scan = scan_node_logs(directory.path, compile_log_patterns({"^nothing$", "peer n[0-9]"}));
  EXPECT_EQ(scan.matched_lines, 50u);
  EXPECT_EQ(scan.matches.size(), harness::kMaxKeptLogMatches);
  EXPECT_EQ(scan.matches.back().line, harness::kMaxKeptLogMatches);
}

TEST(LogPatterns, BadPatternsAndNothingToScan) {
  try {
    compile_log_patterns({"fine", "unclosed (group"});
    FAIL() << "a pattern std::regex cannot compile is refused";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("--log-pattern 'unclosed (group': not a regular expression: ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
  EXPECT_THROW(compile_log_patterns({""}), std::invalid_argument);
  EXPECT_TRUE(compile_log_patterns({"none"}).empty());

  TemporaryDirectory directory("logs");
  EXPECT_EQ(scan_node_logs(directory.path, {}).verdict, checkers::Verdict::unknown);
  const auto empty = scan_node_logs(directory.path / "missing", compile_log_patterns(default_log_patterns()));
  EXPECT_EQ(empty.verdict, checkers::Verdict::unknown);
  EXPECT_NE(empty.reason.find("no node log to scan"), std::string::npos) << empty.reason;
}

}  // namespace
}  // namespace chaosbench
