// Session guarantees per process (Terry et al.): read-your-writes, monotonic
// reads, monotonic writes, writes-follow-reads, for register/kv histories
// (read/get, write/put, cas) with values unique per key. Pure function.
//
// Definition used: per key, some total order of the written values (after the
// initial nil) must satisfy, for every process and each pair of its consecutive
// ok ops on that key: write a, then read b: a <= b (read-your-writes); read a,
// then read b: a <= b (monotonic reads); write a, then write b: a < b (monotonic
// writes); read a, then write b: a < b (writes-follow-reads); an ok cas [a, b]
// reads a and writes b, right after a. Each violation is a cycle of these
// constraints; it is named after the guarantee of the constraint added last in
// the history (the op that broke it), and lists every op of the cycle.
// Guarantees across keys (causal) are not checked. Reads of never-written
// values are reported as "unwritten-value". Nothing to judge (unknown, not valid): no ok write
// or cas, or no ok read completing after the invocation of one (on any key).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chaosbench/checkers/check_result.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

struct SessionViolation {
  std::string guarantee;  // read-your-writes, monotonic-reads, monotonic-writes, writes-follow-reads, unwritten-value
  std::int64_t process = 0;
  std::string key;
  std::vector<std::uint32_t> operations;  // history indices (invocations) in the cycle
  std::string explanation;
};

struct SessionOptions {
  std::size_t max_violations = 100;  // evidence kept (all are counted)
};

struct SessionResult {
  CheckResult result;  // checker "session"; details: counts per guarantee, violations
  std::vector<SessionViolation> violations;
};

// Throws HistoryError for ops other than read/get/write/put/cas, or a value
// written twice to one key.
SessionResult check_session_guarantees(const History& history, const SessionOptions& options = {});

}  // namespace chaosbench::checkers
