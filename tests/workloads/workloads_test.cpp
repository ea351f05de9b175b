// Every workload: same seed same operations; requests follow the client
// protocol; and, driven through the real KvStateMachine by simulated
// concurrent clients (each op takes effect at one instant between its invoke
// and its completion, so the system is linearizable), the history passes the
// workload's default checkers, while a corrupted state is found invalid.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>

#include "chaosbench/harness/checker_selection.h"
#include "chaosbench/workloads/bank_workload.h"
#include "chaosbench/workloads/counter_workload.h"
#include "chaosbench/workloads/list_append_workload.h"
#include "chaosbench/workloads/rw_register_workload.h"
#include "chaosbench/workloads/set_workload.h"
#include "chaosbench/workloads/workload.h"
#include "runtime/kv_state_machine.h"

namespace chaosbench::workloads {
namespace {

using checkers::OpType;
using nlohmann::json;

const std::vector<std::string> kNewWorkloads = {"set", "counter", "bank", "list-append", "rw-register", "long-fork"};

std::unique_ptr<Workload> make(const std::string& name, std::uint64_t seed, double read_fraction = 0.5) {
  return make_workload(name, seed, KeyRotation{}, read_fraction);
}

TEST(Workloads, SameSeedSameOperationsOtherSeedOthers) {
  for (const std::string& name : kNewWorkloads) {
    auto first = make(name, 42), second = make(name, 42), other = make(name, 43);
    bool differs = false;
    for (int index = 0; index < 300; ++index) {
      ClientOperation a = first->next(), b = second->next(), c = other->next();
      ASSERT_EQ(a.function, b.function) << name;
      ASSERT_EQ(a.value, b.value) << name;
      differs = differs || a.function != c.function || a.value != c.value;
    }
    EXPECT_TRUE(differs) << name;
    EXPECT_EQ(first->name(), name);
  }
}

TEST(Workloads, DefaultCheckersAndSettings) {
  EXPECT_EQ(make("register", 1)->default_checkers(), std::vector<std::string>{"linearizable"});
  EXPECT_EQ(make("kv", 1)->default_checkers(), std::vector<std::string>{"linearizable"});
  EXPECT_EQ(make("set", 1)->default_checkers(), std::vector<std::string>{"set"});
  EXPECT_EQ(make("counter", 1)->default_checkers(), std::vector<std::string>{"counter"});
  EXPECT_EQ(make("bank", 1)->default_checkers(), std::vector<std::string>{"bank"});
  EXPECT_EQ(make("list-append", 1)->default_checkers(), std::vector<std::string>{"elle-list-append"});
  EXPECT_EQ(make("rw-register", 1)->default_checkers(), std::vector<std::string>{"elle-rw-register"});
  EXPECT_EQ(make("long-fork", 1)->default_checkers(), std::vector<std::string>{"long-fork"});
  EXPECT_EQ(make_workload("long-fork", 1, {}, 0.5, {}, 3)->checker_settings().long_fork_group_size, 3u);
  EXPECT_EQ(make("list-append", 1)->checker_settings().consistency_model,
            checkers::ConsistencyModel::strict_serializable);
  const auto bank = make("bank", 1)->checker_settings().bank;
  EXPECT_EQ(bank.total, BankWorkload::kAccounts * BankWorkload::kOpeningBalance);
  EXPECT_FALSE(bank.negative_balances_allowed);
  EXPECT_EQ(bank.accounts.size(), static_cast<std::size_t>(BankWorkload::kAccounts));
  for (const std::string& name : kNewWorkloads)
    EXPECT_TRUE(harness::is_known_checker(make(name, 1)->default_checkers()[0]));
  EXPECT_THROW(make("ledger", 1), std::invalid_argument);
}

TEST(Workloads, UniqueRegisterWritesEachValueOnceAndNeverCas) {
  auto workload = make("unique-register", 7, 0.3);
  EXPECT_EQ(workload->name(), "unique-register");
  EXPECT_EQ(workload->default_checkers(), (std::vector<std::string>{"linearizable", "session"}));
  std::set<std::int64_t> written;
  int reads = 0;
  for (int index = 0; index < 1000; ++index) {
    ClientOperation operation = workload->next();
    ASSERT_NE(operation.function, "cas");
    if (operation.function == "read") {
      ++reads;
      continue;
    }
    EXPECT_TRUE(written.insert(operation.value.get<std::int64_t>()).second) << operation.value;
    EXPECT_EQ(workload->request(operation)["op"], "write");
  }
  EXPECT_GT(reads, 200);
  EXPECT_LT(reads, 400);
}

TEST(Workloads, RegisterDeleteDeletesAQuarterOfTheUpdatesAndWritesUniqueValues) {
  auto workload = make("register-delete", 7, 0.2);
  EXPECT_EQ(workload->name(), "register-delete");
  EXPECT_EQ(workload->default_checkers(), std::vector<std::string>{"linearizable"});
  std::set<std::int64_t> written;
  int deletes = 0, updates = 0;
  for (int index = 0; index < 2000; ++index) {
    ClientOperation operation = workload->next();
    ASSERT_NE(operation.function, "cas");
    if (operation.function == "read") continue;
    ++updates;
    if (operation.function == "delete") {
      ++deletes;
      EXPECT_TRUE(operation.value.is_null());
      EXPECT_EQ(workload->request(operation), (json{{"op", "delete"}, {"key", operation.key}}));
      continue;
    }
    EXPECT_TRUE(written.insert(operation.value.get<std::int64_t>()).second) << operation.value;
  }
  EXPECT_GT(deletes, updates / 6);
  EXPECT_LT(deletes, updates / 3);
}

// register-delete reads every key it used at the end (a deleted value can come
// back on a key the clients have left); the other register workloads only the
// current one.
TEST(Workloads, RegisterDeleteFinalReadsCoverEveryKey) {
  auto workload = make_workload("register-delete", 7, KeyRotation{10, 20}, 0.2);
  auto unique = make_workload("unique-register", 7, KeyRotation{10, 20}, 0.2);
  std::set<std::string> keys;
  std::string last;
  for (int index = 0; index < 200; ++index) {
    keys.insert(workload->next().key);
    last = unique->next().key;
  }
  EXPECT_GT(keys.size(), 9u);
  std::set<std::string> read;
  for (const ClientOperation& operation : workload->final_reads()) {
    EXPECT_EQ(operation.function, "read");
    EXPECT_TRUE(read.insert(operation.key).second) << operation.key;
  }
  EXPECT_EQ(read, keys);
  const std::vector<ClientOperation> current = unique->final_reads();
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].key, last);
}

TEST(Workloads, ReadFractionIsTheShareOfReads) {
  for (const char* name : {"set", "counter", "bank"}) {
    for (double fraction : {0.0, 0.25, 1.0}) {
      auto workload = make(name, 5, fraction);
      int reads = 0;
      for (int index = 0; index < 4000; ++index) reads += workload->next().function == "read";
      EXPECT_NEAR(reads / 4000.0, fraction, 0.03) << name << " " << fraction;
    }
  }
}

TEST(Workloads, SetAndCounterMapOntoOneKey) {
  auto set = make("set", 1);
  EXPECT_EQ(set->request({"add", "", 7}), (json{{"op", "append"}, {"key", "set"}, {"value", 7}}));
  EXPECT_EQ(set->request({"read", "", nullptr}), (json{{"op", "read"}, {"key", "set"}}));
  EXPECT_EQ(set->completion_value({"read", "", nullptr}, nullptr), json::array()) << "absent: the empty set";
  EXPECT_EQ(set->completion_value({"read", "", nullptr}, json::array({1, 2})), json::array({1, 2}));
  // Concurrent adds on a Dynamo-style node come back as sibling lists: the set is their union.
  EXPECT_EQ(set->resolve_siblings(json::array({1, 2, 4}),
                                  json::array({json::array({1, 2, 4}), json::array({1, 3}), nullptr})),
            json::array({1, 2, 4, 3}));
  EXPECT_EQ(set->resolve_siblings(nullptr, json::array({json::array({5})})), json::array({5}));
  std::set<std::int64_t> elements;
  for (int index = 0; index < 500; ++index) {
    auto op = set->next();
    if (op.function == "add") {
      EXPECT_TRUE(elements.insert(op.value.get<std::int64_t>()).second) << "unique elements";
    }
  }
  auto counter = make("counter", 1);
  EXPECT_EQ(counter->request({"add", "", 3}), (json{{"op", "add"}, {"key", "counter"}, {"value", 3}}));
  EXPECT_EQ(counter->completion_value({"read", "", nullptr}, nullptr), 0);
  EXPECT_EQ(counter->resolve_siblings(json(7), json::array({7, 9})), json(7)) << "default: the node's pick";
  for (int index = 0; index < 500; ++index) {
    auto op = counter->next();
    if (op.function == "add") {
      EXPECT_TRUE(op.value >= 1 && op.value <= CounterWorkload::kLargestAdd);
    }
  }
}

TEST(Workloads, BankTransfersAreGuardedTxnsAndReadsBecomeBalances) {
  auto bank = make("bank", 1, 0.0);
  auto setup = bank->setup_operations();
  ASSERT_EQ(setup.size(), 1u);
  EXPECT_EQ(bank->request(setup[0])["op"], "txn");
  EXPECT_EQ(setup[0].value.size(), static_cast<std::size_t>(BankWorkload::kAccounts));
  for (int index = 0; index < 200; ++index) {
    auto transfer = bank->next();
    ASSERT_EQ(transfer.function, "transfer");
    EXPECT_NE(transfer.value["from"], transfer.value["to"]);
    json request = bank->request(transfer);
    ASSERT_EQ(request["value"].size(), 3u);
    EXPECT_EQ(request["value"][0], json::array({"at-least", transfer.value["from"], transfer.value["amount"]}));
    EXPECT_EQ(request["value"][1][2], -transfer.value["amount"].get<std::int64_t>());
  }
  json reply = json::array({json::array({"r", "a0", 20}), json::array({"r", "a1", 5})});
  EXPECT_EQ(bank->completion_value({"read", "", nullptr}, reply), (json{{"a0", 20}, {"a1", 5}}));
}

TEST(Workloads, TxnWorkloadsSendSingleReadsAsReadsAndWriteUniqueValues) {
  for (const std::string name : {"list-append", "rw-register"}) {
    auto workload = make(name, 3);
    const std::string write = name == "list-append" ? "append" : "w";
    std::set<std::int64_t> written;
    std::set<std::string> keys;
    std::map<std::string, std::uint64_t> writes_per_key;
    bool single_read = false, multi = false;
    for (int index = 0; index < 2000; ++index) {
      ClientOperation op = workload->next();
      ASSERT_EQ(op.function, "txn");
      ASSERT_GE(op.value.size(), 1u);
      ASSERT_LE(op.value.size(), TxnWorkload::kMostMicroOps);
      for (const auto& micro_op : op.value) {
        keys.insert(micro_op[1].get<std::string>());
        if (micro_op[0] == write) {
          ++writes_per_key[micro_op[1].get<std::string>()];
          EXPECT_TRUE(written.insert(micro_op[2].get<std::int64_t>()).second) << "unique written values";
        } else {
          ASSERT_EQ(micro_op[0], "r");
        }
      }
      json request = workload->request(op);
      if (op.value.size() == 1 && op.value[0][0] == "r") {
        single_read = true;
        EXPECT_EQ(request, (json{{"op", "read"}, {"key", op.value[0][1]}}));
        EXPECT_EQ(workload->completion_value(op, json::array({4})),
                  json::array({json::array({"r", op.value[0][1], json::array({4})})}));
      } else {
        multi = true;
        EXPECT_EQ(request, (json{{"op", "txn"}, {"value", op.value}}));
      }
    }
    EXPECT_TRUE(single_read && multi) << name;
    // By default (Elle's): 10 active keys, each retired after exactly 32 writes; only the active ones have fewer.
    const std::size_t active = 10, writes_per_retired_key = 32;
    std::size_t not_full = 0;
    for (const auto& [key, writes] : writes_per_key) {
      EXPECT_LE(writes, writes_per_retired_key) << name << " " << key;
      not_full += writes < writes_per_retired_key;
    }
    EXPECT_LE(not_full, active) << name;
    EXPECT_GT(keys.size(), 2 * active) << name << ": keys rotate";
    EXPECT_EQ(workload->final_reads().size(), 1u);
    EXPECT_EQ(workload->final_reads()[0].value.size(), active);
  }
}

// Jepsen's long-fork generator: each key written once (value 1) by a txn of
// one write; reads read one whole group of a recently written key.
TEST(Workloads, LongForkWritesEachKeyOnceAndReadsWholeGroups) {
  for (std::size_t group_size : {1, 2, 3}) {
    auto workload = make_workload("long-fork", 8, {}, 0.5, {}, group_size);
    std::set<std::string> written;
    std::size_t reads = 0;
    for (int index = 0; index < 2000; ++index) {
      const ClientOperation op = workload->next();
      ASSERT_EQ(op.function, "txn");
      EXPECT_EQ(workload->request(op), (json{{"op", "txn"}, {"value", op.value}}));
      if (op.value.size() == 1 && op.value[0][0] == "w") {
        EXPECT_EQ(op.value[0][2], 1);
        EXPECT_TRUE(written.insert(op.value[0][1].get<std::string>()).second) << "written once: " << op.value.dump();
        continue;
      }
      ++reads;
      ASSERT_EQ(op.value.size(), group_size) << op.value.dump();
      std::set<std::uint64_t> keys;
      for (const json& micro_op : op.value) {
        ASSERT_EQ(micro_op[0], "r");
        EXPECT_TRUE(micro_op[2].is_null());
        keys.insert(std::stoull(micro_op[1].get<std::string>().substr(1)));
      }
      ASSERT_EQ(keys.size(), group_size);
      EXPECT_EQ(*keys.begin() % group_size, 0u) << "a group starts at a multiple of its size";
      EXPECT_EQ(*keys.rbegin(), *keys.begin() + group_size - 1) << op.value.dump();
      EXPECT_TRUE(std::any_of(keys.begin(), keys.end(),
                              [&](std::uint64_t key) { return written.count(fmt::format("x{}", key)) > 0; }))
          << "reads go to a group with a written key: " << op.value.dump();
    }
    EXPECT_GT(reads, 800u);
    EXPECT_GT(written.size(), 800u);
    for (const ClientOperation& read : workload->final_reads()) EXPECT_EQ(read.value.size(), group_size);
  }
  EXPECT_THROW(make_workload("long-fork", 1, {}, 0.5, {}, 0), std::invalid_argument);
}

// Simulated clients on one KvStateMachine: each step advances one random
// process: invoke its next op, apply it (the instant it takes effect), or
// record its completion. `corrupt` runs once, at step `corrupt_at`.
class Simulation {
 public:
  Simulation(Workload& workload, std::uint64_t seed) : workload_(workload), random_(seed) {}

  checkers::History run(int processes, int steps, int corrupt_at = -1,
                        const std::function<void(targets::KvStateMachine&)>& corrupt = nullptr) {
    for (const ClientOperation& operation : workload_.setup_operations()) one_at_a_time(operation);
    std::vector<Client> clients(processes);
    for (int index = 0; index < processes; ++index) clients[index].process = index;
    for (int step = 0; step < steps; ++step) {
      if (step == corrupt_at) corrupt(machine_);
      advance(clients[random_() % clients.size()], [&] { return workload_.next(); });
    }
    for (Client& client : clients) {
      while (client.stage != Stage::idle) advance(client, nullptr);
    }
    for (const ClientOperation& operation : workload_.final_reads()) one_at_a_time(operation);
    return std::move(history_);
  }

 private:
  enum class Stage { idle, invoked, applied };
  struct Client {
    std::int64_t process = 0;
    Stage stage = Stage::idle;
    ClientOperation operation;
    json reply;
  };

  void advance(Client& client, const std::function<ClientOperation()>& next) {
    switch (client.stage) {
      case Stage::idle:
        if (!next) return;
        client.operation = next();
        record(OpType::invoke, client.process, client.operation, client.operation.value);
        client.stage = Stage::invoked;
        return;
      case Stage::invoked:
        client.reply = machine_.apply(workload_.request(client.operation));
        client.stage = Stage::applied;
        return;
      case Stage::applied:
        if (client.reply.value("ok", false)) {
          record(OpType::ok, client.process, client.operation,
                 workload_.completion_value(client.operation, client.reply.value("value", json(nullptr))));
        } else {
          ASSERT_TRUE(client.reply.value("definite", false)) << client.reply.dump();
          record(OpType::fail, client.process, client.operation, client.operation.value);
        }
        client.stage = Stage::idle;
        return;
    }
  }

  void one_at_a_time(const ClientOperation& operation) {
    Client client{next_process_++, Stage::idle, {}, nullptr};
    advance(client, [&] { return operation; });
    advance(client, nullptr);
    advance(client, nullptr);
  }

  // Interns values as the harness's HistoryRecorder does.
  void record(OpType type, std::int64_t process, const ClientOperation& operation, const json& value) {
    checkers::Operation op;
    op.type = type;
    op.process = process;
    op.function = history_.functions.intern(operation.function);
    op.key = operation.key.empty() ? 0 : history_.keys.intern(operation.key);
    if (value.is_null()) {
      op.value = checkers::kNull;
    } else if (value.is_number_integer()) {
      op.value = history_.values.intern_int(value.get<std::int64_t>());
    } else if (value.is_string()) {
      op.value = history_.values.intern_string(value.get<std::string>());
    } else {
      op.value = history_.values.intern_json(value);
    }
    op.time = static_cast<std::int64_t>(history_.operations.size());
    history_.operations.push_back(op);
  }

  Workload& workload_;
  std::mt19937_64 random_;
  targets::KvStateMachine machine_;
  checkers::History history_;
  std::int64_t next_process_ = 1000;
};

std::vector<harness::CheckerOutcome> check(Workload& workload, const checkers::History& history) {
  const CheckerSettings settings = workload.checker_settings();
  harness::CheckerConfiguration configuration;
  configuration.model.kind = settings.model;
  configuration.consistency_model = settings.consistency_model;
  configuration.bank = settings.bank;
  configuration.long_fork_group_size = settings.long_fork_group_size;
  configuration.wfr_keys = settings.wfr_keys;
  return harness::run_checkers(workload.default_checkers(), history, configuration);
}

std::string describe(const std::vector<harness::CheckerOutcome>& outcomes) {
  std::string text;
  for (const auto& outcome : outcomes) {
    text += fmt::format("{}: {} ({})\n{}\n", outcome.name, checkers::to_string(outcome.verdict), outcome.reason,
                        outcome.evidence);
  }
  return text;
}

TEST(WorkloadSimulation, ACorrectConcurrentSystemIsValidUnderTheDefaultCheckers) {
  for (const std::string& name : kNewWorkloads) {
    for (std::uint64_t seed : {1, 2, 3}) {
      auto workload = make(name, seed);
      checkers::History history = Simulation(*workload, seed).run(8, 6000);
      ASSERT_GT(history.size(), 3000u);
      auto outcomes = check(*workload, history);
      ASSERT_EQ(outcomes.size(), 1u);
      EXPECT_EQ(harness::overall_verdict(outcomes), checkers::Verdict::valid) << name << " seed " << seed << "\n"
                                                                              << describe(outcomes);
    }
  }
}

// Every key choice and rotation the flags give: still one history, checked by
// Elle in one pass, valid for a correct system (and each run did rotate keys).
TEST(WorkloadSimulation, TxnWorkloadsUnderEveryKeyPoolAreValidInOnePass) {
  const std::vector<KeyPoolOptions> pools = {{KeyDistribution::zipf, 10, 32},
                                             {KeyDistribution::uniform, 3, 32},
                                             {KeyDistribution::zipf, 2, 3},
                                             {KeyDistribution::uniform, 50, 1}};
  for (const std::string name : {"list-append", "rw-register"}) {
    for (const KeyPoolOptions& pool : pools) {
      auto workload = make_workload(name, 5, {}, 0.5, pool);
      checkers::History history = Simulation(*workload, 5).run(8, 6000);
      auto outcomes = check(*workload, history);
      ASSERT_EQ(outcomes.size(), 1u);
      EXPECT_EQ(harness::overall_verdict(outcomes), checkers::Verdict::valid)
          << name << " " << to_string(pool.distribution) << " " << pool.key_count << "/" << pool.max_writes_per_key
          << "\n"
          << describe(outcomes);
      EXPECT_GT(outcomes[0].json["transactions"].get<std::size_t>(), 2000u) << "every txn judged in the one pass";
      EXPECT_GT(outcomes[0].json["edges"].get<std::size_t>(), 0u);
    }
  }
}

TEST(WorkloadSimulation, BankOverdraftsFailAndBalancesStayNonNegative) {
  auto workload = make("bank", 4, 0.2);
  checkers::History history = Simulation(*workload, 4).run(8, 6000);
  std::size_t failed_transfers = 0, ok_transfers = 0;
  for (const auto& op : history.operations) {
    if (history.function_name(op) != "transfer") continue;
    failed_transfers += op.type == OpType::fail;
    ok_transfers += op.type == OpType::ok;
  }
  EXPECT_GT(failed_transfers, 0u) << "some transfers must hit the at-least guard";
  EXPECT_GT(ok_transfers, failed_transfers);
  EXPECT_EQ(harness::overall_verdict(check(*workload, history)), checkers::Verdict::valid);
}

// Each corruption breaks what the workload's checker promises to find.
TEST(WorkloadSimulation, CorruptedStatesAreFoundInvalid) {
  struct Case {
    std::string workload;
    std::function<void(targets::KvStateMachine&)> corrupt;
    std::string expected;  // in the reason or the evidence
  };
  const std::vector<Case> cases = {
      // Acknowledged elements vanish: lost.
      {"set",
       [](targets::KvStateMachine& machine) {
         machine.apply({{"op", "write"}, {"key", "set"}, {"value", json::array()}});
       },
       "lost"},
      // The counter jumps by more than any add allows.
      {"counter",
       [](targets::KvStateMachine& machine) {
         machine.apply({{"op", "add"}, {"key", "counter"}, {"value", 1000}});
       },
       "read"},
      // Money appears in one account.
      {"bank",
       [](targets::KvStateMachine& machine) {
         machine.apply({{"op", "add"}, {"key", "a2"}, {"value", 7}});
       },
       "total"},
      // A value nobody wrote appears in every live key.
      {"list-append",
       [](targets::KvStateMachine& machine) {
         for (int key = 0; key < 400; ++key) {
           machine.apply({{"op", "append"}, {"key", fmt::format("x{}", key)}, {"value", -1}});
         }
       },
       "garbage"},
      {"rw-register",
       [](targets::KvStateMachine& machine) {
         for (int key = 0; key < 400; ++key) {
           machine.apply({{"op", "write"}, {"key", fmt::format("x{}", key)}, {"value", -1}});
         }
       },
       "garbage"},
  };
  for (const Case& test : cases) {
    auto workload = make(test.workload, 11);
    checkers::History history = Simulation(*workload, 11).run(8, 4000, 2000, test.corrupt);
    auto outcomes = check(*workload, history);
    EXPECT_EQ(harness::overall_verdict(outcomes), checkers::Verdict::invalid) << test.workload << "\n"
                                                                              << describe(outcomes);
    EXPECT_NE(describe(outcomes).find(test.expected), std::string::npos) << test.workload << "\n" << describe(outcomes);
  }
}

}  // namespace
}  // namespace chaosbench::workloads

namespace chaosbench::workloads {
namespace {

// What a workload says it needs is what its requests use: the harness refuses
// a target that lacks one of these ops, so a missing one would let a run
// through whose operations then all fail.
TEST(Workloads, ClientOperationsNameEveryOpTheRequestsUse) {
  for (const std::string& name : workload_names()) {
    auto workload = make_workload(name, 7, KeyRotation{5, 10}, 0.5);
    std::set<std::string> used;
    std::vector<ClientOperation> operations = workload->setup_operations();
    for (int count = 0; count < 2000; ++count) operations.push_back(workload->next());
    for (const ClientOperation& operation : workload->final_reads()) operations.push_back(operation);
    for (const ClientOperation& operation : operations) {
      const json request = workload->request(operation);
      used.insert(request.at("op").get<std::string>());
      EXPECT_EQ(targets::KvStateMachine::validate(request), std::nullopt) << name << ": " << request.dump();
    }
    EXPECT_EQ(used, workload->client_operations()) << name;
  }
}

}  // namespace
}  // namespace chaosbench::workloads
