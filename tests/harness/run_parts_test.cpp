// The pure parts behind `harness run`: seeded workloads and key rotation, the
// nemesis schedule and partition shapes, fault-list parsing, and the results
// (counts, percentiles, availability per fault window).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "chaosbench/harness/run_results.h"
#include "chaosbench/nemesis/fault.h"
#include "chaosbench/nemesis/partition.h"
#include "chaosbench/nemesis/schedule.h"
#include "chaosbench/workloads/workload.h"

namespace chaosbench {
namespace {

using namespace std::chrono_literals;

TEST(Workloads, SameSeedSameOperations) {
  auto first = workloads::make_workload("register", 42, {100, 300});
  auto second = workloads::make_workload("register", 42, {100, 300});
  auto other = workloads::make_workload("register", 43, {100, 300});
  bool differs = false;
  for (int index = 0; index < 2000; ++index) {
    auto a = first->next();
    auto b = second->next();
    auto c = other->next();
    ASSERT_EQ(a.function, b.function);
    ASSERT_EQ(a.key, b.key);
    ASSERT_EQ(a.value, b.value);
    differs = differs || a.function != c.function || a.value != c.value;
  }
  EXPECT_TRUE(differs);
}

TEST(Workloads, RegisterRotatesKeysWithinTheRange) {
  auto workload = workloads::make_workload("register", 1, {100, 300});
  std::vector<std::string> keys;
  std::vector<int> counts;
  for (int index = 0; index < 5000; ++index) {
    auto op = workload->next();
    if (keys.empty() || keys.back() != op.key) {
      keys.push_back(op.key);
      counts.push_back(0);
    }
    ++counts.back();
  }
  ASSERT_GT(keys.size(), 16u);
  EXPECT_EQ(keys.front(), "r0");
  for (std::size_t index = 0; index + 1 < counts.size(); ++index) {  // the last key is still in use
    EXPECT_GE(counts[index], 100);
    EXPECT_LE(counts[index], 300);
  }
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size()) << "keys never come back";
  EXPECT_EQ(workload->final_reads().front().key, keys.back());
}

TEST(Workloads, RegisterRequestsFollowTheClientProtocol) {
  auto workload = workloads::make_workload("register", 1, {10, 10});
  workloads::ClientOperation cas{"cas", "r3", nlohmann::json::array({1, 2})};
  EXPECT_EQ(workload->request(cas), (nlohmann::json{{"op", "cas"}, {"key", "r3"}, {"from", 1}, {"to", 2}}));
  workloads::ClientOperation read{"read", "r3", nullptr};
  EXPECT_EQ(workload->completion_value(read, 4), 4);
  EXPECT_EQ(workload->model(), checkers::ModelKind::cas_register);
}

TEST(Workloads, KvAppendsAreListsOnTheNodeAndStringsInTheHistory) {
  auto workload = workloads::make_workload("kv", 9, {50, 50});
  workloads::ClientOperation put{"put", "k1", "5;"};
  EXPECT_EQ(workload->request(put)["value"], nlohmann::json::array({"5;"}));
  workloads::ClientOperation get{"get", "k1", nullptr};
  EXPECT_EQ(workload->completion_value(get, nlohmann::json::array({"5;", "7;"})), "5;7;");
  EXPECT_TRUE(workload->completion_value(get, nullptr).is_null());
  std::set<std::string> functions, keys;
  for (int index = 0; index < 500; ++index) {
    auto op = workload->next();
    functions.insert(op.function);
    keys.insert(op.key);
  }
  EXPECT_EQ(functions, (std::set<std::string>{"get", "put", "append"}));
  EXPECT_GE(keys.size(), 10u);
  EXPECT_EQ(workload->final_reads().size(), 3u);
}

TEST(Workloads, BadNamesAndRotationsAreOneLineErrors) {
  EXPECT_THROW(workloads::make_workload("ledger", 1, {}), std::invalid_argument);
  EXPECT_EQ(workloads::parse_key_rotation("150").minimum, 150u);
  EXPECT_EQ(workloads::parse_key_rotation("100-300").maximum, 300u);
  for (const char* bad : {"", "0", "x", "300-100", "1-", "-5"}) {
    EXPECT_THROW(workloads::parse_key_rotation(bad), std::invalid_argument) << bad;
  }
}

TEST(Nemesis, FaultListsParse) {
  using nemesis::FaultKind;
  EXPECT_EQ(nemesis::parse_fault_list("partition,kill,partition"),
            (std::vector<FaultKind>{FaultKind::partition, FaultKind::kill}));
  EXPECT_TRUE(nemesis::parse_fault_list("none").empty());
  EXPECT_THROW(nemesis::parse_fault_list("partition,,kill"), std::invalid_argument);
  EXPECT_THROW(nemesis::parse_fault_list("meteor"), std::invalid_argument);
}

TEST(Nemesis, KillTargetsChooseTheNamedNodes) {
  using nemesis::KillTargets;
  const std::vector<std::string> nodes = {"n1", "n2", "n3", "n4", "n5"};
  for (const char* name : {"mixed", "one", "minority", "majority", "all", "leader"}) {
    auto parsed = nemesis::parse_kill_targets(name);
    ASSERT_TRUE(parsed) << name;
    EXPECT_EQ(nemesis::to_string(*parsed), name);
  }
  EXPECT_FALSE(nemesis::parse_kill_targets("everyone"));
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 random(seed);
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::all, nodes, "n2", random), nodes);
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::leader, nodes, "n2", random), (std::vector<std::string>{"n2"}));
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::leader, nodes, std::nullopt, random).size(), 1u);
    EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::one, nodes, "n2", random).size(), 1u);
    const auto majority = nemesis::choose_kill_targets(KillTargets::majority, nodes, "n2", random);
    EXPECT_GE(majority.size(), 3u);
    EXPECT_LE(majority.size(), 5u);
    EXPECT_TRUE(std::is_sorted(majority.begin(), majority.end()));
    EXPECT_EQ(std::set<std::string>(majority.begin(), majority.end()).size(), majority.size());
    const auto minority = nemesis::choose_kill_targets(KillTargets::minority, nodes, "n2", random);
    EXPECT_GE(minority.size(), 1u);
    EXPECT_LE(minority.size(), 2u);
    const auto mixed = nemesis::choose_kill_targets(KillTargets::mixed, nodes, "n2", random);
    EXPECT_GE(mixed.size(), 1u);
    EXPECT_LE(mixed.size(), 2u);
  }
  std::mt19937_64 random(1);
  EXPECT_EQ(nemesis::choose_kill_targets(KillTargets::majority, {"n1", "n2", "n3"}, std::nullopt, random).size() >= 2,
            true);
}

TEST(Nemesis, ScheduleIsSeededAlternatesAndStaysInTheRun) {
  using nemesis::FaultKind;
  const std::vector<FaultKind> faults = {FaultKind::partition, FaultKind::kill, FaultKind::clock};
  auto schedule = nemesis::build_schedule(faults, 10s, 60s, 42);
  auto again = nemesis::build_schedule(faults, 10s, 60s, 42);
  auto other = nemesis::build_schedule(faults, 10s, 60s, 43);
  ASSERT_EQ(schedule.size(), again.size());
  for (std::size_t index = 0; index < schedule.size(); ++index) {
    EXPECT_EQ(schedule[index].at, again[index].at);
    EXPECT_EQ(schedule[index].seed, again[index].seed);
  }
  EXPECT_FALSE(schedule.size() == other.size() &&
               std::equal(schedule.begin(), schedule.end(), other.begin(),
                          [](const auto& a, const auto& b) { return a.at == b.at; }));
  for (FaultKind kind : faults) {
    bool active = false;
    int starts = 0;
    for (const auto& event : schedule) {
      EXPECT_LT(event.at, 60s);
      if (event.fault != kind) continue;
      EXPECT_NE(event.start, active) << "starts and stops alternate";
      active = event.start;
      starts += event.start;
    }
    EXPECT_GE(starts, 2) << nemesis::to_string(kind);
  }
  EXPECT_TRUE(
      std::is_sorted(schedule.begin(), schedule.end(), [](const auto& a, const auto& b) { return a.at < b.at; }));
}

std::set<std::string> visible_from(const nemesis::Grudge& grudge, const std::vector<std::string>& nodes,
                                   const std::string& node) {
  std::set<std::string> visible;
  for (const auto& other : nodes) {
    auto found = grudge.find(node);
    if (found == grudge.end() || !found->second.count(other)) visible.insert(other);
  }
  return visible;
}

TEST(Nemesis, PartitionShapes) {
  using nemesis::PartitionShape;
  const std::vector<std::string> nodes = {"n1", "n2", "n3", "n4", "n5"};
  std::mt19937_64 random(1);

  auto halves = nemesis::partition_grudge(PartitionShape::halves, nodes, random, std::nullopt);
  EXPECT_EQ(halves.at("n1"), (std::set<std::string>{"n3", "n4", "n5"}));
  EXPECT_EQ(halves.at("n5"), (std::set<std::string>{"n1", "n2"}));

  auto leader = nemesis::partition_grudge(PartitionShape::isolate_leader, nodes, random, std::string("n4"));
  EXPECT_EQ(leader.at("n4"), (std::set<std::string>{"n1", "n2", "n3", "n5"}));
  EXPECT_EQ(leader.at("n1"), (std::set<std::string>{"n4"}));

  for (int round = 0; round < 20; ++round) {
    auto ring = nemesis::partition_grudge(PartitionShape::majorities_ring, nodes, random, std::nullopt);
    std::set<std::set<std::string>> majorities;
    for (const auto& node : nodes) {
      auto visible = visible_from(ring, nodes, node);
      EXPECT_EQ(visible.size(), 3u) << "every node sees a majority (itself included)";
      EXPECT_TRUE(visible.count(node));
      majorities.insert(visible);
    }
    EXPECT_EQ(majorities.size(), 5u) << "no two nodes see the same majority";

    auto bridge = nemesis::partition_grudge(PartitionShape::bridge, nodes, random, std::nullopt);
    int bridges = 0;
    for (const auto& node : nodes) bridges += visible_from(bridge, nodes, node).size() == 5;
    EXPECT_EQ(bridges, 1);

    auto random_halves = nemesis::partition_grudge(PartitionShape::random_halves, nodes, random, std::nullopt);
    std::size_t lonely = 0;
    for (const auto& node : nodes) lonely += visible_from(random_halves, nodes, node).size() == 2;
    EXPECT_EQ(lonely, 2u);
  }
  EXPECT_TRUE(nemesis::partition_grudge(PartitionShape::halves, {"n1"}, random, std::nullopt).empty());
}

checkers::Operation op(checkers::History& history, checkers::OpType type, std::int64_t process, const char* function,
                       std::int64_t time) {
  checkers::Operation operation;
  operation.type = type;
  operation.process = process;
  operation.function = history.functions.intern(function);
  operation.time = time;
  history.operations.push_back(operation);
  return operation;
}

TEST(RunResults, OperationsTheTargetDidNotServeMakeARunVacuous) {
  using checkers::OpType;
  EXPECT_TRUE(harness::is_unserved_error("unsupported: the redis adapter has no op 'add'"));
  EXPECT_TRUE(harness::is_unserved_error("unknown_op"));
  EXPECT_TRUE(harness::is_unserved_error("malformed"));
  EXPECT_TRUE(harness::is_unserved_error("type_error: redis 10.0.0.1: WRONGTYPE Operation against a key"));
  EXPECT_FALSE(harness::is_unserved_error("precondition_failed"));
  EXPECT_FALSE(harness::is_unserved_error("timeout"));
  EXPECT_FALSE(harness::is_unserved_error("not_leader"));
  EXPECT_FALSE(harness::is_unserved_error("etcd n1 /v3/kv/txn: connection refused"));

  // Reads served, every add refused: a counter run that judged nothing.
  checkers::History history;
  std::int64_t time = 0;
  for (int process = 0; process < 3; ++process) {
    op(history, OpType::invoke, process, "read", ++time);
    op(history, OpType::ok, process, "read", ++time);
  }
  for (int process = 3; process < 5; ++process) {
    op(history, OpType::invoke, process, "add", ++time);
    op(history, OpType::fail, process, "add", ++time);
    history.set_error(history.size() - 1, "unsupported: no op 'add'");
  }
  auto unserved = harness::find_unserved_operations(history);
  EXPECT_EQ(unserved.completions, 5u);
  EXPECT_EQ(unserved.unserved, 2u);
  EXPECT_EQ(unserved.functions_never_served, std::vector<std::string>{"add"});
  EXPECT_TRUE(unserved.makes_run_vacuous(5)) << "no add was served, though most ops were";

  // One add served too: not vacuous by function, and 2 of 6 is not most.
  op(history, OpType::invoke, 5, "add", ++time);
  op(history, OpType::ok, 5, "add", ++time);
  unserved = harness::find_unserved_operations(history);
  EXPECT_TRUE(unserved.functions_never_served.empty());
  EXPECT_FALSE(unserved.makes_run_vacuous(6));
  EXPECT_TRUE(unserved.makes_run_vacuous(3)) << "2 unserved of 3 invoked is most";

  // Faults and failed preconditions are not the target refusing the workload.
  checkers::History faulty;
  op(faulty, OpType::invoke, 0, "cas", 1);
  op(faulty, OpType::fail, 0, "cas", 2);
  faulty.set_error(1, "precondition_failed");
  op(faulty, OpType::invoke, 1, "write", 3);
  op(faulty, OpType::info, 1, "write", 4);
  faulty.set_error(3, "timeout");
  EXPECT_FALSE(harness::find_unserved_operations(faulty).makes_run_vacuous(2));
}

TEST(RunResults, CountsPercentilesAndAvailabilityPerFault) {
  using checkers::OpType;
  checkers::History history;
  op(history, OpType::invoke, 0, "read", 1);
  op(history, OpType::ok, 0, "read", 2);
  op(history, OpType::invoke, checkers::kNemesisProcess, "start-partition", 3);
  op(history, OpType::info, checkers::kNemesisProcess, "start-partition", 4);
  op(history, OpType::invoke, 0, "write", 5);
  op(history, OpType::info, 0, "write", 6);
  op(history, OpType::invoke, 1, "read", 7);
  op(history, OpType::fail, 1, "read", 8);
  op(history, OpType::invoke, checkers::kNemesisProcess, "stop-partition", 9);
  op(history, OpType::invoke, checkers::kNemesisProcess, "start-delay", 9);
  op(history, OpType::info, checkers::kNemesisProcess, "start-delay", 9);
  history.operations.back().value = history.values.intern_json({{"error", "unsupported on this kernel"}});
  op(history, OpType::invoke, 2, "read", 10);  // never completes
  for (const auto& [type, error] : {std::pair{OpType::info, "timeout"}, std::pair{OpType::fail, "unavailable"}}) {
    for (std::size_t index = 0; index < history.size(); ++index) {
      const auto& operation = history.operations[index];
      if (operation.type == type && operation.process != checkers::kNemesisProcess) {
        history.set_error(index, error);
      }
    }
  }

  auto counts = harness::count_outcomes(history);
  EXPECT_EQ(counts.invoked, 4u);
  EXPECT_EQ(counts.ok, 1u);
  EXPECT_EQ(counts.fail, 1u);
  EXPECT_EQ(counts.info, 2u);
  EXPECT_EQ(counts.fail_errors, (std::map<std::string, std::uint64_t>{{"unavailable", 1}}));
  EXPECT_EQ(counts.info_errors, (std::map<std::string, std::uint64_t>{{"timeout", 1}})) << "the unfinished op has none";
  EXPECT_EQ(harness::describe_errors({{"a", 1}, {"b", 3}, {"c", 1}}), "b 3, a 1, c 1");
  EXPECT_EQ(harness::describe_errors({{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}, {"e", 1}, {"f", 9}, {"g", 1}}),
            "f 9, a 1, b 1, c 1, d 1, 2 more kinds (results.json)");
  EXPECT_EQ(harness::to_json(counts)["fail_errors"], (nlohmann::json{{"unavailable", 1}}));

  std::vector<harness::CompletionSample> samples = {{2, true}, {6, false}, {8, true}, {11, true}};
  auto availability = harness::availability_by_fault(history, samples);
  EXPECT_EQ(availability.at("none").completed, 2u);
  EXPECT_EQ(availability.at("none").available, 2u);
  EXPECT_EQ(availability.at("partition").completed, 2u);
  EXPECT_DOUBLE_EQ(availability.at("partition").ratio(), 0.5);
  EXPECT_FALSE(availability.count("delay")) << "a fault that failed to start was never active";

  std::vector<std::int64_t> latencies;
  for (int index = 1; index <= 1000; ++index) latencies.push_back(index * 1'000'000);
  auto summary = harness::summarize_latencies(latencies);
  EXPECT_DOUBLE_EQ(summary.p50_ms, 500);
  EXPECT_DOUBLE_EQ(summary.p99_ms, 990);
  EXPECT_DOUBLE_EQ(summary.max_ms, 1000);
  EXPECT_EQ(harness::summarize_latencies({}).count, 0u);
}

}  // namespace
}  // namespace chaosbench
