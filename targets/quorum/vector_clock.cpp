#include "quorum/vector_clock.h"

#include <stdexcept>

namespace chaosbench::quorum {

std::uint64_t VectorClock::get(const std::string& node) const {
  auto found = entries_.find(node);
  return found == entries_.end() ? 0 : found->second;
}

void VectorClock::set(const std::string& node, std::uint64_t counter) {
  if (counter == 0) {
    entries_.erase(node);
  } else {
    entries_[node] = counter;
  }
}

void VectorClock::merge(const VectorClock& other) {
  for (const auto& [node, counter] : other.entries_) {
    auto& mine = entries_[node];
    if (counter > mine) mine = counter;
  }
}

ClockOrder VectorClock::compare(const VectorClock& other) const {
  bool some_less = false;
  bool some_greater = false;
  auto mine = entries_.begin();
  auto theirs = other.entries_.begin();
  while (mine != entries_.end() || theirs != other.entries_.end()) {
    if (theirs == other.entries_.end() || (mine != entries_.end() && mine->first < theirs->first)) {
      some_greater = true;  // an entry only this clock has (non-zero)
      ++mine;
    } else if (mine == entries_.end() || theirs->first < mine->first) {
      some_less = true;
      ++theirs;
    } else {
      if (mine->second < theirs->second) some_less = true;
      if (mine->second > theirs->second) some_greater = true;
      ++mine;
      ++theirs;
    }
  }
  if (some_less && some_greater) return ClockOrder::concurrent;
  if (some_less) return ClockOrder::before;
  if (some_greater) return ClockOrder::after;
  return ClockOrder::equal;
}

nlohmann::json VectorClock::to_json() const {
  nlohmann::json value = nlohmann::json::object();
  for (const auto& [node, counter] : entries_) value[node] = counter;
  return value;
}

VectorClock VectorClock::from_json(const nlohmann::json& value) {
  if (!value.is_object()) throw std::invalid_argument("a vector clock must be an object of node -> counter");
  VectorClock clock;
  for (const auto& [node, counter] : value.items()) {
    if (!counter.is_number_unsigned() && !(counter.is_number_integer() && counter.get<std::int64_t>() >= 0)) {
      throw std::invalid_argument("vector clock entry '" + node + "' is not a non-negative integer");
    }
    clock.set(node, counter.get<std::uint64_t>());
  }
  return clock;
}

}  // namespace chaosbench::quorum
