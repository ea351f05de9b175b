// Elle-style txn checker: simulated serializable histories are valid; each
// anomaly injected by hand is found and named exactly; small random histories
// agree with a brute-force serializability oracle; EDN import.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/history_io.h"
#include "history_builder.h"
#include "list_append_simulation.h"

namespace chaosbench::checkers {
namespace {

using nlohmann::json;
using testing::HistoryBuilder;

// One txn as invoke + completion; `result` is the completed value (reads filled).
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

ElleResult check(const History& history, ConsistencyModel model = ConsistencyModel::serializable,
                 TxnWorkload workload = TxnWorkload::list_append) {
  ElleOptions options;
  options.model = model;
  return check_transactions(history, workload, options);
}

TEST(ElleListAppend, SimulatedSerializableHistoriesAreValid) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    testing::ListAppendSimulationOptions simulation;
    simulation.seed = seed;
    simulation.transactions = 2000;
    simulation.processes = 5;
    simulation.active_keys = 2 + static_cast<int>(seed % 3);
    History history = testing::simulate_list_append_history(simulation);
    ElleResult result = check(history, ConsistencyModel::strict_serializable);
    EXPECT_EQ(result.verdict, Verdict::valid) << "seed " << seed << ": " << describe(result);
    EXPECT_GT(result.edges, 0u);
  }
}

// Injects a read-skew txn into a large valid simulated history: it reads key A
// up to and including W's append but key B just before W's append, where W is
// an ok txn that appended once to each. Exactly one G-single must come out.
TEST(ElleListAppend, GSingleInjectedIntoLargeSimulatedHistory) {
  testing::ListAppendSimulationOptions simulation;
  simulation.seed = 99;
  simulation.transactions = 20000;
  simulation.active_keys = 5;
  History history = testing::simulate_list_append_history(simulation);
  // Version orders: the longest ok read of each key.
  std::map<int, std::vector<std::int64_t>> longest;
  std::vector<OperationPair> pairs = pair_operations(history);
  for (const OperationPair& pair : pairs) {
    if (pair.outcome != OpType::ok) continue;
    for (const json& mop : history.values.to_json(history.operations[pair.completion].value)) {
      if (mop[0] != "r") continue;
      auto list = mop[2].get<std::vector<std::int64_t>>();
      auto& best = longest[mop[1].get<int>()];
      if (list.size() > best.size()) best = list;
    }
  }
  auto position = [&](int key, std::int64_t element) -> std::ptrdiff_t {
    const auto& order = longest[key];
    auto found = std::find(order.begin(), order.end(), element);
    return found == order.end() ? -1 : found - order.begin();
  };
  json skewed;
  std::uint32_t writer_invocation = 0;
  for (const OperationPair& pair : pairs) {
    if (pair.outcome != OpType::ok) continue;
    json value = history.values.to_json(history.operations[pair.completion].value);
    std::vector<std::pair<int, std::int64_t>> appends;
    std::set<int> keys;
    bool single_per_key = true;
    for (const json& mop : value) {
      if (mop[0] != "append") continue;
      single_per_key &= keys.insert(mop[1].get<int>()).second;
      appends.emplace_back(mop[1].get<int>(), mop[2].get<std::int64_t>());
    }
    if (!single_per_key || appends.size() < 2) continue;
    auto [key_a, element_a] = appends[0];
    auto [key_b, element_b] = appends[1];
    std::ptrdiff_t at_a = position(key_a, element_a), at_b = position(key_b, element_b);
    if (at_a < 0 || at_b < 0) continue;
    std::vector<std::int64_t> read_a(longest[key_a].begin(), longest[key_a].begin() + at_a + 1);
    std::vector<std::int64_t> read_b(longest[key_b].begin(), longest[key_b].begin() + at_b);
    skewed = json::array({json::array({"r", key_a, read_a}), json::array({"r", key_b, read_b})});
    writer_invocation = pair.invocation;
    break;
  }
  ASSERT_FALSE(skewed.is_null()) << "no ok txn appending to two keys";
  auto inject = [&](History& target) {
    for (OpType type : {OpType::invoke, OpType::ok}) {
      Operation op;
      op.type = type;
      op.process = 100000;
      op.function = target.functions.intern("txn");
      op.value = target.values.intern_json(type == OpType::ok ? skewed : json::array());
      op.time = target.operations.back().time + 1;
      target.operations.push_back(op);
    }
  };
  ASSERT_EQ(check(history).verdict, Verdict::valid);
  auto injected_at = static_cast<std::uint32_t>(history.size());
  inject(history);
  ElleResult result = check(history, ConsistencyModel::serializable);
  EXPECT_EQ(types(result), std::set<std::string>{"G-single"}) << describe(result);
  ASSERT_EQ(result.anomalies.size(), 1u);
  std::vector<std::uint32_t> involved = result.anomalies[0].operations;
  std::sort(involved.begin(), involved.end());
  EXPECT_EQ(involved, (std::vector<std::uint32_t>{writer_invocation, injected_at}));
}

TEST(ElleListAppend, G0WriteCycle) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1],["append","y",1]])"));
  txn(builder, 1, json::parse(R"([["append","x",2],["append","y",2]])"));
  txn(builder, 2, json::parse(R"([["r","x",[1,2]],["r","y",[2,1]]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::read_uncommitted);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(types(result), std::set<std::string>{"G0"});
  ASSERT_EQ(result.anomalies.size(), 1u);
  ASSERT_EQ(result.anomalies[0].cycle.size(), 2u);
  EXPECT_EQ(result.anomalies[0].cycle[0].kind, "ww");
  EXPECT_EQ(result.anomalies[0].cycle[1].kind, "ww");
  EXPECT_NE(result.anomalies[0].explanation.find("appended"), std::string::npos) << result.anomalies[0].explanation;
}

TEST(ElleListAppend, G1aAbortedRead) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1]])"), OpType::fail);
  txn(builder, 1, json::parse(R"([["r","x",[1]]])"));
  txn(builder, 2, json::parse(R"([["append","y",1]])"));  // a committed write: something to judge
  ElleResult result = check(builder.history(), ConsistencyModel::read_committed);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(types(result), std::set<std::string>{"G1a"});
  EXPECT_EQ(result.anomalies[0].operations, (std::vector<std::uint32_t>{2, 0}));
  // read-uncommitted allows it; then no dependency links two txns: nothing to
  // judge (Elle's empty transaction graph).
  ElleResult uncommitted = check(builder.history(), ConsistencyModel::read_uncommitted);
  EXPECT_EQ(uncommitted.verdict, Verdict::unknown);
  EXPECT_NE(uncommitted.reason.find("no dependency between any two"), std::string::npos) << uncommitted.reason;
}

TEST(ElleListAppend, G1bIntermediateRead) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1],["append","x",2]])"));
  txn(builder, 1, json::parse(R"([["r","x",[1]]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::read_committed);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(types(result), std::set<std::string>{"G1b"});
}

TEST(ElleListAppend, G1cCircularInformationFlow) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1],["r","y",[1]]])"));
  txn(builder, 1, json::parse(R"([["append","y",1],["r","x",[1]]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::read_committed);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(types(result), std::set<std::string>{"G1c"});
  for (const CycleStep& step : result.anomalies[0].cycle) EXPECT_EQ(step.kind, "wr");
}

TEST(ElleListAppend, GSingleReadSkew) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1],["append","y",1]])"));
  txn(builder, 1, json::parse(R"([["r","x",[]],["r","y",[1]]])"));
  txn(builder, 2, json::parse(R"([["r","x",[1]]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::snapshot_isolation);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(types(result), std::set<std::string>{"G-single"});
  const Anomaly& anomaly = result.anomalies[0];
  ASSERT_EQ(anomaly.cycle.size(), 2u);
  std::multiset<std::string> kinds{anomaly.cycle[0].kind, anomaly.cycle[1].kind};
  EXPECT_EQ(kinds, (std::multiset<std::string>{"rw", "wr"}));
  EXPECT_NE(anomaly.explanation.find("read skew"), std::string::npos);
  // read-committed allows G-single.
  EXPECT_EQ(check(builder.history(), ConsistencyModel::read_committed).verdict, Verdict::valid);
}

TEST(ElleListAppend, G2ItemWriteSkew) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["r","x",[]],["append","y",1]])"));
  txn(builder, 1, json::parse(R"([["r","y",[]],["append","x",1]])"));
  txn(builder, 2, json::parse(R"([["r","x",[1]],["r","y",[1]]])"));
  ElleResult serializable = check(builder.history(), ConsistencyModel::serializable);
  EXPECT_EQ(serializable.verdict, Verdict::invalid);
  EXPECT_EQ(types(serializable), std::set<std::string>{"G2-item"});
  // Snapshot isolation allows write skew.
  ElleResult snapshot = check(builder.history(), ConsistencyModel::snapshot_isolation);
  EXPECT_EQ(snapshot.verdict, Verdict::valid) << describe(snapshot);
  EXPECT_FALSE(snapshot.anomalies.empty());
  EXPECT_FALSE(snapshot.anomalies[0].forbidden);
}

TEST(ElleListAppend, LostUpdate) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1]])"));
  txn(builder, 1, json::parse(R"([["r","x",[1]],["append","x",2]])"));
  txn(builder, 2, json::parse(R"([["r","x",[1]],["append","x",3]])"));
  txn(builder, 3, json::parse(R"([["r","x",[1,2,3]]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::snapshot_isolation);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(types(result), (std::set<std::string>{"G-single", "lost-update"}));
  auto lost = std::find_if(result.anomalies.begin(), result.anomalies.end(),
                           [](const Anomaly& anomaly) { return anomaly.type == "lost-update"; });
  ASSERT_NE(lost, result.anomalies.end());
  EXPECT_EQ(lost->operations, (std::vector<std::uint32_t>{2, 4}));
}

TEST(ElleListAppend, InternalInconsistency) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1],["r","x",[]]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::serializable);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(types(result), std::set<std::string>{"internal"});
  // As in Elle, read-committed and read-uncommitted do not prohibit internal
  // anomalies; one txn alone is then nothing to judge (an empty graph).
  ElleResult committed = check(builder.history(), ConsistencyModel::read_committed);
  EXPECT_EQ(committed.verdict, Verdict::unknown);
  EXPECT_EQ(types(committed), std::set<std::string>{"internal"});
}

TEST(ElleListAppend, DuplicateElementsIncompatibleOrderAndGarbage) {
  {
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["append","x",1]])"));
    txn(builder, 1, json::parse(R"([["r","x",[1,1]]])"));
    EXPECT_EQ(types(check(builder.history())), std::set<std::string>{"duplicate-elements"});
  }
  {
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["append","x",1]])"));
    txn(builder, 1, json::parse(R"([["append","x",2]])"));
    txn(builder, 2, json::parse(R"([["r","x",[1,2]]])"));
    txn(builder, 3, json::parse(R"([["r","x",[2]]])"));
    EXPECT_EQ(types(check(builder.history())), std::set<std::string>{"incompatible-order"});
  }
  {
    HistoryBuilder builder;
    txn(builder, 1, json::parse(R"([["r","x",[9]]])"));
    EXPECT_EQ(types(check(builder.history())), std::set<std::string>{"garbage-read"});
  }
}

TEST(ElleListAppend, RealtimeAndProcessVariants) {
  // Process 0 appends and completes; then process 1 (or 0 again) reads an empty list.
  for (std::int64_t reader : {1, 0}) {
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["append","x",1]])"));
    txn(builder, reader, json::parse(R"([["r","x",[]]])"));
    txn(builder, 2, json::parse(R"([["r","x",[1]]])"));
    EXPECT_EQ(check(builder.history(), ConsistencyModel::serializable).verdict, Verdict::valid);
    ElleResult strict = check(builder.history(), ConsistencyModel::strict_serializable);
    EXPECT_EQ(strict.verdict, Verdict::invalid);
    EXPECT_EQ(types(strict), std::set<std::string>{reader == 0 ? "G-single-process" : "G-single-realtime"})
        << describe(strict);
    ElleResult session = check(builder.history(), ConsistencyModel::strong_session_serializable);
    EXPECT_EQ(session.verdict, reader == 0 ? Verdict::invalid : Verdict::valid) << describe(session);
  }
}

// A ring of 20,000 write skews (txn i reads key i empty and appends to key
// i+1) is one G2-item cycle of 20,000 anti-dependencies: with a 1 ms limit the
// search gives up (unknown); without one it is found.
TEST(ElleListAppend, TimeLimitGivesUnknown) {
  HistoryBuilder builder;
  const int ring = 20000;
  for (int index = 0; index < ring; ++index) {
    std::string read_key = "k" + std::to_string(index);
    std::string append_key = "k" + std::to_string((index + 1) % ring);
    txn(builder, index,
        json::array({json::array({"r", read_key, json::array()}), json::array({"append", append_key, index})}));
  }
  ElleOptions limited;
  limited.time_limit = std::chrono::milliseconds(1);
  ElleResult unknown = check_list_append(builder.history(), limited);
  EXPECT_EQ(unknown.verdict, Verdict::unknown) << unknown.reason;
  EXPECT_NE(unknown.reason.find("time limit"), std::string::npos) << unknown.reason;
  ElleResult found = check(builder.history());
  EXPECT_EQ(types(found), std::set<std::string>{"G2-item"});
  ASSERT_EQ(found.anomalies.size(), 1u);
  EXPECT_EQ(found.anomalies[0].cycle.size(), 50u);  // evidence keeps the first 50 steps
  EXPECT_NE(found.anomalies[0].explanation.find("20000 txns"), std::string::npos);
  EXPECT_NE(found.anomalies[0].explanation.find("19950 more steps"), std::string::npos);
}

TEST(ElleListAppend, DuplicateAppendIsBadInput) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["append","x",1]])"));
  txn(builder, 1, json::parse(R"([["append","x",1]])"));
  try {
    check(builder.history());
    FAIL() << "expected HistoryError";
  } catch (const HistoryError& error) {
    EXPECT_NE(std::string(error.what()).find("op 2: field 'value': 1 appended to key x twice"), std::string::npos)
        << error.what();
  }
}

TEST(ElleListAppend, MalformedTxnValue) {
  HistoryBuilder builder;
  builder.invoke(0, "txn", json::parse(R"([["append","x"]])"));
  builder.info(0, "txn", json::parse(R"([["append","x"]])"));
  EXPECT_THROW(check(builder.history()), HistoryError);
  HistoryBuilder wrong_function;
  wrong_function.invoke(0, "read", nullptr).ok(0, "read", 1);
  EXPECT_THROW(check(wrong_function.history()), HistoryError);
}

TEST(ElleListAppend, JepsenEdnHistory) {
  const char* edn = R"([
{:type :invoke, :f :txn, :value [[:append 1 2] [:r 1 nil]], :process 0, :time 10, :index 0}
{:type :ok, :f :txn, :value [[:append 1 2] [:r 1 [1 2]]], :process 0, :time 20, :index 1}
{:type :invoke, :f :txn, :value [[:append 1 1]], :process 1, :time 5, :index 2}
{:type :ok, :f :txn, :value [[:append 1 1]], :process 1, :time 8, :index 3}
{:type :invoke, :f :txn, :value [[:r 1 nil] [:append 2 5]], :process 2, :time 30, :index 4}
{:type :ok, :f :txn, :value [[:r 1 [1]] [:append 2 5]], :process 2, :time 40, :index 5}
])";
  History history = parse_history(edn, HistoryFormat::edn, "test.edn");
  ElleResult serializable = check(history, ConsistencyModel::serializable);
  EXPECT_EQ(serializable.verdict, Verdict::valid) << describe(serializable);
  EXPECT_EQ(serializable.transactions, 3u);
  // The read of [1] began after [1 2] was read: a stale read, so not strict-serializable.
  ElleResult strict = check(history, ConsistencyModel::strict_serializable);
  EXPECT_EQ(strict.verdict, Verdict::invalid);
  EXPECT_EQ(types(strict), std::set<std::string>{"G-single-realtime"});
}

// ---------------------------------------------------------------------------
// Brute force: a history of ok txns is serializable iff some order of the txns,
// executed one at a time, gives every read exactly.
bool serializable_by_brute_force(const std::vector<json>& txns) {
  std::vector<std::size_t> order(txns.size());
  for (std::size_t index = 0; index < order.size(); ++index) order[index] = index;
  do {
    std::map<std::string, std::vector<std::int64_t>> lists;
    bool matches = true;
    for (std::size_t index : order) {
      for (const json& mop : txns[index]) {
        auto& list = lists[mop[1].get<std::string>()];
        if (mop[0] == "append") {
          list.push_back(mop[2].get<std::int64_t>());
        } else if (mop[2].get<std::vector<std::int64_t>>() != list) {
          matches = false;
          break;
        }
      }
      if (!matches) break;
    }
    if (matches) return true;
  } while (std::next_permutation(order.begin(), order.end()));
  return false;
}

TEST(ElleListAppend, AgreesWithBruteForceOnSmallRandomHistories) {
  std::mt19937_64 random(7);
  int invalid = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto uniform = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
    int txn_count = uniform(2, 4);
    std::vector<json> txns(txn_count, json::array());
    std::map<std::string, std::vector<std::int64_t>> appended;
    std::int64_t next = 1;
    // Appends first (so reads can pick from them), then reads at random positions.
    for (json& value : txns) {
      int length = uniform(1, 3);
      for (int step = 0; step < length; ++step) {
        std::string key = uniform(0, 1) ? "x" : "y";
        if (uniform(0, 1)) {
          value.push_back(json::array({"append", key, next}));
          appended[key].push_back(next++);
        } else {
          value.push_back(json::array({"r", key, nullptr}));
        }
      }
    }
    // Each key gets one random order of its appends; reads see random prefixes of it.
    for (auto& [key, elements] : appended) std::shuffle(elements.begin(), elements.end(), random);
    for (json& value : txns) {
      for (json& mop : value) {
        if (mop[0] != "r") continue;
        const auto& elements = appended[mop[1].get<std::string>()];
        int length = uniform(0, static_cast<int>(elements.size()));
        mop[2] = std::vector<std::int64_t>(elements.begin(), elements.begin() + length);
      }
    }
    // A last txn appends to a fresh key and reads it back, so the checker always
    // has a committed write and read to judge; that changes no verdict.
    txns.push_back(json::parse(R"([["append","z",1000],["r","z",[1000]]])"));
    HistoryBuilder builder;
    for (int index = 0; index <= txn_count; ++index) txn(builder, index, txns[index]);
    ElleResult result = check(builder.history(), ConsistencyModel::serializable);
    bool expected = serializable_by_brute_force(txns);
    invalid += !expected;
    if (result.verdict == Verdict::unknown) {  // no dependency between any two txns, nothing forbidden
      ASSERT_EQ(result.edges, 0u) << result.reason;
      ASSERT_TRUE(expected) << json(txns).dump();
      continue;
    }
    ASSERT_EQ(result.verdict == Verdict::valid, expected) << "trial " << trial << ": " << json(txns).dump() << "\n"
                                                          << describe(result);
  }
  EXPECT_GT(invalid, 100);  // the random histories exercise both answers
}

// ---------------------------------------------------------------------------
// rw-register

// rw-register txns on a simulated strictly serializable store: each txn takes
// effect at one instant between invocation and completion; unique writes.
History simulate_rw_register_history(std::uint64_t seed, int processes, int transactions, int keys) {
  std::mt19937_64 random(seed);
  auto uniform = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  std::vector<json> registers(keys, nullptr);
  std::int64_t next_value = 1;
  struct Pending {
    bool busy = false, applied = false;
    json invocation, result;
  };
  std::vector<Pending> slots(processes);
  HistoryBuilder builder;
  int invoked = 0, busy = 0;
  while (invoked < transactions || busy > 0) {
    int process = uniform(0, processes - 1);
    Pending& pending = slots[process];
    if (!pending.busy) {
      if (invoked >= transactions) continue;
      pending.invocation = json::array();
      for (int step = uniform(1, 4); step > 0; --step) {
        int key = uniform(0, keys - 1);
        pending.invocation.push_back(uniform(0, 1) ? json::array({"w", key, next_value++})
                                                   : json::array({"r", key, nullptr}));
      }
      builder.invoke(process, "txn", pending.invocation);
      pending.busy = true;
      pending.applied = false;
      ++invoked;
      ++busy;
    } else if (!pending.applied) {
      pending.result = json::array();
      for (const json& mop : pending.invocation) {
        int key = mop[1].get<int>();
        if (mop[0] == "w") registers[key] = mop[2];
        pending.result.push_back(mop[0] == "w" ? mop : json::array({"r", key, registers[key]}));
      }
      pending.applied = true;
    } else {
      builder.ok(process, "txn", pending.result);
      pending.busy = false;
      --busy;
    }
  }
  return builder.take();
}

TEST(ElleRwRegister, SimulatedStrictSerializableHistoriesAreValid) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    History history = simulate_rw_register_history(seed, 5, 2000, 3 + static_cast<int>(seed % 4));
    ElleResult result = check(history, ConsistencyModel::strict_serializable, TxnWorkload::rw_register);
    EXPECT_EQ(result.verdict, Verdict::valid) << "seed " << seed << ": " << describe(result);
  }
}

TEST(ElleRwRegister, SerializableHistoryIsValid) {
  HistoryBuilder builder;
  txn(builder, 0, json::parse(R"([["w","x",1],["w","y",1]])"));
  txn(builder, 1, json::parse(R"([["r","x",1],["w","x",2]])"));
  txn(builder, 2, json::parse(R"([["r","x",2],["r","y",1]])"));
  ElleResult result = check(builder.history(), ConsistencyModel::strict_serializable, TxnWorkload::rw_register);
  EXPECT_EQ(result.verdict, Verdict::valid) << describe(result);
}

TEST(ElleRwRegister, GSingleAndG2AndLostUpdate) {
  {
    HistoryBuilder builder;  // read skew: sees y's new value but x's initial one
    txn(builder, 0, json::parse(R"([["w","x",1],["w","y",1]])"));
    txn(builder, 1, json::parse(R"([["r","x",null],["r","y",1]])"));
    ElleResult result = check(builder.history(), ConsistencyModel::serializable, TxnWorkload::rw_register);
    EXPECT_EQ(types(result), std::set<std::string>{"G-single"}) << describe(result);
  }
  {
    HistoryBuilder builder;  // write skew
    txn(builder, 0, json::parse(R"([["r","x",null],["w","y",1]])"));
    txn(builder, 1, json::parse(R"([["r","y",null],["w","x",1]])"));
    ElleResult result = check(builder.history(), ConsistencyModel::serializable, TxnWorkload::rw_register);
    EXPECT_EQ(types(result), std::set<std::string>{"G2-item"}) << describe(result);
  }
  {
    HistoryBuilder builder;  // lost update
    txn(builder, 0, json::parse(R"([["w","x",1]])"));
    txn(builder, 1, json::parse(R"([["r","x",1],["w","x",2]])"));
    txn(builder, 2, json::parse(R"([["r","x",1],["w","x",3]])"));
    ElleResult result = check(builder.history(), ConsistencyModel::snapshot_isolation, TxnWorkload::rw_register);
    EXPECT_EQ(result.verdict, Verdict::invalid);
    EXPECT_TRUE(types(result).contains("lost-update")) << describe(result);
  }
}

TEST(ElleRwRegister, G0G1aG1bG1cInternal) {
  {
    // Each txn read the other's write of x and overwrote it: without Elle's
    // wfr-keys no version order, so two wr edges: G1c, which read-uncommitted
    // allows (with wfr-keys: cyclic-versions, elle_version_sources_test.cpp;
    // a G0 there too).
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["r","x",2],["w","x",1]])"));
    txn(builder, 1, json::parse(R"([["r","x",1],["w","x",2]])"));
    ElleResult result = check(builder.history(), ConsistencyModel::read_uncommitted, TxnWorkload::rw_register);
    EXPECT_EQ(types(result), std::set<std::string>{"G1c"}) << describe(result);
    EXPECT_EQ(result.verdict, Verdict::valid);
  }
  {
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["w","x",1]])"), OpType::fail);
    txn(builder, 1, json::parse(R"([["r","x",1]])"));
    EXPECT_EQ(types(check(builder.history(), ConsistencyModel::read_committed, TxnWorkload::rw_register)),
              std::set<std::string>{"G1a"});
  }
  {
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["w","x",1],["w","x",2]])"));
    txn(builder, 1, json::parse(R"([["r","x",1]])"));
    EXPECT_EQ(types(check(builder.history(), ConsistencyModel::read_committed, TxnWorkload::rw_register)),
              std::set<std::string>{"G1b"});
  }
  {
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["w","x",1],["r","y",1]])"));
    txn(builder, 1, json::parse(R"([["w","y",1],["r","x",1]])"));
    EXPECT_EQ(types(check(builder.history(), ConsistencyModel::read_committed, TxnWorkload::rw_register)),
              std::set<std::string>{"G1c"});
  }
  {
    HistoryBuilder builder;
    txn(builder, 0, json::parse(R"([["w","x",1],["r","x",2]])"));
    ElleResult result = check(builder.history(), ConsistencyModel::snapshot_isolation, TxnWorkload::rw_register);
    EXPECT_EQ(types(result), std::set<std::string>{"internal"});
    EXPECT_EQ(result.verdict, Verdict::invalid);
  }
}

TEST(ElleModels, ForbiddenSetsGrowWithStrength) {
  EXPECT_TRUE(model_forbids(ConsistencyModel::read_committed, "G1c"));
  EXPECT_FALSE(model_forbids(ConsistencyModel::read_committed, "G-single"));
  EXPECT_TRUE(model_forbids(ConsistencyModel::snapshot_isolation, "lost-update"));
  EXPECT_FALSE(model_forbids(ConsistencyModel::snapshot_isolation, "G2-item"));
  EXPECT_TRUE(model_forbids(ConsistencyModel::strict_serializable, "G2-item-realtime"));
  EXPECT_FALSE(model_forbids(ConsistencyModel::serializable, "G-single-realtime"));
  EXPECT_EQ(parse_consistency_model("snapshot-isolation"), ConsistencyModel::snapshot_isolation);
  EXPECT_FALSE(parse_consistency_model("bogus"));
}

}  // namespace
}  // namespace chaosbench::checkers
