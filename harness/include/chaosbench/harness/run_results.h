// What a run measured, computed from its history and the client pool's
// latencies: counts of ok/fail/info, latency percentiles, throughput, and
// availability (share of ok completions) while each kind of fault was active
// and while none was. Pure functions; results.json is built from these.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"

namespace chaosbench::harness {

struct OutcomeCounts {
  std::uint64_t invoked = 0;
  std::uint64_t ok = 0;
  std::uint64_t fail = 0;
  std::uint64_t info = 0;  // includes ops still running when the history ended
  // fail and info completions by recorded error ("unavailable", "timeout", ...);
  // completions without one, and ops that never completed, are not in these.
  std::map<std::string, std::uint64_t> fail_errors, info_errors;
};

// "unavailable 40, not_leader 2" (most frequent first, the first five), or "" when empty.
std::string describe_errors(const std::map<std::string, std::uint64_t>& errors);

// Client operations only (nemesis ops are not counted).
OutcomeCounts count_outcomes(const checkers::History& history);

struct LatencySummary {
  std::size_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0, mean_ms = 0;
};

// Nearest-rank percentiles. Takes the samples by value (sorts them).
LatencySummary summarize_latencies(std::vector<std::int64_t> nanoseconds);

// One client completion as the pool saw it: `available` when the system
// answered the operation (ok, or a definite refusal on the data such as a cas
// whose expected value did not match); not when it was refused for lack of a
// leader, timed out or the connection failed.
struct CompletionSample {
  std::int64_t time = 0;  // ns since the history started
  bool available = false;
};

struct Availability {
  std::uint64_t available = 0;
  std::uint64_t completed = 0;
  double ratio() const { return completed == 0 ? 1.0 : static_cast<double>(available) / static_cast<double>(completed); }
};

// Key: a fault kind ("partition", ...) for completions while it was active
// (from the completion of its start-<kind> nemesis op, unless that reports an
// "error", to the invocation of its stop-<kind>), "none"
// for completions while no fault was active. A completion during two faults
// counts for both. `samples` must be in time order.
std::map<std::string, Availability> availability_by_fault(const checkers::History& history,
                                                          const std::vector<CompletionSample>& samples);

nlohmann::json to_json(const OutcomeCounts& counts);
nlohmann::json to_json(const LatencySummary& summary);
nlohmann::json to_json(const std::map<std::string, Availability>& availability);

}  // namespace chaosbench::harness
