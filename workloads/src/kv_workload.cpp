#include "chaosbench/workloads/kv_workload.h"

#include <fmt/format.h>

namespace chaosbench::workloads {

KvWorkload::KvWorkload(std::uint64_t seed, KeyRotation rotation, double read_fraction)
    : random_(seed), rotation_(rotation), reads_per_thousand_(static_cast<std::uint64_t>(read_fraction * 1000 + 0.5)) {
  operations_left_on_window_ = rotation_.minimum + random_() % (rotation_.maximum - rotation_.minimum + 1);
}

ClientOperation KvWorkload::next() {
  if (operations_left_on_window_ == 0) {
    ++oldest_key_;
    operations_left_on_window_ = rotation_.minimum + random_() % (rotation_.maximum - rotation_.minimum + 1);
  }
  --operations_left_on_window_;
  ClientOperation operation;
  operation.key = fmt::format("k{}", oldest_key_ + random_() % kLiveKeys);
  if (random_() % 1000 < reads_per_thousand_) {
    operation.function = "get";
  } else if (random_() % 10 < 7) {
    operation.function = "append";
    operation.value = fmt::format("{};", next_token_++);
  } else {
    operation.function = "put";
    operation.value = fmt::format("{};", next_token_++);
  }
  return operation;
}

std::vector<ClientOperation> KvWorkload::final_reads() const {
  std::vector<ClientOperation> reads;
  for (std::uint64_t offset = 0; offset < kLiveKeys; ++offset) {
    reads.push_back(ClientOperation{"get", fmt::format("k{}", oldest_key_ + offset), nullptr});
  }
  return reads;
}

nlohmann::json KvWorkload::request(const ClientOperation& operation) const {
  if (operation.function == "get") return {{"op", "read"}, {"key", operation.key}};
  if (operation.function == "append") return {{"op", "append"}, {"key", operation.key}, {"value", operation.value}};
  // put: the key becomes a one-token list, so later appends extend it.
  return {{"op", "write"}, {"key", operation.key}, {"value", nlohmann::json::array({operation.value})}};
}

nlohmann::json KvWorkload::completion_value(const ClientOperation& operation, const nlohmann::json& reply_value) const {
  if (operation.function != "get") return operation.value;
  if (!reply_value.is_array()) return reply_value;  // null (absent), or something unexpected the checker will report
  std::string text;
  for (const auto& token : reply_value) {
    if (!token.is_string()) return reply_value;
    text += token.get<std::string>();
  }
  return text;
}

}  // namespace chaosbench::workloads
