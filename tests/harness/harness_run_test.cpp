// `harness run` end to end on real refnode clusters in the sandbox: a correct
// Raft under every fault stays linearizable, two injected refnode bugs are
// caught, SIGKILL of the controller leaves nothing behind, it works as an
// unprivileged user, and bad input exits 3 before anything starts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

const std::string kRefnode = std::string(CHAOSBENCH_BINARY_DIR) + "/bin/refnode";

// An executable shell script (a stand-in for refnode), readable and runnable by the unprivileged child too.
fs::path write_script(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                            fs::perms::others_exec);
  return path;
}

// The nemesis functions (start-partition, stop-kill, ...) recorded in a history.
std::vector<json> read_history(const fs::path& history) {
  std::vector<json> ops;
  std::ifstream input(history);
  std::string line;
  while (std::getline(input, line)) ops.push_back(json::parse(line));
  return ops;
}

std::set<std::string> nemesis_functions(const fs::path& history) {
  std::set<std::string> functions;
  for (const json& op : read_history(history)) {
    if (op["process"] == "nemesis") functions.insert(op["f"].get<std::string>());
  }
  return functions;
}

TEST(HarnessRun, BadInputExitsThreeWithOneLineBeforeAnythingStarts) {
  TemporaryDirectory directory("run", true);
  const std::string store = (directory.path / "store").string();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--target", "nosuchdb"}, "unknown target 'nosuchdb'"},
      {{"--workload", "ledger"}, "unknown workload 'ledger'"},
      {{"--nemesis", "partition,meteor"}, "unknown nemesis 'meteor'"},
      {{"--nodes", "0"}, "--nodes: 0 is out of range"},
      {{"--time-limit", "ten"}, "--time-limit: 'ten' is not a duration"},
      {{"--nemesis-interval=-3s"}, "--nemesis-interval"},
      {{"--ops-per-key", "300-100"}, "--ops-per-key"},
      {{"--read-fraction", "1.5"}, "--read-fraction"},
      {{"--target", "etcd", "--nemesis", "failpoint"}, "--nemesis failpoint: target etcd has no failpoints"},
      {{"--log-pattern", "fatal (unclosed"}, "--log-pattern 'fatal (unclosed': not a regular expression"},
      {{"--partition-shapes", "halves,sideways"}, "--partition-shapes: unknown shape 'sideways'"},
      {{"--target", "etcd", "--nemesis", "blackhole"},
       "--nemesis blackhole: needs link proxies between the nodes, which only the reference nodes"},
      {{"--nemesis", "delay", "--linkproxy", "/nonexistent/linkproxy"},
       "--nemesis delay: linkproxy not found at /nonexistent/linkproxy"},
  };
  for (const auto& [arguments, reason] : cases) {
    std::vector<std::string> argv = {"run", "--store", store};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    auto result = run_harness(argv, 20s);
    EXPECT_EQ(result.status.exit_code, 3) << describe(result);
    EXPECT_NE(result.err.find(reason), std::string::npos) << describe(result);
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << describe(result);
    EXPECT_TRUE(result.out.empty()) << describe(result);
  }
  EXPECT_FALSE(fs::exists(store)) << "nothing may start (not even the store) on bad input";
}

TEST(HarnessRun, CorrectRaftUnderPartitionKillPauseClockIsLinearizable) {
  TemporaryDirectory directory("run", true);
  auto result =
      run_harness({"run", "--store", (directory.path / "store").string(), "--nemesis", "partition,kill,pause,clock",
                   "--nemesis-interval", "5s", "--time-limit", "30s", "--seed", "7"});
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  EXPECT_NE(result.out.find("verdict: valid"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("p99"), std::string::npos) << result.out;

  const fs::path run = fs::canonical(directory.path / "store" / "latest");
  EXPECT_EQ(run.parent_path().filename(), "raft-register");
  EXPECT_NE(result.out.find(run.string()), std::string::npos) << "the summary names the store: " << result.out;
  for (const char* file : {"test.json", "history.jsonl", "results.json", "nodes/n1/log", "nodes/n5/log"}) {
    EXPECT_TRUE(fs::exists(run / file)) << file;
  }
  const json test = read_json(run / "test.json");
  EXPECT_EQ(test["seed"], 7);
  EXPECT_EQ(test["nodes"].size(), 5u);
  const json results = read_json(run / "results.json");
  EXPECT_EQ(results["verdict"], "valid");
  EXPECT_GT(results["operations"]["ok"].get<int>(), 1000);
  EXPECT_TRUE(results["latency_from_intended_send"].contains("p99_ms"));
  const json& liveness = results["checker"]["liveness"];
  EXPECT_EQ(liveness["verdict"], "valid") << liveness.dump();
  EXPECT_LE(liveness["recovered_after_ms"].get<int>(), 10'000) << liveness.dump();
  EXPECT_NE(result.out.find("liveness: valid (served again "), std::string::npos) << result.out;
  for (const char* fault : {"partition", "kill", "pause", "clock"}) {
    EXPECT_TRUE(results["availability"].contains(fault)) << fault;
  }

  const auto functions = nemesis_functions(run / "history.jsonl");
  for (const char* fault : {"partition", "kill", "pause", "clock"}) {
    EXPECT_TRUE(functions.count(fmt::format("start-{}", fault))) << fault;
    EXPECT_TRUE(functions.count(fmt::format("stop-{}", fault))) << fault << " (healed at the end at the latest)";
  }
}

// A cluster that cannot come back: every node is refnode the first time and,
// once killed, a process that never listens. After the final heal no probe is
// served, so the run gets the liveness verdict invalid, naming the nodes.
TEST(HarnessRun, AClusterThatNeverRecoversIsInvalidByLiveness) {
  TemporaryDirectory directory("run", true);
  const fs::path script = write_script(
      directory.path / "refnode-once",
      "#!/bin/sh\n"
      "# refnode on the first start of a node; a silent process on every later start.\n"
      "data=''; previous=''\n"
      "for argument in \"$@\"; do [ \"$previous\" = --data-dir ] && data=\"$argument\"; previous=\"$argument\"; "
      "done\n"
      "marker=\"$data.started-once\"\n"
      "if [ -e \"$marker\" ]; then exec sleep 3600; fi\n"
      ": > \"$marker\"\n"
      "exec '" +
          kRefnode + "' \"$@\"\n");
  auto result = run_harness({"run", "--store", (directory.path / "store").string(), "--refnode", script.string(),
                             "--nodes", "3", "--nemesis", "kill", "--kill-targets", "all", "--nemesis-interval", "2s",
                             "--time-limit", "5s", "--recovery-limit", "2s", "--seed", "3"},
                            120s);
  EXPECT_EQ(result.status.exit_code, 1) << describe(result);
  EXPECT_NE(result.out.find("liveness: invalid (no ok operation within 2 s of the final heal"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("verdict: invalid"), std::string::npos) << result.out;
  const json results = read_json(fs::canonical(directory.path / "store" / "latest") / "results.json");
  const json& liveness = results["checker"]["liveness"];
  EXPECT_EQ(liveness["verdict"], "invalid") << liveness.dump();
  EXPECT_TRUE(liveness["recovered_after_ms"].is_null());
  EXPECT_GE(liveness["waited_ms"].get<int>(), 2000);
  EXPECT_EQ(liveness["nodes"].size(), 3u) << liveness.dump();
  for (const auto& [node, answers] : liveness["nodes"].items()) EXPECT_EQ(answers["ok"], 0) << node;
  EXPECT_EQ(results["verdict"], "invalid");
}

// Followers that never ack (a failpoint on every node from the start): no
// write commits, no operation is ok while no fault is active, so the run is not
// a valid test and says so; liveness finds the cluster never serving.
TEST(HarnessRun, ARunThatNeverSawTheSystemWorkIsNotAValidTest) {
  TemporaryDirectory directory("run", true);
  const fs::path store = directory.path / "store";
  auto result =
      run_harness({"run", "--store", store.string(), "--nodes", "3", "--nemesis", "none", "--time-limit", "3s",
                   "--recovery-limit", "1s", "--seed", "1", "--target-arg=--failpoint=before-ack-send=error"},
                  120s);
  EXPECT_EQ(result.status.exit_code, 1) << describe(result);
  EXPECT_NE(result.out.find("not a valid test: no operation was ok while no fault was active ("), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("checker linearizable: unknown (nothing to judge"), std::string::npos) << result.out;
  const json results = latest_results(store);
  EXPECT_FALSE(results["valid_test"]["valid"].get<bool>()) << results["valid_test"].dump();
  EXPECT_EQ(results["valid_test"]["ok_without_faults"], 0);
  EXPECT_GT(results["valid_test"]["completed_without_faults"].get<int>(), 10);
  EXPECT_EQ(results["checker"]["liveness"]["verdict"], "invalid");
  const std::string report = read_text(fs::canonical(store / "latest") / "report.html");
  EXPECT_NE(report.find("\"not_a_test_reason\""), std::string::npos) << "the report's data carries the reason";
}

// A node whose log shows a crash bug (here n2's wrapper prints the line
// libstdc++ writes when an exception escapes, then runs refnode as usual): the
// default patterns find it, the run is invalid with the line as evidence;
// --log-pattern none turns the scan off.
TEST(HarnessRun, ACrashLineInANodeLogMakesTheRunInvalid) {
  TemporaryDirectory directory("run", true);
  const fs::path script = write_script(directory.path / "refnode-n2-complains",
                                       "#!/bin/sh\n"
                                       "case \"$*\" in *--id\\ n2\\ *|*--id\\ n2) echo \"terminate called after "
                                       "throwing an instance of 'std::logic_error'\" >&2;; esac\n"
                                       "exec '" +
                                           kRefnode + "' \"$@\"\n");
  const fs::path store = directory.path / "store";
  auto result = run_harness({"run", "--store", store.string(), "--refnode", script.string(), "--nodes", "3",
                             "--nemesis", "none", "--time-limit", "3s", "--seed", "4"},
                            120s);
  EXPECT_EQ(result.status.exit_code, 1) << describe(result);
  EXPECT_NE(result.out.find("log patterns: invalid (1 line(s) of the node logs match a --log-pattern, first n2/log:1 "
                            "('terminate called after throwing'))"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("  n2/log:1: terminate called after throwing an instance of 'std::logic_error'"),
            std::string::npos)
      << result.out;
  const json log_patterns = latest_results(store)["checker"]["log-patterns"];
  EXPECT_EQ(log_patterns["verdict"], "invalid") << log_patterns.dump();
  EXPECT_EQ(log_patterns["files"], 3);

  auto unscanned = run_harness({"run", "--store", store.string(), "--refnode", script.string(), "--nodes", "3",
                                "--nemesis", "none", "--time-limit", "2s", "--seed", "4", "--log-pattern", "none"},
                               120s);
  EXPECT_EQ(unscanned.status.exit_code, 0) << describe(unscanned);
  EXPECT_EQ(latest_results(store)["checker"]["log-patterns"]["verdict"], "unknown");
}

// One-way cuts on real nodes: in each window the leader stops hearing the
// others while they still hear it. Raft stays linearizable, the history records
// the shape and the one-sided grudge, the leader's lost acks cost availability
// inside the windows, and the cluster serves again after the heal.
TEST(HarnessRun, OneWayPartitionsAreRecordedAndCostAvailability) {
  TemporaryDirectory directory("run", true);
  const fs::path store = directory.path / "store";
  auto result =
      run_harness({"run", "--store", store.string(), "--nodes", "3", "--nemesis", "partition", "--partition-shapes",
                   "one-way-to-leader", "--nemesis-interval", "2s", "--time-limit", "10s", "--seed", "2"},
                  120s);
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const fs::path run = fs::canonical(store / "latest");
  int windows = 0;
  for (const json& op : read_history(run / "history.jsonl")) {
    if (op["f"] != "start-partition" || op["type"] != "info") continue;
    ++windows;
    const json& value = op["value"];
    EXPECT_EQ(value["shape"], "one-way-to-leader") << value.dump();
    EXPECT_TRUE(value["one_way"].get<bool>()) << value.dump();
    ASSERT_EQ(value["grudge"].size(), 1u) << "only the leader drops anything: " << value.dump();
    const auto& [deaf, unheard] = *value["grudge"].items().begin();
    EXPECT_EQ(unheard.size(), 2u) << value.dump();
    if (!value["leader"].is_null()) {
      EXPECT_EQ(deaf, value["leader"].get<std::string>()) << value.dump();
    }
  }
  EXPECT_GE(windows, 2);
  const json results = read_json(run / "results.json");
  EXPECT_LT(results["availability"]["partition"]["availability"].get<double>(), 0.95) << results["availability"].dump();
  EXPECT_EQ(results["checker"]["liveness"]["verdict"], "valid");
}

// Link toxics: each node reaches its peers through its own linkproxy
// (127.0.0.1:17000+j), every kind is applied without error, the windows that
// cut a node off (black hole, resets) cost availability, and Raft stays
// linearizable (seed 2: availability 18 % and 15 % in those windows, 99 % outside).
TEST(HarnessRun, LinkToxicsGoThroughEachNodesProxyAndCostAvailabilityNotSafety) {
  TemporaryDirectory directory("run", true);
  const fs::path store = directory.path / "store";
  const std::vector<std::string> kinds = {"delay",     "bandwidth",  "slicer",    "reset-peer",
                                          "blackhole", "slow-close", "limit-data"};
  std::string nemesis;
  for (const auto& kind : kinds) nemesis += (nemesis.empty() ? "" : ",") + kind;
  auto result = run_harness({"run", "--store", store.string(), "--nodes", "3", "--nemesis", nemesis,
                             "--nemesis-interval", "3s", "--time-limit", "20s", "--seed", "2"},
                            150s);
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const fs::path run = fs::canonical(store / "latest");
  std::map<std::string, int> started;
  for (const json& op : read_history(run / "history.jsonl")) {
    if (op["process"] != "nemesis" || op["type"] != "info") continue;
    const std::string function = op["f"];
    EXPECT_FALSE(op["value"].contains("error")) << op.dump();
    if (function.rfind("start-", 0) == 0) {
      ++started[function.substr(6)];
      EXPECT_FALSE(op["value"]["toxics"].empty()) << op.dump();
    }
  }
  for (const auto& kind : kinds) EXPECT_GE(started[kind], 1) << kind;
  const json test = read_json(run / "test.json");
  for (const json& node : test["nodes"]) {
    const std::string command = node["command"].dump();
    EXPECT_NE(command.find("=127.0.0.1:1700"), std::string::npos) << command;
    EXPECT_TRUE(fs::exists(run / "nodes" / node["name"].get<std::string>() / "linkproxy.log"));
  }
  const json availability = read_json(run / "results.json")["availability"];
  EXPECT_LT(std::min(availability["blackhole"]["availability"].get<double>(),
                     availability["reset-peer"]["availability"].get<double>()),
            0.9)
      << availability.dump();
  EXPECT_TRUE(processes_mentioning(store.string()).empty()) << "a linkproxy outlived the run";
}

// A node that dies by itself (here n1's process ends after 2 s, exit code 3,
// with no fault scheduled) is a finding: a node-exited op in the history, a
// line in the summary, an entry in results.json; the others go on serving.
TEST(HarnessRun, ANodeThatExitsByItselfIsReported) {
  TemporaryDirectory directory("run", true);
  const fs::path script = write_script(directory.path / "refnode-n1-dies",
                                       "#!/bin/sh\n"
                                       "case \"$*\" in *--id\\ n1\\ *|*--id\\ n1) ;; *) exec '" +
                                           kRefnode + "' \"$@\";; esac\n'" + kRefnode +
                                           "' \"$@\" &\n"
                                           "child=$!; sleep 2; kill -9 $child; exit 3\n");
  auto result = run_harness({"run", "--store", (directory.path / "store").string(), "--refnode", script.string(),
                             "--nodes", "3", "--nemesis", "none", "--time-limit", "5s", "--seed", "4"},
                            120s);
  EXPECT_EQ(result.status.exit_code, 0) << describe(result);
  EXPECT_NE(
      result.out.find("node exits without a kill from the harness (crashes, fail-stops, failpoint crashes): n1 at "),
      std::string::npos)
      << result.out;
  const fs::path run = fs::canonical(directory.path / "store" / "latest");
  const json results = read_json(run / "results.json");
  ASSERT_EQ(results["node_exits"].size(), 1u) << results["node_exits"].dump();
  EXPECT_EQ(results["node_exits"][0]["node"], "n1");
  EXPECT_EQ(results["node_exits"][0]["status"], "exited with 3");
  EXPECT_GT(results["node_exits"][0]["time_seconds"].get<double>(), 0);
  EXPECT_LT(results["node_exits"][0]["time_seconds"].get<double>(), 5) << "seen within the run";
  EXPECT_TRUE(nemesis_functions(run / "history.jsonl").count("node-exited"));
}

TEST(HarnessRun, CorrectRaftUnderFailpointsIsLinearizableAndTheCrashedNodesComeBack) {
  TemporaryDirectory directory("run", true);
  const fs::path store = directory.path / "store";
  auto result = run_harness(run_arguments({{"--store", store.string()},
                                           {"--nemesis", "failpoint"},
                                           {"--nemesis-interval", "2s"},
                                           {"--time-limit", "16s"},
                                           {"--seed", "5"}}));
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const fs::path run = fs::canonical(store / "latest");
  std::ifstream history(run / "history.jsonl");
  std::string line;
  int windows = 0, crashes = 0;
  std::set<std::string> crashed;
  while (std::getline(history, line)) {
    const json op = json::parse(line);
    if (op["process"] != "nemesis" || op["type"] != "info") continue;
    if (op["f"] == "start-failpoint") {
      ++windows;
      ASSERT_FALSE(op["value"].contains("error")) << line;
      if (op["value"]["action"] == "crash") ++crashes;
    }
    if (op["f"] == "stop-failpoint") {
      for (const auto& node : op["value"]["unanswered"]) crashed.insert(node.get<std::string>());
    }
  }
  EXPECT_GE(windows, 3);
  ASSERT_GT(crashes, 0) << "seed 5 draws at least one crash window";
  ASSERT_FALSE(crashed.empty()) << "a crash window's nodes died at the point";
  for (const auto& node : crashed) {
    const std::string log = read_text(run / "nodes" / node / "log");
    EXPECT_NE(log.find("crash (SIGKILL)"), std::string::npos) << node;
    std::size_t starts = 0;
    for (auto at = log.find("node started"); at != std::string::npos; at = log.find("node started", at + 1)) ++starts;
    EXPECT_GE(starts, 2u) << node << " was restarted by the stop";
  }
  EXPECT_EQ(read_json(run / "results.json")["verdict"], "valid");
}

TEST(HarnessRun, StaleFollowerReadsAreFoundInvalid) {
  TemporaryDirectory directory("run", true);
  auto result = run_harness({"run", "--store", (directory.path / "store").string(), "--nemesis", "partition",
                             "--nemesis-interval", "3s", "--time-limit", "20s", "--seed", "3",
                             "--target-arg=--bug=stale-follower-read"});
  EXPECT_EQ(result.status.exit_code, 1) << describe(result);
  EXPECT_NE(result.out.find("verdict: invalid"), std::string::npos) << result.out;
  EXPECT_EQ(read_json(directory.path / "store" / "latest" / "results.json")["verdict"], "invalid");
}

// --stop-on-invalid: the online check proves the stale read while the run goes,
// the run ends long before its time limit, and the offline check agrees.
TEST(HarnessRun, OnlineCheckStopsABuggyRunEarlyAndAgreesWithTheOfflineCheck) {
  TemporaryDirectory directory("run", true);
  auto result = run_harness({"run", "--store", (directory.path / "store").string(), "--nemesis", "partition",
                             "--nemesis-interval", "2s", "--time-limit", "40s", "--seed", "1", "--read-fraction", "0.7",
                             "--rate", "300", "--stop-on-invalid", "--target-arg=--bug=stale-follower-read"});
  EXPECT_EQ(result.status.exit_code, 1) << describe(result);
  EXPECT_NE(result.out.find("harness: online check (linearizable): invalid after"), std::string::npos) << result.out;
  const json results = read_json(directory.path / "store" / "latest" / "results.json");
  EXPECT_EQ(results["verdict"], "invalid");
  EXPECT_EQ(results["online_check"]["verdict"], "invalid");
  EXPECT_EQ(results["online_check"]["agrees_with_offline"], true);
  EXPECT_EQ(results["stopped_early"], true);
  ASSERT_TRUE(results["time_to_detection_ms"].is_number()) << results.dump();
  EXPECT_LT(results["time_to_detection_ms"].get<double>(), 35'000);
  EXPECT_LT(results["workload_seconds"].get<double>(), 36.0);
}

TEST(HarnessRun, OnlineCheckOfACorrectRunIsValidAndDropsSettledKeys) {
  TemporaryDirectory directory("run", true);
  auto result = run_harness({"run", "--store", (directory.path / "store").string(), "--nemesis", "partition",
                             "--nemesis-interval", "2s", "--time-limit", "12s", "--seed", "2", "--rate", "500",
                             "--ops-per-key", "20-40", "--check-online"});
  EXPECT_EQ(result.status.exit_code, 0) << describe(result);
  const json results = read_json(directory.path / "store" / "latest" / "results.json");
  EXPECT_EQ(results["verdict"], "valid");
  EXPECT_EQ(results["online_check"]["verdict"], "valid") << results["online_check"].dump();
  EXPECT_EQ(results["online_check"]["agrees_with_offline"], true);
  EXPECT_TRUE(results["time_to_detection_ms"].is_null());
  EXPECT_EQ(results["stopped_early"], false);
  EXPECT_GT(results["online_check"]["passes"].get<int>(), 5);
  EXPECT_GT(results["online_check"]["keys_dropped"].get<int>(), 10) << results["online_check"].dump();
}

// Detection is probabilistic: the stale window is the few hundred ms between
// a new leader's election and the isolated old leader's check-quorum
// step-down, after the old leader's clock went backwards. With these settings
// it was caught on 6 of 10 seeds (30 s runs) by hand (docs/performance-harness.md);
// up to four seeds make a miss unlikely (about 0.4^4 = 2.5 %).
TEST(HarnessRun, LeaseOnWallClockUnderClockBumpsIsFoundInvalid) {
  TemporaryDirectory directory("run", true);
  std::string outputs;
  for (const char* seed : {"1", "2", "5", "6"}) {
    auto result = run_harness({"run",
                               "--store",
                               (directory.path / "store").string(),
                               "--nemesis",
                               "partition,clock",
                               "--partition-shapes",
                               "isolate-leader",
                               "--nemesis-interval",
                               "2s",
                               "--time-limit",
                               "30s",
                               "--rate",
                               "500",
                               "--concurrency",
                               "20",
                               "--op-timeout",
                               "300ms",
                               "--read-fraction",
                               "0.9",
                               "--seed",
                               seed,
                               "--target-arg=--read-mode=lease",
                               "--target-arg=--bug=lease-wall-clock"});
    ASSERT_NE(result.status.exit_code, 3) << describe(result);
    if (result.status.exit_code == 1) return;
    outputs += result.out;
  }
  FAIL() << "lease-wall-clock not caught with seeds 1, 2, 5 and 6:\n" << outputs;
}

std::string machine_state(const std::string& what) {
  control::LocalProcessSpec spec;
  spec.argv = what == "links" ? std::vector<std::string>{"ip", "-o", "link", "show"}
                              : std::vector<std::string>{"iptables", "-S"};
  auto result = control::run_local(spec, 10s, "localhost");
  return result.out;
}

TEST(HarnessRun, SigkillOfTheControllerLeavesNothingAndThePartialHistoryChecks) {
  TemporaryDirectory directory("run", true);
  const fs::path store = directory.path / "store";
  const std::string links_before = machine_state("links");
  const std::string rules_before = machine_state("rules");

  control::LocalProcessSpec spec;
  spec.argv = {
      kHarness, "run",          "--store", store.string(), "--nemesis", "partition,kill,clock", "--nemesis-interval",
      "2s",     "--time-limit", "60s",     "--seed",       "5"};
  auto harness = control::start_local_daemon(spec, directory.path / "harness.log", "localhost");

  // Wait until the workload is recording and a fault has started.
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  fs::path history;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(store / "latest" / "history.jsonl")) {
      history = fs::canonical(store / "latest" / "history.jsonl");
      if (read_text(history).find("start-") != std::string::npos) break;
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_FALSE(history.empty()) << read_text(directory.path / "harness.log");
  ASSERT_FALSE(processes_mentioning(store.string()).empty()) << "refnode should be running now";

  // P0 (what we started) -> P1 (sandbox init) -> P2 (the controller).
  auto init = children_of(harness->pid());
  ASSERT_EQ(init.size(), 1u);
  auto controller = children_of(init.front());
  ASSERT_FALSE(controller.empty());
  ASSERT_EQ(::kill(controller.front(), SIGKILL), 0);
  auto status = harness->wait_for(15s);
  ASSERT_TRUE(status.has_value()) << "the outer harness process must exit once its controller is gone";

  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(processes_mentioning(store.string()).empty()) << "a refnode or harness process survived";
  EXPECT_EQ(machine_state("links"), links_before);
  EXPECT_EQ(machine_state("rules"), rules_before);

  auto check = run_harness({"check", history.string()}, 120s);
  EXPECT_TRUE(check.status.exit_code == 0 || check.status.exit_code == 2) << describe(check);
  EXPECT_NE(check.out.find("history.jsonl: "), std::string::npos) << check.out;
}

TEST(HarnessRun, WorksAsAnUnprivilegedUser) {
  TemporaryDirectory directory("run", true);
  std::vector<std::string> prefix;
  if (::geteuid() == 0) prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  auto result = run_harness({"run", "--store", (directory.path / "store").string(), "--nemesis", "partition,kill,clock",
                             "--nemesis-interval", "3s", "--time-limit", "10s", "--seed", "11"},
                            120s, prefix);
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const fs::path run = fs::canonical(directory.path / "store" / "latest");
  struct stat info {};
  ASSERT_EQ(::stat((run / "history.jsonl").c_str(), &info), 0);
  if (::geteuid() == 0) {
    EXPECT_EQ(info.st_uid, 65534u) << "files in the store belong to the user who ran the harness";
  }
  EXPECT_EQ(read_json(run / "results.json")["verdict"], "valid");
}

}  // namespace
