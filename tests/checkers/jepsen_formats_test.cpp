// Histories as Jepsen, Elle and elle-cli store them (fixtures in
// tests/data/jepsen, written in those tools' shapes): Jepsen's JSON as an
// array (one object per line or pretty-printed) and one object per line, ops
// without "f" (the value is the txn), EDN without :f, :index / :error / :node
// kept, a Jepsen store directory; each read by --format auto and judged.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/history_io.h"

namespace chaosbench::checkers {
namespace {

const std::string kJepsenData = std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/jepsen/";

std::set<std::string> types(const ElleResult& result) {
  std::set<std::string> names;
  for (const auto& [type, count] : result.anomaly_counts) names.insert(type);
  return names;
}

ElleResult check(const History& history, ConsistencyModel model) {
  ElleOptions options;
  options.model = model;
  return check_list_append(history, options);
}

std::string parse_error(std::string_view text, HistoryFormat format) {
  try {
    parse_history(text, format, "h.json");
  } catch (const HistoryError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(JepsenJson, ElleCliArrayWithoutFIsReadAndJudged) {
  HistoryFormat detected = HistoryFormat::automatic;
  History history = read_history_file(kJepsenData + "long-fork.json", HistoryFormat::automatic, &detected);
  EXPECT_EQ(detected, HistoryFormat::json);
  ASSERT_EQ(history.size(), 8u);
  EXPECT_EQ(history.function_name(history.operations[0]), "txn");
  EXPECT_EQ(history.operations[1].type, OpType::ok);
  // elle-cli's indices start at 1 here: kept, not rejected.
  ASSERT_EQ(history.file_index.size(), 8u);
  EXPECT_EQ(history.file_index[0], 1);
  EXPECT_EQ(history.file_index[7], 8);
  ElleResult snapshot = check(history, ConsistencyModel::snapshot_isolation);
  EXPECT_EQ(snapshot.verdict, Verdict::invalid) << describe(snapshot);
  EXPECT_EQ(types(snapshot), std::set<std::string>{"G-nonadjacent"});
  EXPECT_NE(snapshot.anomalies[0].explanation.find("(:index "), std::string::npos) << snapshot.anomalies[0].explanation;
}

TEST(JepsenJson, PrettyPrintedArrayKeepsNodeErrorAndIntegerKeys) {
  History history = read_history_file(kJepsenData + "list-append-pretty.json");
  ASSERT_EQ(history.size(), 6u);
  EXPECT_TRUE(history.file_index.empty());  // 0..5: the positions
  EXPECT_EQ(history.operations[1].time, 2000);
  EXPECT_EQ(history.nodes.name(history.operations[3].node), "n2");
  ASSERT_NE(history.error(5), nullptr);
  EXPECT_EQ(*history.error(5), R"(["timeout", "connection reset"])");
  EXPECT_EQ(history.operations[5].type, OpType::info);
  // T0 read key 6 = [] and T1 read key 5 = [1]: T0 -> T1 only, serializable.
  ElleResult result = check(history, ConsistencyModel::strict_serializable);
  EXPECT_EQ(result.verdict, Verdict::valid) << describe(result);
  EXPECT_EQ(result.transactions, 3u);  // the info txn is in the graph
}

TEST(JepsenJson, OneObjectPerLineWithoutF) {
  HistoryFormat detected = HistoryFormat::automatic;
  History history = read_history_file(kJepsenData + "g2-item.jsonl", HistoryFormat::automatic, &detected);
  EXPECT_EQ(detected, HistoryFormat::jsonl);
  ASSERT_EQ(history.size(), 4u);
  ElleResult serializable = check(history, ConsistencyModel::serializable);
  EXPECT_EQ(types(serializable), std::set<std::string>{"G2-item"}) << describe(serializable);
  EXPECT_EQ(check(history, ConsistencyModel::snapshot_isolation).verdict, Verdict::valid);
  // The same lines read as Jepsen's JSON.
  History again = parse_history(R"({"index":7,"process":0,"type":"invoke","value":[["append",1,1]]})"
                                "\n"
                                R"({"index":9,"process":0,"type":"ok","value":[["append",1,1]]})",
                                HistoryFormat::json, "h.json");
  ASSERT_EQ(again.file_index, (std::vector<std::int64_t>{7, 9}));
}

TEST(JepsenJson, DetectionTellsJsonArraysFromEdnVectors) {
  EXPECT_EQ(detect_history_format(R"([{"type":"ok"}])"), HistoryFormat::json);
  EXPECT_EQ(detect_history_format("[\n  {\n    \"index\": 0"), HistoryFormat::json);
  EXPECT_EQ(detect_history_format("[{:type :ok}]"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("[ {:type :ok}]"), HistoryFormat::edn);
  EXPECT_EQ(detect_history_format("[]"), HistoryFormat::edn);
  EXPECT_EQ(parse_history_format("json"), HistoryFormat::json);
  EXPECT_EQ(to_string(HistoryFormat::json), "json");
  // The case the issue measured: EDN's reader on JSON said "keyword without a name".
  History history = parse_history(R"([{"type":"invoke","f":"txn","value":[["r","x",null]],"process":0}])",
                                  HistoryFormat::automatic, "h.json");
  EXPECT_EQ(history.size(), 1u);
}

TEST(JepsenJson, BadInputNamesFileLineAndField) {
  EXPECT_NE(parse_error("[{\"type\":\"invoke\",\"process\":0,\"value\":[[\"r\",1,null]]}\n {\"type\":\"ok\"}",
                        HistoryFormat::json)
                .find("h.json:2: expected ',' or ']' between operations"),
            std::string::npos);
  EXPECT_NE(parse_error("[{\"type\":\"invoke\",\"process\":0,\n \"value\":[[\"r\",1,null]]}", HistoryFormat::json)
                .find("h.json:1: unterminated JSON array"),
            std::string::npos);
  std::string bad_type =
      parse_error("[\n{\"type\":\"invoke\",\"process\":0,\"f\":\"txn\"},\n{\"process\":0,\n \"type\":\"done\"}]",
                  HistoryFormat::json);
  EXPECT_NE(bad_type.find("h.json:4: field 'type': unknown op type \"done\""), std::string::npos) << bad_type;
  // No "f" and a value that is not a txn: "f" is missing.
  EXPECT_NE(parse_error(R"([{"type":"invoke","process":0,"value":3}])", HistoryFormat::json)
                .find("h.json:1: field 'f': missing"),
            std::string::npos);
  EXPECT_NE(parse_error("[{\"type\":\"invoke\",\"process\":0,\"f\":\"txn\"}] x", HistoryFormat::json)
                .find("h.json:1: unexpected text after the JSON array"),
            std::string::npos);
  // chaosbench's own JSONL still insists on index = position, and says where Jepsen's goes.
  std::string jsonl = parse_error(R"({"index":1,"type":"invoke","process":0,"f":"txn"})", HistoryFormat::jsonl);
  EXPECT_NE(jsonl.find("--format json"), std::string::npos) << jsonl;
}

TEST(JepsenEdn, ElleHistoryWithoutFKeepsIndexAndError) {
  HistoryFormat detected = HistoryFormat::automatic;
  History history = read_history_file(kJepsenData + "elle-no-f.edn", HistoryFormat::automatic, &detected);
  EXPECT_EQ(detected, HistoryFormat::edn);
  ASSERT_EQ(history.size(), 10u);
  for (const Operation& op : history.operations) EXPECT_EQ(history.function_name(op), "txn");
  ASSERT_EQ(history.file_index.size(), 10u);
  EXPECT_EQ(history.file_index[9], 10);
  ASSERT_NE(history.error(8), nullptr);
  EXPECT_EQ(*history.error(8), "timed-out");
  // Process 0 read keys 2 and 3 empty, so it precedes process 1's first txn,
  // which read key 4 = [2] without process 0's append of 0: write skew.
  ElleResult serializable = check(history, ConsistencyModel::serializable);
  EXPECT_EQ(types(serializable), std::set<std::string>{"G2-item"}) << describe(serializable);
  EXPECT_EQ(check(history, ConsistencyModel::snapshot_isolation).verdict, Verdict::valid);
  // An op map with neither :f nor a txn value is still an error.
  EXPECT_NE(
      parse_error("{:type :invoke, :process 0, :value 3}", HistoryFormat::edn).find("h.json:1: field 'f': missing"),
      std::string::npos);
}

TEST(JepsenStore, DirectoryAndLatestLinkFindHistoryEdn) {
  for (const char* path : {"store/long-fork/latest", "store/long-fork/20261206T231500.000Z"}) {
    HistoryFormat detected = HistoryFormat::automatic;
    History history = read_history_file(kJepsenData + path, HistoryFormat::automatic, &detected);
    EXPECT_EQ(detected, HistoryFormat::edn) << path;
    ASSERT_EQ(history.size(), 9u) << path;
    EXPECT_EQ(history.operations[8].process, kNemesisProcess);
    ElleResult snapshot = check(history, ConsistencyModel::snapshot_isolation);
    EXPECT_EQ(snapshot.verdict, Verdict::invalid) << path << ": " << describe(snapshot);
    EXPECT_EQ(types(snapshot), std::set<std::string>{"G-nonadjacent"});
    // Real time is consistent with the reads: only the long fork rules out strict-serializable.
    ElleResult strict = check(history, ConsistencyModel::strict_serializable);
    EXPECT_EQ(types(strict), std::set<std::string>{"G-nonadjacent"}) << describe(strict);
  }
  try {
    read_history_file(kJepsenData + "store");
    FAIL() << "expected HistoryError";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find("store: a directory with no history.jsonl, history.edn or history.json"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace chaosbench::checkers
