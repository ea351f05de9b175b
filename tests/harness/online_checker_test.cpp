// The online checker without a cluster: histories of a simulated atomic store
// (each op takes effect at one moment between its invocation and completion,
// some fail, some end info, some never complete) are valid, so no prefix of
// them may be judged invalid by a checker that runs online (the property the
// online check rests on); an anomaly planted mid-history is found online, with
// its time, before the history ends.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/harness/checker_selection.h"
#include "chaosbench/harness/online_checker.h"

namespace chaosbench::harness {
namespace {

using nlohmann::json;

struct Event {
  checkers::OpType type;
  std::int64_t process;
  std::string function;
  std::string key;
  json value;
};

// One simulated store: the state the ops act on, and how each op is made and applied.
class SimulatedStore {
 public:
  virtual ~SimulatedStore() = default;
  virtual Event invocation(std::mt19937_64& random, std::int64_t process) = 0;
  // Applies the op atomically; returns its completion value.
  virtual json apply(const Event& invocation) = 0;
};

// Transactions of 1 to 3 micro-ops on keys a, b, c: reads, or writes of fresh values with `write_verb`.
class TransactionStore : public SimulatedStore {
 public:
  explicit TransactionStore(std::string write_verb) : write_verb_(std::move(write_verb)) {}
  Event invocation(std::mt19937_64& random, std::int64_t process) override {
    json micro_ops = json::array();
    const int length = 1 + static_cast<int>(random() % 3);
    for (int index = 0; index < length; ++index) {
      const std::string key = std::string(1, static_cast<char>('a' + random() % 3));
      if (random() % 2) {
        micro_ops.push_back(json::array({write_verb_, key, next_value_++}));
      } else {
        micro_ops.push_back(json::array({"r", key, nullptr}));
      }
    }
    return Event{checkers::OpType::invoke, process, "txn", "", micro_ops};
  }

 private:
  std::string write_verb_;
  int next_value_ = 1;
};

class ListAppendStore : public TransactionStore {
 public:
  ListAppendStore() : TransactionStore("append") {}
  json apply(const Event& invocation) override {
    json completed = invocation.value;
    for (json& micro_op : completed) {
      std::vector<int>& list = lists_[micro_op[1].get<std::string>()];
      if (micro_op[0] == "append") {
        list.push_back(micro_op[2].get<int>());
      } else {
        micro_op[2] = list;
      }
    }
    return completed;
  }

 private:
  std::map<std::string, std::vector<int>> lists_;
};

class RegisterTxnStore : public TransactionStore {
 public:
  RegisterTxnStore() : TransactionStore("w") {}
  json apply(const Event& invocation) override {
    json completed = invocation.value;
    for (json& micro_op : completed) {
      const std::string key = micro_op[1].get<std::string>();
      if (micro_op[0] == "w") {
        registers_[key] = micro_op[2];
      } else {
        micro_op[2] = registers_.contains(key) ? registers_[key] : json(nullptr);
      }
    }
    return completed;
  }

 private:
  std::map<std::string, json> registers_;
};

class BankStore : public SimulatedStore {
 public:
  Event invocation(std::mt19937_64& random, std::int64_t process) override {
    if (random() % 2) return Event{checkers::OpType::invoke, process, "read", "", nullptr};
    const int from = static_cast<int>(random() % 3), to = (from + 1 + static_cast<int>(random() % 2)) % 3;
    return Event{checkers::OpType::invoke, process, "transfer", "",
                 json{{"from", std::to_string(from)}, {"to", std::to_string(to)}, {"amount", 1 + random() % 5}}};
  }
  json apply(const Event& invocation) override {
    if (invocation.function == "read") return balances_;
    balances_[invocation.value["from"].get<std::string>()] =
        balances_[invocation.value["from"].get<std::string>()].get<int>() - invocation.value["amount"].get<int>();
    balances_[invocation.value["to"].get<std::string>()] =
        balances_[invocation.value["to"].get<std::string>()].get<int>() + invocation.value["amount"].get<int>();
    return invocation.value;
  }

 private:
  json balances_ = json{{"0", 10}, {"1", 10}, {"2", 10}};
};

class CounterStore : public SimulatedStore {
 public:
  Event invocation(std::mt19937_64& random, std::int64_t process) override {
    if (random() % 2) return Event{checkers::OpType::invoke, process, "read", "", nullptr};
    return Event{checkers::OpType::invoke, process, "add", "", static_cast<int>(random() % 7) - 2};
  }
  json apply(const Event& invocation) override {
    if (invocation.function == "read") return value_;
    value_ += invocation.value.get<int>();
    return invocation.value;
  }

 private:
  int value_ = 0;
};

class SetStore : public SimulatedStore {
 public:
  Event invocation(std::mt19937_64& random, std::int64_t process) override {
    if (random() % 3 == 0) return Event{checkers::OpType::invoke, process, "read", "", nullptr};
    return Event{checkers::OpType::invoke, process, "add", "", next_element_++};
  }
  json apply(const Event& invocation) override {
    if (invocation.function == "read") return elements_;
    elements_.push_back(invocation.value.get<int>());
    return invocation.value;
  }

 private:
  std::vector<int> elements_;
  int next_element_ = 1;
};

// A history of `operations` ops by 4 processes: each op takes effect (or not) at one
// moment between its invocation and completion; about 1 in 10 fails without effect,
// 1 in 10 ends info (with or without effect), and what is open at the end stays open.
std::vector<Event> simulate(SimulatedStore& store, std::uint64_t seed, int operations) {
  enum class Phase { idle, invoked, applied };
  struct ProcessState {
    Phase phase = Phase::idle;
    Event invocation;
    json completion_value;
    bool fails = false;
  };
  std::mt19937_64 random(seed);
  std::vector<ProcessState> processes(4);
  std::vector<Event> events;
  int invoked = 0;
  while (invoked < operations) {
    const std::int64_t process = static_cast<std::int64_t>(random() % processes.size());
    ProcessState& state = processes[process];
    if (state.phase == Phase::idle) {
      state.invocation = store.invocation(random, process);
      state.fails = random() % 10 == 0;
      state.phase = Phase::invoked;
      events.push_back(state.invocation);
      ++invoked;
    } else if (state.phase == Phase::invoked && state.fails) {
      events.push_back(Event{checkers::OpType::fail, process, state.invocation.function, "", state.invocation.value});
      state.phase = Phase::idle;
    } else if (state.phase == Phase::invoked && random() % 20 == 0) {
      // Ends info without having taken effect.
      events.push_back(Event{checkers::OpType::info, process, state.invocation.function, "", state.invocation.value});
      state.phase = Phase::idle;
    } else if (state.phase == Phase::invoked) {
      state.completion_value = store.apply(state.invocation);
      state.phase = Phase::applied;
    } else {
      const bool info = random() % 10 == 0;
      events.push_back(Event{info ? checkers::OpType::info : checkers::OpType::ok, process, state.invocation.function,
                             "", info ? state.invocation.value : state.completion_value});
      state.phase = Phase::idle;
    }
  }
  return events;
}

checkers::History history_of(const std::vector<Event>& events, std::size_t count) {
  checkers::History history;
  for (std::size_t index = 0; index < count; ++index) {
    const Event& event = events[index];
    checkers::Operation operation;
    operation.time = static_cast<std::int64_t>(index) * 1000;
    operation.process = event.process;
    operation.type = event.type;
    operation.function = history.functions.intern(event.function);
    operation.key = event.key.empty() ? 0 : history.keys.intern(event.key);
    operation.value = history.values.intern_json(event.value);
    history.operations.push_back(operation);
  }
  return history;
}

struct OnlineCase {
  std::string checker;
  std::function<std::unique_ptr<SimulatedStore>()> store;
  // An op pair that is an anomaly for this checker whatever came before: {invoke, ok}.
  std::vector<Event> anomaly;
};

std::vector<OnlineCase> online_cases() {
  constexpr std::int64_t kPlanted = 99;  // a process of its own
  using checkers::OpType;
  return {
      {"elle-list-append",
       [] { return std::make_unique<ListAppendStore>(); },
       // Two reads of one key in orders that no version order can reconcile.
       {{OpType::invoke, kPlanted, "txn", "", json::parse(R"([["r","z",null]])")},
        {OpType::ok, kPlanted, "txn", "", json::parse(R"([["r","z",[7,8]]])")},
        {OpType::invoke, kPlanted, "txn", "", json::parse(R"([["r","z",null]])")},
        {OpType::ok, kPlanted, "txn", "", json::parse(R"([["r","z",[8,7]]])")},
        {OpType::invoke, kPlanted, "txn", "", json::parse(R"([["append","z",7],["append","z",8]])")},
        {OpType::ok, kPlanted, "txn", "", json::parse(R"([["append","z",7],["append","z",8]])")}}},
      {"elle-rw-register",
       [] { return std::make_unique<RegisterTxnStore>(); },
       // A read of a value nobody wrote... then written by an aborted txn: G1a.
       {{OpType::invoke, kPlanted, "txn", "", json::parse(R"([["w","z",-5]])")},
        {OpType::fail, kPlanted, "txn", "", json::parse(R"([["w","z",-5]])")},
        {OpType::invoke, kPlanted, "txn", "", json::parse(R"([["r","z",null]])")},
        {OpType::ok, kPlanted, "txn", "", json::parse(R"([["r","z",-5]])")}}},
      {"bank",
       [] { return std::make_unique<BankStore>(); },
       {{OpType::invoke, kPlanted, "read", "", nullptr},
        {OpType::ok, kPlanted, "read", "", json{{"0", 10}, {"1", 10}, {"2", 11}}}}},
      {"counter",
       [] { return std::make_unique<CounterStore>(); },
       {{OpType::invoke, kPlanted, "read", "", nullptr}, {OpType::ok, kPlanted, "read", "", 1'000'000}}},
      {"set-linearizable",
       [] { return std::make_unique<SetStore>(); },
       // Element 1 was added (ok) before this read began, and the read misses it.
       {{OpType::invoke, kPlanted, "read", "", nullptr}, {OpType::ok, kPlanted, "read", "", json::array()}}},
  };
}

TEST(OnlineChecker, NoPrefixOfAnAtomicStoresHistoryIsInvalid) {
  for (const OnlineCase& online_case : online_cases()) {
    ASSERT_TRUE(can_check_online(online_case.checker)) << online_case.checker;
    int judged = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
      auto store = online_case.store();
      const std::vector<Event> events = simulate(*store, seed, 60);
      for (std::size_t cut = 1; cut <= events.size(); ++cut) {
        const CheckerOutcome outcome = run_checker(online_case.checker, history_of(events, cut), {});
        ASSERT_NE(outcome.verdict, checkers::Verdict::invalid)
            << online_case.checker << " seed " << seed << ", prefix of " << cut << " of " << events.size()
            << " ops: " << outcome.reason;
        judged += outcome.verdict == checkers::Verdict::valid ? 1 : 0;
      }
    }
    EXPECT_GT(judged, 1000) << online_case.checker << ": too few prefixes were judged valid to mean anything";
  }
}

TEST(OnlineChecker, FindsAPlantedAnomalyWhileTheHistoryGrows) {
  for (const OnlineCase& online_case : online_cases()) {
    auto store = online_case.store();
    std::vector<Event> events = simulate(*store, 7, 400);
    // Everything before the anomaly's completion is an atomic store's: the anomaly goes in the middle.
    events.insert(events.begin() + static_cast<std::ptrdiff_t>(events.size() / 2), online_case.anomaly.begin(),
                  online_case.anomaly.end());
    OnlineCheckOptions options;
    options.checker_names = {online_case.checker};
    options.interval = std::chrono::milliseconds(1);
    std::atomic<int> told{0};
    options.on_invalid = [&] { ++told; };
    const auto start = OnlineChecker::Clock::now();
    OnlineChecker checker(options, start);
    for (std::size_t index = 0; index < events.size(); ++index) {
      const Event& event = events[index];
      checker.observe(RecordedOperation{event.type, event.process, event.function, event.key, event.value,
                                        static_cast<std::int64_t>(index) * 1000});
      if (index % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    // Found before the end, by a pass over a prefix: no op observed after it is needed.
    for (int waited = 0; told == 0 && waited < 5000; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    checker.finish();
    const OnlineCheckResult result = checker.result();
    EXPECT_EQ(told, 1) << online_case.checker;
    EXPECT_EQ(result.verdict, checkers::Verdict::invalid) << online_case.checker << ": " << result.reason;
    EXPECT_EQ(result.checker, online_case.checker);
    EXPECT_GE(result.time_to_detection_ms, 0);
    EXPECT_EQ(result.verdict_by_checker.at(online_case.checker), checkers::Verdict::invalid);
  }
}

TEST(OnlineChecker, AValidHistoryEndsValidForEveryOnlineChecker) {
  for (const OnlineCase& online_case : online_cases()) {
    auto store = online_case.store();
    const std::vector<Event> events = simulate(*store, 11, 300);
    OnlineCheckOptions options;
    options.checker_names = {online_case.checker};
    options.interval = std::chrono::milliseconds(1);
    OnlineChecker checker(options, OnlineChecker::Clock::now());
    for (std::size_t index = 0; index < events.size(); ++index) {
      const Event& event = events[index];
      checker.observe(RecordedOperation{event.type, event.process, event.function, event.key, event.value,
                                        static_cast<std::int64_t>(index) * 1000});
    }
    checker.finish();
    const OnlineCheckResult result = checker.result();
    EXPECT_EQ(result.verdict, checkers::Verdict::valid) << online_case.checker << ": " << result.reason;
    EXPECT_EQ(result.time_to_detection_ms, -1);
    // Whole-history checkers hold every op.
    EXPECT_EQ(result.peak_operations_held, events.size()) << online_case.checker;
    // And the offline check of the same history agrees.
    EXPECT_EQ(run_checker(online_case.checker, history_of(events, events.size()), {}).verdict, checkers::Verdict::valid)
        << online_case.checker;
  }
}

TEST(OnlineChecker, TheSetCheckerStaysOffline) {
  // A later read can show an element an earlier read missed: "lost" on a prefix is not final.
  EXPECT_EQ(online_mode("set"), OnlineMode::offline_only);
  EXPECT_EQ(online_mode("set-full"), OnlineMode::offline_only);
  EXPECT_EQ(online_mode("linearizable"), OnlineMode::per_key);
  EXPECT_EQ(online_mode("list-append"), OnlineMode::whole_history);
}

}  // namespace
}  // namespace chaosbench::harness
