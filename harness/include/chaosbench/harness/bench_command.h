// `harness bench`: the same seeded open-loop load against each target under each fault kind,
// one child `harness run` per (target, nemesis); every history.jsonl is analysed into one table
// (terminal, bench.csv, bench.json, bench.html). analyze_bench_history() is the pure part.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}  // namespace CLI

namespace chaosbench::harness {

struct BenchOptions {
  std::string targets = "raft,zab";
  std::string workload = "kv";
  std::string nemeses = "none,partition,kill,clock";  // one run per entry; "none" = no faults
  double rate = 300;                                  // intended ops/s, open loop
  int concurrency = 20;
  int nodes = 5;
  std::string time_limit = "60s";
  std::string warmup = "5s";
  std::string nemesis_interval = "10s";
  std::uint64_t seed = 1;
  std::string store = "store";
  std::vector<std::string> run_arguments;  // extra `harness run` flags for every run
};

// Latency, throughput and availability of the client ops invoked in one fault window class.
struct WindowFigures {
  std::uint64_t completed = 0, ok = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0;  // ok ops, from their send time in the history
  double availability() const { return completed ? static_cast<double>(ok) / static_cast<double>(completed) : 0; }
};

// After one fault window was healed: seconds to the first ok op, and to the start of the first
// 1 s window (sliding in 0.1 s steps from the heal) whose ok throughput is back within 10% of
// the 5 s before the fault started; nullopt: never in the run.
struct Recovery {
  std::string fault;
  double start_seconds = 0, heal_seconds = 0;
  std::optional<double> first_ok_seconds, throughput_back_seconds;
  bool run_ended = false;  // healed less than 1 s before the workload ended: no time to recover in
};

struct BenchAnalysis {
  double measured_seconds = 0;  // from the end of warm-up to the end of the workload
  double ok_per_second = 0;
  WindowFigures overall;
  std::map<std::string, WindowFigures> by_window;  // "none" or the fault kind active at invocation
  std::vector<Recovery> recoveries;
};

// history.jsonl as `harness run` writes it: ops invoked before `warmup_seconds` or after
// `workload_seconds` (the final reads) are left out. Throws std::runtime_error naming the line
// on malformed JSON.
BenchAnalysis analyze_bench_history(const std::filesystem::path& history, double warmup_seconds,
                                    double workload_seconds);

nlohmann::json to_json(const BenchAnalysis& analysis);

// The checkers that judge `target` by the consistency it promises on a register
// or kv workload (raft, etcd: linearizable; zab, ZooKeeper without sync reads,
// etcd serializable reads: sequential; quorum, Redis: convergence, and session
// on unique-register for quorum); empty for the other workloads, whose own
// checkers judge every target alike. `run_arguments` carry the read modes.
std::vector<std::string> promised_checkers(const std::string& target, const std::string& workload,
                                           const std::vector<std::string>& run_arguments);

// 0 every run completed (whatever its verdict; the verdicts are in the table), 3 a run failed or bad input.
int run_bench_command(const BenchOptions& options, const std::filesystem::path& harness_executable, std::ostream& out,
                      std::ostream& errors);

// Adds the `bench` subcommand and its flags to `app`; parsing fills `options`.
CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);

}  // namespace chaosbench::harness
