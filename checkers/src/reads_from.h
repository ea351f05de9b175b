// Linearizability of one register partition whose writes all carry distinct values,
// decided from the reads-from relation in O(n log n) instead of by search (Gibbons and
// Korach's clusters: a value's write with its reads, glued to the next value by a cas).
// nullopt when the partition does not qualify; the search decides it then.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "chaosbench/checkers/model.h"
#include "chaosbench/checkers/verdict.h"

namespace chaosbench::checkers {

struct ReadsFromOutcome {
  Verdict verdict = Verdict::valid;  // valid or invalid, never unknown
  std::string reason;                // invalid: which ops contradict each other, one line
  std::uint32_t blocking_op = 0;     // invalid: the op that cannot be placed (index into the operations)
};

// Qualifies when every op is a read, write or cas of one register (no composed
// keys), no two writes (or cas replacements) write the same value, and none
// writes the initial value (null, or options.initial with NilRead::any).
std::optional<ReadsFromOutcome> decide_from_reads(std::span<const ModelOperation> operations,
                                                  const ModelOptions& options, const OperationDecoder& decoder,
                                                  std::uint32_t key_count);

}  // namespace chaosbench::checkers
