// rw-register's optional version-order sources, as Elle names them: for each
// of wfr-keys, sequential-keys and linearizable-keys a history whose cycle
// only that source reveals (invalid with it, valid without it and with the
// others), the edge explained by the source; a source whose orders are cyclic
// is left out and reported as cyclic-versions, as Elle does.
#include <gtest/gtest.h>

#include <set>

#include "chaosbench/checkers/elle.h"
#include "history_builder.h"

namespace chaosbench::checkers {
namespace {

using nlohmann::json;
using testing::HistoryBuilder;

// Invoke, then complete, txn `completed` on `process` (reads null on the invocation).
void invoke_txn(HistoryBuilder& builder, std::int64_t process, const json& completed) {
  json invocation = json::array();
  for (const json& mop : completed) invocation.push_back(mop[0] == "r" ? json::array({"r", mop[1], nullptr}) : mop);
  builder.invoke(process, "txn", invocation);
}
void complete_txn(HistoryBuilder& builder, std::int64_t process, const json& completed) {
  builder.ok(process, "txn", completed);
}
void whole_txn(HistoryBuilder& builder, std::int64_t process, const json& completed) {
  invoke_txn(builder, process, completed);
  complete_txn(builder, process, completed);
}

struct Sources {
  bool wfr = false, sequential = false, linearizable = false;
};

ElleResult check_with(const History& history, Sources sources,
                      ConsistencyModel model = ConsistencyModel::serializable) {
  ElleOptions options;
  options.model = model;
  options.wfr_keys = sources.wfr;
  options.sequential_keys = sources.sequential;
  options.linearizable_keys = sources.linearizable;
  return check_rw_register(history, options);
}

std::set<std::string> anomaly_types(const ElleResult& result) {
  std::set<std::string> names;
  for (const auto& [type, count] : result.anomaly_counts) names.insert(type);
  return names;
}

std::string all_explanations(const ElleResult& result) {
  std::string text = describe(result);
  for (const Anomaly& anomaly : result.anomalies) {
    for (const CycleStep& step : anomaly.cycle) text += step.explanation + "\n";
  }
  return text;
}

// T2 reads x=1 and then writes x=2 (and y=2); T3 reads x=1 and y=2. Only
// writes-follow-reads orders 1 before 2, which makes T3's read of x=1 an
// anti-dependency on T2: T2 -wr-> T3 -rw-> T2.
TEST(ElleVersionSources, WfrKeysOrdersAReadBeforeTheSameTxnsWrite) {
  HistoryBuilder builder;
  whole_txn(builder, 0, json::parse(R"([["w","x",1]])"));
  whole_txn(builder, 1, json::parse(R"([["r","x",1],["w","x",2],["w","y",2]])"));
  whole_txn(builder, 2, json::parse(R"([["r","x",1],["r","y",2]])"));
  ElleResult with = check_with(builder.history(), {.wfr = true});
  EXPECT_EQ(with.verdict, Verdict::invalid) << describe(with);
  EXPECT_EQ(anomaly_types(with), std::set<std::string>{"G-single"}) << describe(with);
  EXPECT_NE(all_explanations(with).find("read 1 and then wrote it (wfr-keys)"), std::string::npos)
      << all_explanations(with);
  // Three processes, so process order relates nothing (real-time order would: the txns do not overlap).
  ElleResult without = check_with(builder.history(), {.sequential = true});
  EXPECT_EQ(without.verdict, Verdict::valid) << describe(without);
  EXPECT_EQ(check_with(builder.history(), {}).verdict, Verdict::valid);
}

// Process 0 writes x=1, then x=2 (and y=1); T3 on process 1 reads x=1 and y=1.
// The two writes of process 0 overlap T3 and nothing but process order
// relates them; sequential keys order 1 before 2: T2 -wr-> T3 -rw-> T2.
TEST(ElleVersionSources, SequentialKeysOrdersAProcesssSuccessiveTxns) {
  HistoryBuilder builder;
  const json t1 = json::parse(R"([["w","x",1]])"), t2 = json::parse(R"([["w","x",2],["w","y",1]])"),
             t3 = json::parse(R"([["r","x",1],["r","y",1]])");
  invoke_txn(builder, 1, t3);
  invoke_txn(builder, 0, t1);
  complete_txn(builder, 0, t1);
  invoke_txn(builder, 0, t2);
  complete_txn(builder, 0, t2);
  complete_txn(builder, 1, t3);
  ElleResult with = check_with(builder.history(), {.sequential = true});
  EXPECT_EQ(with.verdict, Verdict::invalid) << describe(with);
  EXPECT_EQ(anomaly_types(with), std::set<std::string>{"G-single"}) << describe(with);
  EXPECT_NE(all_explanations(with).find("ran on process 0 (sequential-keys)"), std::string::npos)
      << all_explanations(with);
  EXPECT_EQ(check_with(builder.history(), {.wfr = true}).verdict, Verdict::valid);
  // Real-time order relates T1 and T2 too (one completed before the other began).
  EXPECT_EQ(check_with(builder.history(), {.linearizable = true}).verdict, Verdict::invalid);
}

// T1 on process 0 writes x=1 and completes before T2 on process 1 writes x=2
// (and y=1); T3 on process 2 reads x=1 and y=1. Only real-time order relates
// T1 and T2 (different processes): linearizable keys order 1 before 2.
TEST(ElleVersionSources, LinearizableKeysOrdersTxnsInRealTime) {
  HistoryBuilder builder;
  const json t1 = json::parse(R"([["w","x",1]])"), t2 = json::parse(R"([["w","x",2],["w","y",1]])"),
             t3 = json::parse(R"([["r","x",1],["r","y",1]])");
  invoke_txn(builder, 2, t3);
  whole_txn(builder, 0, t1);
  whole_txn(builder, 1, t2);
  complete_txn(builder, 2, t3);
  ElleResult with = check_with(builder.history(), {.linearizable = true});
  EXPECT_EQ(with.verdict, Verdict::invalid) << describe(with);
  EXPECT_EQ(anomaly_types(with), std::set<std::string>{"G-single"}) << describe(with);
  EXPECT_NE(all_explanations(with).find("completed (op 2) before op 3 (process 1) began (linearizable-keys)"),
            std::string::npos)
      << all_explanations(with);
  ElleResult without = check_with(builder.history(), {.wfr = true, .sequential = true});
  EXPECT_EQ(without.verdict, Verdict::valid) << describe(without);
}

// Only the nearest real-time successors touching the key are related: with
// T1 < T2 < T3 in real time writing x = 1, 2, 3, the versions are 1 < 2 < 3
// and no ww edge skips T2 (Elle's downstream search stops at the first txn
// on the key); T4 reads another key.
TEST(ElleVersionSources, LinearizableKeysRelateOnlyTheNextTxnsOnTheKey) {
  HistoryBuilder builder;
  whole_txn(builder, 0, json::parse(R"([["w","x",1]])"));
  whole_txn(builder, 1, json::parse(R"([["w","x",2]])"));
  whole_txn(builder, 2, json::parse(R"([["w","x",3]])"));
  whole_txn(builder, 3, json::parse(R"([["r","y",null]])"));
  ElleResult result = check_with(builder.history(), {.linearizable = true});
  EXPECT_EQ(result.verdict, Verdict::valid) << describe(result);
  EXPECT_EQ(result.edges, 2u) << "ww 1->2 and 2->3 only: " << describe(result);
}

// A real G0 the version order needs two sources for: processes 2 and 3 saw x
// and y go 1 -> 2 (sequential keys), while T1 wrote x=1, y=2 and T2 x=2, y=1.
TEST(ElleVersionSources, SequentialKeysFindAWriteCycle) {
  HistoryBuilder builder;
  whole_txn(builder, 0, json::parse(R"([["w","x",1],["w","y",2]])"));
  whole_txn(builder, 1, json::parse(R"([["w","x",2],["w","y",1]])"));
  whole_txn(builder, 2, json::parse(R"([["r","x",1]])"));
  whole_txn(builder, 2, json::parse(R"([["r","x",2]])"));
  whole_txn(builder, 3, json::parse(R"([["r","y",1]])"));
  whole_txn(builder, 3, json::parse(R"([["r","y",2]])"));
  ElleResult with = check_with(builder.history(), {.sequential = true}, ConsistencyModel::read_uncommitted);
  EXPECT_EQ(with.verdict, Verdict::invalid) << describe(with);
  EXPECT_TRUE(anomaly_types(with).contains("G0")) << describe(with);
  EXPECT_EQ(check_with(builder.history(), {.wfr = true}, ConsistencyModel::read_uncommitted).verdict, Verdict::valid);
}

// A process that read x=1 and later reads x=nil: sequential keys would need
// 1 < nil, while nil precedes every version: cyclic-versions, the source unused.
TEST(ElleVersionSources, AnOrderAgainstTheInitialStateIsCyclicVersions) {
  HistoryBuilder builder;
  whole_txn(builder, 0, json::parse(R"([["w","x",1]])"));
  whole_txn(builder, 1, json::parse(R"([["r","x",1]])"));
  whole_txn(builder, 1, json::parse(R"([["r","x",null]])"));
  ElleResult result = check_with(builder.history(), {.sequential = true}, ConsistencyModel::read_uncommitted);
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
  EXPECT_TRUE(anomaly_types(result).contains("cyclic-versions")) << describe(result);
  EXPECT_NE(describe(result).find("key x would need nil < 1 < nil"), std::string::npos) << describe(result);
  EXPECT_NE(describe(result).find("so sequential-keys is not used"), std::string::npos) << describe(result);
}

// Each txn read the other's write of x and overwrote it: writes-follow-reads
// orders 2 < 1 and 1 < 2. Elle reports cyclic-versions and leaves wfr-keys
// out; the two wr edges are still a G1c.
TEST(ElleVersionSources, CyclicWfrOrdersAreCyclicVersionsAndTheSourceIsLeftOut) {
  HistoryBuilder builder;
  whole_txn(builder, 0, json::parse(R"([["r","x",2],["w","x",1]])"));
  whole_txn(builder, 1, json::parse(R"([["r","x",1],["w","x",2]])"));
  ElleResult with = check_with(builder.history(), {.wfr = true}, ConsistencyModel::read_uncommitted);
  EXPECT_EQ(with.verdict, Verdict::invalid) << describe(with);
  EXPECT_EQ(anomaly_types(with), (std::set<std::string>{"G1c", "cyclic-versions"})) << describe(with);
  ElleResult without = check_with(builder.history(), {}, ConsistencyModel::read_uncommitted);
  EXPECT_EQ(without.verdict, Verdict::valid) << "G1c alone is allowed by read-uncommitted: " << describe(without);
  EXPECT_EQ(anomaly_types(without), std::set<std::string>{"G1c"});
}

}  // namespace
}  // namespace chaosbench::checkers
