// VectorClock: a map from node id to counter, the causality tracker of the
// quorum store. compare() says whether one clock happened before, after, is
// equal to, or is concurrent with another; merge() is the pointwise maximum.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace chaosbench::quorum {

enum class ClockOrder { equal, before, after, concurrent };

class VectorClock {
 public:
  std::uint64_t get(const std::string& node) const;
  void set(const std::string& node, std::uint64_t counter);
  // Pointwise maximum with `other`.
  void merge(const VectorClock& other);
  // How this clock relates to `other`: before means every entry <= and one <.
  ClockOrder compare(const VectorClock& other) const;
  bool empty() const { return entries_.empty(); }
  const std::map<std::string, std::uint64_t>& entries() const { return entries_; }
  bool operator==(const VectorClock& other) const { return entries_ == other.entries_; }

  // {"n1":3,"n2":1}; from_json throws std::invalid_argument for anything else.
  nlohmann::json to_json() const;
  static VectorClock from_json(const nlohmann::json& value);

 private:
  std::map<std::string, std::uint64_t> entries_;  // zero entries are not stored
};

}  // namespace chaosbench::quorum
