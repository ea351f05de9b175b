// Linearizability checker benchmarks on the shipped Porcupine data and on a
// generated 1,000,000-op register history. Times exclude parsing unless the
// name says "parse". threads:1 figures are single-threaded; threads:2 use the
// per-key (or per-file) parallelism on both cores.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "../checkers/register_simulation.h"
#include "chaosbench/checkers/history_io.h"
#include "chaosbench/checkers/linearizability.h"

namespace chaosbench::checkers {
namespace {

const std::string kData = std::string(CHAOSBENCH_SOURCE_DIR) + "/tests/data/porcupine/";

const std::vector<History>& etcd_histories() {
  static const std::vector<History> histories = [] {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(kData + "jepsen")) paths.push_back(entry.path());
    std::sort(paths.begin(), paths.end());
    std::vector<History> loaded;
    for (const auto& path : paths) loaded.push_back(read_history_file(path));
    return loaded;
  }();
  return histories;
}

const History& kv_history(const std::string& name) {
  static std::map<std::string, History> cache;
  auto found = cache.find(name);
  if (found == cache.end()) found = cache.emplace(name, read_history_file(kData + "kv/" + name + ".txt")).first;
  return found->second;
}

LinearizabilityOptions options_for(ModelKind kind, unsigned threads, bool partition = true) {
  LinearizabilityOptions options;
  options.model.kind = kind;
  options.threads = threads;
  options.partition_by_key = partition;
  return options;
}

void expect(benchmark::State& state, Verdict actual, Verdict expected) {
  if (actual != expected) state.SkipWithError("unexpected verdict");
}

// All 102 etcd logs one after another on one thread; counter: the slowest log.
void BM_EtcdAllLogsSequential(benchmark::State& state) {
  const auto& histories = etcd_histories();
  double slowest = 0;
  for (auto _ : state) {
    for (const History& history : histories) {
      auto result = check_linearizability(history, options_for(ModelKind::cas_register, 1));
      benchmark::DoNotOptimize(result.verdict);
      slowest = std::max(slowest, result.elapsed_seconds);
    }
  }
  state.counters["logs"] = static_cast<double>(histories.size());
  state.counters["slowest_log_ms"] = slowest * 1000;
}
BENCHMARK(BM_EtcdAllLogsSequential)->Unit(benchmark::kMillisecond);

// The same logs spread over both cores (one log per task).
void BM_EtcdAllLogsParallel(benchmark::State& state) {
  const auto& histories = etcd_histories();
  for (auto _ : state) {
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      for (std::size_t index = next++; index < histories.size(); index = next++) {
        benchmark::DoNotOptimize(
            check_linearizability(histories[index], options_for(ModelKind::cas_register, 1)).verdict);
      }
    };
    std::thread other(worker);
    worker();
    other.join();
  }
}
BENCHMARK(BM_EtcdAllLogsParallel)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_EtcdParseAndCheckAll(benchmark::State& state) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(kData + "jepsen")) paths.push_back(entry.path());
  for (auto _ : state) {
    for (const auto& path : paths) {
      History history = read_history_file(path);
      benchmark::DoNotOptimize(check_linearizability(history, options_for(ModelKind::cas_register, 1)).verdict);
    }
  }
}
BENCHMARK(BM_EtcdParseAndCheckAll)->Unit(benchmark::kMillisecond);

void BM_Kv(benchmark::State& state, const std::string& name, Verdict expected, bool partition) {
  const History& history = kv_history(name);
  auto options = options_for(ModelKind::kv, static_cast<unsigned>(state.range(0)), partition);
  for (auto _ : state) {
    auto result = check_linearizability(history, options);
    expect(state, result.verdict, expected);
  }
}
BENCHMARK_CAPTURE(BM_Kv, c50_ok, std::string("c50-ok"), Verdict::valid, true)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Kv, c50_bad, std::string("c50-bad"), Verdict::invalid, true)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Kv, c10_ok_unpartitioned, std::string("c10-ok"), Verdict::valid, false)
    ->Arg(1)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Kv, c10_bad_unpartitioned, std::string("c10-bad"), Verdict::invalid, false)
    ->Arg(1)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// 1,000,000 invocations over 1,000 keys from 20 processes, 1% info.
const History& million_register_history() {
  static const History history = [] {
    testing::RegisterSimulationOptions simulation;
    simulation.seed = 42;
    simulation.processes = 20;
    simulation.operations = 1'000'000;
    simulation.keys = 1000;
    simulation.info_probability = 0.01;
    return testing::simulate_register_history(simulation);
  }();
  return history;
}

void BM_GeneratedRegisterMillion(benchmark::State& state) {
  const History& history = million_register_history();
  auto options = options_for(ModelKind::cas_register, static_cast<unsigned>(state.range(0)));
  for (auto _ : state) {
    auto result = check_linearizability(history, options);
    expect(state, result.verdict, Verdict::valid);
    state.counters["history_ops"] = static_cast<double>(history.size());
  }
}
BENCHMARK(BM_GeneratedRegisterMillion)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// The same history checked by the search alone (the reads-from decision off),
// for comparison with the figures before that decision existed.
void BM_GeneratedRegisterMillionSearchOnly(benchmark::State& state) {
  const History& history = million_register_history();
  auto options = options_for(ModelKind::cas_register, static_cast<unsigned>(state.range(0)));
  options.decide_unique_writes_from_reads = false;
  for (auto _ : state) {
    auto result = check_linearizability(history, options);
    expect(state, result.verdict, Verdict::valid);
  }
}
BENCHMARK(BM_GeneratedRegisterMillionSearchOnly)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// Issue target: 10,000,000 history ops (5,000,000 invocations) of unique-value
// registers, 64 clients over 1,000 keys, 1% info; cas:0 is the unique-register
// workload (reads and writes), cas:1 adds cas ops. Decided from reads-from.
void BM_GeneratedUniqueRegisterTenMillion(benchmark::State& state) {
  const bool with_cas = state.range(0) != 0;
  static std::map<bool, History> histories;
  if (!histories.contains(with_cas)) {
    testing::RegisterSimulationOptions simulation;
    simulation.seed = 64;
    simulation.processes = 64;
    simulation.operations = 5'000'000;
    simulation.keys = 1000;
    simulation.info_probability = 0.01;
    simulation.with_cas = with_cas;
    histories.emplace(with_cas, testing::simulate_register_history(simulation));
  }
  const History& history = histories.at(with_cas);
  auto options = options_for(ModelKind::cas_register, 2);
  for (auto _ : state) {
    auto result = check_linearizability(history, options);
    expect(state, result.verdict, Verdict::valid);
    state.counters["history_ops"] = static_cast<double>(history.size());
    state.counters["decided_from_reads"] = static_cast<double>(result.partitions_decided_from_reads);
  }
}
BENCHMARK(BM_GeneratedUniqueRegisterTenMillion)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("cas")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace chaosbench::checkers

BENCHMARK_MAIN();
