// simulation_bench: how fast each protocol's deterministic simulation runs
// (targets/sim under the real cores and storage), i.e. how many seeds a CI
// minute buys. Raft and ZAB: one seed per iteration with the default options
// of their simulation tests (3 nodes, 400 chaos + 400 heal ticks, drops,
// duplicates, crashes, partitions, asynchronous disks); the *_storage_faults
// variants add the storage-fault options of StorageFaultsStaySafeAndLive
// (crashes 3%, leader faults 3%, torn writes 70% and bit flips 10% of crashes).
// Quorum: 1,000 sequential writes with a replica crash and restart in the
// middle. A failed seed aborts the benchmark (SkipWithError).
#include <benchmark/benchmark.h>

#include <string>

#include "quorum_simulator.h"
#include "raft_simulator.h"
#include "zab_simulator.h"

namespace {

// One seed per iteration of Simulator with its default options; `work` is
// what a seed achieved (committed or delivered entries), reported per seed.
template <class Simulator, class Options, class Work>
void run_seeds(benchmark::State& state, const char* work_name, Work work, bool storage_faults = false) {
  std::uint64_t seed = 1, done = 0;
  for (auto _ : state) {
    Options options;
    options.seed = seed++;
    options.node_count = static_cast<int>(state.range(0));
    if (storage_faults) {
      options.faults.crash_probability = 0.03;
      options.faults.leader_fault_probability = 0.03;
      options.storage.torn_write_probability = 0.7;
      options.storage.corruption_probability = 0.1;
    }
    const auto result = Simulator(options).run();
    if (!result.ok) {
      state.SkipWithError(result.failure.c_str());
      break;
    }
    done += work(result);
  }
  state.SetItemsProcessed(state.iterations());  // items = seeds
  state.counters[work_name] = benchmark::Counter(static_cast<double>(done) / static_cast<double>(state.iterations()));
}

void raft_seeds(benchmark::State& state) {
  namespace raft = chaosbench::raft::simulation;
  run_seeds<raft::RaftSimulator, raft::SimulationOptions>(
      state, "committed_per_seed", [](const raft::SimulationResult& result) { return result.committed_entries; });
}
BENCHMARK(raft_seeds)->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond);

void raft_seeds_storage_faults(benchmark::State& state) {
  namespace raft = chaosbench::raft::simulation;
  run_seeds<raft::RaftSimulator, raft::SimulationOptions>(
      state, "committed_per_seed", [](const raft::SimulationResult& result) { return result.committed_entries; }, true);
}
BENCHMARK(raft_seeds_storage_faults)->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond);

void zab_seeds(benchmark::State& state) {
  namespace zab = chaosbench::zab::simulation;
  run_seeds<zab::ZabSimulator, zab::SimulationOptions>(
      state, "delivered_per_seed", [](const zab::SimulationResult& result) { return result.delivered_txns; });
}
BENCHMARK(zab_seeds)->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond);

void zab_seeds_storage_faults(benchmark::State& state) {
  namespace zab = chaosbench::zab::simulation;
  run_seeds<zab::ZabSimulator, zab::SimulationOptions>(
      state, "delivered_per_seed", [](const zab::SimulationResult& result) { return result.delivered_txns; }, true);
}
BENCHMARK(zab_seeds_storage_faults)->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond);

void quorum_writes(benchmark::State& state) {
  using chaosbench::quorum::testing::QuorumSimulator;
  constexpr int kWrites = 1000;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    QuorumSimulator simulator(3, seed++);
    simulator.run_for(200 * QuorumSimulator::kMillisecond);
    for (int write = 0; write < kWrites; ++write) {
      if (write == kWrites / 2) simulator.crash(2);
      if (write == kWrites * 3 / 4) simulator.restart(2);
      const auto reply =
          simulator.call(write % 2, {{"op", "write"}, {"key", "k" + std::to_string(write % 50)}, {"value", write}});
      if (!reply.value("ok", false)) {
        state.SkipWithError(("write refused: " + reply.dump()).c_str());
        return;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kWrites);  // items = writes
}
BENCHMARK(quorum_writes)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
