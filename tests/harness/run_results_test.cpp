// The results of `harness run`: which operations the target did not serve
// (a vacuous run), the counts, latency percentiles and availability per fault window.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "chaosbench/harness/run_results.h"

namespace chaosbench {
namespace {

using namespace std::chrono_literals;

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

  // Only answered (not ok) outside the partition: the system was never seen working.
  std::vector<harness::CompletionSample> refused_outside = {{2, true, false}, {6, true, true}, {11, true, false}};
  auto only_inside = harness::availability_by_fault(history, refused_outside);
  EXPECT_EQ(only_inside.at("none").ok, 0u);
  EXPECT_EQ(only_inside.at("partition").ok, 1u);
  EXPECT_EQ(harness::to_json(only_inside)["partition"]["ok"], 1);
  EXPECT_EQ(harness::not_a_valid_test_reason(harness::availability_without_faults(only_inside)),
            "no operation was ok while no fault was active (2 completion(s) then, 0 ok): the system was never seen "
            "working, so the run tested nothing");
  EXPECT_NE(
      harness::not_a_valid_test_reason(harness::availability_without_faults({})).find("(0 completion(s) then, 0 ok)"),
      std::string::npos);
  std::vector<harness::CompletionSample> one_ok_outside = {{2, true, true}};
  EXPECT_EQ(harness::not_a_valid_test_reason(
                harness::availability_without_faults(harness::availability_by_fault(history, one_ok_outside))),
            "");

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
