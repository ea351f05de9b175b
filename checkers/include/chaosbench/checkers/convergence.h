// Eventual convergence: after the final heal, reads from every node agree and
// keep every acknowledged write (or a successor); reports time to convergence.
// Pure function of the history (ops carry `node`; times are ns).
//
// Final reads: if the history has ops with f "final-read", exactly the ok ones;
// otherwise ok "read"/"get" ops invoked after the last nemesis op (the final
// heal; the workload is expected to leave a quiet period before them). Per key,
// each node's LAST final read is its final value; all must be equal. Present:
// when final values are lists (set / list-append workloads), every element of
// an ok "append"/"add"/"write" on the key must be in it; when they are scalars,
// the final value must have been written (ok or info; a cas writes its new
// value, a "delete" writes nil) by some write not followed by a later ok write
// or delete of the same process (its successor), and nil, on a key without
// deletes, only when no write was acknowledged. So a deleted value that comes
// back is found when its writer later wrote or deleted the key. In lists,
// deletes are not modelled beyond this: an element need not be present when a
// delete of the key may have followed its write. Time to
// convergence: per key and node, the start of the trailing run of final reads
// returning the agreed value; the maximum over keys and nodes, minus the time
// of the heal (the last nemesis op other than harness run's "final-reads" marker).
// A string final value on a key with appends (kv: append concatenates) must
// contain every acknowledged append (as a substring) unless a put or delete
// not completed before the append began may have replaced it; what else the
// string holds is not checked.
// Nothing to judge (unknown, not valid): no ok update (write, put, append, add, delete, cas).
#pragma once

#include <cstddef>

#include "chaosbench/checkers/check_result.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

struct ConvergenceOptions {
  std::size_t max_evidence = 50;
};

// checker "convergence"; details: nodes, keys, final_reads, divergent_keys,
// lost_writes, convergence_seconds (null when it did not converge).
CheckResult check_convergence(const History& history, const ConvergenceOptions& options = {});

}  // namespace chaosbench::checkers
