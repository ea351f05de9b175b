// Set checker with Jepsen's set-full semantics: "add" v ops, "read" ops whose
// ok value is the whole set (a list). Per element: known once its add is ok or
// a read shows it; then every read that began after that must hold it. Pure.
// Outcomes: stable (in every later read), stale (missing from some later read,
// back afterwards), lost (missing from the last read that began after it was
// known), never-read; unexpected (read but never added), recovered (add info
// or unfinished, yet read), duplicated (twice in one read). Nothing to judge (unknown, not
// valid): no ok add, or no ok read completing after the invocation of one.
#pragma once

#include <cstddef>

#include "chaosbench/checkers/check_result.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

struct SetOptions {
  bool stale_reads_invalid = false;  // true for a linearizable set
  std::size_t max_evidence = 20;
};

// checker "set"; details: attempted, acknowledged, stable, stale, lost,
// never_read, unexpected, recovered, duplicated (counts) and lost/unexpected/stale samples.
CheckResult check_set(const History& history, const SetOptions& options = {});

}  // namespace chaosbench::checkers
