#include "chaosbench/workloads/txn_workload.h"

#include <fmt/format.h>

namespace chaosbench::workloads {

using nlohmann::json;

TxnWorkload::TxnWorkload(std::uint64_t seed, double read_fraction, std::string write_function,
                         const KeyPoolOptions& keys)
    : random_(seed),
      reads_per_thousand_(static_cast<std::uint64_t>(read_fraction * 1000 + 0.5)),
      write_function_(std::move(write_function)),
      keys_(keys) {}

ClientOperation TxnWorkload::next() {
  const std::uint64_t micro_ops = 1 + random_() % kMostMicroOps;
  json value = json::array();
  for (std::uint64_t count = 0; count < micro_ops; ++count) {
    const std::size_t rank = keys_.choose_rank(random_);
    const std::string key = fmt::format("x{}", keys_.key_at(rank));
    if (random_() % 1000 < reads_per_thousand_) {
      value.push_back(json::array({"r", key, nullptr}));
      continue;
    }
    value.push_back(json::array({write_function_, key, next_value_++}));
    keys_.count_write(rank);
  }
  return ClientOperation{"txn", "", std::move(value)};
}

std::vector<ClientOperation> TxnWorkload::final_reads() const {
  json reads = json::array();
  for (std::uint64_t key : keys_.active_keys()) reads.push_back(json::array({"r", fmt::format("x{}", key), nullptr}));
  return {ClientOperation{"txn", "", std::move(reads)}};
}

bool TxnWorkload::is_single_read(const ClientOperation& operation) {
  return operation.value.size() == 1 && operation.value[0][0] == "r";
}

json TxnWorkload::request(const ClientOperation& operation) const {
  if (is_single_read(operation)) return {{"op", "read"}, {"key", operation.value[0][1]}};
  return {{"op", "txn"}, {"value", operation.value}};
}

json TxnWorkload::completion_value(const ClientOperation& operation, const json& reply_value) const {
  if (is_single_read(operation)) return json::array({json::array({"r", operation.value[0][1], reply_value})});
  return reply_value;  // the node echoes every micro-op with reads filled in
}

CheckerSettings TxnWorkload::checker_settings() const {
  CheckerSettings settings = Workload::checker_settings();
  settings.consistency_model = checkers::ConsistencyModel::strict_serializable;
  // Implied by the model it is judged against (a serializable txn's write of a
  // key comes after the version it read); Elle leaves it off unless asked.
  settings.wfr_keys = true;
  return settings;
}

}  // namespace chaosbench::workloads
