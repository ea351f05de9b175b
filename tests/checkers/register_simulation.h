// Test and benchmark helper: histories of a simulated linearizable register store.
// Processes invoke read/write/cas on random keys; each op takes effect at one
// instant between its invocation and completion, so the history is linearizable
// by construction. Some ops end in info (taking effect or not) and some never
// complete. Written values are unique per key, or with value_count drawn from
// 0..value_count-1 (repeating, as in the register workload).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers::testing {

struct RegisterSimulationOptions {
  std::uint64_t seed = 1;
  int processes = 5;
  std::size_t operations = 1000;  // invocations
  int keys = 1;
  double info_probability = 0.02;
  bool with_cas = true;
  int value_count = 0;  // 0: every write writes a fresh value
};

inline History simulate_register_history(const RegisterSimulationOptions& options) {
  History history;
  std::mt19937_64 random(options.seed);
  auto chance = [&](double probability) { return std::uniform_real_distribution<double>(0, 1)(random) < probability; };
  const std::uint32_t read = history.functions.intern("read");
  const std::uint32_t write = history.functions.intern("write");
  const std::uint32_t cas = history.functions.intern("cas");
  std::vector<std::uint32_t> key_ids;
  for (int key = 0; key < options.keys; ++key) key_ids.push_back(history.keys.intern(std::to_string(key)));
  std::vector<std::int64_t> register_value(options.keys, -1);  // -1: absent
  std::vector<std::int64_t> next_value(options.keys, 0);

  struct Pending {
    bool active = false;
    bool applied = false;
    std::uint32_t function = 0;
    int key = 0;
    std::int64_t argument = 0, second = 0;
    nlohmann::json result;
    bool succeeded = true;
  };
  std::vector<std::int64_t> process_id(options.processes);
  for (int process = 0; process < options.processes; ++process) process_id[process] = process;
  std::int64_t next_process = options.processes;
  std::vector<Pending> pending(options.processes);
  std::size_t invoked = 0;
  auto emit = [&](OpType type, std::int64_t process, std::uint32_t function, int key, const nlohmann::json& value) {
    Operation op;
    op.type = type;
    op.process = process;
    op.function = function;
    op.key = key_ids[key];
    op.value = history.values.intern_json(value);
    op.time = static_cast<std::int64_t>(history.operations.size()) * 1000;
    history.operations.push_back(op);
  };
  auto value_json = [](std::int64_t value) { return value < 0 ? nlohmann::json(nullptr) : nlohmann::json(value); };

  std::size_t active = 0;
  while (invoked < options.operations || active > 0) {
    int process = std::uniform_int_distribution<int>(0, options.processes - 1)(random);
    Pending& op = pending[process];
    if (!op.active) {
      if (invoked >= options.operations) continue;
      op = Pending{};
      op.active = true;
      op.key = std::uniform_int_distribution<int>(0, options.keys - 1)(random);
      int choice = std::uniform_int_distribution<int>(0, options.with_cas ? 2 : 1)(random);
      op.function = choice == 0 ? read : choice == 1 ? write : cas;
      nlohmann::json value;
      auto fresh_value = [&] {
        std::int64_t value = next_value[op.key]++;
        return options.value_count > 0 ? value % options.value_count : value;
      };
      if (op.function == write) {
        op.argument = fresh_value();
        value = op.argument;
      } else if (op.function == cas) {
        // Expect the current value most of the time, so many cas ops succeed.
        op.argument = chance(0.6) && register_value[op.key] >= 0 ? register_value[op.key]
                                                                 : std::max<std::int64_t>(0, next_value[op.key] - 2);
        op.second = fresh_value();
        value = nlohmann::json::array({op.argument, op.second});
      }
      emit(OpType::invoke, process_id[process], op.function, op.key, value);
      ++invoked;
      ++active;
    } else if (!op.applied && !chance(0.02)) {
      op.applied = true;  // the linearization point
      std::int64_t& current = register_value[op.key];
      if (op.function == read) {
        op.result = value_json(current);
      } else if (op.function == write) {
        current = op.argument;
      } else {
        op.succeeded = current == op.argument;
        if (op.succeeded) current = op.second;
      }
    } else {
      // Complete. An op not applied yet either ends in info (never takes effect) or keeps waiting.
      if (!op.applied) {
        if (!chance(0.5)) continue;
        emit(OpType::info, process_id[process], op.function, op.key, nullptr);
        process_id[process] = next_process++;
      } else if (chance(options.info_probability)) {
        emit(OpType::info, process_id[process], op.function, op.key, nullptr);
        process_id[process] = next_process++;
      } else if (op.function == read) {
        emit(OpType::ok, process_id[process], read, op.key, op.result);
      } else if (op.function == write) {
        emit(OpType::ok, process_id[process], write, op.key, op.argument);
      } else {
        emit(op.succeeded ? OpType::ok : OpType::fail, process_id[process], cas, op.key,
             nlohmann::json::array({op.argument, op.second}));
      }
      op.active = false;
      --active;
    }
  }
  return history;
}

}  // namespace chaosbench::checkers::testing
