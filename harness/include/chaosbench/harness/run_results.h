// What a run measured, computed from its history and the client pool's
// latencies: counts of ok/fail/info, latency percentiles, throughput, and
// availability (share of ok completions) while each kind of fault was active
// and while none was. Pure functions; results.json is built from these.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
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

// Errors that no fault explains: the target or its adapter cannot serve the op
// ("unsupported", "unknown_op"), found the request malformed ("malformed"), or
// the stored data has another type than the op needs ("type_error"). The code is
// the error's first word (up to ':' or a space).
bool is_unserved_error(std::string_view error);

// The client completions (fail or info) with such an error. A run is a harness
// failure, not a verdict, when most operations are unserved or when every
// completion of some function ("add", "txn", ...) is.
struct UnservedOperations {
  std::uint64_t completions = 0;  // client completions in all
  std::uint64_t unserved = 0;
  std::map<std::string, std::uint64_t> by_error;
  std::vector<std::string> functions_never_served;  // each of whose completions was unserved
  bool makes_run_vacuous(std::uint64_t invoked) const {
    return unserved > 0 && (2 * unserved > invoked || !functions_never_served.empty());
  }
};
UnservedOperations find_unserved_operations(const checkers::History& history);
nlohmann::json to_json(const UnservedOperations& unserved);

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
  bool ok = false;  // the operation completed ok
};

struct Availability {
  std::uint64_t available = 0;
  std::uint64_t completed = 0;
  std::uint64_t ok = 0;
  double ratio() const {
    return completed == 0 ? 1.0 : static_cast<double>(available) / static_cast<double>(completed);
  }
};

// Key: a fault kind ("partition", ...) for completions while it was active
// (from the completion of its start-<kind> nemesis op, unless that reports an
// "error", to the invocation of its stop-<kind>), "none"
// for completions while no fault was active. A completion during two faults
// counts for both. `samples` must be in time order.
std::map<std::string, Availability> availability_by_fault(const checkers::History& history,
                                                          const std::vector<CompletionSample>& samples);

// The "none" entry of availability_by_fault (zero when nothing completed then).
Availability availability_without_faults(const std::map<std::string, Availability>& availability);

// Empty when some operation was ok while no fault was active; otherwise why
// the run is not a valid test: the system was never seen working (the caller
// makes a valid verdict unknown).
std::string not_a_valid_test_reason(const Availability& without_faults);

nlohmann::json to_json(const OutcomeCounts& counts);
nlohmann::json to_json(const LatencySummary& summary);
nlohmann::json to_json(const std::map<std::string, Availability>& availability);

}  // namespace chaosbench::harness
