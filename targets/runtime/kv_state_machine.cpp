#include "runtime/kv_state_machine.h"

#include <stdexcept>

#include "chaosbench/targets/protocol/transaction.h"

namespace chaosbench::targets {

using nlohmann::json;

bool KvStateMachine::is_update(const std::string& op) {
  return op == "write" || op == "cas" || op == "append" || op == "add" || op == "delete" || op == "txn";
}

std::optional<std::string> KvStateMachine::validate(const json& request) { return protocol::validate_request(request); }

json KvStateMachine::apply(const json& command) {
  const std::string op = command.at("op").get<std::string>();
  if (op == "txn") {
    // Only the touched keys are copied; a failing micro-op changes nothing.
    const json& micro_ops = command.at("value");
    std::map<std::string, json> view;
    for (const std::string& key : protocol::transaction_keys(micro_ops)) {
      auto found = values_.find(key);
      if (found != values_.end()) view.emplace(key, found->second);
    }
    protocol::TransactionResult result = protocol::apply_transaction(view, micro_ops);
    if (result.failed_precondition) return protocol::precondition_failed_reply(*result.failed_precondition);
    for (auto& [key, value] : view) values_[key] = std::move(value);
    return json{{"ok", true}, {"value", std::move(result.completed)}};
  }
  const std::string key = command.at("key").get<std::string>();
  if (op == "read") return json{{"ok", true}, {"value", read(key)}};
  if (op == "cas") {
    auto found = values_.find(key);
    if (found == values_.end() || found->second != command.at("from")) {
      return protocol::precondition_failed_reply("cas: current value differs from expected");
    }
    found->second = command.at("to");
    return json{{"ok", true}};
  }
  if (op == "delete") {
    values_.erase(key);
    return json{{"ok", true}};
  }
  try {
    protocol::apply_micro_op(values_, op == "write" ? "w" : op, key, command.at("value"));
  } catch (const std::invalid_argument& error) {
    return protocol::precondition_failed_reply(error.what());
  }
  return json{{"ok", true}};
}

json KvStateMachine::read(const std::string& key) const {
  auto found = values_.find(key);
  return found == values_.end() ? json(nullptr) : found->second;
}

std::string KvStateMachine::snapshot() const {
  json document = json::object();
  for (const auto& [key, value] : values_) document[key] = value;
  auto bytes = json::to_cbor(document);
  return std::string(bytes.begin(), bytes.end());
}

void KvStateMachine::restore(const std::string& snapshot_bytes) {
  values_.clear();
  if (snapshot_bytes.empty()) return;
  json document = json::from_cbor(snapshot_bytes);
  for (auto& [key, value] : document.items()) values_.emplace(key, value);
}

}  // namespace chaosbench::targets
