// `harness run --target redis` end to end on real Redis + Sentinel (Debian
// redis-server, redis-sentinel) in the sandbox: the set workload keeps every
// acknowledged add without faults; partitions that isolate the primary make
// Sentinel fail over while the old primary keeps acknowledging adds that the
// failover then discards (seeds measured in docs/redis.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

// The first of the two programs missing, or "" when both are installed.
std::string missing_redis_program() {
  for (const char* program : {"/usr/bin/redis-server", "/usr/bin/redis-sentinel"}) {
    if (access(program, X_OK) != 0) return program;
  }
  return "";
}

std::vector<std::string> redis_set_run(const fs::path& store, const std::string& seed, const std::string& nemesis,
                                       const std::string& time_limit) {
  return run_arguments({{"--target", "redis"},
                        {"--nodes", "3"},
                        {"--workload", "set"},
                        {"--store", store.string()},
                        {"--nemesis", nemesis},
                        {"--partition-shapes", "isolate-leader"},
                        {"--nemesis-interval", "8s"},
                        {"--time-limit", time_limit},
                        {"--rate", "100"},
                        {"--concurrency", "10"},
                        {"--read-fraction", "0.2"},
                        {"--recovery-time", "5s"},
                        {"--seed", seed}});
}

json set_details(const fs::path& store) { return latest_results(store).at("checker").at("set"); }

TEST(RealSystemsRedis, SetWorkloadWithoutFaultsKeepsEveryAcknowledgedAdd) {
  if (const std::string missing = missing_redis_program(); !missing.empty()) {
    GTEST_SKIP() << missing << " is not installed (Debian packages redis-server, redis-sentinel)";
  }
  TemporaryDirectory directory("redis-run");
  const fs::path store = directory.path / "store";
  auto run = run_harness(redis_set_run(store, "1", "none", "8s"));
  ASSERT_EQ(run.status.exit_code, 0) << describe(run);
  const json details = set_details(store);
  EXPECT_GT(details.at("acknowledged").get<int>(), 300) << details.dump();
  EXPECT_EQ(details.at("lost").get<int>(), 0) << details.dump();
}

// Without min-replicas-to-write, the isolated primary keeps acknowledging adds
// (asynchronous replication) while the majority's Sentinels promote a replica;
// after the heal the old primary resynchronises from the new one and drops them.
TEST(RealSystemsRedis, IsolatedPrimaryLosesAcknowledgedAddsOnFailover) {
  if (const std::string missing = missing_redis_program(); !missing.empty()) {
    GTEST_SKIP() << missing << " is not installed (Debian packages redis-server, redis-sentinel)";
  }
  std::string outputs;
  bool found_loss = false;
  for (const char* seed : {"1", "2", "3"}) {
    TemporaryDirectory directory("redis-run");
    const fs::path store = directory.path / "store";
    auto run = run_harness(redis_set_run(store, seed, "partition", "20s"));
    ASSERT_TRUE(run.status.exit_code == 0 || run.status.exit_code == 1) << "seed " << seed << ": " << describe(run);
    const json details = set_details(store);
    outputs +=
        fmt::format("seed {}: exit {}, {}\n", seed, run.status.exit_code, details.value("reason", details.dump()));
    const std::string history = latest_history_text(store);
    ASSERT_NE(history.find("\"isolate-leader\""), std::string::npos)
        << "no partition isolated the primary: " << outputs;
    EXPECT_NE(history.find("\"leader\":\"n"), std::string::npos) << "isolate-leader found no primary: " << outputs;
    if (run.status.exit_code != 1) continue;
    // The verdict is invalid because acknowledged adds are gone, not for another reason.
    EXPECT_GT(details.at("lost").get<int>(), 0) << details.dump();
    EXPECT_EQ(details.at("unexpected").get<int>(), 0) << details.dump();
    EXPECT_EQ(details.at("duplicated").get<int>(), 0) << details.dump();
    // ... and a Sentinel did fail over.
    bool switched = false;
    for (const char* node : {"n1", "n2", "n3"}) {
      const fs::path log = fs::canonical(store / "latest") / "nodes" / node / "sentinel.log";
      switched |= read_text(log).find("+switch-master") != std::string::npos;
    }
    EXPECT_TRUE(switched) << "acknowledged adds lost but no Sentinel logged +switch-master";
    found_loss = true;
    break;
  }
  EXPECT_TRUE(found_loss) << "no acknowledged add was lost on seeds 1-3:\n" << outputs;
}

// Every process the run started, depth first from the harness.
std::vector<int> descendants_of(int pid) {
  std::vector<int> found;
  for (int child : children_of(pid)) {
    found.push_back(child);
    for (int grandchild : descendants_of(child)) found.push_back(grandchild);
  }
  return found;
}

// A Sentinel that dies (here SIGKILLed by the test, one of the processes this
// run started) is a finding like a node's exit: a node-exited op naming the
// companion, an entry in results.json's node_exits, the summary line.
TEST(RealSystemsRedis, ASentinelThatDiesIsReportedAsTheNodesCompanion) {
  if (const std::string missing = missing_redis_program(); !missing.empty()) {
    GTEST_SKIP() << missing << " is not installed (Debian packages redis-server, redis-sentinel)";
  }
  TemporaryDirectory directory("redis-run", true);
  const fs::path store = directory.path / "store";
  control::LocalProcessSpec spec;
  spec.argv = redis_set_run(store, "1", "none", "8s");
  spec.argv.insert(spec.argv.begin(), kHarness);
  auto harness = control::start_local_daemon(spec, directory.path / "harness.log", "localhost");
  int sentinel = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       sentinel == 0 && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(200ms)) {
    if (!fs::exists(store / "latest" / "history.jsonl")) continue;
    if (read_text(fs::canonical(store / "latest" / "history.jsonl")).find("\"ok\"") == std::string::npos) continue;
    for (int pid : descendants_of(harness->pid())) {
      if (read_text(fmt::format("/proc/{}/cmdline", pid)).find("redis-sentinel") != std::string::npos) {
        sentinel = pid;
        break;
      }
    }
  }
  ASSERT_NE(sentinel, 0) << "no Sentinel among the run's processes: " << read_text(directory.path / "harness.log");
  ASSERT_EQ(::kill(sentinel, SIGKILL), 0);
  auto status = harness->wait_for(120s);
  ASSERT_TRUE(status.has_value()) << "the run did not end";
  const std::string output = read_text(directory.path / "harness.log");
  EXPECT_NE(output.find("'s sentinel at "), std::string::npos) << output;
  const json exits = latest_results(store)["node_exits"];
  ASSERT_EQ(exits.size(), 1u) << exits.dump();
  EXPECT_EQ(exits[0]["companion"], "sentinel");
  EXPECT_EQ(exits[0]["status"], "killed by SIGKILL") << exits.dump();
  EXPECT_NE(latest_history_text(store).find("\"companion\":\"sentinel\""), std::string::npos);
}

TEST(RealSystemsRedis, UnknownTargetArgumentIsABadArgument) {
  TemporaryDirectory directory("redis-run");
  auto run = run_harness(
      {"run", "--target", "redis", "--store", (directory.path / "store").string(), "--target-arg=--appendonly=maybe"},
      30s);
  EXPECT_EQ(run.status.exit_code, 3) << describe(run);
  EXPECT_NE(run.err.find("--appendonly=maybe"), std::string::npos) << describe(run);
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << "not one line:\n" << describe(run);
  EXPECT_FALSE(fs::exists(directory.path / "store")) << "a bad argument still created the store";
}

}  // namespace
