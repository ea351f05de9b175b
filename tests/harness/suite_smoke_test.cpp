// harness suite end to end on real clusters: suites/smoke.toml passes (its
// planted bug is found, with a detection time) whole and as two merged shards, a correct configuration that
// is expected to be invalid fails the suite (exit 1, a JUnit <failure>), and an
// entry that outlives its timeout is killed with every node (exit 3, <error>).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

control::CommandResult run_suite(const fs::path& file, const fs::path& store, std::chrono::seconds timeout,
                                 std::vector<std::string> extra = {}) {
  control::LocalProcessSpec spec;
  spec.argv = {kHarness, "suite", file.string(), "--store", store.string()};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  return control::run_local(spec, timeout, "localhost");
}

}  // namespace

TEST(SuiteSmoke, SmokeSuitePassesAndFindsItsPlantedBug) {
  TemporaryDirectory directory("suite");
  const auto result = run_suite(fs::path(CHAOSBENCH_SOURCE_DIR) / "suites" / "smoke.toml", directory.path, 170s);
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const fs::path suite_directory = fs::canonical(directory.path / "smoke" / "latest");
  const json suite = json::parse(read_text(suite_directory / "suite.json"));
  ASSERT_GE(suite["entries"].size(), 3u);
  bool found_invalid = false;
  for (const json& entry : suite["entries"]) {
    EXPECT_TRUE(entry["passed"].get<bool>()) << entry.dump();
    EXPECT_EQ(entry["verdict"], entry["expect"]) << entry.dump();
    ASSERT_TRUE(entry.contains("report")) << entry.dump();
    EXPECT_TRUE(fs::exists(suite_directory / entry["report"].get<std::string>())) << entry.dump();
    const json results =
        json::parse(read_text(suite_directory / entry["run_directory"].get<std::string>() / "results.json"));
    EXPECT_EQ(results["seed"], entry["seed"]);
    EXPECT_EQ(results["verdict"], entry["verdict"]);
    // Every entry checks online too: each online checker's verdict equals the offline one.
    ASSERT_TRUE(results.contains("online_check")) << entry.dump();
    EXPECT_EQ(entry["online_agrees"], true) << entry.dump();
    ASSERT_FALSE(results["online_check"]["verdict_by_checker"].empty()) << results["online_check"].dump();
    for (const auto& [checker, verdict] : results["online_check"]["verdict_by_checker"].items()) {
      EXPECT_EQ(verdict, results["checker"][checker]["verdict"]) << entry["id"] << " " << checker;
    }
    if (entry["expect"] == "invalid") {
      ASSERT_TRUE(entry["online_detection_seconds"].is_number()) << entry.dump();
      EXPECT_GT(entry["online_detection_seconds"].get<double>(), 0);
      found_invalid = true;
      ASSERT_TRUE(entry["detection_seconds"].is_number()) << entry.dump();
      EXPECT_GT(entry["detection_seconds"].get<double>(), 0);
      EXPECT_LT(entry["detection_seconds"].get<double>(), 60);
    }
  }
  EXPECT_TRUE(found_invalid) << "the smoke suite must contain a planted bug";
  const std::string junit = read_text(suite_directory / "junit.xml");
  std::size_t testcases = 0;
  for (std::size_t at = junit.find("<testcase"); at != std::string::npos; at = junit.find("<testcase", at + 1))
    ++testcases;
  EXPECT_EQ(testcases, suite["entries"].size());
  EXPECT_EQ(junit.find("<failure"), std::string::npos) << junit;
  const std::string page = read_text(suite_directory / "index.html");
  EXPECT_NE(page.find("report.html\">report</a>"), std::string::npos);

  // The same suite as two shards (as two CI machines would run it), then merged: the same
  // entries in the same order, the same verdicts and the same exit code as the whole run.
  const fs::path smoke = fs::path(CHAOSBENCH_SOURCE_DIR) / "suites" / "smoke.toml";
  std::size_t sharded_entries = 0;
  for (const char* shard : {"1/2", "2/2"}) {
    const fs::path store = directory.path / fmt::format("shard-{}", shard[0]);
    const auto part = run_suite(smoke, store, 170s, {"--shard", shard});
    ASSERT_EQ(part.status.exit_code, 0) << describe(part);
    const json shard_suite = json::parse(read_text(store / "smoke" / "latest" / "suite.json"));
    EXPECT_GE(shard_suite["entries"].size(), 1u) << shard;
    sharded_entries += shard_suite["entries"].size();
  }
  EXPECT_EQ(sharded_entries, suite["entries"].size());
  control::LocalProcessSpec merge_spec;
  merge_spec.argv = {kHarness,
                     "suite",
                     "merge",
                     (directory.path / "shard-1").string(),
                     (directory.path / "shard-2" / "smoke").string(),
                     "--store",
                     (directory.path / "merged").string()};
  const auto merged = control::run_local(merge_spec, 60s, "localhost");
  EXPECT_EQ(merged.status.exit_code, result.status.exit_code) << describe(merged);
  const fs::path merged_directory = fs::canonical(directory.path / "merged" / "smoke" / "latest");
  const json merged_suite = json::parse(read_text(merged_directory / "suite.json"));
  ASSERT_EQ(merged_suite["entries"].size(), suite["entries"].size());
  for (std::size_t index = 0; index < suite["entries"].size(); ++index) {
    const json& whole = suite["entries"][index];
    const json& part = merged_suite["entries"][index];
    EXPECT_EQ(part["id"], whole["id"]);
    EXPECT_EQ(part["verdict"], whole["verdict"]) << part.dump();
    EXPECT_EQ(part["passed"], whole["passed"]) << part.dump();
    EXPECT_TRUE(fs::exists(merged_directory / part["report"].get<std::string>())) << part.dump();
  }
  for (const char* tally : {"passed", "mismatched", "harness_failures", "tolerated"}) {
    EXPECT_EQ(merged_suite[tally], suite[tally]) << tally;
  }
  const std::string merged_junit = read_text(merged_directory / "junit.xml");
  std::size_t merged_testcases = 0;
  for (std::size_t at = merged_junit.find("<testcase"); at != std::string::npos;
       at = merged_junit.find("<testcase", at + 1))
    ++merged_testcases;
  EXPECT_EQ(merged_testcases, testcases);

  // The same merge as CI does it (scripts/merge-shards.sh): one shard packed as the
  // artifact tarball, one unpacked; then a missing shard and a suite no shard ran.
  auto merge_script = [&](const std::string& shell) {
    control::LocalProcessSpec spec;
    spec.argv = {"bash", "-c",
                 fmt::format("set -e; cd '{}'; {}; HARNESS='{}' bash '{}/scripts/merge-shards.sh' \"$@\"",
                             directory.path.string(), shell, kHarness, CHAOSBENCH_SOURCE_DIR),
                 "merge-shards"};
    return spec;
  };
  auto ci_merge = merge_script(
      "mkdir -p ci/1 ci/2 && cp -a shard-1 ci/1/store && tar -czf ci/1/store.tar.gz -C ci/1 store && rm -rf "
      "ci/1/store && cp -a shard-2 ci/2/store");
  ci_merge.argv.insert(ci_merge.argv.end(), {"ci", (directory.path / "merged-ci").string(), "smoke"});
  const auto ci_merged = control::run_local(ci_merge, 60s, "localhost");
  EXPECT_EQ(ci_merged.status.exit_code, result.status.exit_code) << describe(ci_merged);
  const json ci_suite =
      json::parse(read_text(fs::canonical(directory.path / "merged-ci" / "smoke" / "latest") / "suite.json"));
  EXPECT_EQ(ci_suite["entries"].size(), suite["entries"].size());
  auto missing_shard = merge_script("rm -rf ci/2");
  missing_shard.argv.insert(missing_shard.argv.end(), {"ci", (directory.path / "merged-missing").string(), "smoke"});
  const auto missing = control::run_local(missing_shard, 60s, "localhost");
  EXPECT_EQ(missing.status.exit_code, 3) << describe(missing);
  EXPECT_NE(missing.err.find("missing"), std::string::npos) << describe(missing);
  auto no_suite = merge_script("true");
  no_suite.argv.insert(no_suite.argv.end(), {"ci", (directory.path / "merged-none").string(), "no-such-suite"});
  const auto none = control::run_local(no_suite, 60s, "localhost");
  EXPECT_EQ(none.status.exit_code, 3) << describe(none);
}

TEST(SuiteSmoke, MissedExpectationFailsTheSuiteAndATimeoutIsAHarnessFailure) {
  TemporaryDirectory directory("suite");
  const fs::path file = directory.path / "expect.toml";
  std::ofstream(file) << R"(
name = "expectations"
[defaults]
nodes = 3
args = ["--recovery-time=1s", "--rate=50"]
[[entry]]
name = "correct-raft-expected-invalid"
nemesis = "none"
time_limit = "3s"
expect = "invalid"
[[entry]]
name = "too-slow"
nemesis = "partition"
time_limit = "60s"
timeout = "6s"
)";
  const auto result = run_suite(file, directory.path / "store", 150s);
  EXPECT_EQ(result.status.exit_code, 3) << describe(result);  // a harness failure outranks a missed expectation
  const fs::path suite_directory = fs::canonical(directory.path / "store" / "expectations" / "latest");
  const json suite = json::parse(read_text(suite_directory / "suite.json"));
  ASSERT_EQ(suite["entries"].size(), 2u);
  EXPECT_EQ(suite["entries"][0]["verdict"], "valid");
  EXPECT_FALSE(suite["entries"][0]["passed"].get<bool>());
  EXPECT_EQ(suite["entries"][1]["verdict"], "timed-out");
  EXPECT_LT(suite["entries"][1]["wall_seconds"].get<double>(), 20);
  EXPECT_EQ(suite["mismatched"], 1);
  EXPECT_EQ(suite["harness_failures"], 1);
  const std::string junit = read_text(suite_directory / "junit.xml");
  EXPECT_NE(junit.find("<failure message=\"expected invalid, got valid\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("<error message=\"killed after"), std::string::npos) << junit;
  EXPECT_TRUE(processes_mentioning(directory.path.string()).empty()) << "a node of the killed entry survived";

  // The same suite without the slow entry: only the missed expectation, exit 1.
  const auto filtered = [&] {
    control::LocalProcessSpec spec;
    spec.argv = {kHarness,   "suite",  file.string(), "--store", (directory.path / "store").string(),
                 "--filter", "correct"};
    return control::run_local(spec, 60s, "localhost");
  }();
  EXPECT_EQ(filtered.status.exit_code, 1) << describe(filtered);
  EXPECT_NE(filtered.out.find("FAIL correct-raft-expected-invalid-s1: valid (expected invalid)"), std::string::npos)
      << filtered.out;
}
