// Data shaping behind the report: spans, buckets, percentiles, fault windows,
// availability per window, lane packing.
#include "chaosbench/reports/data_shaping.h"

#include <gtest/gtest.h>

#include "history_builder.h"

namespace chaosbench::reports {
namespace {

using checkers::History;
using checkers::kNemesisProcess;
using checkers::OpType;
using checkers::testing::HistoryBuilder;
using nlohmann::json;

// Builder ops get time = index; this sets explicit times instead.
History with_times(History history, const std::vector<std::int64_t>& times) {
  for (std::size_t index = 0; index < times.size(); ++index) history.operations[index].time = times[index];
  return history;
}

TEST(Percentile, NearestRank) {
  const std::vector<std::int64_t> samples = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(percentile(samples, 50), 5);
  EXPECT_EQ(percentile(samples, 95), 10);
  EXPECT_EQ(percentile(samples, 99), 10);
  EXPECT_EQ(percentile(samples, 10), 1);
  EXPECT_EQ(percentile({}, 50), 0);
  EXPECT_EQ(percentile({42}, 99), 42);
}

TEST(BucketWidth, NiceAndBounded) {
  EXPECT_EQ(choose_bucket_width(1000, 100), 10);
  EXPECT_EQ(choose_bucket_width(1001, 100), 20);
  EXPECT_EQ(choose_bucket_width(60'000'000, 150), 500'000);  // 60 s in us -> 0.5 s buckets
  EXPECT_EQ(choose_bucket_width(0, 100), 1);
  EXPECT_EQ(choose_bucket_width(7, 100), 1);
  for (std::int64_t span : {1, 99, 12345, 987654321}) {
    const auto width = choose_bucket_width(span, 150);
    EXPECT_LE((span + width - 1) / width, 150) << span;
  }
}

TEST(OperationSpans, PairsAndOrdersByInvocationTime) {
  History history = with_times(HistoryBuilder()
                                   .invoke(1, "write", 1)
                                   .invoke(2, "read")
                                   .ok(2, "read", 1)
                                   .ok(1, "write", 1)
                                   .invoke(3, "write", 2)
                                   .take(),
                               {10, 5, 30, 40, 50});
  const auto spans = operation_spans(history);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].invocation, 1u);  // invoked at 5
  EXPECT_EQ(spans[0].latency(), 25);
  EXPECT_EQ(spans[1].invocation, 0u);
  EXPECT_EQ(spans[1].latency(), 30);
  EXPECT_FALSE(spans[2].completed);
  EXPECT_EQ(spans[2].outcome, OpType::info);
  EXPECT_EQ(spans[2].end, 50);  // runs to the end of the history
}

TEST(Buckets, CountByCompletionAndPercentilesOfOkOnly) {
  History history = with_times(HistoryBuilder()
                                   .invoke(1, "write", 1)
                                   .ok(1, "write", 1)  // 0 -> 4, bucket 0
                                   .invoke(2, "write", 2)
                                   .fail(2, "write", 2)  // 1 -> 8, bucket 0
                                   .invoke(3, "read")
                                   .ok(3, "read", 1)  // 2 -> 12, bucket 1
                                   .invoke(4, "read")
                                   .info(4, "read")  // 3 -> 25, bucket 2
                                   .invoke(5, "read")
                                   .ok(5, "read", 1)  // 20 -> 29, bucket 2
                                   .take(),
                               {0, 4, 1, 8, 2, 12, 3, 25, 20, 29});
  const auto spans = operation_spans(history);
  const auto buckets = bucket_operations(spans, history_time_range(history), 10);
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].start, 0);
  EXPECT_EQ(buckets[0].ok, 1u);
  EXPECT_EQ(buckets[0].fail, 1u);
  EXPECT_EQ(buckets[0].p50, 4);
  EXPECT_EQ(buckets[1].ok, 1u);
  EXPECT_EQ(buckets[1].max, 10);
  EXPECT_EQ(buckets[2].info, 1u);
  EXPECT_EQ(buckets[2].ok, 1u);
  EXPECT_EQ(buckets[2].p99, 9);  // the info op's 22 is not a latency sample
}

TEST(FaultWindows, PairsStartStopAndLabelsFromCompletion) {
  json partition = {{"n1", {"n2", "n3"}}, {"n2", {"n1"}}, {"n3", {"n1"}}};
  History history =
      with_times(HistoryBuilder()
                     .invoke(kNemesisProcess, "start-partition", partition)
                     .info(kNemesisProcess, "start-partition", {{"shape", "isolate-one"}, {"grudge", partition}})
                     .invoke(1, "read")
                     .ok(1, "read", 1)
                     .invoke(kNemesisProcess, "start-kill", json::array({"n3"}))
                     .info(kNemesisProcess, "start-kill", json::array({"n3"}))
                     .invoke(kNemesisProcess, "stop-partition", partition)
                     .info(kNemesisProcess, "stop-partition", partition)
                     .take(),
                 {100, 110, 120, 130, 140, 150, 160, 170});
  const auto windows = fault_windows(history);
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[0].kind, "partition");
  EXPECT_EQ(windows[0].start, 100);
  EXPECT_EQ(windows[0].end, 170);  // the stop's completion
  EXPECT_FALSE(windows[0].open);
  EXPECT_EQ(windows[0].label, "isolate-one: n1 x n2,n3; n2 x n1; n3 x n1");
  EXPECT_EQ(windows[1].kind, "kill");
  EXPECT_TRUE(windows[1].open);  // never stopped: runs to the end
  EXPECT_EQ(windows[1].end, 170);
  EXPECT_EQ(windows[1].label, "n3");

  json one_way = {{"n1", {"n2", "n3"}}};
  History cut =
      with_times(HistoryBuilder()
                     .invoke(kNemesisProcess, "start-partition", one_way)
                     .info(kNemesisProcess, "start-partition",
                           {{"shape", "one-way-to-leader"}, {"leader", "n1"}, {"one_way", true}, {"grudge", one_way}})
                     .take(),
                 {100, 110});
  ASSERT_EQ(fault_windows(cut).size(), 1u);
  EXPECT_EQ(fault_windows(cut)[0].label, "one-way-to-leader (leader n1): n1 does not hear n2,n3");
}

TEST(FaultWindows, JepsenNamesInstantEventsAndErrors) {
  History history = HistoryBuilder()
                        .invoke(kNemesisProcess, "kill", json::array({"n1"}))
                        .info(kNemesisProcess, "kill", json::array({"n1"}))
                        .invoke(kNemesisProcess, "check-offsets")
                        .info(kNemesisProcess, "check-offsets", {{"n1", 0.5}})
                        .invoke(kNemesisProcess, "start")
                        .info(kNemesisProcess, "start")
                        .invoke(kNemesisProcess, "start-clock", {{"mode", "bump"}, {"offsets", {{"n2", 2.5}}}})
                        .info(kNemesisProcess, "start-clock", {{"error", "no libfaketime"}})
                        .invoke(kNemesisProcess, "pause", json::array({"n2"}))
                        .invoke(kNemesisProcess, "resume", json::array({"n2"}))
                        .take();
  const auto windows = fault_windows(history);
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_EQ(windows[0].kind, "kill");
  EXPECT_EQ(windows[0].end, 5);  // closed by "start" (restart)
  EXPECT_TRUE(windows[1].instant);
  EXPECT_EQ(windows[1].function, "check-offsets");
  EXPECT_EQ(windows[1].label, "n1 0.5");
  EXPECT_EQ(windows[2].kind, "clock");
  EXPECT_TRUE(windows[2].failed);
  EXPECT_EQ(windows[2].label, "error: no libfaketime");
  EXPECT_EQ(windows[3].kind, "pause");
  EXPECT_EQ(windows[3].start, 8);
  EXPECT_EQ(windows[3].end, 9);  // no completion: the stop's invocation
}

TEST(FaultValues, ReadableLabels) {
  EXPECT_EQ(describe_fault_value("clock", {{"mode", "bump"}, {"offsets", {{"n1", -2.5}, {"n3", 4}}}}),
            "bump n1 -2.5s n3 +4s");
  EXPECT_EQ(describe_fault_value("loss", {{"n1", 0.25}}), "n1 0.25");
  EXPECT_EQ(describe_fault_value("node-exited", {{"node", "n1"}, {"status", "exited with 3"}, {"exit_code", 3}}),
            "n1 exited with 3");
  EXPECT_EQ(describe_fault_value("kill", json::array({"n1", "n2"})), "n1, n2");
  EXPECT_EQ(describe_fault_value("power-loss",
                                 json::parse(R"({"nodes":["n1","n2"],"request":{"op":"lose-unsynced"},"effects":{
                                   "n1":{"files":[{"path":"wal.log","size_before":6363,"size_after":0}],
                                         "entries_dropped":["member","member/wal"]},
                                   "n2":{"files":[],"entries_dropped":[]}}})"),
                                 200),
            "n1,n2: lose-unsynced: n1 wal.log 6363->0 B; n1 2 entries dropped");
  EXPECT_EQ(describe_fault_value("corrupt",
                                 json::parse(R"({"nodes":["n3"],"request":{"op":"corrupt","mode":"bitflip","count":2},
                                           "effects":{"n3":{"file":"wal.log","mode":"bitflip","bits":[3,90]}}})")),
            "n3: corrupt (mode=bitflip count=2): n3 wal.log");
  EXPECT_EQ(describe_fault_value("x", nullptr), "");
  EXPECT_EQ(describe_fault_value("x", std::string(200, 'a'), 10), "aaaaaaa...");
}

TEST(Availability, PerWindowAndOutside) {
  History history = with_times(HistoryBuilder()
                                   .invoke(1, "read")
                                   .ok(1, "read", 1)                            // completes 10: outside
                                   .invoke(kNemesisProcess, "start-partition")  // 20
                                   .invoke(2, "read")
                                   .fail(2, "read")  // 30: partition
                                   .invoke(3, "read")
                                   .ok(3, "read", 1)                       // 40: partition
                                   .invoke(kNemesisProcess, "start-kill")  // 45
                                   .invoke(4, "read")
                                   .info(4, "read")                            // 50: partition + kill
                                   .invoke(kNemesisProcess, "stop-partition")  // 60
                                   .invoke(kNemesisProcess, "stop-kill")       // 70
                                   .invoke(5, "read")
                                   .ok(5, "read", 1)   // 80: outside
                                   .invoke(6, "read")  // never completes
                                   .take(),
                               {0, 10, 20, 25, 30, 35, 40, 45, 46, 50, 60, 70, 75, 80, 85});
  const auto spans = operation_spans(history);
  const auto windows = fault_windows(history);
  ASSERT_EQ(windows.size(), 2u);
  const auto availability = availability_per_window(spans, windows);
  ASSERT_EQ(availability.size(), 3u);
  EXPECT_EQ(availability[0].window, 0);
  EXPECT_EQ(availability[0].ok, 1u);
  EXPECT_EQ(availability[0].fail, 1u);
  EXPECT_EQ(availability[0].info, 1u);
  EXPECT_NEAR(availability[0].ratio(), 1.0 / 3, 1e-9);
  EXPECT_EQ(availability[1].window, 1);
  EXPECT_EQ(availability[1].completed(), 1u);
  EXPECT_EQ(availability[1].ratio(), 0.0);
  EXPECT_EQ(availability[2].window, -1);
  EXPECT_EQ(availability[2].ok, 2u);
  EXPECT_EQ(availability[2].completed(), 2u);
}

TEST(Lanes, OnePerProcessUnlessTooMany) {
  HistoryBuilder builder;
  // Processes 0..9, each one op, sequential in time: never overlapping.
  for (int process = 0; process < 10; ++process) builder.invoke(process, "read").ok(process, "read", 1);
  const History history = builder.take();
  const auto spans = operation_spans(history);
  const auto plain = assign_lanes(spans, 100);
  EXPECT_FALSE(plain.packed);
  EXPECT_EQ(plain.lanes, 10u);
  EXPECT_EQ(plain.lane_of[7], 7u);
  const auto packed = assign_lanes(spans, 5);
  EXPECT_TRUE(packed.packed);
  EXPECT_EQ(packed.lanes, 1u);  // none overlap
}

TEST(Lanes, OverlappingProcessesGetDistinctLanes) {
  History history = HistoryBuilder()
                        .invoke(0, "read")
                        .invoke(1, "read")
                        .invoke(2, "read")
                        .ok(0, "read", 1)
                        .ok(1, "read", 1)
                        .ok(2, "read", 1)
                        .invoke(3, "read")
                        .ok(3, "read", 1)
                        .take();
  const auto packed = assign_lanes(operation_spans(history), 2);
  EXPECT_TRUE(packed.packed);
  EXPECT_EQ(packed.lanes, 3u);
  EXPECT_NE(packed.lane_of[0], packed.lane_of[1]);
  EXPECT_NE(packed.lane_of[1], packed.lane_of[2]);
  EXPECT_EQ(packed.lane_of[3], 0u);  // reuses the first free lane
}

}  // namespace
}  // namespace chaosbench::reports
