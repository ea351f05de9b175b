#include "common/kv_state_machine.h"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

namespace chaosbench::targets {
namespace {

using nlohmann::json;

json precondition_failed(const std::string& message) {
  return json{{"error", "precondition_failed"}, {"message", message}, {"definite", true}};
}

// Applies one micro-op of a transaction to `view`; returns the read value for
// "r" ops. Throws std::invalid_argument on a precondition failure.
json apply_micro_op(std::map<std::string, json>& view, const std::string& function, const std::string& key,
                    const json& value) {
  auto found = view.find(key);
  if (function == "r") {
    return found == view.end() ? json(nullptr) : found->second;
  }
  if (function == "w") {
    view[key] = value;
    return value;
  }
  if (function == "append") {
    if (found == view.end()) {
      view[key] = json::array({value});
    } else if (found->second.is_array()) {
      found->second.push_back(value);
    } else {
      throw std::invalid_argument(fmt::format("append to non-list key {}", key));
    }
    return value;
  }
  if (function == "add") {
    if (found == view.end()) {
      view[key] = value;
    } else if (found->second.is_number_integer()) {
      found->second = found->second.get<std::int64_t>() + value.get<std::int64_t>();
    } else {
      throw std::invalid_argument(fmt::format("add to non-integer key {}", key));
    }
    return value;
  }
  if (function == "at-least") {
    // A guard: the txn fails (and changes nothing) unless key holds an integer >= value.
    if (found == view.end() || !found->second.is_number_integer() ||
        found->second.get<std::int64_t>() < value.get<std::int64_t>()) {
      throw std::invalid_argument(fmt::format("at-least: key {} holds {}, not at least {}", key,
                                              found == view.end() ? "nothing" : found->second.dump(), value.dump()));
    }
    return found->second;
  }
  throw std::invalid_argument(fmt::format("unknown micro-op {}", function));
}

}  // namespace

bool KvStateMachine::is_update(const std::string& op) {
  return op == "write" || op == "cas" || op == "append" || op == "add" || op == "txn";
}

std::optional<std::string> KvStateMachine::validate(const json& request) {
  if (!request.is_object()) return "request is not an object";
  auto op_field = request.find("op");
  if (op_field == request.end() || !op_field->is_string()) return "missing string field op";
  const std::string op = op_field->get<std::string>();
  if (op == "txn") {
    auto value = request.find("value");
    if (value == request.end() || !value->is_array()) return "txn needs an array field value";
    for (const auto& micro_op : *value) {
      if (!micro_op.is_array() || micro_op.size() != 3 || !micro_op[0].is_string() || !micro_op[1].is_string()) {
        return "txn micro-op must be [f, key, value]";
      }
      const auto function = micro_op[0].get<std::string>();
      if (function != "r" && function != "w" && function != "append" && function != "add" && function != "at-least") {
        return fmt::format("unknown txn micro-op {}", function);
      }
      if ((function == "add" || function == "at-least") && !micro_op[2].is_number_integer()) {
        return fmt::format("txn {} needs an integer", function);
      }
    }
    return std::nullopt;
  }
  if (op != "read" && op != "write" && op != "cas" && op != "append" && op != "add") {
    return fmt::format("unknown op {}", op);
  }
  auto key = request.find("key");
  if (key == request.end() || !key->is_string()) return "missing string field key";
  if (op == "write" || op == "append" || op == "add") {
    if (!request.contains("value")) return fmt::format("{} needs a value", op);
  }
  if (op == "add" && !request["value"].is_number_integer()) return "add needs an integer value";
  if (op == "cas" && (!request.contains("from") || !request.contains("to"))) return "cas needs from and to";
  return std::nullopt;
}

json KvStateMachine::apply(const json& command) {
  const std::string op = command.at("op").get<std::string>();
  if (op == "txn") {
    // Apply to a copy of the touched keys so a failing micro-op changes nothing.
    std::map<std::string, json> view;
    for (const auto& micro_op : command.at("value")) {
      const auto key = micro_op[1].get<std::string>();
      auto found = values_.find(key);
      if (found != values_.end()) view.emplace(key, found->second);
    }
    json results = json::array();
    try {
      for (const auto& micro_op : command.at("value")) {
        const auto function = micro_op[0].get<std::string>();
        const auto key = micro_op[1].get<std::string>();
        json result = apply_micro_op(view, function, key, micro_op[2]);
        results.push_back(json::array({function, key, result}));
      }
    } catch (const std::invalid_argument& error) {
      return precondition_failed(error.what());
    }
    for (auto& [key, value] : view) values_[key] = std::move(value);
    return json{{"ok", true}, {"value", std::move(results)}};
  }
  const std::string key = command.at("key").get<std::string>();
  if (op == "read") return json{{"ok", true}, {"value", read(key)}};
  if (op == "cas") {
    auto found = values_.find(key);
    if (found == values_.end() || found->second != command.at("from")) {
      return precondition_failed("cas: current value differs from expected");
    }
    found->second = command.at("to");
    return json{{"ok", true}};
  }
  try {
    apply_micro_op(values_, op == "write" ? "w" : op, key, command.at("value"));
  } catch (const std::invalid_argument& error) {
    return precondition_failed(error.what());
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
