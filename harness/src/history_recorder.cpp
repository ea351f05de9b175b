#include "chaosbench/harness/history_recorder.h"

namespace chaosbench::harness {

HistoryRecorder::HistoryRecorder(const std::filesystem::path& path, Clock::time_point start)
    : start_(start), writer_(path) {}

checkers::Value HistoryRecorder::intern(const nlohmann::json& value) {
  if (value.is_null()) return checkers::kNull;
  if (value.is_number_integer()) return history_.values.intern_int(value.get<std::int64_t>());
  if (value.is_string()) return history_.values.intern_string(value.get_ref<const std::string&>());
  return history_.values.intern_json(value);
}

std::int64_t HistoryRecorder::record(checkers::OpType type, std::int64_t process, std::string_view function,
                                     std::string_view key, const nlohmann::json& value, std::string_view node,
                                     std::string_view error) {
  std::lock_guard lock(mutex_);
  checkers::Operation operation;
  operation.time = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
  operation.process = process;
  operation.type = type;
  operation.function = history_.functions.intern(function);
  operation.key = key.empty() ? 0 : history_.keys.intern(key);
  operation.node = node.empty() ? 0 : static_cast<std::uint16_t>(history_.nodes.intern(node));
  operation.value = intern(value);
  history_.operations.push_back(operation);
  if (!error.empty()) history_.set_error(history_.operations.size() - 1, error);
  writer_.write(history_, history_.operations.size() - 1);
  if (listener_) listener_(RecordedOperation{type, process, function, key, value, operation.time});
  if (process != checkers::kNemesisProcess) {
    switch (type) {
      case checkers::OpType::invoke:
        ++counts_.invoked;
        break;
      case checkers::OpType::ok:
        ++counts_.ok;
        break;
      case checkers::OpType::fail:
        ++counts_.fail;
        break;
      case checkers::OpType::info:
        ++counts_.info;
        break;
    }
  }
  return operation.time;
}

void HistoryRecorder::close() {
  std::lock_guard lock(mutex_);
  writer_.close();
}

OperationCounts HistoryRecorder::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::size_t HistoryRecorder::size() const {
  std::lock_guard lock(mutex_);
  return history_.operations.size();
}

}  // namespace chaosbench::harness
