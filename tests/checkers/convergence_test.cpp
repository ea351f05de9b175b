// Eventual convergence: final reads after the last nemesis op from every node.
#include <gtest/gtest.h>

#include "chaosbench/checkers/convergence.h"
#include "history_builder.h"

namespace chaosbench::checkers {
namespace {

using nlohmann::json;
using testing::HistoryBuilder;

// Sets node names on ops (by index) and times = index seconds.
History with_nodes(History history, const std::vector<std::pair<std::size_t, std::string>>& nodes) {
  for (std::size_t index = 0; index < history.size(); ++index)
    history.operations[index].time = static_cast<std::int64_t>(index) * 1'000'000'000;
  for (const auto& [index, node] : nodes) {
    history.operations[index].node = static_cast<std::uint16_t>(history.nodes.intern(node));
  }
  return history;
}

History nemesis_then_reads(const json& n1_final, const json& n2_final, const json& n2_first = nullptr) {
  HistoryBuilder builder;
  builder.invoke(0, "add", 1).ok(0, "add", 1);                                                 // 0-1
  builder.invoke(1, "add", 2).ok(1, "add", 2);                                                 // 2-3
  builder.invoke(kNemesisProcess, "stop-partition");                                           // 4: the heal
  builder.invoke(2, "read", nullptr).ok(2, "read", n2_first.is_null() ? n2_final : n2_first);  // 5-6 on n2
  builder.invoke(3, "read", nullptr).ok(3, "read", n1_final);                                  // 7-8 on n1
  builder.invoke(2, "read", nullptr).ok(2, "read", n2_final);                                  // 9-10 on n2
  return with_nodes(builder.take(), {{0, "n1"}, {2, "n2"}, {5, "n2"}, {7, "n1"}, {9, "n2"}});
}

TEST(Convergence, AgreeingNodesConverge) {
  History history = nemesis_then_reads(json::array({1, 2}), json::array({2, 1}), json::array({1}));
  CheckResult result = check_convergence(history);
  EXPECT_EQ(result.verdict, Verdict::valid) << describe(result);
  // n2 first read [1] at t=5 s, then [2 1] at t=9 s: converged 9 - 4 = 5 s after the heal.
  EXPECT_DOUBLE_EQ(result.details["convergence_seconds"].get<double>(), 5.0);
}

TEST(Convergence, DivergentNodes) {
  CheckResult result = check_convergence(nemesis_then_reads(json::array({1, 2}), json::array({1})));
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(result.details["divergent_keys"], 1);
  EXPECT_TRUE(result.details["convergence_seconds"].is_null());
}

TEST(Convergence, LostAcknowledgedWrite) {
  CheckResult result = check_convergence(nemesis_then_reads(json::array({1}), json::array({1})));
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(result.details["lost_writes"], 1);
  ASSERT_FALSE(result.evidence.empty());
  EXPECT_NE(result.evidence[0].find("op 2"), std::string::npos) << result.evidence[0];
}

TEST(Convergence, RegisterSuccessorAndFinalReadMarker) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(0, "write", 2).ok(0, "write", 2);
  builder.invoke(1, "final-read", nullptr).ok(1, "final-read", 1);
  builder.invoke(2, "final-read", nullptr).ok(2, "final-read", 1);
  History history = with_nodes(builder.take(), {{0, "n1"}, {4, "n1"}, {6, "n2"}});
  CheckResult result = check_convergence(history);
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);  // write 2 came after 1 from the same process
  EXPECT_EQ(result.details["final_reads_by"], "final-read ops");
}

// Register workloads reuse values and write by cas: the final 7 comes from a
// cas; a value written twice is judged by its last write (the second case);
// convergence time counts from the heal, not from the final-reads marker.
TEST(Convergence, RewrittenValueAndCasAndFinalReadsMarker) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 3).ok(0, "write", 3);                                  // 0-1
  builder.invoke(0, "write", 4).ok(0, "write", 4);                                  // 2-3
  builder.invoke(0, "write", 3).ok(0, "write", 3);                                  // 4-5
  builder.invoke(1, "cas", json::array({3, 7})).ok(1, "cas", json::array({3, 7}));  // 6-7
  builder.invoke(kNemesisProcess, "stop-partition");                                // 8: the heal
  builder.invoke(kNemesisProcess, "final-reads");                                   // 9: the marker
  builder.invoke(2, "read", nullptr).ok(2, "read", 7);                              // 10-11 on n1
  builder.invoke(3, "read", nullptr).ok(3, "read", 7);                              // 12-13 on n2
  History history = with_nodes(builder.take(), {{0, "n1"}, {10, "n1"}, {12, "n2"}});
  CheckResult result = check_convergence(history);
  EXPECT_EQ(result.verdict, Verdict::valid) << describe(result);
  EXPECT_DOUBLE_EQ(result.details["convergence_seconds"].get<double>(), 12.0 - 8.0);

  HistoryBuilder stale;
  stale.invoke(0, "write", 3).ok(0, "write", 3);
  stale.invoke(0, "write", 4).ok(0, "write", 4);
  stale.invoke(0, "write", 3).ok(0, "write", 3);
  stale.invoke(0, "write", 5).ok(0, "write", 5);  // 6-7: 3 is superseded
  stale.invoke(kNemesisProcess, "stop-partition");
  stale.invoke(2, "read", nullptr).ok(2, "read", 3);  // 9-10 on n1
  CheckResult lost = check_convergence(with_nodes(stale.take(), {{0, "n1"}, {9, "n1"}}));
  EXPECT_EQ(lost.verdict, Verdict::invalid);
  ASSERT_FALSE(lost.evidence.empty());
  EXPECT_NE(lost.evidence[0].find("later wrote 5 (op 6"), std::string::npos) << lost.evidence[0];
}

// register-delete: a delete writes nil (the key is absent again).
TEST(Convergence, DeleteThenNilIsValid) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);                // 0-1
  builder.invoke(0, "delete", nullptr).ok(0, "delete", nullptr);  // 2-3
  builder.invoke(kNemesisProcess, "stop-partition");              // 4: the heal
  builder.invoke(1, "read", nullptr).ok(1, "read", nullptr);      // 5-6 on n1
  builder.invoke(2, "read", nullptr).ok(2, "read", nullptr);      // 7-8 on n2
  History history = with_nodes(builder.take(), {{0, "n1"}, {5, "n1"}, {7, "n2"}});
  CheckResult result = check_convergence(history);
  EXPECT_EQ(result.verdict, Verdict::valid) << describe(result);
  EXPECT_EQ(result.details["lost_writes"], 0);
}

// The deleted value comes back (a replica missed the delete and its tombstone
// was collected): on one node (divergent) or on all of them (lost delete).
TEST(Convergence, DeletedValueBroughtBackIsInvalid) {
  for (bool everywhere : {false, true}) {
    HistoryBuilder builder;
    builder.invoke(0, "write", 1).ok(0, "write", 1);                                         // 0-1
    builder.invoke(0, "delete", nullptr).ok(0, "delete", nullptr);                           // 2-3
    builder.invoke(kNemesisProcess, "stop-partition");                                       // 4: the heal
    builder.invoke(1, "read", nullptr).ok(1, "read", 1);                                     // 5-6 on n1
    builder.invoke(2, "read", nullptr).ok(2, "read", everywhere ? json(1) : json(nullptr));  // 7-8 on n2
    History history = with_nodes(builder.take(), {{0, "n1"}, {5, "n1"}, {7, "n2"}});
    CheckResult result = check_convergence(history);
    EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
    EXPECT_EQ(result.details["divergent_keys"], everywhere ? 0 : 1);
    EXPECT_EQ(result.details["lost_writes"], 1);
    bool named = false;
    for (const std::string& line : result.evidence) {
      named = named ||
              line.find("ends with 1 from op 0, but the same process later deleted the key (op 2, acknowledged)") !=
                  std::string::npos;
    }
    EXPECT_TRUE(named) << describe(result);
  }
}

TEST(Convergence, NilAfterDeletesNeedsADeleteWithoutSuccessor) {
  // Process 0 deletes, then writes 2 (acked): nil at the end loses the write.
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);                // 0-1
  builder.invoke(0, "delete", nullptr).ok(0, "delete", nullptr);  // 2-3
  builder.invoke(0, "write", 2).ok(0, "write", 2);                // 4-5
  builder.invoke(kNemesisProcess, "stop-partition");              // 6
  builder.invoke(1, "read", nullptr).ok(1, "read", nullptr);      // 7-8 on n1
  CheckResult lost = check_convergence(with_nodes(builder.history(), {{0, "n1"}, {7, "n1"}}));
  EXPECT_EQ(lost.verdict, Verdict::invalid) << describe(lost);
  ASSERT_FALSE(lost.evidence.empty());
  EXPECT_NE(lost.evidence[0].find("ends with null from op 2, but the same process later wrote 2 (op 4"),
            std::string::npos)
      << lost.evidence[0];

  // A delete of another process whose outcome is unknown may have come last;
  // a failed delete did not happen.
  HistoryBuilder unknown;
  unknown.invoke(0, "write", 1).ok(0, "write", 1);                  // 0-1
  unknown.invoke(0, "delete", nullptr).ok(0, "delete", nullptr);    // 2-3
  unknown.invoke(0, "write", 2).ok(0, "write", 2);                  // 4-5
  unknown.invoke(3, "delete", nullptr).info(3, "delete", nullptr);  // 6-7
  unknown.invoke(kNemesisProcess, "stop-partition");                // 8
  unknown.invoke(1, "read", nullptr).ok(1, "read", nullptr);        // 9-10 on n1
  CheckResult valid = check_convergence(with_nodes(unknown.history(), {{0, "n1"}, {9, "n1"}}));
  EXPECT_EQ(valid.verdict, Verdict::valid) << describe(valid);

  HistoryBuilder failed;
  failed.invoke(0, "write", 1).ok(0, "write", 1);                  // 0-1
  failed.invoke(3, "delete", nullptr).fail(3, "delete", nullptr);  // 2-3
  failed.invoke(kNemesisProcess, "stop-partition");                // 4
  failed.invoke(1, "read", nullptr).ok(1, "read", nullptr);        // 5-6 on n1
  CheckResult nil = check_convergence(with_nodes(failed.history(), {{0, "n1"}, {5, "n1"}}));
  EXPECT_EQ(nil.verdict, Verdict::invalid) << describe(nil);
  EXPECT_NE(nil.evidence.at(0).find("reads nil at the end, but op 0 wrote 1"), std::string::npos) << nil.evidence[0];
}

// Lists: an element a delete may have removed need not be present; one
// appended after the delete completed must be.
TEST(Convergence, ListElementsAfterADelete) {
  HistoryBuilder builder;
  builder.invoke(0, "append", 1).ok(0, "append", 1);                   // 0-1
  builder.invoke(1, "delete", nullptr).ok(1, "delete", nullptr);       // 2-3
  builder.invoke(0, "append", 2).ok(0, "append", 2);                   // 4-5
  builder.invoke(kNemesisProcess, "stop-partition");                   // 6
  builder.invoke(2, "read", nullptr).ok(2, "read", json::array({2}));  // 7-8 on n1
  EXPECT_EQ(check_convergence(with_nodes(builder.history(), {{0, "n1"}, {7, "n1"}})).verdict, Verdict::valid);

  HistoryBuilder missing;
  missing.invoke(0, "append", 1).ok(0, "append", 1);                // 0-1
  missing.invoke(1, "delete", nullptr).ok(1, "delete", nullptr);    // 2-3
  missing.invoke(0, "append", 2).ok(0, "append", 2);                // 4-5
  missing.invoke(kNemesisProcess, "stop-partition");                // 6
  missing.invoke(2, "read", nullptr).ok(2, "read", json::array());  // 7-8 on n1
  CheckResult result = check_convergence(with_nodes(missing.history(), {{0, "n1"}, {7, "n1"}}));
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
  EXPECT_EQ(result.details["lost_writes"], 1);
}

// kv: get returns the concatenation of the appended strings (and a put resets it).
TEST(Convergence, KvStringAppends) {
  auto history_with_final = [](const std::string& n1_final) {
    HistoryBuilder builder;
    builder.invoke(0, "put", "1;").ok(0, "put", "1;");         // 0-1
    builder.invoke(1, "append", "2;").ok(1, "append", "2;");   // 2-3
    builder.invoke(0, "append", "3;").ok(0, "append", "3;");   // 4-5
    builder.invoke(kNemesisProcess, "stop-partition");         // 6
    builder.invoke(2, "get", nullptr).ok(2, "get", n1_final);  // 7-8 on n1
    builder.invoke(3, "get", nullptr).ok(3, "get", "1;2;3;");  // 9-10 on n2
    return with_nodes(builder.take(), {{0, "n1"}, {2, "n2"}, {7, "n1"}, {9, "n2"}});
  };
  CheckResult kept = check_convergence(history_with_final("1;2;3;"));
  EXPECT_EQ(kept.verdict, Verdict::valid) << describe(kept);

  CheckResult lost = check_convergence(history_with_final("1;3;"));
  EXPECT_EQ(lost.verdict, Verdict::invalid) << describe(lost);
  EXPECT_EQ(lost.details["lost_writes"], 1);
  ASSERT_FALSE(lost.evidence.empty());
  EXPECT_NE(describe(lost).find("acknowledged op 2 (append \"2;\") is missing from node n1's final value"),
            std::string::npos)
      << describe(lost);

  // An append that a later put may have replaced need not be there.
  HistoryBuilder replaced;
  replaced.invoke(0, "append", "1;").ok(0, "append", "1;");  // 0-1
  replaced.invoke(1, "put", "9;").ok(1, "put", "9;");        // 2-3
  replaced.invoke(kNemesisProcess, "stop-partition");        // 4
  replaced.invoke(2, "get", nullptr).ok(2, "get", "9;");     // 5-6 on n1
  CheckResult overwritten = check_convergence(with_nodes(replaced.history(), {{0, "n1"}, {5, "n1"}}));
  EXPECT_EQ(overwritten.verdict, Verdict::valid) << describe(overwritten);
}

TEST(Convergence, NoFinalReadsIsUnknown) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(kNemesisProcess, "stop-partition");
  EXPECT_EQ(check_convergence(builder.history()).verdict, Verdict::unknown);
}

}  // namespace
}  // namespace chaosbench::checkers
