// Memory of the in-memory history: a generated 10,000,000-op register history
// (1,000 keys, unique written values) and the resident memory it takes.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <fstream>

#include "../checkers/register_simulation.h"

namespace chaosbench::checkers {
namespace {

double resident_megabytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

void BM_TenMillionOperationHistory(benchmark::State& state) {
  for (auto _ : state) {
    double before = resident_megabytes();
    testing::RegisterSimulationOptions simulation;
    simulation.seed = 7;
    simulation.processes = 50;
    simulation.operations = 5'000'000;  // invocations; with completions ~10,000,000 operations
    simulation.keys = 1000;
    History history = testing::simulate_register_history(simulation);
    double after = resident_megabytes();
    state.counters["operations"] = static_cast<double>(history.size());
    state.counters["distinct_values"] = static_cast<double>(history.values.size());
    state.counters["resident_MB"] = after - before;
    state.counters["bytes_per_op"] = (after - before) * 1024 * 1024 / static_cast<double>(history.size());
  }
}
BENCHMARK(BM_TenMillionOperationHistory)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace chaosbench::checkers

BENCHMARK_MAIN();
