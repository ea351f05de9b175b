#include "chaosbench/checkers/value.h"

namespace chaosbench::checkers {

ValuePool::ValuePool() {
  kinds_.push_back(Kind::null);
  payload_.push_back(0);
}

Value ValuePool::intern_int(std::int64_t number) {
  auto [it, inserted] = integer_ids_.try_emplace(number, static_cast<std::uint32_t>(kinds_.size()));
  if (inserted) {
    kinds_.push_back(Kind::integer);
    payload_.push_back(static_cast<std::uint32_t>(integers_.size()));
    integers_.push_back(number);
  }
  return Value{it->second};
}

Value ValuePool::intern_string(std::string_view text) {
  auto it = string_ids_.find(std::string(text));
  if (it != string_ids_.end()) return Value{it->second};
  auto id = static_cast<std::uint32_t>(kinds_.size());
  kinds_.push_back(Kind::string);
  payload_.push_back(static_cast<std::uint32_t>(strings_.size()));
  strings_.emplace_back(text);
  string_ids_.emplace(std::string(text), id);
  return Value{id};
}

Value ValuePool::intern_json(const nlohmann::json& json) {
  if (json.is_null()) return kNull;
  if (json.is_number_integer()) return intern_int(json.get<std::int64_t>());
  if (json.is_string()) return intern_string(json.get_ref<const std::string&>());
  std::string text = json.dump();  // object keys are sorted: canonical
  auto it = nested_ids_.find(text);
  if (it != nested_ids_.end()) return Value{it->second};
  auto id = static_cast<std::uint32_t>(kinds_.size());
  kinds_.push_back(Kind::nested);
  payload_.push_back(static_cast<std::uint32_t>(nested_.size()));
  nested_.push_back(text);
  nested_ids_.emplace(std::move(text), id);
  return Value{id};
}

std::optional<Value> ValuePool::find_json(const nlohmann::json& json) const {
  if (json.is_null()) return kNull;
  if (json.is_number_integer()) {
    auto it = integer_ids_.find(json.get<std::int64_t>());
    if (it == integer_ids_.end()) return std::nullopt;
    return Value{it->second};
  }
  const auto& ids = json.is_string() ? string_ids_ : nested_ids_;
  auto it = ids.find(json.is_string() ? json.get_ref<const std::string&>() : json.dump());
  if (it == ids.end()) return std::nullopt;
  return Value{it->second};
}

nlohmann::json ValuePool::to_json(Value value) const {
  switch (kinds_[value.id]) {
    case Kind::null:
      return nullptr;
    case Kind::integer:
      return integers_[payload_[value.id]];
    case Kind::string:
      return strings_[payload_[value.id]];
    case Kind::nested:
      return nlohmann::json::parse(nested_[payload_[value.id]]);
  }
  return nullptr;
}

std::string ValuePool::to_text(Value value) const {
  switch (kinds_[value.id]) {
    case Kind::null:
      return "null";
    case Kind::integer:
      return std::to_string(integers_[payload_[value.id]]);
    case Kind::string:
      return nlohmann::json(strings_[payload_[value.id]]).dump();
    case Kind::nested:
      return nested_[payload_[value.id]];
  }
  return "null";
}

}  // namespace chaosbench::checkers
