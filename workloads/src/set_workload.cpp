#include "chaosbench/workloads/set_workload.h"

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

nlohmann::json SetWorkload::completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const {
  if (operation.function != "read") return operation.value;
  return reply_value.is_null() ? nlohmann::json::array() : reply_value;  // never added to yet: the empty set
}

}  // namespace chaosbench::workloads
