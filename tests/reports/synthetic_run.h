// Test helper: writes a synthetic run directory (history.jsonl with client and
// nemesis ops, test.json, results.json, node logs) as `harness run` would, with
// a seeded op mix, hostile strings in values, flags and logs, and one node whose
// log ends in a crash.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/history_io.h"

namespace chaosbench::reports::testing {

inline const std::string kXss = "</script><script>alert(1)</script>";
inline const std::string kXssAttribute = "<img src=x onerror=\"document.body.setAttribute('data-xss','1')\">";

struct SyntheticRunOptions {
  std::size_t operations = 2000;  // client operations (each an invoke and a completion)
  int processes = 8;
  std::uint64_t seed = 1;
  std::string verdict = "valid";
  std::string harness_failure_reason = {};  // non-empty: results.json says the harness failed, and why
  std::int64_t time_to_detection_ms = -1;   // >= 0: the online check proved an anomaly then
};

inline std::filesystem::path write_synthetic_run(const std::filesystem::path& run_directory,
                                                 const SyntheticRunOptions& options = {}) {
  using checkers::OpType;
  using nlohmann::json;
  namespace fs = std::filesystem;
  fs::create_directories(run_directory / "nodes" / "n1");
  fs::create_directories(run_directory / "nodes" / "n2");
  checkers::History history;
  std::mt19937_64 random(options.seed);
  auto add = [&](OpType type, std::int64_t process, const std::string& function, const json& value, std::int64_t time,
                 const std::string& key = "", const std::string& node = "") {
    checkers::Operation op;
    op.type = type;
    op.process = process;
    op.function = history.functions.intern(function);
    op.value = history.values.intern_json(value);
    op.key = key.empty() ? 0 : history.keys.intern(key);
    op.node = node.empty() ? 0 : static_cast<std::uint16_t>(history.nodes.intern(node));
    op.time = time;
    history.operations.push_back(op);
  };
  // Client ops: each process issues ops back to back; a timeline of events
  // merged in time order by generating per step.
  struct Pending {
    bool busy = false;
    std::int64_t done_at = 0;
    std::string function, key;
    json value;
  };
  std::vector<Pending> pending(static_cast<std::size_t>(options.processes));
  std::vector<std::int64_t> process_number(static_cast<std::size_t>(options.processes));
  for (int slot = 0; slot < options.processes; ++slot) process_number[slot] = slot;
  std::int64_t next_process = options.processes;
  const std::int64_t step = 1'000'000;  // 1 ms between events
  bool partition_on = false, kill_on = false;
  std::size_t invoked = 0;
  std::int64_t time = 1000;
  bool xss_written = false;
  while (invoked < options.operations ||
         std::any_of(pending.begin(), pending.end(), [](const Pending& p) { return p.busy; })) {
    time += step / 2 + static_cast<std::int64_t>(random() % step);
    const double phase = static_cast<double>(invoked) / static_cast<double>(options.operations);
    // Nemesis, by share of ops invoked: a partition in 20-40%, a kill in 55-70%; a check-offsets event at the end.
    auto nemesis = [&](bool& flag, bool want, const std::string& kind, const json& value) {
      if (flag == want) return;
      flag = want;
      const std::string function = (want ? "start-" : "stop-") + kind;
      add(OpType::invoke, checkers::kNemesisProcess, function, value, time);
      add(OpType::info, checkers::kNemesisProcess, function,
          kind == "partition" && want ? json{{"shape", "halves"}, {"grudge", value}} : value, time);
    };
    nemesis(partition_on, phase > 0.2 && phase < 0.4, "partition",
            json{{"n1", {"n2", "n3"}}, {"n2", {"n1"}}, {"n3", {"n1"}}});
    nemesis(kill_on, phase > 0.55 && phase < 0.7, "kill", json::array({"n2"}));
    for (int slot = 0; slot < options.processes; ++slot) {
      Pending& state = pending[slot];
      if (state.busy && time >= state.done_at) {
        const unsigned roll = random() % 100;
        const bool faulty = partition_on || kill_on;
        OpType outcome = faulty ? (roll < 40   ? OpType::ok
                                   : roll < 80 ? OpType::fail
                                               : OpType::info)
                                : (roll < 94   ? OpType::ok
                                   : roll < 98 ? OpType::fail
                                               : OpType::info);
        json value = state.value;
        if (state.function == "read" && outcome == OpType::ok) value = static_cast<int>(random() % 5);
        add(outcome, process_number[slot], state.function, value, time, state.key, "n" + std::to_string(1 + slot % 3));
        state.busy = false;
        if (outcome == OpType::info) process_number[slot] = next_process++;
      } else if (!state.busy && invoked < options.operations) {
        const unsigned kind = random() % 3;
        state.function = kind == 0 ? "read" : kind == 1 ? "write" : "cas";
        state.key = "k" + std::to_string(random() % 4);
        state.value = kind == 0   ? json(nullptr)
                      : kind == 1 ? json(static_cast<int>(random() % 5))
                                  : json::array({random() % 5, random() % 5});
        if (!xss_written && state.function == "write") {
          state.value = kXss;
          xss_written = true;
        }
        const bool faulty = partition_on || kill_on;
        const std::int64_t latency = faulty ? step * (2 + static_cast<std::int64_t>(random() % 200))
                                            : step / 4 + static_cast<std::int64_t>(random() % (step * 3));
        state.done_at = time + latency;
        state.busy = true;
        add(OpType::invoke, process_number[slot], state.function, state.value, time, state.key);
        ++invoked;
      }
    }
  }
  add(OpType::invoke, checkers::kNemesisProcess, "check-offsets", json{{"n3", 2.5}}, time + step);
  add(OpType::info, checkers::kNemesisProcess, "check-offsets", json{{"n3", 2.5}}, time + 2 * step);
  checkers::write_history_file(history, run_directory / "history.jsonl");

  const json test = {
      {"test", "synthetic-" + kXss},
      {"started_at", "2026-11-26T12:00:00+0000"},
      {"seed", options.seed},
      {"command_line", json::array({"harness", "run", "--test-name", kXss, "--nemesis", "partition,kill"})},
      {"options", {{"target", "raft"}, {"workload", "register"}, {"nemesis", "partition,kill"}, {"nodes", 3}}},
      {"nodes", json::array({{{"name", "n1"}}, {{"name", "n2"}}, {{"name", "n3"}}})}};
  json results = {
      {"test", "synthetic"},
      {"verdict", options.verdict},
      {"checkers",
       {{"linearizable",
         {{"verdict", options.verdict}, {"reason", "synthetic: " + kXss}, {"anomalies", json::array()}}},
        {"perf", {{"verdict", "valid"}, {"reason", "p99 under the SLO " + kXssAttribute}, {"op_indices", {0, 1}}}}}},
      {"operations", {{"invoked", options.operations}}},
      {"latency_from_intended_send", {{"p99_ms", 12.5}}}};
  if (!options.harness_failure_reason.empty()) {
    results["harness_failed"] = true;
    results["harness_failure_reason"] = options.harness_failure_reason;
  }
  if (options.time_to_detection_ms >= 0) {
    results["time_to_detection_ms"] = options.time_to_detection_ms;
    results["stopped_early"] = true;
    results["online_check"] = {{"verdict", "invalid"},
                               {"checker", "linearizable"},
                               {"reason", "synthetic anomaly " + kXss},
                               {"time_to_detection_ms", options.time_to_detection_ms}};
  }
  std::ofstream(run_directory / "test.json") << test.dump(2);
  std::ofstream(run_directory / "results.json") << results.dump(2);
  std::ofstream(run_directory / "nodes" / "n1" / "log") << "n1 started\nn1 leader term 3\n";
  std::ofstream(run_directory / "nodes" / "n2" / "log")
      << "n2 started\n"
      << kXss << "\nterminate called after throwing an instance of 'std::runtime_error'\n";
  return run_directory;
}

}  // namespace chaosbench::reports::testing
