// Values in a history: integers, strings, null and nested JSON, interned.
// A Value is a 4-byte handle into a ValuePool; equal values (same JSON type and
// content) get the same handle, so comparison is handle equality. Not thread-safe
// for interning; read-only use from several threads is safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace chaosbench::checkers {

struct Value {
  std::uint32_t id = 0;  // 0 is null
  bool is_null() const { return id == 0; }
  friend bool operator==(Value, Value) = default;
};

inline constexpr Value kNull{};

class ValuePool {
 public:
  ValuePool();

  Value intern_int(std::int64_t number);
  Value intern_string(std::string_view text);
  Value intern_json(const nlohmann::json& json);  // any JSON, canonicalised
  // The handle of a value already interned, without interning it.
  std::optional<Value> find_json(const nlohmann::json& json) const;

  bool is_int(Value value) const { return kinds_[value.id] == Kind::integer; }
  bool is_string(Value value) const { return kinds_[value.id] == Kind::string; }
  std::int64_t as_int(Value value) const { return integers_[payload_[value.id]]; }
  const std::string& as_string(Value value) const { return strings_[payload_[value.id]]; }
  // The value as JSON (for nested values: the parsed structure).
  nlohmann::json to_json(Value value) const;
  // Compact JSON text (what the JSONL writer emits).
  std::string to_text(Value value) const;

  std::size_t size() const { return kinds_.size(); }

 private:
  enum class Kind : std::uint8_t { null, integer, string, nested };
  std::vector<Kind> kinds_;
  std::vector<std::uint32_t> payload_;  // index into integers_, strings_ or nested_
  std::vector<std::int64_t> integers_;
  std::vector<std::string> strings_;
  std::vector<std::string> nested_;  // canonical JSON text
  std::unordered_map<std::int64_t, std::uint32_t> integer_ids_;
  std::unordered_map<std::string, std::uint32_t> string_ids_;
  std::unordered_map<std::string, std::uint32_t> nested_ids_;
};

}  // namespace chaosbench::checkers
