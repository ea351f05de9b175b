// `harness run` with the set, counter, bank, list-append and rw-register
// workloads on a real refnode Raft cluster under partitions: each is judged
// valid by its default checker; a planted bug (followers answer reads from
// their own state) is found by Elle under strict serializability; several
// --checker flags each get a verdict in results.json, the summary, the report
// and junit.xml. Runs are short (6 s of workload on 3 nodes).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

struct RunOutcome {
  control::CommandResult result;
  json results;  // results.json, null when the run left none
  fs::path directory;
};

// A short run under partitions; `extra` adds flags.
RunOutcome run_workload(const TemporaryDirectory& temporary, const std::string& workload,
                        const std::vector<std::string>& extra = {}) {
  const fs::path store = temporary.path / "store";
  control::LocalProcessSpec spec;
  spec.argv = {kHarness,
               "run",
               "--store",
               store.string(),
               "--workload",
               workload,
               "--nodes",
               "3",
               "--nemesis",
               "partition",
               "--nemesis-interval",
               "2s",
               "--time-limit",
               "6s",
               "--rate",
               "150",
               "--concurrency",
               "6",
               "--recovery-time",
               "1s",
               "--seed",
               "5"};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  RunOutcome run;
  run.result = control::run_local(spec, 120s, "localhost");
  if (fs::exists(store / "latest" / "results.json")) {
    run.directory = fs::canonical(store / "latest");
    run.results = json::parse(read_text(run.directory / "results.json"));
  }
  return run;
}

// Returns the history's text.
std::string expect_valid_under_default_checker(const std::string& workload, const std::string& checker,
                                               const std::vector<std::string>& extra = {}) {
  TemporaryDirectory temporary("workload");
  RunOutcome run = run_workload(temporary, workload, extra);
  if (run.result.status.exit_code != 0 || !run.results.is_object()) {
    ADD_FAILURE() << workload << ": " << describe(run.result);
    return "";
  }
  EXPECT_NE(run.result.out.find("verdict: valid"), std::string::npos) << run.result.out;
  EXPECT_EQ(run.results["verdict"], "valid");
  EXPECT_TRUE(run.results["checker"].contains(checker)) << run.results["checker"].dump();
  EXPECT_EQ(run.results["checker"].size(), 3u) << "the workload's checker, liveness and log-patterns";
  EXPECT_EQ(run.results["checker"]["liveness"]["verdict"], "valid");
  EXPECT_EQ(run.results["checker"][checker]["verdict"], "valid");
  EXPECT_GT(run.results["operations"]["ok"].get<int>(), 300) << "the workload must have run";
  const std::string history = read_text(run.directory / "history.jsonl");
  EXPECT_NE(history.find("start-partition"), std::string::npos) << "partitions must have happened";
  return history;
}

TEST(WorkloadRun, BadCheckerOrModelExitsThreeWithOneLine) {
  TemporaryDirectory temporary("workload");
  for (const auto& [flag, value, reason] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"--checker", "knossos", "unknown checker 'knossos'"},
           {"--consistency-model", "acid", "unknown model 'acid'"}}) {
    control::LocalProcessSpec spec;
    spec.argv = {kHarness,     "run",         "--store", (temporary.path / "store").string(),
                 "--workload", "list-append", flag,      value};
    auto result = control::run_local(spec, 20s, "localhost");
    EXPECT_EQ(result.status.exit_code, 3) << describe(result);
    EXPECT_NE(result.err.find(reason), std::string::npos) << describe(result);
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << describe(result);
  }
  EXPECT_FALSE(fs::exists(temporary.path / "store"));
}

// Reads served, every add refused as unsupported (a planted stand-in for an
// adapter without the op): the counter checker alone would have nothing to
// judge; the run is a harness failure that says why, never a verdict.
TEST(WorkloadRun, ARunWhoseAddsWereNotServedIsAHarnessFailure) {
  TemporaryDirectory temporary("workload");
  RunOutcome run = run_workload(temporary, "counter", {"--target-arg=--bug=unsupported-add"});
  EXPECT_EQ(run.result.status.exit_code, 3) << describe(run.result);
  EXPECT_NE(run.result.err.find("operations were not served (unsupported"), std::string::npos) << describe(run.result);
  EXPECT_NE(run.result.err.find("no 'add' op was served"), std::string::npos) << describe(run.result);
  ASSERT_TRUE(run.results.is_object()) << describe(run.result);
  EXPECT_EQ(run.results["harness_failed"], true);
  EXPECT_EQ(run.results["unserved_operations"]["functions_never_served"], json::array({"add"}));
  EXPECT_NE(run.results["checker"]["counter"]["verdict"], "valid") << run.results["checker"].dump();
  const std::string report = read_text(run.directory / "report.html");
  EXPECT_NE(report.find("no 'add' op was served"), std::string::npos) << "the report says why at the top";
}

TEST(WorkloadRun, SetIsValid) { expect_valid_under_default_checker("set", "set"); }
TEST(WorkloadRun, CounterIsValid) { expect_valid_under_default_checker("counter", "counter"); }

TEST(WorkloadRun, BankIsValidAndOverdraftsFail) {
  const std::string history = expect_valid_under_default_checker("bank", "bank");
  std::size_t failed_transfers = 0, setup = 0;
  std::istringstream lines(history);
  for (std::string line; std::getline(lines, line);) {
    const json op = json::parse(line);
    failed_transfers += op["f"] == "transfer" && op["type"] == "fail";
    setup += op["f"] == "txn" && op["type"] == "ok";
  }
  EXPECT_EQ(setup, 1u) << "the opening balances, once";
  EXPECT_GT(failed_transfers, 0u) << "some transfers must hit the at-least guard";
}

TEST(WorkloadRun, ListAppendIsStrictSerializable) {
  expect_valid_under_default_checker("list-append", "elle-list-append");
}

// With every version-order source Elle offers on (more edges, so valid with
// them is valid without), as a correct Raft cluster must be.
TEST(WorkloadRun, RwRegisterIsStrictSerializable) {
  expect_valid_under_default_checker("rw-register", "elle-rw-register", {"--sequential-keys", "--linearizable-keys"});
}

// A small uniform pool with short-lived keys: many keys retire during the run,
// and the whole history is still one Elle check.
TEST(WorkloadRun, ListAppendWithAUniformPoolOfShortLivedKeysIsStrictSerializable) {
  const std::string history = expect_valid_under_default_checker(
      "list-append", "elle-list-append", {"--key-dist", "uniform", "--key-count", "4", "--max-writes-per-key", "6"});
  std::set<std::string> keys;
  std::istringstream lines(history);
  for (std::string line; std::getline(lines, line);) {
    const json op = json::parse(line);
    if (op["f"] != "txn" || !op["value"].is_array()) continue;
    for (const json& micro_op : op["value"]) keys.insert(micro_op[1].get<std::string>());
  }
  EXPECT_GT(keys.size(), 20u) << "keys must have retired";
}

TEST(WorkloadRun, LongForkIsValid) {
  const std::string history = expect_valid_under_default_checker("long-fork", "long-fork", {"--group-size", "3"});
  EXPECT_NE(history.find(R"(["r","x0",)"), std::string::npos) << "reads of groups";
}

TEST(WorkloadRun, StaleFollowerReadsAreFoundByElle) {
  TemporaryDirectory temporary("workload");
  RunOutcome run = run_workload(temporary, "list-append", {"--target-arg=--bug=stale-follower-read"});
  EXPECT_EQ(run.result.status.exit_code, 1) << describe(run.result);
  EXPECT_NE(run.result.out.find("verdict: invalid"), std::string::npos) << run.result.out;
  ASSERT_TRUE(run.results.is_object()) << describe(run.result);
  EXPECT_EQ(run.results["verdict"], "invalid");
  const json& elle = run.results["checker"]["elle-list-append"];
  EXPECT_EQ(elle.value("verdict", ""), "invalid");
  EXPECT_EQ(elle.value("consistency_model", ""), "strict-serializable");
  EXPECT_NE(elle.dump().find("realtime"), std::string::npos) << "a stale read needs a real-time edge: " << elle.dump();
}

TEST(WorkloadRun, SeveralCheckersEachGetAVerdictLineReportAndTestcase) {
  TemporaryDirectory temporary("workload");
  RunOutcome run = run_workload(temporary, "kv", {"--checker", "linearizable", "--checker", "sequential"});
  ASSERT_EQ(run.result.status.exit_code, 0) << describe(run.result);
  EXPECT_NE(run.result.out.find("checker linearizable: valid"), std::string::npos) << run.result.out;
  EXPECT_NE(run.result.out.find("checker sequential: valid"), std::string::npos) << run.result.out;
  EXPECT_NE(run.result.out.find("verdict: valid"), std::string::npos) << run.result.out;
  ASSERT_TRUE(run.results.is_object());
  EXPECT_EQ(run.results["checker"]["linearizable"]["verdict"], "valid");
  EXPECT_EQ(run.results["checker"]["sequential"]["verdict"], "valid");
  const std::string junit = read_text(run.directory / "junit.xml");
  std::size_t testcases = 0;
  for (std::size_t at = junit.find("<testcase"); at != std::string::npos; at = junit.find("<testcase", at + 1)) {
    ++testcases;
  }
  EXPECT_GE(testcases, 2u) << junit;
  EXPECT_NE(junit.find("sequential"), std::string::npos) << junit;
  const std::string report = read_text(run.directory / "report.html");
  EXPECT_NE(report.find("sequential"), std::string::npos);
  EXPECT_NE(report.find("linearizable"), std::string::npos);
}

}  // namespace
