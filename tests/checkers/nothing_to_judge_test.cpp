// No vacuous verdicts: every checker says unknown ("nothing to judge: ...") for a
// history in which nothing it judges happened, and valid right at the floor (one
// acknowledged update and one ok read after it). An invalid finding still wins.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "chaosbench/checkers/bank_checker.h"
#include "chaosbench/checkers/convergence.h"
#include "chaosbench/checkers/counter_checker.h"
#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/linearizability.h"
#include "chaosbench/checkers/sequential.h"
#include "chaosbench/checkers/session.h"
#include "chaosbench/checkers/set_checker.h"
#include "history_builder.h"

namespace chaosbench::checkers {
namespace {

using nlohmann::json;
using testing::HistoryBuilder;

struct Outcome {
  Verdict verdict;
  std::string reason;
};

// One checker's view of "an update" and "a read": how to record them and what
// it says when one is missing.
struct Spec {
  std::string name;
  std::string function_update, function_read;
  json update_invoke, update_value;  // invocation and ok completion values of the update
  json read_before, read_after;      // what an ok read returns before / after the update
  std::function<Outcome(const History&)> check;
  // Expected reasons (prefixes): no acknowledged update; updates but no ok read at all; the
  // only read completed before the update was invoked ("": the checker has no such rule).
  std::string no_update, no_read, read_before_update;
  std::string key = {};  // for keyed checkers

  void update(HistoryBuilder& builder, std::int64_t process, OpType outcome) const {
    builder.invoke(process, function_update, update_invoke, key);
    builder.add(outcome, process, function_update, outcome == OpType::ok ? update_value : update_invoke, key);
  }
  void read(HistoryBuilder& builder, std::int64_t process, bool after) const {
    json invocation = function_read == "txn" ? txn_read_invocation() : json(nullptr);
    builder.invoke(process, function_read, invocation, key)
        .ok(process, function_read, after ? read_after : read_before, key);
  }
  json txn_read_invocation() const {
    json invocation = read_before;
    for (json& mop : invocation) mop[2] = nullptr;
    return invocation;
  }
};

LinearizabilityOptions linearizable_options(ModelKind kind = ModelKind::cas_register) {
  LinearizabilityOptions options;
  options.model.kind = kind;
  options.threads = 1;
  return options;
}

SequentialOptions sequential_options() {
  SequentialOptions options;
  options.threads = 1;
  return options;
}

// Every client op on node n1 (convergence needs a node per final read).
History on_one_node(History history) {
  std::uint16_t node = static_cast<std::uint16_t>(history.nodes.intern("n1"));
  for (Operation& op : history.operations) op.node = node;
  return history;
}

Outcome of(const CheckResult& result) { return {result.verdict, result.reason}; }
Outcome of_elle(const History& history, TxnWorkload workload) {
  ElleResult result = check_transactions(history, workload, ElleOptions{});
  return {result.verdict, result.reason};
}

const std::string kRegisterNoUpdate = "nothing to judge: no acknowledged write, cas or append";
const std::string kRegisterNoRead = "nothing to judge: no ok read that could have observed an acknowledged update";

std::vector<Spec> specs() {
  std::vector<Spec> all;
  all.push_back({"linearizable", "write", "read", 1, 1, nullptr, 1,
                 [](const History& history) {
                   auto result = check_linearizability(history, linearizable_options());
                   return Outcome{result.verdict, result.reason};
                 },
                 kRegisterNoUpdate, kRegisterNoRead, kRegisterNoRead, "x"});
  all.push_back({"linearizable-kv", "put", "get", "a", "a", nullptr, "a",
                 [](const History& history) {
                   auto result = check_linearizability(history, linearizable_options(ModelKind::kv));
                   return Outcome{result.verdict, result.reason};
                 },
                 kRegisterNoUpdate, kRegisterNoRead, kRegisterNoRead, "x"});
  all.push_back({"sequential", "write", "read", 1, 1, nullptr, 1,
                 [](const History& history) {
                   auto result = check_sequential_consistency(history, sequential_options());
                   return Outcome{result.verdict, result.reason};
                 },
                 kRegisterNoUpdate, kRegisterNoRead, kRegisterNoRead, "x"});
  all.push_back({"sequential-whole-history", "write", "read", 1, 1, nullptr, 1,
                 [](const History& history) {
                   SequentialOptions options = sequential_options();
                   options.partition_by_key = false;
                   auto result = check_sequential_consistency(history, options);
                   return Outcome{result.verdict, result.reason};
                 },
                 kRegisterNoUpdate, kRegisterNoRead, kRegisterNoRead, "x"});
  all.push_back({"session", "write", "read", 1, 1, nullptr, 1,
                 [](const History& history) { return of(check_session_guarantees(history).result); },
                 "nothing to judge: no acknowledged write or cas",
                 "nothing to judge: no ok read that could have observed an acknowledged write or cas",
                 "nothing to judge: no ok read that could have observed an acknowledged write or cas", "x"});
  all.push_back({"convergence", "write", "read", 1, 1, nullptr, 1,
                 [](const History& history) { return of(check_convergence(on_one_node(history))); },
                 "nothing to judge: no acknowledged write, put, append, add, delete or cas",
                 "nothing to judge: no ok reads after the last nemesis op (no final reads)", "", "x"});
  all.push_back({"set", "add", "read", 1, 1, json::array(), json::array({1}),
                 [](const History& history) { return of(check_set(history)); }, "nothing to judge: no acknowledged add",
                 "nothing to judge: no ok read that could have observed an acknowledged add",
                 "nothing to judge: no ok read that could have observed an acknowledged add"});
  all.push_back({"set-linearizable", "add", "read", 1, 1, json::array(), json::array({1}),
                 [](const History& history) {
                   SetOptions options;
                   options.stale_reads_invalid = true;
                   return of(check_set(history, options));
                 },
                 "nothing to judge: no acknowledged add",
                 "nothing to judge: no ok read that could have observed an acknowledged add",
                 "nothing to judge: no ok read that could have observed an acknowledged add"});
  all.push_back({"counter", "add", "read", 2, 2, 0, 2,
                 [](const History& history) { return of(check_counter(history)); },
                 "nothing to judge: no acknowledged add",
                 "nothing to judge: no ok read that could have observed an acknowledged add",
                 "nothing to judge: no ok read that could have observed an acknowledged add"});
  json transfer{{"from", "a"}, {"to", "b"}, {"amount", 3}};
  all.push_back({"bank", "transfer", "read", transfer, transfer, json{{"a", 10}, {"b", 10}}, json{{"a", 7}, {"b", 13}},
                 [](const History& history) { return of(check_bank(history)); },
                 "nothing to judge: no acknowledged transfer", "nothing to judge: no ok balance read",
                 "nothing to judge: no ok balance read that could have observed an acknowledged transfer"});
  json append = json::parse(R"([["append","x",1]])");
  all.push_back({"elle-list-append", "txn", "txn", append, append, json::parse(R"([["r","x",[]]])"),
                 json::parse(R"([["r","x",[1]]])"),
                 [](const History& history) { return of_elle(history, TxnWorkload::list_append); },
                 "nothing to judge: no committed transaction with a write",
                 "nothing to judge: no committed transaction read anything", ""});
  json write = json::parse(R"([["w","x",1]])");
  all.push_back({"elle-rw-register", "txn", "txn", write, write, json::parse(R"([["r","x",null]])"),
                 json::parse(R"([["r","x",1]])"),
                 [](const History& history) { return of_elle(history, TxnWorkload::rw_register); },
                 "nothing to judge: no committed transaction with a write",
                 "nothing to judge: no committed transaction read anything", ""});
  return all;
}

void expect_unknown(const Spec& spec, const History& history, const std::string& reason, const char* scenario) {
  Outcome outcome = spec.check(history);
  EXPECT_EQ(outcome.verdict, Verdict::unknown) << spec.name << ", " << scenario << ": " << outcome.reason;
  EXPECT_EQ(outcome.reason.rfind(reason, 0), 0u) << spec.name << ", " << scenario << ": " << outcome.reason;
}

TEST(NothingToJudge, EmptyHistory) {
  for (const Spec& spec : specs()) expect_unknown(spec, History{}, spec.no_update, "empty");
}

TEST(NothingToJudge, EveryUpdateFailed) {
  for (const Spec& spec : specs()) {
    HistoryBuilder builder;
    spec.update(builder, 0, OpType::fail);
    spec.update(builder, 1, OpType::fail);
    spec.read(builder, 2, false);
    expect_unknown(spec, builder.history(), spec.no_update, "every update failed");
  }
}

TEST(NothingToJudge, UpdatesOkButNoRead) {
  for (const Spec& spec : specs()) {
    HistoryBuilder builder;
    spec.update(builder, 0, OpType::ok);
    expect_unknown(spec, builder.history(), spec.no_read, "no read");
  }
}

TEST(NothingToJudge, ReadsOnly) {
  for (const Spec& spec : specs()) {
    HistoryBuilder builder;
    spec.read(builder, 0, false);
    spec.read(builder, 1, false);
    expect_unknown(spec, builder.history(), spec.no_update, "reads only");
  }
}

TEST(NothingToJudge, ReadsOnlyBeforeTheUpdate) {
  for (const Spec& spec : specs()) {
    // Elle judges txns, not the order of a read and a write; convergence's
    // reads are final reads (a read before the write is a lost write there).
    if (spec.read_before_update.empty()) continue;
    HistoryBuilder builder;
    spec.read(builder, 0, false);
    spec.read(builder, 2, false);
    spec.update(builder, 1, OpType::ok);
    expect_unknown(spec, builder.history(), spec.read_before_update, "read before the update");
  }
}

TEST(NothingToJudge, ValidRightAtTheFloor) {
  for (const Spec& spec : specs()) {
    HistoryBuilder builder;
    spec.update(builder, 0, OpType::ok);
    spec.read(builder, 0, true);
    Outcome outcome = spec.check(builder.history());
    EXPECT_EQ(outcome.verdict, Verdict::valid) << spec.name << ": " << outcome.reason;
  }
}

TEST(NothingToJudge, AReadConcurrentWithTheUpdateCouldHaveObservedIt) {
  for (const Spec& spec : specs()) {
    if (spec.read_before_update.empty()) continue;
    HistoryBuilder builder;
    builder.invoke(1, spec.function_read, nullptr, spec.key);
    spec.update(builder, 0, OpType::ok);
    builder.ok(1, spec.function_read, spec.read_before, spec.key);  // completes after the update's invocation
    Outcome outcome = spec.check(builder.history());
    EXPECT_EQ(outcome.verdict, Verdict::valid) << spec.name << ": " << outcome.reason;
  }
}

TEST(NothingToJudge, SearchesTakeAReadOfTheSameKeyOnly) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1, "x").ok(0, "write", 1, "x");
  builder.invoke(1, "read", nullptr, "y").ok(1, "read", nullptr, "y");
  auto linearizable = check_linearizability(builder.history(), linearizable_options());
  EXPECT_EQ(linearizable.verdict, Verdict::unknown);
  EXPECT_EQ(linearizable.reason, kRegisterNoRead);
  auto sequential = check_sequential_consistency(builder.history(), sequential_options());
  EXPECT_EQ(sequential.verdict, Verdict::unknown);
  EXPECT_EQ(sequential.reason, kRegisterNoRead);
  // The session checker takes a read of any key.
  EXPECT_EQ(check_session_guarantees(builder.history()).result.verdict, Verdict::valid);
}

TEST(NothingToJudge, SearchesCountAnInfoUpdateAsPossiblyTakenEffect) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1, "x").ok(0, "write", 1, "x");
  builder.invoke(1, "write", 2, "y").info(1, "write", 2, "y");
  builder.invoke(2, "read", nullptr, "y").ok(2, "read", 2, "y");
  EXPECT_EQ(check_linearizability(builder.history(), linearizable_options()).verdict, Verdict::valid);
  EXPECT_EQ(check_sequential_consistency(builder.history(), sequential_options()).verdict, Verdict::valid);
  // But an info update alone is not enough: one must be acknowledged.
  HistoryBuilder info_only;
  info_only.invoke(1, "write", 2, "y").info(1, "write", 2, "y");
  info_only.invoke(2, "read", nullptr, "y").ok(2, "read", 2, "y");
  auto result = check_linearizability(info_only.history(), linearizable_options());
  EXPECT_EQ(result.verdict, Verdict::unknown);
  EXPECT_EQ(result.reason, kRegisterNoUpdate);
}

TEST(NothingToJudge, MutexNeedsAnAcknowledgedAcquire) {
  const std::string reason = "nothing to judge: no acknowledged acquire";
  auto check = [](const History& history) {
    return check_linearizability(history, linearizable_options(ModelKind::mutex));
  };
  EXPECT_EQ(check(History{}).reason, reason);
  HistoryBuilder failed;
  failed.invoke(0, "acquire").fail(0, "acquire");
  EXPECT_EQ(check(failed.history()).verdict, Verdict::unknown);
  EXPECT_EQ(check(failed.history()).reason, reason);
  HistoryBuilder acquired;
  acquired.invoke(0, "acquire").ok(0, "acquire");
  EXPECT_EQ(check(acquired.history()).verdict, Verdict::valid) << check(acquired.history()).reason;
}

TEST(NothingToJudge, AnInvalidFindingStillWins) {
  // Reads of values nobody wrote: nothing was acknowledged, yet each is an anomaly.
  HistoryBuilder register_reads;
  register_reads.invoke(0, "read", nullptr, "x").ok(0, "read", 5, "x");
  EXPECT_EQ(check_linearizability(register_reads.history(), linearizable_options()).verdict, Verdict::invalid);
  EXPECT_EQ(check_sequential_consistency(register_reads.history(), sequential_options()).verdict, Verdict::invalid);
  EXPECT_EQ(check_session_guarantees(register_reads.history()).result.verdict, Verdict::invalid);
  HistoryBuilder set_reads;
  set_reads.invoke(0, "read", nullptr).ok(0, "read", json::array({9}));
  EXPECT_EQ(check_set(set_reads.history()).verdict, Verdict::invalid);
  HistoryBuilder counter_reads;
  counter_reads.invoke(0, "read", nullptr).ok(0, "read", 4);
  EXPECT_EQ(check_counter(counter_reads.history()).verdict, Verdict::invalid);
  HistoryBuilder bank_reads;
  bank_reads.invoke(0, "read", nullptr).ok(0, "read", json{{"a", 1}});
  BankOptions bank;
  bank.total = 2;
  EXPECT_EQ(check_bank(bank_reads.history(), bank).verdict, Verdict::invalid);
  HistoryBuilder elle_reads;
  elle_reads.invoke(0, "txn", json::parse(R"([["r","x",null]])")).ok(0, "txn", json::parse(R"([["r","x",[7]]])"));
  EXPECT_EQ(of_elle(elle_reads.history(), TxnWorkload::list_append).verdict, Verdict::invalid);
}

}  // namespace
}  // namespace chaosbench::checkers
