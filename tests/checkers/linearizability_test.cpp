#include "chaosbench/checkers/linearizability.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>

#include "chaosbench/checkers/errors.h"
#include "history_builder.h"
#include "register_simulation.h"

namespace chaosbench::checkers {
namespace {

using testing::HistoryBuilder;
using json = nlohmann::json;

LinearizabilityOptions register_options(NilRead nil_read = NilRead::absent) {
  LinearizabilityOptions options;
  options.model.kind = ModelKind::cas_register;
  options.model.nil_read = nil_read;
  options.threads = 1;
  return options;
}

// For tests of the search itself: histories with distinct written values would
// otherwise be decided from their reads without searching.
LinearizabilityOptions search_only_options(NilRead nil_read = NilRead::absent) {
  LinearizabilityOptions options = register_options(nil_read);
  options.decide_unique_writes_from_reads = false;
  return options;
}

Verdict check(const History& history, const LinearizabilityOptions& options) {
  return check_linearizability(history, options).verdict;
}

TEST(Linearizability, SequentialRegisterIsValid) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1).invoke(1, "read").ok(1, "read", 1);
  builder.invoke(0, "cas", json::array({1, 2})).ok(0, "cas", json::array({1, 2}));
  builder.invoke(1, "read").ok(1, "read", 2);
  EXPECT_EQ(check(builder.history(), register_options()), Verdict::valid);
}

TEST(Linearizability, StaleReadIsInvalidWithEvidence) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(0, "write", 2).ok(0, "write", 2);
  builder.invoke(2, "write", 3);  // concurrent with the stale read, never completes
  builder.invoke(1, "read").ok(1, "read", 1);
  builder.invoke(3, "read").ok(3, "read", 3);
  LinearizabilityResult result = check_linearizability(builder.history(), search_only_options());
  ASSERT_EQ(result.verdict, Verdict::invalid);
  ASSERT_EQ(result.reports.size(), 1u);
  const PartitionReport& report = result.reports[0];
  EXPECT_FALSE(report.decided_from_reads);
  EXPECT_EQ(report.blocking_invocation, 5u);
  EXPECT_NE(report.blocking_operation.find("read -> 1"), std::string::npos) << report.blocking_operation;
  EXPECT_EQ(report.concurrent_invocations, std::vector<std::uint32_t>{4});  // not the later read
  // Before the read the register holds 2 (or 3, if the unfinished write took effect).
  EXPECT_EQ(report.states_before, (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(report.longest_prefix, (std::vector<std::uint32_t>{0, 2, 4}));
  json encoded = to_json(result);
  EXPECT_EQ(encoded["verdict"], "invalid");
  EXPECT_EQ(encoded["anomalies"][0]["blocking_index"], 5);
  EXPECT_NE(describe(result, builder.history()).find("possible states just before it: 2, 3"), std::string::npos);
}

TEST(Linearizability, InfoWriteMayTakeEffectLaterOrNever) {
  // Each starts with an acknowledged write of 0 (a history with no acknowledged
  // update has nothing to judge).
  HistoryBuilder later;
  later.invoke(2, "write", 0).ok(2, "write", 0);
  later.invoke(0, "write", 1).info(0, "write");
  later.invoke(1, "read").ok(1, "read", 0);
  later.invoke(1, "read").ok(1, "read", 1);
  EXPECT_EQ(check(later.history(), register_options()), Verdict::valid);

  HistoryBuilder never;
  never.invoke(2, "write", 0).ok(2, "write", 0);
  never.invoke(0, "write", 1).info(0, "write");
  never.invoke(1, "read").ok(1, "read", 0);
  EXPECT_EQ(check(never.history(), register_options()), Verdict::valid);

  HistoryBuilder taken_back;  // once seen, a value cannot disappear
  taken_back.invoke(2, "write", 0).ok(2, "write", 0);
  taken_back.invoke(0, "write", 1).info(0, "write");
  taken_back.invoke(1, "read").ok(1, "read", 1);
  taken_back.invoke(1, "read").ok(1, "read", 0);
  EXPECT_EQ(check(taken_back.history(), register_options()), Verdict::invalid);
}

TEST(Linearizability, UnobservedTimedOutWritesAreDropped) {
  HistoryBuilder builder;
  for (int process = 0; process < 30; ++process) builder.invoke(process, "write", process);
  for (int process = 0; process < 30; ++process) builder.info(process, "write");
  builder.invoke(100, "write", 7).invoke(101, "cas", json::array({7, 8})).ok(100, "write", 7);
  builder.info(101, "cas");
  builder.invoke(102, "read").ok(102, "read", 3);
  LinearizabilityResult result = check_linearizability(builder.history(), register_options());
  EXPECT_EQ(result.verdict, Verdict::valid);
  EXPECT_EQ(result.operations, 3u);  // the observed info write 3, the ok write 7, the read
}

// A delete is a write of null (the key absent again): a value read after a
// completed delete, with no later write of it, came back from the dead.
TEST(Linearizability, DeleteMakesTheKeyAbsentAndADeletedValueMayNotReturn) {
  HistoryBuilder valid;
  valid.invoke(0, "write", 1).ok(0, "write", 1);
  valid.invoke(0, "delete", nullptr).ok(0, "delete", nullptr);
  valid.invoke(1, "read").ok(1, "read", nullptr);
  valid.invoke(0, "write", 2).ok(0, "write", 2);
  valid.invoke(1, "read").ok(1, "read", 2);
  EXPECT_EQ(check(valid.history(), register_options()), Verdict::valid);

  HistoryBuilder resurrected;
  resurrected.invoke(0, "write", 1).ok(0, "write", 1);
  resurrected.invoke(0, "delete", nullptr).ok(0, "delete", nullptr);
  resurrected.invoke(1, "read").ok(1, "read", nullptr);
  resurrected.invoke(1, "read").ok(1, "read", 1);
  EXPECT_EQ(check(resurrected.history(), register_options()), Verdict::invalid);

  HistoryBuilder unknown_delete;  // a timed-out delete whose effect a read saw is kept
  unknown_delete.invoke(0, "write", 1).ok(0, "write", 1);
  unknown_delete.invoke(0, "delete", nullptr).info(0, "delete");
  unknown_delete.invoke(1, "read").ok(1, "read", nullptr);
  EXPECT_EQ(check(unknown_delete.history(), register_options()), Verdict::valid);
}

TEST(Linearizability, FailedOpsNeverTakeEffect) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).fail(0, "write", 1);
  builder.invoke(1, "read").ok(1, "read", 1);
  EXPECT_EQ(check(builder.history(), register_options()), Verdict::invalid);
}

TEST(Linearizability, NilReadConventions) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 5).ok(0, "write", 5);
  builder.invoke(1, "read").ok(1, "read", nullptr);
  EXPECT_EQ(check(builder.history(), register_options(NilRead::absent)), Verdict::invalid);
  EXPECT_EQ(check(builder.history(), register_options(NilRead::any)), Verdict::valid);

  HistoryBuilder initial;
  initial.invoke(0, "read").ok(0, "read", 0);
  initial.invoke(0, "write", 1).ok(0, "write", 1).invoke(0, "read").ok(0, "read", 1);  // something to judge
  History history = initial.take();
  LinearizabilityOptions options = register_options(NilRead::any);
  EXPECT_EQ(check(history, options), Verdict::invalid);  // initial state nil, and 0 was never written
  options.model.initial = history.values.intern_int(0);  // --initial 0
  EXPECT_EQ(check(history, options), Verdict::valid);
}

TEST(Linearizability, PartitionsByKeyAndReportsTheBadKey) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1, "a").ok(0, "write", 1, "a");
  builder.invoke(1, "write", 1, "b").ok(1, "write", 1, "b");
  builder.invoke(0, "read", nullptr, "a").ok(0, "read", 1, "a");
  builder.invoke(1, "read", nullptr, "b").ok(1, "read", 2, "b");
  LinearizabilityResult result = check_linearizability(builder.history(), register_options());
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(result.partitions, 2u);
  ASSERT_EQ(result.reports.size(), 1u);
  EXPECT_EQ(result.reports[0].key, "b");
  EXPECT_EQ(result.reason.rfind("key b: ", 0), 0u) << result.reason;

  LinearizabilityOptions unpartitioned = register_options();
  unpartitioned.partition_by_key = false;
  result = check_linearizability(builder.history(), unpartitioned);
  EXPECT_EQ(result.verdict, Verdict::invalid);
  EXPECT_EQ(result.partitions, 1u);
}

TEST(Linearizability, KvModelAppendsAndGets) {
  LinearizabilityOptions options;
  options.model.kind = ModelKind::kv;
  HistoryBuilder builder;
  builder.invoke(0, "append", "x", "k").invoke(1, "append", "y", "k");
  builder.ok(0, "append", "x", "k").ok(1, "append", "y", "k");
  builder.invoke(2, "get", nullptr, "k").ok(2, "get", "yx", "k");
  builder.invoke(2, "put", "z", "j").ok(2, "put", "z", "j");
  builder.invoke(2, "get", nullptr, "j").ok(2, "get", "z", "j");
  builder.invoke(2, "get", nullptr, "fresh").ok(2, "get", "", "fresh");
  EXPECT_EQ(check(builder.history(), options), Verdict::valid);
  options.partition_by_key = false;
  EXPECT_EQ(check(builder.history(), options), Verdict::valid);
  builder.invoke(3, "get", nullptr, "k").ok(3, "get", "xy", "k");
  options.partition_by_key = true;
  EXPECT_EQ(check(builder.history(), options), Verdict::invalid);
  options.partition_by_key = false;
  EXPECT_EQ(check(builder.history(), options), Verdict::invalid);
}

TEST(Linearizability, MutexModel) {
  LinearizabilityOptions options;
  options.model.kind = ModelKind::mutex;
  HistoryBuilder valid;
  valid.invoke(0, "acquire").ok(0, "acquire").invoke(1, "acquire").invoke(0, "release").ok(0, "release");
  valid.ok(1, "acquire");
  EXPECT_EQ(check(valid.history(), options), Verdict::valid);
  HistoryBuilder invalid;
  invalid.invoke(0, "acquire").ok(0, "acquire").invoke(1, "acquire").ok(1, "acquire");
  EXPECT_EQ(check(invalid.history(), options), Verdict::invalid);
}

TEST(Linearizability, RejectsFunctionsOutsideTheModel) {
  HistoryBuilder builder;
  builder.invoke(0, "enqueue", 1).ok(0, "enqueue", 1);
  try {
    check(builder.history(), register_options());
    FAIL() << "expected HistoryError";
  } catch (const HistoryError& error) {
    EXPECT_STREQ(error.what(), "op 0: field 'f': model cas-register has no operation 'enqueue'");
  }
  HistoryBuilder bad_cas;
  bad_cas.invoke(0, "cas", 3).ok(0, "cas", 3);
  EXPECT_THROW(check(bad_cas.history(), register_options()), HistoryError);
}

// Many concurrent writes followed by a read of a value nobody wrote: the search
// must try every order of every subset of the writes, far beyond these limits.
History exponential_history(int writers) {
  HistoryBuilder builder;
  for (int process = 0; process < writers; ++process) builder.invoke(process, "write", process);
  for (int process = 0; process < writers; ++process) builder.ok(process, "write", process);
  builder.invoke(1000, "read").ok(1000, "read", -1);
  return builder.take();
}

TEST(Linearizability, TimeLimitGivesUnknown) {
  LinearizabilityOptions options = search_only_options();
  options.time_limit = std::chrono::milliseconds(50);
  LinearizabilityResult result = check_linearizability(exponential_history(40), options);
  EXPECT_EQ(result.verdict, Verdict::unknown);
  EXPECT_NE(result.reason.find("time limit"), std::string::npos) << result.reason;
}

// Two keys no search can finish (smaller than the others, so searched first) and
// 100 easy keys: the hard ones must not take the whole time limit from the rest.
TEST(Linearizability, HardKeysDoNotStarveTheEasyOnes) {
  HistoryBuilder builder;
  for (const char* key : {"hard-1", "hard-2"}) {
    for (int process = 0; process < 30; ++process) builder.invoke(process, "write", process, key);
    for (int process = 0; process < 30; ++process) builder.ok(process, "write", process, key);
    builder.invoke(1000, "read", nullptr, key).ok(1000, "read", -1, key);
  }
  for (int key = 0; key < 100; ++key) {
    const std::string name = fmt::format("easy-{}", key);
    for (int step = 0; step < 20; ++step) {
      builder.invoke(2000, "write", step, name).ok(2000, "write", step, name);
      builder.invoke(2001, "read", nullptr, name).ok(2001, "read", step, name);
    }
  }
  LinearizabilityOptions options = search_only_options();
  options.partition_by_key = true;
  options.threads = 2;
  options.time_limit = std::chrono::seconds(3);
  LinearizabilityResult result = check_linearizability(builder.history(), options);
  EXPECT_EQ(result.verdict, Verdict::unknown);
  EXPECT_EQ(result.linearizable_partitions.size(), 100u) << result.reason;
  ASSERT_EQ(result.reports.size(), 2u);
  for (const PartitionReport& report : result.reports) {
    EXPECT_EQ(report.key.rfind("hard-", 0), 0u) << report.key;
    EXPECT_NE(report.reason.find("time limit reached after"), std::string::npos) << report.reason;
    EXPECT_GT(report.states_explored, 1000u) << report.reason;
  }
}

TEST(Linearizability, MemoryLimitGivesUnknown) {
  LinearizabilityOptions options = search_only_options();
  options.memory_limit_bytes = 1 << 20;
  LinearizabilityResult result = check_linearizability(exponential_history(40), options);
  EXPECT_EQ(result.verdict, Verdict::unknown);
  EXPECT_NE(result.reason.find("memory limit"), std::string::npos) << result.reason;
}

// ---- Brute force: an independent oracle for small histories -----------------

struct BruteOp {
  std::string function;
  json argument;  // read: value read; write: value; cas: [expected, new]
  std::size_t invocation = 0;
  std::size_t completion = SIZE_MAX;  // SIZE_MAX: may take effect any time after invocation
  bool required = true;               // ok ops must take effect; info ops may or may not
};

// Tries every subset of the optional ops and every order consistent with real time.
bool brute_force_linearizable(const std::vector<BruteOp>& ops, NilRead nil_read, const json& initial) {
  const std::size_t count = ops.size();
  std::vector<std::size_t> optional;
  for (std::size_t index = 0; index < count; ++index) {
    if (!ops[index].required) optional.push_back(index);
  }
  for (std::uint32_t subset = 0; subset < (1u << optional.size()); ++subset) {
    std::vector<bool> included(count, true);
    for (std::size_t bit = 0; bit < optional.size(); ++bit) included[optional[bit]] = (subset >> bit) & 1;
    std::vector<bool> done(count, false);
    std::function<bool(const json&, std::size_t)> search = [&](const json& state, std::size_t left) -> bool {
      if (left == 0) return true;
      for (std::size_t candidate = 0; candidate < count; ++candidate) {
        if (!included[candidate] || done[candidate]) continue;
        bool blocked = false;  // some unplaced op finished before this one started
        for (std::size_t other = 0; other < count && !blocked; ++other) {
          blocked = included[other] && !done[other] && other != candidate &&
                    ops[other].completion < ops[candidate].invocation;
        }
        if (blocked) continue;
        const BruteOp& op = ops[candidate];
        json next = state;
        if (op.function == "read") {
          bool matches = op.argument == state || (op.argument.is_null() && nil_read == NilRead::any);
          if (!matches) continue;
        } else if (op.function == "write") {
          next = op.argument;
        } else if (op.argument[0] == state) {
          next = op.argument[1];
        } else {
          continue;  // a cas that took effect succeeded; one that failed is the same as not included
        }
        done[candidate] = true;
        bool found = search(next, left - 1);
        done[candidate] = false;
        if (found) return true;
      }
      return false;
    };
    std::size_t left = std::count(included.begin(), included.end(), true);
    if (search(nil_read == NilRead::any ? initial : json(nullptr), left)) return true;
  }
  return false;
}

struct SmallHistory {
  History history;
  std::vector<BruteOp> brute_ops;
};

// Random small register history: up to `max_ops` invocations over 2-4 processes,
// with ok, fail, info and missing completions and values drawn from {nil, 0, 1, 2}.
// With unique_writes, every write and cas writes a fresh value (from 10 on) and
// reads and cas expect nil or a value some op wrote (rarely one written later).
SmallHistory random_small_history(std::mt19937_64& random, int max_ops, bool unique_writes = false) {
  SmallHistory result;
  HistoryBuilder builder;
  int processes = std::uniform_int_distribution<int>(2, 4)(random);
  int op_count = std::uniform_int_distribution<int>(1, max_ops)(random);
  auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  int next_unique = 10;
  auto random_value = [&]() -> json {
    if (unique_writes) {
      int choice = pick(9, next_unique);  // 9: nil; next_unique: not written yet
      return choice == 9 ? json(nullptr) : json(choice);
    }
    int choice = pick(-1, 2);
    return choice < 0 ? json(nullptr) : json(choice);
  };
  std::vector<std::int64_t> process_id(processes);
  for (int process = 0; process < processes; ++process) process_id[process] = process;
  std::int64_t next_process = processes;
  std::vector<int> pending(processes, -1);  // index into brute_ops
  std::size_t position = 0;
  int invoked = 0;
  while (true) {
    std::vector<int> choices;
    for (int process = 0; process < processes; ++process) {
      if (pending[process] >= 0 || invoked < op_count) choices.push_back(process);
    }
    if (choices.empty()) break;
    int process = choices[pick(0, static_cast<int>(choices.size()) - 1)];
    if (pending[process] < 0) {
      BruteOp op;
      int function = pick(0, 2);
      op.function = function == 0 ? "read" : function == 1 ? "write" : "cas";
      json value = nullptr;
      if (op.function == "write") value = unique_writes ? json(next_unique++) : json(pick(0, 2));
      if (op.function == "cas") {
        value = unique_writes ? json::array({random_value(), next_unique++}) : json::array({pick(0, 2), pick(0, 2)});
      }
      op.argument = value;
      op.invocation = position++;
      builder.invoke(process_id[process], op.function, value);
      pending[process] = static_cast<int>(result.brute_ops.size());
      result.brute_ops.push_back(op);
      ++invoked;
      continue;
    }
    BruteOp& op = result.brute_ops[pending[process]];
    int outcome = pick(0, 9);
    if (outcome == 0 && invoked >= op_count) {  // leave it without a completion
      pending[process] = -1;
      op.required = false;
      continue;
    }
    if (outcome <= 1) {
      builder.info(process_id[process], op.function);
      op.required = false;
      process_id[process] = next_process++;
      if (op.function == "read") op.argument = "unknown read";  // matches nothing: never included usefully
    } else if (outcome == 2) {
      builder.fail(process_id[process], op.function, op.argument);
      op.required = false;
      op.function = "failed";
    } else {
      if (op.function == "read") op.argument = random_value();
      builder.ok(process_id[process], op.function, op.argument);
      op.completion = position;
    }
    ++position;
    pending[process] = -1;
  }
  // Last, a fresh process writes a fresh value and reads it back, so the checker
  // always has something to judge; that changes no verdict (both can go last).
  builder.invoke(next_process, "write", 3).ok(next_process, "write", 3);
  builder.invoke(next_process, "read").ok(next_process, "read", 3);
  result.brute_ops.push_back(BruteOp{"write", 3, position, position + 1});
  result.brute_ops.push_back(BruteOp{"read", 3, position + 2, position + 3});
  // Failed ops never happen: drop them from the oracle's list.
  std::erase_if(result.brute_ops, [](const BruteOp& op) { return op.function == "failed"; });
  result.history = builder.take();
  return result;
}

TEST(LinearizabilityRandomised, AgreesWithBruteForceOnThousandsOfSmallHistories) {
  for (NilRead nil_read : {NilRead::absent, NilRead::any}) {
    std::mt19937_64 random(nil_read == NilRead::absent ? 20261126 : 7);
    int invalid = 0, valid = 0;
    for (int round = 0; round < 3000; ++round) {
      SmallHistory small = random_small_history(random, 8);
      LinearizabilityOptions options = register_options(nil_read);
      bool expected = brute_force_linearizable(small.brute_ops, nil_read, nullptr);
      Verdict verdict = check(small.history, options);
      ASSERT_EQ(verdict, expected ? Verdict::valid : Verdict::invalid)
          << "round " << round << " nil-read " << to_string(nil_read);
      (expected ? valid : invalid)++;
    }
    // The generator must produce both answers in quantity, or the comparison proves little.
    std::printf("nil-read %s: %d valid, %d invalid\n", std::string(to_string(nil_read)).c_str(), valid, invalid);
    EXPECT_GT(valid, 300);
    EXPECT_GT(invalid, 300);
  }
}

// Larger than the brute force can do: the pruned search (reads taken at once,
// dominated ops skipped) and the search that tries every order agree, on
// simulated histories with repeating values (valid) and with one read changed.
TEST(LinearizabilityRandomised, PrunedSearchAgreesWithTheFullSearch) {
  int invalid = 0, valid = 0, undecided = 0;
  for (std::uint64_t seed = 1; seed <= 500; ++seed) {
    testing::RegisterSimulationOptions simulation;
    simulation.seed = seed;
    simulation.processes = 3 + static_cast<int>(seed % 5);
    simulation.operations = 60 + seed % 90;
    simulation.value_count = 2 + static_cast<int>(seed % 3);
    simulation.info_probability = 0.05;
    History history = testing::simulate_register_history(simulation);
    std::vector<std::uint32_t> read_completions;
    for (const OperationPair& pair : pair_operations(history)) {
      if (pair.outcome == OpType::ok && history.function_name(history.operations[pair.invocation]) == "read") {
        read_completions.push_back(pair.completion);
      }
    }
    for (int variant = 0; variant < 5; ++variant) {
      History checked = history;
      if (variant > 0 && !read_completions.empty()) {
        std::uint32_t target = read_completions[(seed * 31 + variant * 17) % read_completions.size()];
        checked.operations[target].value = checked.values.intern_int(
            static_cast<std::int64_t>((seed + variant) % static_cast<std::uint64_t>(simulation.value_count)));
      }
      LinearizabilityOptions full = register_options();
      full.prune_equivalent_orders = false;
      full.time_limit = std::chrono::seconds(2);
      Verdict expected = check(checked, full);
      if (expected == Verdict::unknown) {
        ++undecided;
        continue;
      }
      LinearizabilityResult pruned = check_linearizability(checked, register_options());
      ASSERT_EQ(pruned.verdict, expected) << "seed " << seed << " variant " << variant << ": " << pruned.reason;
      if (variant == 0) {
        ASSERT_EQ(expected, Verdict::valid) << "seed " << seed;
      }
      (expected == Verdict::valid ? valid : invalid)++;
    }
  }
  std::printf("repeating values: %d valid, %d invalid, %d too hard for the full search\n", valid, invalid, undecided);
  EXPECT_GT(valid, 600);
  EXPECT_GT(invalid, 300);
}

// Distinct written values: the reads-from decision, the search and the brute
// force agree on every history, and the decision is the one that answered.
TEST(LinearizabilityRandomised, ReadsFromDecisionAgreesWithSearchAndBruteForce) {
  for (NilRead nil_read : {NilRead::absent, NilRead::any}) {
    std::mt19937_64 random(nil_read == NilRead::absent ? 20261207 : 11);
    int invalid = 0, valid = 0;
    for (int round = 0; round < 4000; ++round) {
      SmallHistory small = random_small_history(random, 9, true);
      bool expected = brute_force_linearizable(small.brute_ops, nil_read, nullptr);
      LinearizabilityResult decided = check_linearizability(small.history, register_options(nil_read));
      Verdict searched = check(small.history, search_only_options(nil_read));
      Verdict want = expected ? Verdict::valid : Verdict::invalid;
      ASSERT_EQ(decided.verdict, want) << "round " << round << " nil-read " << to_string(nil_read) << ": "
                                       << decided.reason;
      ASSERT_EQ(searched, want) << "round " << round;
      ASSERT_EQ(decided.partitions_decided_from_reads, 1u) << "round " << round;
      (expected ? valid : invalid)++;
    }
    std::printf("unique writes, nil-read %s: %d valid, %d invalid\n", std::string(to_string(nil_read)).c_str(), valid,
                invalid);
    EXPECT_GT(valid, 400);
    EXPECT_GT(invalid, 400);
  }
}

TEST(ReadsFrom, DecidesHistoriesTheSearchCannot) {
  // 40 concurrent writes of distinct values: 2^40 orders for the search.
  LinearizabilityResult never_written = check_linearizability(exponential_history(40), register_options());
  EXPECT_EQ(never_written.verdict, Verdict::invalid);
  EXPECT_NE(never_written.reason.find("read -> -1 (ok) read -1, which no operation wrote"), std::string::npos)
      << never_written.reason;
  HistoryBuilder builder;
  for (int process = 0; process < 40; ++process) builder.invoke(process, "write", process);
  for (int process = 0; process < 40; ++process) builder.ok(process, "write", process);
  builder.invoke(1000, "read").ok(1000, "read", 17);
  LinearizabilityResult valid = check_linearizability(builder.history(), register_options());
  EXPECT_EQ(valid.verdict, Verdict::valid) << valid.reason;
  EXPECT_EQ(valid.partitions_decided_from_reads, 1u);
  EXPECT_EQ(to_json(valid)["partitions_decided_from_reads"], 1);
}

TEST(ReadsFrom, StaleReadNamesTheOpsThatOrderTheValues) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1);  // ops 0-1
  builder.invoke(0, "write", 2).ok(0, "write", 2);  // ops 2-3
  builder.invoke(2, "write", 3);                    // op 4, never completes
  builder.invoke(1, "read").ok(1, "read", 1);       // ops 5-6: stale
  builder.invoke(3, "read").ok(3, "read", 3);
  LinearizabilityResult result = check_linearizability(builder.history(), register_options());
  ASSERT_EQ(result.verdict, Verdict::invalid);
  ASSERT_EQ(result.reports.size(), 1u);
  const PartitionReport& report = result.reports[0];
  EXPECT_TRUE(report.decided_from_reads);
  EXPECT_EQ(report.blocking_invocation, 5u);
  EXPECT_EQ(report.concurrent_invocations, std::vector<std::uint32_t>{4});
  EXPECT_EQ(report.reason,
            "op 5: process 1 read -> 1 (ok) needs value 1, but op 2: process 0 write 2 (ok) ended before it began, "
            "and that needs value 2, which came after value 1 (op 0: process 0 write 1 (ok) ended before op 2: "
            "process 0 write 2 (ok) began)");
}

TEST(ReadsFrom, EachWayAHistoryCanContradictItsReads) {
  struct Case {
    const char* name;
    std::function<void(HistoryBuilder&)> build;
    Verdict verdict;
    const char* reason_part;
  };
  const std::vector<Case> cases = {
      {"initial value read after a write ended",
       [](HistoryBuilder& b) { b.invoke(0, "write", 1).ok(0, "write", 1).invoke(1, "read").ok(1, "read", nullptr); },
       Verdict::invalid, "the initial value was there first"},
      {"read ended before its write began",
       [](HistoryBuilder& b) { b.invoke(1, "read").ok(1, "read", 1).invoke(0, "write", 1).ok(0, "write", 1); },
       Verdict::invalid, "the only write of its value, began"},
      {"cas chain",
       [](HistoryBuilder& b) {
         b.invoke(0, "write", 1).ok(0, "write", 1);
         b.invoke(0, "cas", json::array({1, 2})).ok(0, "cas", json::array({1, 2}));
         b.invoke(1, "cas", json::array({2, 3})).invoke(2, "read").ok(2, "read", 3).ok(1, "cas", json::array({2, 3}));
       },
       Verdict::valid, ""},
      {"two cas expecting one value",
       [](HistoryBuilder& b) {
         b.invoke(0, "write", 1).ok(0, "write", 1);
         b.invoke(0, "cas", json::array({1, 2})).ok(0, "cas", json::array({1, 2}));
         b.invoke(1, "cas", json::array({1, 3})).ok(1, "cas", json::array({1, 3}));
       },
       Verdict::invalid, "both expected 1"},
      {"cas loop",
       [](HistoryBuilder& b) {
         b.invoke(0, "cas", json::array({1, 2})).invoke(1, "cas", json::array({2, 1}));
         b.ok(0, "cas", json::array({1, 2})).ok(1, "cas", json::array({2, 1}));
       },
       Verdict::invalid, "loop of values"},
      {"cas expecting a value never written",
       [](HistoryBuilder& b) {
         b.invoke(0, "cas", json::array({7, 2})).ok(0, "cas", json::array({7, 2}));
       },
       Verdict::invalid, "expected 7, which no operation wrote"},
      {"timed-out cas whose value was read took effect",
       [](HistoryBuilder& b) {
         b.invoke(0, "write", 1).ok(0, "write", 1);
         b.invoke(1, "cas", json::array({1, 2})).info(1, "cas");
         b.invoke(2, "read").ok(2, "read", 2);
       },
       Verdict::valid, ""},
      {"timed-out cas read before the value it expected",
       [](HistoryBuilder& b) {
         b.invoke(1, "cas", json::array({1, 2})).info(1, "cas");
         b.invoke(2, "read").ok(2, "read", 2);
         b.invoke(0, "write", 1).ok(0, "write", 1);
       },
       Verdict::invalid, "needs value 2"},
      {"read of an unread timed-out write's predecessor",
       [](HistoryBuilder& b) {
         b.invoke(0, "write", 1).ok(0, "write", 1);
         b.invoke(1, "write", 2).info(1, "write");  // never read: may never have happened
         b.invoke(2, "read").ok(2, "read", 1);
       },
       Verdict::valid, ""},
      {"a later cas's read ended before an earlier value was read",
       [](HistoryBuilder& b) {
         b.invoke(0, "write", 1).ok(0, "write", 1);
         b.invoke(1, "cas", json::array({1, 2})).invoke(3, "read");
         b.ok(3, "read", 2).invoke(2, "read").ok(2, "read", 1).ok(1, "cas", json::array({1, 2}));
       },
       Verdict::invalid, "which cas operations made from value 1 afterwards"},
  };
  for (const Case& test : cases) {
    HistoryBuilder builder;
    test.build(builder);
    LinearizabilityResult result = check_linearizability(builder.history(), register_options());
    EXPECT_EQ(result.verdict, test.verdict) << test.name << ": " << result.reason;
    EXPECT_EQ(result.partitions_decided_from_reads, 1u) << test.name;
    EXPECT_NE(result.reason.find(test.reason_part), std::string::npos) << test.name << ": " << result.reason;
    // The search agrees.
    EXPECT_EQ(check(builder.history(), search_only_options()), test.verdict) << test.name;
  }
}

TEST(ReadsFrom, RepeatedValuesGoToTheSearch) {
  HistoryBuilder builder;
  builder.invoke(0, "write", 1).ok(0, "write", 1).invoke(0, "write", 1).ok(0, "write", 1);
  builder.invoke(1, "read").ok(1, "read", 1);
  LinearizabilityResult result = check_linearizability(builder.history(), register_options());
  EXPECT_EQ(result.verdict, Verdict::valid);
  EXPECT_EQ(result.partitions_decided_from_reads, 0u);
  HistoryBuilder deletes;  // a write of nil writes the initial value again
  deletes.invoke(0, "write", 1).ok(0, "write", 1).invoke(0, "write", nullptr).ok(0, "write", nullptr);
  deletes.invoke(1, "read").ok(1, "read", nullptr);
  result = check_linearizability(deletes.history(), register_options());
  EXPECT_EQ(result.verdict, Verdict::valid);
  EXPECT_EQ(result.partitions_decided_from_reads, 0u);
}

// Positions of ok reads, and writes that completed ok, per key (for mutations).
struct CompletedWrite {
  std::uint32_t invocation, completion;
  Value value;
};

TEST(LinearizabilityRandomised, LargeSimulatedHistoriesAreValidAndMutationsInvalid) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    testing::RegisterSimulationOptions simulation;
    simulation.seed = seed;
    simulation.processes = 3 + static_cast<int>(seed % 6);
    simulation.operations = 2000;
    simulation.info_probability = 0.005;
    simulation.keys = 1 + static_cast<int>(seed % 4);
    History history = testing::simulate_register_history(simulation);
    LinearizabilityOptions options = register_options();
    options.threads = 2;
    options.time_limit = std::chrono::seconds(20);  // a failure shows as unknown, not a hang
    LinearizabilityResult result = check_linearizability(history, options);
    ASSERT_EQ(result.verdict, Verdict::valid) << "seed " << seed << ": " << result.reason;

    // Mutation 1: one ok read returns a value nobody wrote.
    std::vector<std::uint32_t> ok_reads;
    auto pairs = pair_operations(history);
    for (const auto& pair : pairs) {
      if (pair.outcome == OpType::ok && history.function_name(history.operations[pair.invocation]) == "read") {
        ok_reads.push_back(pair.completion);
      }
    }
    ASSERT_FALSE(ok_reads.empty());
    History never_written = history;
    std::uint32_t target = ok_reads[seed * 7919 % ok_reads.size()];
    never_written.operations[target].value = never_written.values.intern_int(-42);
    result = check_linearizability(never_written, options);
    ASSERT_EQ(result.verdict, Verdict::invalid) << "seed " << seed;

    // Mutation 2: a stale read: the value of a write that a later write had
    // strictly overwritten before the read began (values are unique per key).
    bool mutated = false;
    for (auto read = pairs.rbegin(); read != pairs.rend() && !mutated; ++read) {
      const Operation& invocation = history.operations[read->invocation];
      if (read->outcome != OpType::ok || history.function_name(invocation) != "read") continue;
      std::optional<CompletedWrite> newer, older;
      for (const auto& pair : pairs) {
        const Operation& write = history.operations[pair.invocation];
        if (pair.outcome != OpType::ok || write.key != invocation.key || history.function_name(write) != "write")
          continue;
        if (pair.completion >= read->invocation) continue;
        if (!newer || pair.invocation > newer->completion) {
          older = newer;
          newer = CompletedWrite{pair.invocation, pair.completion, write.value};
        }
      }
      if (!older || !(older->completion < newer->invocation)) continue;
      History stale = history;
      stale.operations[read->completion].value = older->value;
      result = check_linearizability(stale, options);
      ASSERT_EQ(result.verdict, Verdict::invalid) << "seed " << seed << " read " << read->invocation;
      mutated = true;
    }
    EXPECT_TRUE(mutated) << "seed " << seed << ": no stale-read candidate";
  }
}

}  // namespace
}  // namespace chaosbench::checkers
