// Sequential consistency: linearizable simulations are SC; stale reads are SC
// but not linearizable; per-key vs whole-history; a brute-force oracle over
// every interleaving on small random histories; limits give unknown.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "chaosbench/checkers/history_io.h"
#include "chaosbench/checkers/linearizability.h"
#include "chaosbench/checkers/sequential.h"
#include "history_builder.h"
#include "register_simulation.h"

namespace chaosbench::checkers {
namespace {

using testing::HistoryBuilder;

SequentialResult check(const History& history, bool per_key = true, ModelKind kind = ModelKind::cas_register) {
  SequentialOptions options;
  options.model.kind = kind;
  options.partition_by_key = per_key;
  return check_sequential_consistency(history, options);
}

TEST(Sequential, LinearizableSimulationsAreSequentiallyConsistent) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    testing::RegisterSimulationOptions simulation;
    simulation.seed = seed;
    simulation.operations = 400;
    simulation.processes = 4;
    simulation.keys = 1 + static_cast<int>(seed % 3);
    History history = testing::simulate_register_history(simulation);
    SequentialResult result = check(history);
    EXPECT_EQ(result.verdict, Verdict::valid) << "seed " << seed << ": " << describe(result, history);
  }
}

// A sequentially consistent register that is not linearizable: ops run in one
// global order, but the history interleaves the processes differently, so real
// time disagrees with that order.
History simulate_sequential_register(std::uint64_t seed, int processes, int operations_per_process) {
  std::mt19937_64 random(seed);
  std::vector<std::vector<std::pair<bool, int>>> per_process(processes);  // (write?, value)
  int value = -1;
  int next_value = 0;
  std::vector<int> left(processes, operations_per_process);
  for (int remaining = processes * operations_per_process; remaining > 0; --remaining) {
    int process;
    do process = std::uniform_int_distribution<int>(0, processes - 1)(random);
    while (left[process] == 0);
    --left[process];
    bool write = std::uniform_int_distribution<int>(0, 2)(random) == 0;
    if (write) value = next_value++;
    per_process[process].push_back({write, value});
  }
  HistoryBuilder builder;
  std::vector<std::size_t> cursor(processes, 0);
  for (int remaining = processes * operations_per_process; remaining > 0; --remaining) {
    int process;
    do process = std::uniform_int_distribution<int>(0, processes - 1)(random);
    while (cursor[process] == per_process[process].size());
    auto [write, written] = per_process[process][cursor[process]++];
    nlohmann::json result = written < 0 ? nlohmann::json(nullptr) : nlohmann::json(written);
    if (write) {
      builder.invoke(process, "write", written).ok(process, "write", written);
    } else {
      builder.invoke(process, "read", nullptr).ok(process, "read", result);
    }
  }
  return builder.take();
}

TEST(Sequential, SequentialButNotLinearizableSimulations) {
  int not_linearizable = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    History history = simulate_sequential_register(seed, 4, 25);
    not_linearizable += check_linearizability(history, LinearizabilityOptions{}).verdict == Verdict::invalid;
    SequentialOptions options;
    options.time_limit = std::chrono::seconds(20);
    SequentialResult result = check_sequential_consistency(history, options);
    EXPECT_EQ(result.verdict, Verdict::valid) << "seed " << seed << ": " << describe(result, history);
  }
  EXPECT_GT(not_linearizable, 10);
}

TEST(Sequential, StaleReadIsSequentialButNotLinearizable) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(1, "read", nullptr).ok(1, "read", nullptr);  // after the write completed: stale
  LinearizabilityOptions linearizable;
  EXPECT_EQ(check_linearizability(builder.history(), linearizable).verdict, Verdict::invalid);
  EXPECT_EQ(check(builder.history()).verdict, Verdict::valid);
}

TEST(Sequential, ReadsGoingBackwardsAreNotSequential) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(0, "write", 2).ok(0, "write", 2);
  builder.invoke(1, "read", nullptr).ok(1, "read", 2);
  builder.invoke(1, "read", nullptr).ok(1, "read", 1);
  SequentialResult result = check(builder.history());
  EXPECT_EQ(result.verdict, Verdict::invalid);
  ASSERT_EQ(result.reports.size(), 1u);
  const SequentialPartitionReport& report = result.reports[0];
  EXPECT_FALSE(report.blocked_operations.empty());
  EXPECT_GE(report.longest_order.size(), 2u);
  EXPECT_NE(describe(result, builder.history()).find("next op of each process"), std::string::npos);
}

TEST(Sequential, PerKeyIsWeakerThanWholeHistory) {
  // Dekker: each process writes its key then reads the other's as absent.
  HistoryBuilder builder;
  builder.invoke(0, "write", 1, "x").ok(0, "write", 1, "x");
  builder.invoke(1, "write", 1, "y").ok(1, "write", 1, "y");
  builder.invoke(0, "read", nullptr, "y").ok(0, "read", nullptr, "y");
  builder.invoke(1, "read", nullptr, "x").ok(1, "read", nullptr, "x");
  SequentialResult per_key = check(builder.history(), true);
  EXPECT_EQ(per_key.verdict, Verdict::valid);
  SequentialResult whole = check(builder.history(), false);
  EXPECT_EQ(whole.verdict, Verdict::invalid);
  EXPECT_NE(whole.reason.find("as a whole"), std::string::npos);
}

TEST(Sequential, InfoWriteMayOrMayNotHappen) {
  // Each starts with an acknowledged write of 0 (a history with no acknowledged
  // update has nothing to judge).
  HistoryBuilder happened;
  happened.invoke(2, "write", 0).ok(2, "write", 0);
  happened.invoke(0, "write", 1).info(0, "write", 1);
  happened.invoke(1, "read", nullptr).ok(1, "read", 1);
  EXPECT_EQ(check(happened.history()).verdict, Verdict::valid);
  HistoryBuilder never;
  never.invoke(2, "write", 0).ok(2, "write", 0);
  never.invoke(0, "write", 1).info(0, "write", 1);
  never.invoke(1, "read", nullptr).ok(1, "read", 0);
  never.invoke(1, "read", nullptr).ok(1, "read", 0);
  EXPECT_EQ(check(never.history()).verdict, Verdict::valid);
}

TEST(Sequential, KvPorcupineHistoriesThatAreLinearizableAreSequential) {
  for (const char* name : {"c01-ok", "c10-ok"}) {
    History history =
        read_history_file(std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/porcupine/kv/" + name + ".txt");
    SequentialResult result = check(history, true, ModelKind::kv);
    EXPECT_EQ(result.verdict, Verdict::valid) << name << ": " << result.reason;
  }
}

TEST(Sequential, MemoryLimitGivesUnknown) {
  // Six processes write and read back their own values (4 rounds); process 6 writes 1
  // then 2, process 7 reads 1 then 2, process 8 reads 2 then 1: no order fits,
  // but the search must try many interleavings of the others to learn that.
  HistoryBuilder builder;
  for (int round = 0; round < 4; ++round) {
    for (int process = 0; process < 6; ++process) {
      int value = 100 * (process + 1) + round;
      builder.invoke(process, "write", value).ok(process, "write", value);
      builder.invoke(process, "read", nullptr).ok(process, "read", value);
    }
  }
  builder.invoke(6, "write", 1).ok(6, "write", 1);
  builder.invoke(6, "write", 2).ok(6, "write", 2);
  builder.invoke(7, "read", nullptr).ok(7, "read", 1);
  builder.invoke(7, "read", nullptr).ok(7, "read", 2);
  builder.invoke(8, "read", nullptr).ok(8, "read", 2);
  builder.invoke(8, "read", nullptr).ok(8, "read", 1);
  SequentialOptions options;
  options.memory_limit_bytes = 1;
  SequentialResult result = check_sequential_consistency(builder.history(), options);
  EXPECT_EQ(result.verdict, Verdict::unknown) << result.reason;
  EXPECT_NE(result.reason.find("memory limit"), std::string::npos) << result.reason;
  // Without the limit it is found invalid.
  EXPECT_EQ(check(builder.history()).verdict, Verdict::invalid);
}

// Brute force: every interleaving of the processes' ops (info ops optional).
bool sequential_by_brute_force(const std::vector<std::vector<std::pair<int, int>>>& processes,
                               const std::vector<std::vector<bool>>& unknown) {
  // ops: (kind 0 = write v, 1 = read v (v = -1: absent)), value
  std::vector<std::size_t> positions(processes.size(), 0);
  std::function<bool(int)> search = [&](int value) {
    bool done = true;
    for (std::size_t process = 0; process < processes.size(); ++process) {
      if (positions[process] >= processes[process].size()) continue;
      if (!unknown[process][positions[process]]) done = false;
    }
    if (done) return true;
    for (std::size_t process = 0; process < processes.size(); ++process) {
      if (positions[process] >= processes[process].size()) continue;
      auto [kind, argument] = processes[process][positions[process]];
      if (kind == 1 && argument != value) continue;
      ++positions[process];
      bool found = search(kind == 0 ? argument : value);
      --positions[process];
      if (found) return true;
    }
    return false;
  };
  return search(-1);
}

TEST(Sequential, AgreesWithBruteForceOnSmallRandomHistories) {
  std::mt19937_64 random(3);
  int invalid = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    auto uniform = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
    int process_count = uniform(2, 3);
    std::vector<std::vector<std::pair<int, int>>> processes(process_count);
    std::vector<std::vector<bool>> unknown(process_count);
    HistoryBuilder builder;
    // Interleave invocations round-robin so the history is well formed.
    std::vector<int> lengths(process_count);
    for (int process = 0; process < process_count; ++process) lengths[process] = uniform(1, 3);
    for (int step = 0; step < 3; ++step) {
      for (int process = 0; process < process_count; ++process) {
        if (step >= lengths[process]) continue;
        bool last = step == lengths[process] - 1;
        bool write = uniform(0, 1);
        int value = write ? uniform(1, 3) : uniform(0, 3) - 1;  // reads: -1 = absent
        bool info = write && last && uniform(0, 4) == 0;
        processes[process].push_back({write ? 0 : 1, value});
        unknown[process].push_back(info);
        nlohmann::json json_value = value < 0 ? nlohmann::json(nullptr) : nlohmann::json(value);
        if (write) {
          builder.invoke(process, "write", json_value);
          builder.add(info ? OpType::info : OpType::ok, process, "write", json_value, {});
        } else {
          builder.invoke(process, "read", nullptr);
          builder.ok(process, "read", json_value);
        }
      }
    }
    // A last process writes a fresh value and reads it back, so the checker always
    // has something to judge; that changes no verdict (both can go last).
    builder.invoke(process_count, "write", 4).ok(process_count, "write", 4);
    builder.invoke(process_count, "read", nullptr).ok(process_count, "read", 4);
    processes.push_back({{0, 4}, {1, 4}});
    unknown.push_back({false, false});
    bool expected = sequential_by_brute_force(processes, unknown);
    invalid += !expected;
    SequentialResult result = check(builder.history());
    ASSERT_EQ(result.verdict == Verdict::valid, expected) << "trial " << trial << ": " << result.reason;
  }
  EXPECT_GT(invalid, 100);
}

}  // namespace
}  // namespace chaosbench::checkers
