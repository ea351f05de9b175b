// Records the run's history as it happens: each operation is appended to an
// in-memory History (for the checker at the end) and written at once as one
// JSONL line (JsonlWriter: flushed per line, fsync'd every second), so a
// crashed controller leaves a checkable prefix. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chaosbench/checkers/history.h"
#include "chaosbench/checkers/history_io.h"

namespace chaosbench::harness {

// One operation as it is recorded, for a listener (views valid during the call).
struct RecordedOperation {
  checkers::OpType type;
  std::int64_t process;
  std::string_view function;
  std::string_view key;
  const nlohmann::json& value;
  std::int64_t time;  // ns since the history's start
};

// Client operations recorded so far (the nemesis's own are not counted).
struct OperationCounts {
  std::uint64_t invoked = 0, ok = 0, fail = 0, info = 0;
};

class HistoryRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  // `start` is time 0 of the history. Throws std::system_error if path cannot be created.
  HistoryRecorder(const std::filesystem::path& path, Clock::time_point start);

  Clock::time_point start() const { return start_; }
  // Appends one operation stamped with the current time; returns that time (ns
  // since start). `error`: why a fail/info completion ended so (empty: none).
  // Throws std::system_error on I/O errors.
  std::int64_t record(checkers::OpType type, std::int64_t process, std::string_view function, std::string_view key,
                      const nlohmann::json& value, std::string_view node, std::string_view error = {});
  // Called with every operation, in history order, under the recorder's lock (so
  // it must be quick). Set it before anything records.
  void set_listener(std::function<void(const RecordedOperation&)> listener) { listener_ = std::move(listener); }
  // Fsyncs and closes the file; later records throw. Idempotent.
  void close();
  // The history so far. Only read it once nothing records any more.
  const checkers::History& history() const { return history_; }
  std::size_t size() const;
  OperationCounts counts() const;

 private:
  checkers::Value intern(const nlohmann::json& value);
  mutable std::mutex mutex_;
  Clock::time_point start_;
  checkers::History history_;
  checkers::JsonlWriter writer_;
  OperationCounts counts_;
  std::function<void(const RecordedOperation&)> listener_;
};

}  // namespace chaosbench::harness
