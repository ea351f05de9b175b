// Versions of one key and how replicas reconcile them. With vector clocks each
// version is a dotted version vector: its own event (dot: writer node, counter)
// and the causal context it was written with; a key holds every version whose
// dot no other version's context covers (siblings); with
// last-write-wins it holds the single version with the largest (timestamp,
// writer, value). reconcile() is commutative, associative and idempotent, so
// replicas that exchange versions in any order converge.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "quorum/vector_clock.h"

namespace chaosbench::quorum {

enum class ConflictMode { vector_clocks, last_write_wins };

struct Version {
  nlohmann::json value;  // null for a tombstone
  // The causal context: the versions this one supersedes (what its writer had read).
  // Empty under last-write-wins.
  VectorClock clock;
  // This version's own event: counter dot_counter of node dot_node (0: none, as under
  // last-write-wins). Kept apart from the context so that two writes made through one
  // coordinator from the same context stay concurrent instead of the later one
  // covering the earlier (which plain vector clocks do: an acknowledged write lost).
  std::string dot_node;
  std::uint64_t dot_counter = 0;
  std::int64_t timestamp = 0;  // coordinator wall clock, ns since the epoch
  std::string writer;          // coordinator id (LWW tie-break)
  bool tombstone = false;
};

using Siblings = std::vector<Version>;

// The versions of a ∪ b that survive; sorted canonically, so equal inputs give equal outputs.
Siblings reconcile(const Siblings& a, const Siblings& b, ConflictMode mode);
// Everything a version stands for: its context with its dot added.
VectorClock history(const Version& version);
// True when `later`'s context covers `earlier`'s dot (or, without a dot, its whole history).
bool supersedes(const Version& later, const Version& earlier);
// Pointwise maximum of every sibling's history (context and dot): the context a client sends back.
VectorClock merged_clock(const Siblings& siblings);
// True if every sibling is a tombstone (and there is at least one).
bool all_tombstones(const Siblings& siblings);
// Latest tombstone timestamp (0 if none).
std::int64_t latest_timestamp(const Siblings& siblings);
// The live (non-tombstone) values, in canonical order.
std::vector<nlohmann::json> live_values(const Siblings& siblings);
// One value a register/kv client can check: the largest live value by
// nlohmann::json's order, or null when there is none.
nlohmann::json chosen_value(const Siblings& siblings);
// 64-bit digest of the canonical encoding (equal sets give equal digests).
std::uint64_t digest(const Siblings& siblings);

nlohmann::json to_json(const Version& version);
Version version_from_json(const nlohmann::json& value);  // throws std::invalid_argument
nlohmann::json to_json(const Siblings& siblings);
Siblings siblings_from_json(const nlohmann::json& value);  // throws std::invalid_argument

}  // namespace chaosbench::quorum
