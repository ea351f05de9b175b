#include "chaosbench/workloads/set_workload.h"

#include <set>

namespace chaosbench::workloads {

SetWorkload::SetWorkload(std::uint64_t seed, double read_fraction)
    : random_(seed), reads_per_thousand_(static_cast<std::uint64_t>(read_fraction * 1000 + 0.5)) {}

ClientOperation SetWorkload::next() {
  if (random_() % 1000 < reads_per_thousand_) return ClientOperation{"read", "", nullptr};
  return ClientOperation{"add", "", next_element_++};
}

std::vector<ClientOperation> SetWorkload::final_reads() const { return {ClientOperation{"read", "", nullptr}}; }

nlohmann::json SetWorkload::request(const ClientOperation& operation) const {
  if (operation.function == "read") return {{"op", "read"}, {"key", kKey}};
  return {{"op", "append"}, {"key", kKey}, {"value", operation.value}};
}

nlohmann::json SetWorkload::completion_value(const ClientOperation& operation,
                                             const nlohmann::json& reply_value) const {
  if (operation.function != "read") return operation.value;
  return reply_value.is_null() ? nlohmann::json::array() : reply_value;  // never added to yet: the empty set
}

nlohmann::json SetWorkload::resolve_siblings(const nlohmann::json& reply_value, const nlohmann::json& siblings) const {
  // A grow-only set's siblings merge by union (what a Riak client does with them); the
  // node's pick comes first so a reply without divergence reads exactly as before.
  nlohmann::json merged = reply_value.is_array() ? reply_value : nlohmann::json::array();
  std::set<nlohmann::json> seen(merged.begin(), merged.end());
  for (const nlohmann::json& sibling : siblings) {
    if (!sibling.is_array()) continue;
    for (const nlohmann::json& element : sibling) {
      if (seen.insert(element).second) merged.push_back(element);
    }
  }
  return merged;
}

}  // namespace chaosbench::workloads
