#include "chaosbench/workloads/counter_workload.h"

namespace chaosbench::workloads {

CounterWorkload::CounterWorkload(std::uint64_t seed, double read_fraction)
    : random_(seed), reads_per_thousand_(static_cast<std::uint64_t>(read_fraction * 1000 + 0.5)) {}

ClientOperation CounterWorkload::next() {
  if (random_() % 1000 < reads_per_thousand_) return ClientOperation{"read", "", nullptr};
  return ClientOperation{"add", "", static_cast<std::int64_t>(1 + random_() % kLargestAdd)};
}

std::vector<ClientOperation> CounterWorkload::final_reads() const { return {ClientOperation{"read", "", nullptr}}; }

nlohmann::json CounterWorkload::request(const ClientOperation& operation) const {
  if (operation.function == "read") return {{"op", "read"}, {"key", kKey}};
  return {{"op", "add"}, {"key", kKey}, {"value", operation.value}};
}

nlohmann::json CounterWorkload::completion_value(const ClientOperation& operation,
                                                 const nlohmann::json& reply_value) const {
  if (operation.function != "read") return operation.value;
  return reply_value.is_null() ? nlohmann::json(0) : reply_value;  // never added to yet
}

}  // namespace chaosbench::workloads
