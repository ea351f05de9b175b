// Reading and writing histories: chaosbench JSONL (DESIGN.md), Jepsen EDN (a
// vector of op maps or one map per line, [:independent k v] tuples), Jepsen's
// JSON (an array of op objects, as elle-cli reads them) and Porcupine's etcd
// log format. Readers throw HistoryError with
// "FILE:LINE: field 'F': what is wrong"; they never skip input silently.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "chaosbench/checkers/errors.h"
#include "chaosbench/checkers/history.h"

namespace chaosbench::checkers {

enum class HistoryFormat { automatic, jsonl, edn, porcupine_log, json };

std::string_view to_string(HistoryFormat format);
// "auto", "jsonl", "edn", "porcupine-log", "json"; nullopt for anything else.
std::optional<HistoryFormat> parse_history_format(std::string_view text);

// Guesses the format from the first non-blank characters of the text:
// `{"` jsonl; `[{"` (and `[` + blanks + `{` + blanks + `"`) json; `{:`, other
// `[`, `(`, `#`, `;` edn; `INFO` porcupine_log; an empty text is jsonl (an
// empty history). Returns automatic when nothing matches.
HistoryFormat detect_history_format(std::string_view text);

// Parses a whole text; `source` names it in error messages (usually the path).
// With HistoryFormat::automatic the format is detected (HistoryError when it
// cannot be); `detected`, when given, receives the format actually parsed.
// Operation times: the `time` field when present; when no operation in the
// text has one (Porcupine logs, some EDN files) time = position, so time order
// is file order; an operation missing it among timed ones gets the time of
// the operation before it.
History parse_history(std::string_view text, HistoryFormat format, std::string_view source,
                      HistoryFormat* detected = nullptr);
// Reads and parses a file (HistoryError when it cannot be read). A directory
// is a store directory: chaosbench's (history.jsonl) or Jepsen's
// (store/<test>/<time>/ or its `latest` link, history.edn); history.json too.
History read_history_file(const std::filesystem::path& path, HistoryFormat format = HistoryFormat::automatic,
                          HistoryFormat* detected = nullptr);

// The readers behind parse_history, one per format.
// JSONL: fields index (must equal the position), type, process (integer or
// "nemesis"), f, key (string or integer), value (any JSON), time, node;
// unknown fields are ignored, blank lines allowed.
// An op without "f" whose value is a list of lists ([["append","x",1],...],
// as Elle's histories are written) is a "txn".
History parse_jsonl_history(std::string_view text, std::string_view source);
// Jepsen's JSON: a JSON array of op objects (objects may span lines), or one
// object per line. Fields as in JSONL, keyword values as strings ("ok",
// "txn"), with Jepsen's own "index" kept (any integers; History::file_index)
// instead of having to equal the position, and "f" optional for txns.
History parse_json_history(std::string_view text, std::string_view source);
// EDN: a vector (or list) of op maps, or a sequence of op maps; tagged maps
// (#jepsen.history.Op{...}) count as maps. Keywords become strings without the
// colon. A value [:independent k v], #jepsen.independent/tuple [k v] or
// #jepsen.independent.Tuple{:key k :value v} on an op without :key sets key k
// and value v. :process :nemesis is the nemesis; :index is kept
// (History::file_index), :error kept (History::error), :node kept; an op
// without :f whose value is a vector of vectors (an Elle txn) is a :txn.
History parse_edn_history(std::string_view text, std::string_view source);
// Porcupine's etcd logs: "INFO  jepsen.util - PROCESS<blank>:TYPE<blank>:F<blank>VALUE",
// blanks being tabs or runs of spaces; VALUE is EDN (nil, 3, [1 2], :timed-out).
History parse_porcupine_log(std::string_view text, std::string_view source);

// One operation as a JSONL line (no trailing newline), keys in the order
// index, type, process, f, key (if any), value, time, node (if any).
std::string format_jsonl_line(const History& history, std::size_t index);
// The same, appended to `buffer`.
void append_jsonl_line(std::string& buffer, const History& history, std::size_t index);

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

  // Appends operation `index` of `history` as one line (index field = `index`).
  void write(const History& history, std::size_t index);
  // Fsyncs and closes; further writes throw. Idempotent.
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

namespace detail {
// Readers mark an operation without a time with kMissingTime, then call
// fill_missing_times to apply the rule described at parse_history.
inline constexpr std::int64_t kMissingTime = INT64_MIN;
void fill_missing_times(History& history);
// Readers keeping the file's own op indices record each op's (kMissingTime
// when it had none) in `indices`, then call keep_file_indices: History::file_index
// is set only when some index differs from its position.
void keep_file_indices(History& history, std::vector<std::int64_t>& indices);
}  // namespace detail

}  // namespace chaosbench::checkers
