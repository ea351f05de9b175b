// Elle's consistency-model table (anomalies-prohibited-by, boundary) and the
// cycle classes it depends on: G-nonadjacent (a long fork is not snapshot
// isolation), G2-item when two rw edges meet only across the wrap-around,
// and the -process variants of snapshot isolation.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "chaosbench/checkers/elle.h"
#include "history_builder.h"

namespace chaosbench::checkers {
namespace {

using nlohmann::json;
using testing::HistoryBuilder;

void txn(HistoryBuilder& builder, std::int64_t process, const json& result, OpType outcome = OpType::ok) {
  json invocation = json::array();
  for (const json& mop : result) {
    invocation.push_back(mop[0] == "r" ? json::array({"r", mop[1], nullptr}) : mop);
  }
  builder.invoke(process, "txn", invocation);
  builder.add(outcome, process, "txn", outcome == OpType::ok ? result : invocation, {});
}

std::set<std::string> types(const ElleResult& result) {
  std::set<std::string> names;
  for (const auto& [type, count] : result.anomaly_counts) names.insert(type);
  return names;
}

ElleResult check(const History& history, ConsistencyModel model, TxnWorkload workload = TxnWorkload::list_append) {
  ElleOptions options;
  options.model = model;
  return check_transactions(history, workload, options);
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(ElleModels, ProhibitedAnomaliesFollowElleTable) {
  using M = ConsistencyModel;
  // read-uncommitted (PL-1): only write cycles and the "no Adya history" anomalies.
  for (const char* name : {"G0", "duplicate-elements", "cyclic-versions"})
    EXPECT_TRUE(model_forbids(M::read_uncommitted, name)) << name;
  for (const char* name : {"G1a", "G1c", "internal", "G0-process"})
    EXPECT_FALSE(model_forbids(M::read_uncommitted, name)) << name;
  // read-committed (PL-2): G1 and what implies it.
  for (const char* name : {"G0", "G1a", "G1b", "G1c", "incompatible-order", "dirty-update", "future-read"})
    EXPECT_TRUE(model_forbids(M::read_committed, name)) << name;
  for (const char* name : {"G-single", "internal", "lost-update", "G2-item"})
    EXPECT_FALSE(model_forbids(M::read_committed, name)) << name;
  // snapshot isolation: G-single and G-nonadjacent, lost update, internal; not write skew.
  for (const char* name : {"G1c", "G-single", "G-nonadjacent", "lost-update", "internal", "G-single-item"})
    EXPECT_TRUE(model_forbids(M::snapshot_isolation, name)) << name;
  for (const char* name : {"G2-item", "G2", "G-single-process", "G-nonadjacent-realtime"})
    EXPECT_FALSE(model_forbids(M::snapshot_isolation, name)) << name;
  // repeatable-read (PL-2.99): G2-item and lost update, but (as in Elle) not G-single.
  for (const char* name : {"G2-item", "lost-update", "G1b"}) EXPECT_TRUE(model_forbids(M::repeatable_read, name));
  for (const char* name : {"G-single", "G-nonadjacent", "internal"})
    EXPECT_FALSE(model_forbids(M::repeatable_read, name)) << name;
  // serializable: every data cycle.
  for (const char* name : {"G2-item", "G-nonadjacent", "G2", "G-single", "internal", "lost-update"})
    EXPECT_TRUE(model_forbids(M::serializable, name)) << name;
  EXPECT_FALSE(model_forbids(M::serializable, "G-single-process"));
  // Session and strong variants.
  EXPECT_TRUE(model_forbids(M::strong_session_snapshot_isolation, "G-nonadjacent-process"));
  EXPECT_TRUE(model_forbids(M::strong_session_snapshot_isolation, "G-single-process"));
  EXPECT_FALSE(model_forbids(M::strong_session_snapshot_isolation, "G2-item-process"));
  EXPECT_FALSE(model_forbids(M::strong_session_snapshot_isolation, "G-single-realtime"));
  EXPECT_TRUE(model_forbids(M::strong_snapshot_isolation, "G-single-realtime"));
  EXPECT_TRUE(model_forbids(M::strong_session_serializable, "G2-item-process"));
  EXPECT_FALSE(model_forbids(M::strong_session_serializable, "G2-item-realtime"));
  EXPECT_TRUE(model_forbids(M::strong_session_read_committed, "G1c-process"));
  EXPECT_FALSE(model_forbids(M::strong_session_read_committed, "G-single-process"));
  for (const char* name : {"G0-realtime", "G1c-realtime", "G-single-process", "G2-item-realtime", "G-nonadjacent"})
    EXPECT_TRUE(model_forbids(M::strict_serializable, name)) << name;
  // Edges inferred only where some anomaly needs them.
  EXPECT_FALSE(model_needs_process_edges(M::snapshot_isolation));
  EXPECT_TRUE(model_needs_process_edges(M::strong_session_snapshot_isolation));
  EXPECT_FALSE(model_needs_realtime_edges(M::strong_session_serializable));
  EXPECT_TRUE(model_needs_realtime_edges(M::strict_serializable));
  EXPECT_TRUE(model_needs_realtime_edges(M::strong_read_committed));
}

TEST(ElleModels, EveryModelNameRoundTripsAndElleSynonymsParse) {
  for (ConsistencyModel model : all_consistency_models()) {
    EXPECT_EQ(parse_consistency_model(to_string(model)), model) << to_string(model);
    EXPECT_FALSE(forbidden_anomalies(model).empty()) << to_string(model);
  }
  EXPECT_EQ(parse_consistency_model("PL-SI"), ConsistencyModel::snapshot_isolation);
  EXPECT_EQ(parse_consistency_model("PL-2.99"), ConsistencyModel::repeatable_read);
  EXPECT_EQ(parse_consistency_model("strong-serializable"), ConsistencyModel::strict_serializable);
  EXPECT_EQ(parse_consistency_model("conflict-serializable"), ConsistencyModel::serializable);
  EXPECT_FALSE(parse_consistency_model("snapshot"));
}

TEST(ElleModels, BoundaryNamesTheWeakestModelsRuledOut) {
  ModelBoundary g1c = models_ruled_out_by({"G1c"});
  EXPECT_EQ(g1c.not_models, std::vector<std::string>{"read-committed"});
  EXPECT_TRUE(contains(g1c.also_not, "serializable"));
  EXPECT_TRUE(contains(g1c.also_not, "snapshot-isolation"));
  EXPECT_FALSE(contains(g1c.also_not, "read-uncommitted"));

  ModelBoundary nonadjacent = models_ruled_out_by({"G-nonadjacent"});
  EXPECT_EQ(nonadjacent.not_models, std::vector<std::string>{"snapshot-isolation"});
  for (const char* name : {"serializable", "strict-serializable", "strong-session-snapshot-isolation"})
    EXPECT_TRUE(contains(nonadjacent.also_not, name)) << name;
  EXPECT_FALSE(contains(nonadjacent.also_not, "repeatable-read"));

  ModelBoundary write_skew = models_ruled_out_by({"G2-item"});
  EXPECT_EQ(write_skew.not_models, std::vector<std::string>{"repeatable-read"});
  EXPECT_TRUE(contains(write_skew.also_not, "serializable"));
  EXPECT_FALSE(contains(write_skew.also_not, "snapshot-isolation"));

  ModelBoundary stale = models_ruled_out_by({"G-single-realtime"});
  EXPECT_EQ(stale.not_models, std::vector<std::string>{"strong-snapshot-isolation"});
  EXPECT_EQ(stale.also_not, std::vector<std::string>{"strict-serializable"});

  EXPECT_TRUE(models_ruled_out_by({}).not_models.empty());
}

// The issue's long fork: T1 reads y=[1] and x=[]; T3 reads x=[1] and y=[];
// T2 appends 1 to x; T4 appends 1 to y. T1 -rw-> T2 -wr-> T3 -rw-> T4 -wr-> T1:
// two rw edges, not adjacent. Snapshot isolation forbids it (Elle: G-nonadjacent).
History long_fork() {
  HistoryBuilder builder;
  txn(builder, 1, json::parse(R"([["r","y",[1]],["r","x",[]]])"));
  txn(builder, 2, json::parse(R"([["append","x",1]])"));
  txn(builder, 3, json::parse(R"([["r","x",[1]],["r","y",[]]])"));
  txn(builder, 4, json::parse(R"([["append","y",1]])"));
  return builder.take();
}

TEST(ElleNonadjacent, LongForkIsNotSnapshotIsolation) {
  History history = long_fork();
  ElleResult snapshot = check(history, ConsistencyModel::snapshot_isolation);
  EXPECT_EQ(snapshot.verdict, Verdict::invalid) << describe(snapshot);
  EXPECT_EQ(types(snapshot), std::set<std::string>{"G-nonadjacent"});
  ASSERT_EQ(snapshot.anomalies.size(), 1u);
  const Anomaly& anomaly = snapshot.anomalies[0];
  ASSERT_EQ(anomaly.cycle.size(), 4u);
  // rw and wr alternate round the cycle.
  for (std::size_t index = 0; index < 4; ++index) {
    EXPECT_NE(anomaly.cycle[index].kind == "rw", anomaly.cycle[(index + 1) % 4].kind == "rw") << index;
    EXPECT_EQ(anomaly.cycle[index].to, anomaly.cycle[(index + 1) % 4].from);
  }
  EXPECT_NE(anomaly.explanation.find("no two of them adjacent"), std::string::npos) << anomaly.explanation;
  EXPECT_EQ(snapshot.models_not, std::vector<std::string>{"snapshot-isolation"});
  EXPECT_NE(describe(snapshot).find("ruled out: snapshot-isolation; also not "), std::string::npos)
      << describe(snapshot);

  EXPECT_EQ(check(history, ConsistencyModel::serializable).verdict, Verdict::invalid);
  ElleResult committed = check(history, ConsistencyModel::read_committed);
  EXPECT_EQ(committed.verdict, Verdict::valid) << describe(committed);
  EXPECT_EQ(types(committed), std::set<std::string>{"G-nonadjacent"});  // found, and allowed
  EXPECT_FALSE(committed.anomalies[0].forbidden);
  // Repeatable read (PL-2.99) proscribes G2-item, which a G-nonadjacent is not.
  EXPECT_EQ(check(history, ConsistencyModel::repeatable_read).verdict, Verdict::valid);
}

TEST(ElleNonadjacent, LongForkOnRwRegisters) {
  HistoryBuilder builder;
  txn(builder, 1, json::parse(R"([["r","y",1],["r","x",null]])"));
  txn(builder, 2, json::parse(R"([["w","x",1]])"));
  txn(builder, 3, json::parse(R"([["r","x",1],["r","y",null]])"));
  txn(builder, 4, json::parse(R"([["w","y",1]])"));
  ElleResult snapshot = check(builder.history(), ConsistencyModel::snapshot_isolation, TxnWorkload::rw_register);
  EXPECT_EQ(snapshot.verdict, Verdict::invalid) << describe(snapshot);
  EXPECT_EQ(types(snapshot), std::set<std::string>{"G-nonadjacent"});
}

// T1 -rw-> T2 -wr-> T3 -rw-> T1: the two rw edges meet across the wrap-around,
// so this is G2-item (write skew shape), which snapshot isolation allows. Every
// key has a single append, so its version order is trivial and reads of []
// come before it.
TEST(ElleNonadjacent, RwEdgesAdjacentAcrossTheWrapAreG2Item) {
  HistoryBuilder builder;
  txn(builder, 1, json::parse(R"([["r","x",[]],["append","z",1]])"));
  txn(builder, 2, json::parse(R"([["append","x",1],["append","y",1]])"));
  txn(builder, 3, json::parse(R"([["r","y",[1]],["r","z",[]]])"));
  ElleResult serializable = check(builder.history(), ConsistencyModel::serializable);
  EXPECT_EQ(serializable.verdict, Verdict::invalid);
  EXPECT_EQ(types(serializable), std::set<std::string>{"G2-item"}) << describe(serializable);
  ElleResult snapshot = check(builder.history(), ConsistencyModel::snapshot_isolation);
  EXPECT_EQ(snapshot.verdict, Verdict::valid) << describe(snapshot);
  EXPECT_EQ(snapshot.models_not, std::vector<std::string>{"repeatable-read"});
}

// A serializable history with a read-only txn between two writers: no cycle.
TEST(ElleNonadjacent, SerializableHistoriesStayValidUnderEveryModel) {
  HistoryBuilder builder;
  txn(builder, 1, json::parse(R"([["append","x",1],["append","y",1]])"));
  txn(builder, 2, json::parse(R"([["r","x",[1]],["r","y",[1]]])"));
  txn(builder, 3, json::parse(R"([["r","x",[1]],["append","y",2]])"));
  txn(builder, 4, json::parse(R"([["r","y",[1,2]],["r","x",[1]]])"));
  for (ConsistencyModel model : all_consistency_models()) {
    ElleResult result = check(builder.history(), model);
    EXPECT_EQ(result.verdict, Verdict::valid) << to_string(model) << ": " << describe(result);
    EXPECT_TRUE(result.anomalies.empty()) << to_string(model);
  }
}

// Strong session SI: a process that fails to see its own earlier write, where the
// cycle needs the process edge (G-single-process); plain SI allows it.
TEST(ElleNonadjacent, StrongSessionSnapshotIsolationUsesProcessEdges) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1]])"));
  txn(builder, 0, json::parse(R"([["r","x",[]]])"));
  txn(builder, 2, json::parse(R"([["r","x",[1]]])"));
  EXPECT_EQ(check(builder.history(), ConsistencyModel::snapshot_isolation).verdict, Verdict::valid);
  ElleResult session = check(builder.history(), ConsistencyModel::strong_session_snapshot_isolation);
  EXPECT_EQ(session.verdict, Verdict::invalid) << describe(session);
  EXPECT_EQ(types(session), std::set<std::string>{"G-single-process"});
}

// ---------------------------------------------------------------------------
// Version orders as Elle infers them for list-append.

// A committed read of nil is the empty list (what the reference nodes answer
// for a key never written): it precedes the first append. T1 saw y's append
// but read x as nil, before T0's append of x: read skew.
TEST(ElleVersionOrder, NilReadPrecedesTheFirstAppend) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1],["append","y",1]])"));
  txn(builder, 1, json::parse(R"([["r","x",null],["r","y",[1]]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::serializable);
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
  EXPECT_EQ(types(result), std::set<std::string>{"G-single"});
  // An info txn's nil read still says nothing.
  HistoryBuilder unknown;
  txn(unknown, 0, json::parse(R"([["append","x",1],["append","y",1]])"));
  txn(unknown, 1, json::parse(R"([["r","x",null],["r","y",null]])"), OpType::info);
  txn(unknown, 2, json::parse(R"([["r","x",[1]]])"));
  EXPECT_EQ(check(unknown.history(), ConsistencyModel::serializable).verdict, Verdict::valid);
}

// x's order as read is [1]; T2's append of 2 was never read, so it came after
// 1 (T0 -ww-> T2), and T2's append of y was read by T0: G1c through the
// inferred ww edge.
TEST(ElleVersionOrder, UnreadCommittedAppendsComeAfterTheLongestRead) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1],["r","y",[1]]])"));
  txn(builder, 1, json::parse(R"([["r","x",[1]]])"));
  txn(builder, 2, json::parse(R"([["append","x",2],["append","y",1]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::read_committed);
  EXPECT_EQ(result.verdict, Verdict::invalid) << describe(result);
  EXPECT_EQ(types(result), std::set<std::string>{"G1c"});
  ASSERT_EQ(result.anomalies.size(), 1u);
  std::multiset<std::string> kinds;
  for (const CycleStep& step : result.anomalies[0].cycle) kinds.insert(step.kind);
  EXPECT_EQ(kinds, (std::multiset<std::string>{"ww", "wr"}));
  // A failed txn's append is not committed: no inference from it.
  HistoryBuilder failed;
  txn(failed, 0, json::parse(R"([["append","x",1],["r","y",[]]])"));
  txn(failed, 1, json::parse(R"([["r","x",[1]]])"));
  txn(failed, 2, json::parse(R"([["append","x",2],["append","y",1]])"), OpType::fail);
  EXPECT_EQ(check(failed.history(), ConsistencyModel::strict_serializable).verdict, Verdict::valid);
}

// A key with a single append has a trivial order: a read of [] came before
// it, a read of [1] after. T0 read x empty before T1's only append; T1 read y
// empty before T0's only append: write skew, G2-item, with no read of either
// appended value at all.
TEST(ElleVersionOrder, SingleAppendKeysHaveATrivialOrder) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["r","x",[]],["append","y",1]])"));
  txn(builder, 1, json::parse(R"([["r","y",[]],["append","x",1]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::serializable);
  EXPECT_EQ(types(result), std::set<std::string>{"G2-item"}) << describe(result);
  EXPECT_EQ(check(builder.history(), ConsistencyModel::snapshot_isolation).verdict, Verdict::valid);
}

// Elle's dirty update: an append that did not fail came after a failed txn's
// append in the version order. Read committed prohibits it (it implies G1a).
TEST(ElleVersionOrder, AppendAfterAnAbortedAppendIsADirtyUpdate) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1]])"), OpType::fail);
  txn(builder, 1, json::parse(R"([["append","x",2]])"));
  txn(builder, 2, json::parse(R"([["r","x",[1,2]]])"));
  ElleResult committed = check(builder.history(), ConsistencyModel::read_committed);
  EXPECT_EQ(committed.verdict, Verdict::invalid);
  EXPECT_EQ(types(committed), (std::set<std::string>{"G1a", "dirty-update"})) << describe(committed);
  auto dirty = std::find_if(committed.anomalies.begin(), committed.anomalies.end(),
                            [](const Anomaly& anomaly) { return anomaly.type == "dirty-update"; });
  ASSERT_NE(dirty, committed.anomalies.end());
  EXPECT_EQ(dirty->operations, (std::vector<std::uint32_t>{4, 0, 2}));
  EXPECT_EQ(check(builder.history(), ConsistencyModel::read_uncommitted).verdict, Verdict::valid);
  // The aborted element last: an aborted read (G1a), no dirty update.
  HistoryBuilder last;
  txn(last, 1, json::parse(R"([["append","x",2]])"));
  txn(last, 0, json::parse(R"([["append","x",1]])"), OpType::fail);
  txn(last, 2, json::parse(R"([["r","x",[2,1]]])"));
  EXPECT_EQ(types(check(last.history(), ConsistencyModel::read_committed)), std::set<std::string>{"G1a"});
}

}  // namespace
}  // namespace chaosbench::checkers
