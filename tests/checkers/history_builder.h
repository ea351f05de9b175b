// Test helper: builds in-memory histories op by op, with times equal to indices.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers::testing {

class HistoryBuilder {
 public:
  HistoryBuilder& invoke(std::int64_t process, std::string_view function, const nlohmann::json& value = nullptr,
                         std::string_view key = {}) {
    return add(OpType::invoke, process, function, value, key);
  }
  HistoryBuilder& ok(std::int64_t process, std::string_view function, const nlohmann::json& value = nullptr,
                     std::string_view key = {}) {
    return add(OpType::ok, process, function, value, key);
  }
  HistoryBuilder& fail(std::int64_t process, std::string_view function, const nlohmann::json& value = nullptr,
                       std::string_view key = {}) {
    return add(OpType::fail, process, function, value, key);
  }
  HistoryBuilder& info(std::int64_t process, std::string_view function, const nlohmann::json& value = nullptr,
                       std::string_view key = {}) {
    return add(OpType::info, process, function, value, key);
  }
  HistoryBuilder& add(OpType type, std::int64_t process, std::string_view function, const nlohmann::json& value,
                      std::string_view key) {
    Operation op;
    op.type = type;
    op.process = process;
    op.function = history_.functions.intern(function);
    op.value = history_.values.intern_json(value);
    op.key = key.empty() ? 0 : history_.keys.intern(key);
    op.time = static_cast<std::int64_t>(history_.operations.size());
    history_.operations.push_back(op);
    return *this;
  }
  const History& history() const { return history_; }
  History take() { return std::move(history_); }

 private:
  History history_;
};

}  // namespace chaosbench::checkers::testing
