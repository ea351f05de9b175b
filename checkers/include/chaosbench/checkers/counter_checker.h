// Counter checker: "add" n ops (n may be negative) and "read" ops returning an
// integer. Each ok read must lie between bounds: at least the initial value
// plus every add known to have completed (ok) before the read began, at most
// that plus every add (ok or info) invoked before the read completed; for
// negative adds the roles swap. Pure function of the history. Nothing to judge (unknown, not
// valid): no ok add, or no ok read completing after the invocation of one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "chaosbench/checkers/check_result.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

struct CounterOptions {
  std::int64_t initial = 0;
  std::size_t max_evidence = 20;
};

// checker "counter"; details: reads, errors, adds_ok, adds_unknown, final_bounds.
CheckResult check_counter(const History& history, const CounterOptions& options = {});

}  // namespace chaosbench::checkers
