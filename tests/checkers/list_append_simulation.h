// Test and benchmark helper: list-append txn histories from a simulated
// strictly serializable store. Each txn takes effect atomically at one instant
// between its invocation and completion; some end in info (applied or not) and
// some fail (not applied). Keys rotate (Elle's generator): a key is retired after
// `max_appends_per_key` appends, so read lists stay short. Appended values are
// unique per key.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers::testing {

struct ListAppendSimulationOptions {
  std::uint64_t seed = 1;
  int processes = 10;
  std::size_t transactions = 1000;
  int active_keys = 3;
  int max_appends_per_key = 32;
  int max_txn_length = 4;
  double info_probability = 0.01;
  double fail_probability = 0.01;
};

inline History simulate_list_append_history(const ListAppendSimulationOptions& options) {
  History history;
  history.operations.reserve(options.transactions * 2);
  std::mt19937_64 random(options.seed);
  auto uniform = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  auto chance = [&](double probability) { return std::uniform_real_distribution<double>(0, 1)(random) < probability; };
  const std::uint32_t txn_function = history.functions.intern("txn");

  std::vector<std::vector<std::int64_t>> lists;  // key -> committed list
  std::vector<int> appends_to_key;
  std::vector<int> active;
  int next_key = 0;
  for (int index = 0; index < options.active_keys; ++index) {
    active.push_back(next_key++);
    lists.emplace_back();
    appends_to_key.push_back(0);
  }
  std::int64_t next_element = 1;

  struct Pending {
    bool busy = false;
    bool applied = false;
    nlohmann::json invocation;
    nlohmann::json result;
    std::int64_t process = 0;
  };
  std::vector<Pending> slots(options.processes);
  for (int slot = 0; slot < options.processes; ++slot) slots[slot].process = slot;
  std::int64_t next_process = options.processes;
  std::size_t invoked = 0;
  std::int64_t time = 0;

  auto emit = [&](OpType type, std::int64_t process, const nlohmann::json& value) {
    Operation op;
    op.type = type;
    op.process = process;
    op.function = txn_function;
    op.value = history.values.intern_json(value);
    op.time = time++;
    history.operations.push_back(op);
  };
  auto apply = [&](Pending& pending) {
    pending.result = nlohmann::json::array();
    for (const auto& mop : pending.invocation) {
      int key = mop[1].get<int>();
      if (mop[0] == "append") {
        lists[key].push_back(mop[2].get<std::int64_t>());
        pending.result.push_back(mop);
      } else {
        pending.result.push_back(nlohmann::json::array({"r", key, lists[key]}));
      }
    }
    pending.applied = true;
  };
  auto busy_count = [&] {
    int count = 0;
    for (const Pending& pending : slots) count += pending.busy;
    return count;
  };

  while (invoked < options.transactions || busy_count() > 0) {
    int slot = uniform(0, options.processes - 1);
    Pending& pending = slots[slot];
    if (!pending.busy) {
      if (invoked >= options.transactions) continue;
      pending.invocation = nlohmann::json::array();
      int length = uniform(1, options.max_txn_length);
      for (int step = 0; step < length; ++step) {
        int index = uniform(0, static_cast<int>(active.size()) - 1);
        int key = active[index];
        if (chance(0.5)) {
          pending.invocation.push_back(nlohmann::json::array({"append", key, next_element++}));
          if (++appends_to_key[key] >= options.max_appends_per_key) {
            active[index] = next_key++;
            lists.emplace_back();
            appends_to_key.push_back(0);
          }
        } else {
          pending.invocation.push_back(nlohmann::json::array({"r", key, nullptr}));
        }
      }
      pending.busy = true;
      pending.applied = false;
      ++invoked;
      emit(OpType::invoke, pending.process, pending.invocation);
      continue;
    }
    if (!pending.applied && chance(options.info_probability / 2)) {  // timed out, never applied
      emit(OpType::info, pending.process, pending.invocation);
      pending.process = next_process++;
      pending.busy = false;
      continue;
    }
    if (!pending.applied && chance(0.6)) {
      if (chance(options.fail_probability)) {
        emit(OpType::fail, pending.process, pending.invocation);
        pending.busy = false;
        continue;
      }
      apply(pending);
      continue;
    }
    if (!pending.applied) continue;
    if (chance(options.info_probability)) {
      emit(OpType::info, pending.process, pending.invocation);
      pending.process = next_process++;
    } else {
      emit(OpType::ok, pending.process, pending.result);
    }
    pending.busy = false;
  }
  return history;
}

}  // namespace chaosbench::checkers::testing
