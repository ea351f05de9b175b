#include "chaosbench/targets/protocol/transaction.h"

#include <stdexcept>

#include <fmt/format.h>

namespace chaosbench::targets::protocol {

using nlohmann::json;

namespace {

bool is_write_function(const std::string& function) {
  return function == "w" || function == "append" || function == "add";
}

}  // namespace

std::optional<std::string> validate_transaction(const json& micro_ops) {
  if (!micro_ops.is_array()) return "txn needs an array field value";
  for (const auto& micro_op : micro_ops) {
    if (!micro_op.is_array() || micro_op.size() != 3 || !micro_op[0].is_string() || !micro_op[1].is_string()) {
      return "txn micro-op must be [f, key, value]";
    }
    const auto function = micro_op[0].get<std::string>();
    if (function != "r" && !is_write_function(function) && function != "at-least") {
      return fmt::format("unknown txn micro-op {}", function);
    }
    if ((function == "add" || function == "at-least") && !micro_op[2].is_number_integer()) {
      return fmt::format("txn {} needs an integer", function);
    }
  }
  return std::nullopt;
}

std::optional<std::string> validate_request(const json& request) {
  if (!request.is_object()) return "request is not an object";
  auto op_field = request.find("op");
  if (op_field == request.end() || !op_field->is_string()) return "missing string field op";
  const std::string op = op_field->get<std::string>();
  if (op == "txn") {
    auto value = request.find("value");
    if (value == request.end()) return "txn needs an array field value";
    return validate_transaction(*value);
  }
  if (op != "read" && op != "write" && op != "cas" && op != "append" && op != "add" && op != "delete") {
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

json apply_micro_op(std::map<std::string, json>& view, const std::string& function, const std::string& key,
                    const json& value) {
  auto found = view.find(key);
  if (function == "r") return found == view.end() ? json(nullptr) : found->second;
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
    if (found == view.end() || !found->second.is_number_integer() ||
        found->second.get<std::int64_t>() < value.get<std::int64_t>()) {
      throw std::invalid_argument(fmt::format("at-least: key {} holds {}, not at least {}", key,
                                              found == view.end() ? "nothing" : found->second.dump(), value.dump()));
    }
    return found->second;
  }
  throw std::invalid_argument(fmt::format("unknown micro-op {}", function));
}

json precondition_failed_reply(const std::string& message) {
  return json{{"error", "precondition_failed"}, {"message", message}, {"definite", true}};
}

TransactionResult apply_transaction(std::map<std::string, json>& view, const json& micro_ops) {
  std::map<std::string, json> scratch = view;
  TransactionResult result;
  try {
    for (const auto& micro_op : micro_ops) {
      const auto function = micro_op[0].get<std::string>();
      const auto key = micro_op[1].get<std::string>();
      result.completed.push_back(json::array({function, key, apply_micro_op(scratch, function, key, micro_op[2])}));
    }
  } catch (const std::invalid_argument& error) {
    result.completed = json::array();
    result.failed_precondition = error.what();
    return result;
  }
  view = std::move(scratch);
  return result;
}

std::set<std::string> transaction_keys(const json& micro_ops) {
  std::set<std::string> keys;
  for (const auto& micro_op : micro_ops) keys.insert(micro_op[1].get<std::string>());
  return keys;
}

std::set<std::string> transaction_written_keys(const json& micro_ops) {
  std::set<std::string> keys;
  for (const auto& micro_op : micro_ops) {
    if (is_write_function(micro_op[0].get<std::string>())) keys.insert(micro_op[1].get<std::string>());
  }
  return keys;
}

std::string logged_command(const json& request) {
  json command = json::object();
  for (const char* field : {"op", "key", "value", "from", "to"}) {
    if (request.contains(field)) command[field] = request[field];
  }
  return command.dump();
}

}  // namespace chaosbench::targets::protocol
