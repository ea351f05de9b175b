#include "quorum/key_versions.h"

#include <algorithm>
#include <stdexcept>

#include "quorum/hash_ring.h"

namespace chaosbench::quorum {
namespace {

// Canonical order: by dot, clock entries, then timestamp, writer, tombstone, value.
bool canonical_less(const Version& a, const Version& b) {
  if (a.dot_node != b.dot_node) return a.dot_node < b.dot_node;
  if (a.dot_counter != b.dot_counter) return a.dot_counter < b.dot_counter;
  if (a.clock.entries() != b.clock.entries()) return a.clock.entries() < b.clock.entries();
  if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
  if (a.writer != b.writer) return a.writer < b.writer;
  if (a.tombstone != b.tombstone) return a.tombstone < b.tombstone;
  return a.value.dump() < b.value.dump();
}

bool lww_less(const Version& a, const Version& b) {
  if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
  if (a.writer != b.writer) return a.writer < b.writer;
  if (a.tombstone != b.tombstone) return a.tombstone > b.tombstone;  // a write beats a delete at a tie
  return a.value.dump() < b.value.dump();
}

// The same write (same event) seen twice, e.g. from two replicas.
bool same_event(const Version& a, const Version& b) {
  if (a.dot_counter != 0 || b.dot_counter != 0) return a.dot_node == b.dot_node && a.dot_counter == b.dot_counter;
  return a.clock.compare(b.clock) == ClockOrder::equal;
}

}  // namespace

VectorClock history(const Version& version) {
  VectorClock clock = version.clock;
  if (version.dot_counter != 0 && clock.get(version.dot_node) < version.dot_counter) {
    clock.set(version.dot_node, version.dot_counter);
  }
  return clock;
}

bool supersedes(const Version& later, const Version& earlier) {
  if (earlier.dot_counter != 0) return later.clock.get(earlier.dot_node) >= earlier.dot_counter;
  return history(earlier).compare(history(later)) == ClockOrder::before;
}

Siblings reconcile(const Siblings& a, const Siblings& b, ConflictMode mode) {
  Siblings all;
  all.reserve(a.size() + b.size());
  all.insert(all.end(), a.begin(), a.end());
  all.insert(all.end(), b.begin(), b.end());
  if (all.empty()) return all;
  if (mode == ConflictMode::last_write_wins) {
    return Siblings{*std::max_element(all.begin(), all.end(), lww_less)};
  }
  Siblings survivors;
  for (std::size_t i = 0; i < all.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < all.size() && !dominated; ++j) {
      if (i == j) continue;
      if (same_event(all[i], all[j])) {
        // One write seen twice: keep the canonically first copy.
        dominated = canonical_less(all[j], all[i]) || (!canonical_less(all[i], all[j]) && j < i);
      } else if (supersedes(all[j], all[i])) {
        dominated = true;
      }
    }
    if (!dominated) survivors.push_back(all[i]);
  }
  std::sort(survivors.begin(), survivors.end(), canonical_less);
  return survivors;
}

VectorClock merged_clock(const Siblings& siblings) {
  VectorClock clock;
  for (const auto& version : siblings) clock.merge(history(version));
  return clock;
}

bool all_tombstones(const Siblings& siblings) {
  if (siblings.empty()) return false;
  return std::all_of(siblings.begin(), siblings.end(), [](const Version& version) { return version.tombstone; });
}

std::int64_t latest_timestamp(const Siblings& siblings) {
  std::int64_t latest = 0;
  for (const auto& version : siblings) latest = std::max(latest, version.timestamp);
  return latest;
}

std::vector<nlohmann::json> live_values(const Siblings& siblings) {
  std::vector<nlohmann::json> values;
  for (const auto& version : siblings) {
    if (!version.tombstone) values.push_back(version.value);
  }
  return values;
}

nlohmann::json chosen_value(const Siblings& siblings) {
  nlohmann::json chosen = nullptr;
  bool any = false;
  for (const auto& version : siblings) {
    if (version.tombstone) continue;
    if (!any || chosen < version.value) chosen = version.value;
    any = true;
  }
  return chosen;
}

std::uint64_t digest(const Siblings& siblings) {
  if (siblings.empty()) return 0;
  return HashRing::hash(to_json(siblings).dump());
}

nlohmann::json to_json(const Version& version) {
  nlohmann::json value = {{"v", version.value}, {"t", version.timestamp}, {"w", version.writer}};
  if (!version.clock.empty()) value["c"] = version.clock.to_json();
  if (version.dot_counter != 0) value["o"] = {version.dot_node, version.dot_counter};
  if (version.tombstone) value["d"] = true;
  return value;
}

Version version_from_json(const nlohmann::json& value) {
  if (!value.is_object()) throw std::invalid_argument("a version must be an object");
  Version version;
  try {
    version.value = value.at("v");
    version.timestamp = value.at("t").get<std::int64_t>();
    version.writer = value.at("w").get<std::string>();
    if (value.contains("c")) version.clock = VectorClock::from_json(value["c"]);
    if (value.contains("o")) {
      const nlohmann::json& dot = value["o"];
      if (!dot.is_array() || dot.size() != 2 || !dot[0].is_string() || !dot[1].is_number_unsigned()) {
        throw std::invalid_argument("bad version: a dot is [node, counter]");
      }
      version.dot_node = dot[0].get<std::string>();
      version.dot_counter = dot[1].get<std::uint64_t>();
      if (version.dot_counter == 0) throw std::invalid_argument("bad version: a dot's counter starts at 1");
    }
    version.tombstone = value.value("d", false);
  } catch (const nlohmann::json::exception& error) {
    throw std::invalid_argument(std::string("bad version: ") + error.what());
  }
  return version;
}

nlohmann::json to_json(const Siblings& siblings) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& version : siblings) array.push_back(to_json(version));
  return array;
}

Siblings siblings_from_json(const nlohmann::json& value) {
  if (!value.is_array()) throw std::invalid_argument("versions must be an array");
  Siblings siblings;
  for (const auto& item : value) siblings.push_back(version_from_json(item));
  return siblings;
}

}  // namespace chaosbench::quorum
