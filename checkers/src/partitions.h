// Partitions of a history for the search-based checkers (linearizability and
// sequential consistency): one per key, or one for the whole history with each
// key in its own slot of a composed model. Fail ops are left out (they did not
// happen), so are unknown reads (they constrain nothing) and, for registers,
// unknown writes nobody observed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/model.h"
#include "judge_floor.h"

namespace chaosbench::checkers {

// The reason of a partition left unsearched because another one was found invalid
// (compared by content: reports carry it as a std::string).
inline constexpr const char* kNotCheckedAfterInvalidReason = "not checked: another partition is invalid";

struct Partition {
  std::string key;  // "" when not partitioned
  std::vector<ModelOperation> operations;
  std::uint32_t key_count = 1;
};

// Drops register writes and cas ops with an unknown outcome whose written value
// nobody ever observes (no read returns it, no cas expects it). Sound: in any
// linearization (or sequential order) containing such an op, the ops between
// it and the next write see a value they do not depend on, so the order without
// it is valid too (a cas it made fail is one that may equally never have
// happened). This keeps the searches from trying every subset of timed-out writes.
void drop_unobserved_unknown_writes(std::vector<ModelOperation>& operations);

// Decodes the pairs into partitions, in order of each key's first op. With
// include, only the ops of keys (history key ids) it accepts. With floor, also
// counts there every ok/info update (not a release) and ok read it keeps.
std::vector<Partition> build_partitions(const History& history, const std::vector<OperationPair>& pairs,
                                        OperationDecoder& decoder, bool partition_by_key, ModelKind kind,
                                        const std::function<bool(std::uint32_t)>& include = {},
                                        JudgeFloor* floor = nullptr);

// Runs `worker` on min(threads, partition_count) threads (threads 0: one per
// core), or on the calling thread when that is 1; each worker takes partitions
// from a shared counter until none are left.
void run_workers(unsigned threads, std::size_t partition_count, const std::function<void()>& worker);

}  // namespace chaosbench::checkers
