// Benchmarks for the consistency checkers beyond linearizability: the Elle
// list-append checker on a generated 1,000,000-txn history (target: < 5 s,
// >= 200,000 txns/s, single thread) and sequential consistency on the shipped
// Porcupine kv histories next to linearizability on the same files (both one
// thread, stopping at the first invalid key). Times exclude building/parsing
// the history. checker_peak_mb: peak RSS during the check minus the RSS before.
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <string>

#include "../checkers/list_append_simulation.h"
#include "chaosbench/checkers/elle.h"
#include "chaosbench/checkers/history_io.h"
#include "chaosbench/checkers/linearizability.h"
#include "chaosbench/checkers/sequential.h"

namespace chaosbench::checkers {
namespace {

double status_megabytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux clear_refs "5"), so the peak after a
// check minus the RSS before it is the checker's own peak memory.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

const History& list_append_history(std::size_t transactions) {
  static std::map<std::size_t, History> cache;
  auto found = cache.find(transactions);
  if (found == cache.end()) {
    testing::ListAppendSimulationOptions simulation;
    simulation.seed = 11;
    simulation.transactions = transactions;
    simulation.processes = 10;
    simulation.active_keys = 10;
    simulation.max_appends_per_key = 32;
    simulation.max_txn_length = 4;
    found = cache.emplace(transactions, testing::simulate_list_append_history(simulation)).first;
  }
  return found->second;
}

void BM_ElleListAppend(benchmark::State& state, ConsistencyModel model) {
  const History& history = list_append_history(static_cast<std::size_t>(state.range(0)));
  ElleOptions options;
  options.model = model;
  double seconds = 0;
  reset_peak_rss();
  double before = status_megabytes("VmRSS");
  for (auto _ : state) {
    ElleResult result = check_list_append(history, options);
    if (result.verdict != Verdict::valid) state.SkipWithError(result.reason.c_str());
    seconds = result.elapsed_seconds;
    state.counters["edges"] = static_cast<double>(result.edges);
  }
  state.counters["txns_per_second"] = static_cast<double>(state.range(0)) / seconds;
  state.counters["peak_rss_mb"] = status_megabytes("VmHWM");
  state.counters["checker_peak_mb"] = status_megabytes("VmHWM") - before;
  state.counters["history_rss_mb"] = before;
}
BENCHMARK_CAPTURE(BM_ElleListAppend, serializable, ConsistencyModel::serializable)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->ArgName("txns")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK_CAPTURE(BM_ElleListAppend, strict_serializable, ConsistencyModel::strict_serializable)
    ->Arg(1'000'000)
    ->ArgName("txns")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

const History& kv_history(const std::string& name) {
  static std::map<std::string, History> cache;
  auto found = cache.find(name);
  if (found == cache.end()) {
    found = cache
                .emplace(name, read_history_file(std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/porcupine/kv/" +
                                                 name + ".txt"))
                .first;
  }
  return found->second;
}

void BM_KvLinearizable(benchmark::State& state, const std::string& name) {
  const History& history = kv_history(name);
  LinearizabilityOptions options;
  options.model.kind = ModelKind::kv;
  options.threads = 1;
  for (auto _ : state) benchmark::DoNotOptimize(check_linearizability(history, options).verdict);
}

void BM_KvSequential(benchmark::State& state, const std::string& name) {
  const History& history = kv_history(name);
  SequentialOptions options;
  options.model.kind = ModelKind::kv;
  options.threads = 1;
  options.time_limit = std::chrono::seconds(10);  // c50-bad: the SC search gives up (unknown)
  std::string verdict;
  for (auto _ : state) {
    SequentialResult result = check_sequential_consistency(history, options);
    verdict = std::string(to_string(result.verdict));
  }
  state.SetLabel(verdict);
}

#define KV_PAIR(name, text)                                                                                    \
  BENCHMARK_CAPTURE(BM_KvLinearizable, name, std::string(text))->Unit(benchmark::kMillisecond)->UseRealTime(); \
  BENCHMARK_CAPTURE(BM_KvSequential, name, std::string(text))                                                  \
      ->Unit(benchmark::kMillisecond)                                                                          \
      ->UseRealTime()                                                                                          \
      ->MinTime(0.2);
KV_PAIR(c01_ok, "c01-ok")
KV_PAIR(c01_bad, "c01-bad")
KV_PAIR(c10_ok, "c10-ok")
KV_PAIR(c10_bad, "c10-bad")
KV_PAIR(c50_ok, "c50-ok")
KV_PAIR(c50_bad, "c50-bad")

}  // namespace
}  // namespace chaosbench::checkers

BENCHMARK_MAIN();
