// Reading and writing histories: chaosbench JSONL (DESIGN.md), Jepsen EDN (a
// vector of op maps or one map per line, [:independent k v] tuples) and
// Porcupine's etcd log format. Readers throw HistoryError with
// "FILE:LINE: field 'F': what is wrong"; they never skip input silently.
#pragma once

#include <cstdio>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

enum class HistoryFormat { automatic, jsonl, edn, porcupine_log };

std::string_view to_string(HistoryFormat format);
// "auto", "jsonl", "edn", "porcupine-log"; nullopt for anything else.
std::optional<HistoryFormat> parse_history_format(std::string_view text);

// Guesses the format from the first non-blank characters of the text.
HistoryFormat detect_history_format(std::string_view text);

// Parses a whole text; `source` names it in error messages (usually the path).
History parse_history(std::string_view text, HistoryFormat format, std::string_view source,
                      HistoryFormat* detected = nullptr);
History read_history_file(const std::filesystem::path& path, HistoryFormat format = HistoryFormat::automatic,
                          HistoryFormat* detected = nullptr);

// One operation as a JSONL line (no trailing newline).
std::string format_jsonl_line(const History& history, std::size_t index);

// Streaming JSONL writer: each write() appends one line and flushes it to the
// kernel; fsync happens at least once per `sync_interval` (and on close), so a
// crashed writer leaves a parseable prefix. Throws std::system_error on I/O errors.
class JsonlWriter {
 public:
  explicit JsonlWriter(const std::filesystem::path& path,
                       std::chrono::milliseconds sync_interval = std::chrono::milliseconds(1000));
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void write(const History& history, std::size_t index);
  void close();

 private:
  void sync();
  int fd_ = -1;
  std::filesystem::path path_;
  std::chrono::milliseconds sync_interval_;
  std::chrono::steady_clock::time_point last_sync_;
  std::string buffer_;
};

// Writes a whole history as JSONL (buffered, one fsync at the end).
void write_history_file(const History& history, const std::filesystem::path& path);

}  // namespace chaosbench::checkers
