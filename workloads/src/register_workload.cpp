#include "chaosbench/workloads/register_workload.h"

#include <fmt/format.h>

namespace chaosbench::workloads {
namespace {
constexpr std::uint64_t kValueCount = 5;  // values 0..4: small, so reads often match writes
}

RegisterWorkload::RegisterWorkload(std::uint64_t seed, KeyRotation rotation, double read_fraction, Updates updates)
    : random_(seed),
      rotation_(rotation),
      reads_per_thousand_(static_cast<std::uint64_t>(read_fraction * 1000 + 0.5)),
      updates_(updates) {}

std::string_view RegisterWorkload::name() const {
  switch (updates_) {
    case Updates::unique_writes:
      return "unique-register";
    case Updates::unique_writes_and_deletes:
      return "register-delete";
    case Updates::write_and_cas:
      break;
  }
  return "register";
}

std::set<std::string> RegisterWorkload::client_operations() const {
  switch (updates_) {
    case Updates::unique_writes:
      return {"read", "write"};
    case Updates::unique_writes_and_deletes:
      return {"read", "write", "delete"};
    case Updates::write_and_cas:
      break;
  }
  return {"read", "write", "cas"};
}

std::string RegisterWorkload::current_key() const { return fmt::format("r{}", key_index_); }

ClientOperation RegisterWorkload::next() {
  if (operations_left_on_key_ == 0) {
    if (keys_started_ > 0) ++key_index_;
    ++keys_started_;
    operations_left_on_key_ = rotation_.minimum + random_() % (rotation_.maximum - rotation_.minimum + 1);
  }
  --operations_left_on_key_;
  ClientOperation operation;
  operation.key = current_key();
  if (random_() % 1000 < reads_per_thousand_) {
    operation.function = "read";
  } else if (updates_ == Updates::unique_writes_and_deletes && random_() % 4 == 0) {
    operation.function = "delete";
    operation.value = nullptr;
  } else if (updates_ != Updates::write_and_cas) {
    operation.function = "write";
    operation.value = next_unique_value_++;
  } else if (random_() % 2 == 0) {
    operation.function = "write";
    operation.value = static_cast<std::int64_t>(random_() % kValueCount);
  } else {
    operation.function = "cas";
    const auto expected = static_cast<std::int64_t>(random_() % kValueCount);
    const auto replacement = static_cast<std::int64_t>(random_() % kValueCount);
    operation.value = nlohmann::json::array({expected, replacement});
  }
  return operation;
}

std::vector<ClientOperation> RegisterWorkload::final_reads() const {
  if (updates_ != Updates::unique_writes_and_deletes) return {ClientOperation{"read", current_key(), nullptr}};
  // Every key the run used: a deleted value that comes back (a replica that
  // missed the delete) shows on a key the clients have long left.
  std::vector<ClientOperation> reads;
  for (std::uint64_t index = 0; index <= key_index_; ++index) {
    reads.push_back(ClientOperation{"read", fmt::format("r{}", index), nullptr});
  }
  return reads;
}

nlohmann::json RegisterWorkload::request(const ClientOperation& operation) const {
  if (operation.function == "read") return {{"op", "read"}, {"key", operation.key}};
  if (operation.function == "write") return {{"op", "write"}, {"key", operation.key}, {"value", operation.value}};
  if (operation.function == "delete") return {{"op", "delete"}, {"key", operation.key}};
  return {{"op", "cas"}, {"key", operation.key}, {"from", operation.value[0]}, {"to", operation.value[1]}};
}

nlohmann::json RegisterWorkload::completion_value(const ClientOperation& operation,
                                                  const nlohmann::json& reply_value) const {
  return operation.function == "read" ? reply_value : operation.value;
}

}  // namespace chaosbench::workloads
