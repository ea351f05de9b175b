// JSONL reading and writing, format detection and file access. The EDN and
// Porcupine readers live in history_io_edn.cpp.
#include "chaosbench/checkers/history_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>

#include "text_escapes.h"

namespace chaosbench::checkers {
namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

bool is_space(char character) {
  return character == ' ' || character == '\t' || character == '\r' || character == '\n' || character == '\f' ||
         character == '\v';
}

// A short, printable excerpt of input for error messages.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kLimit = 40;
  std::string shown(text.substr(0, kLimit));
  for (char& character : shown) {
    if (static_cast<unsigned char>(character) < 0x20) character = ' ';
  }
  if (text.size() > kLimit) shown += "...";
  return shown;
}

std::uint16_t intern_node(History& history, std::string_view name, const auto& fail) {
  std::uint32_t id = history.nodes.intern(name);
  if (id > 0xffff) fail("more than 65535 distinct node names");
  return static_cast<std::uint16_t>(id);
}

// ---------------------------------------------------------------------------
// JSONL reader: a scanner for the flat top-level object; nested values are
// handed to nlohmann::json on their exact text.

enum class JsonKind { string, integer, null, boolean_true, boolean_false, other };

struct JsonScalar {
  JsonKind kind = JsonKind::null;
  std::string_view text;     // string contents (unescaped) or the raw text for `other`
  std::int64_t integer = 0;  // for integer
};

enum FieldBit : unsigned {
  kFieldIndex = 1u << 0,
  kFieldType = 1u << 1,
  kFieldProcess = 1u << 2,
  kFieldFunction = 1u << 3,
  kFieldValue = 1u << 4,
  kFieldKey = 1u << 5,
  kFieldTime = 1u << 6,
  kFieldNode = 1u << 7,
  kFieldError = 1u << 8,
};

class JsonlReader {
 public:
  // `jepsen`: Jepsen's JSON, whose "index" is the op's own (kept, any integer).
  JsonlReader(History& history, std::string_view source, bool jepsen = false)
      : history_(history), source_(source), jepsen_(jepsen) {}

  std::vector<std::int64_t>& file_indices() { return file_indices_; }

  void read_line(std::string_view line, std::size_t line_number) {
    line_ = line;
    line_number_ = line_number;
    position_ = 0;
    parse_object();
  }

 private:
  [[noreturn]] void fail(std::string_view field, std::string_view message) const {
    // An object spanning lines (Jepsen's JSON): the line the scan stopped on.
    std::size_t line = line_number_ + static_cast<std::size_t>(std::count(
                                          line_.begin(), line_.begin() + std::min(position_, line_.size()), '\n'));
    if (field.empty()) throw HistoryError(fmt::format("{}:{}: {}", source_, line, message));
    throw HistoryError(fmt::format("{}:{}: field '{}': {}", source_, line, field, message));
  }

  void skip_spaces() {
    while (position_ < line_.size() && is_space(line_[position_])) ++position_;
  }

  char next_character() {
    skip_spaces();
    return position_ < line_.size() ? line_[position_] : '\0';
  }

  // At a '"': returns the unescaped contents (a view into the line when there
  // are no escapes, else into scratch_).
  std::string_view parse_string(std::string_view field) {
    std::size_t start = ++position_;
    while (position_ < line_.size()) {
      char character = line_[position_];
      if (character == '"') return line_.substr(start, position_++ - start);
      if (character == '\\') break;
      if (static_cast<unsigned char>(character) < 0x20) fail(field, "control character inside a string");
      ++position_;
    }
    if (position_ >= line_.size()) fail(field, "unterminated string");
    scratch_.assign(line_.substr(start, position_ - start));
    while (position_ < line_.size()) {
      char character = line_[position_++];
      if (character == '"') return scratch_;
      if (static_cast<unsigned char>(character) < 0x20) fail(field, "control character inside a string");
      if (character != '\\') {
        scratch_.push_back(character);
        continue;
      }
      if (position_ >= line_.size()) break;
      char escaped = line_[position_++];
      switch (escaped) {
        case '"':
        case '\\':
        case '/':
          scratch_.push_back(escaped);
          break;
        case 'b':
          scratch_.push_back('\b');
          break;
        case 'f':
          scratch_.push_back('\f');
          break;
        case 'n':
          scratch_.push_back('\n');
          break;
        case 'r':
          scratch_.push_back('\r');
          break;
        case 't':
          scratch_.push_back('\t');
          break;
        case 'u': {
          std::uint32_t code_point = parse_hex4(field);
          if (code_point >= 0xd800 && code_point < 0xdc00) {
            if (line_.substr(position_, 2) != "\\u") fail(field, "unpaired UTF-16 surrogate in \\u escape");
            position_ += 2;
            std::uint32_t low = parse_hex4(field);
            if (low < 0xdc00 || low >= 0xe000) fail(field, "invalid UTF-16 surrogate pair in \\u escape");
            code_point = 0x10000 + ((code_point - 0xd800) << 10) + (low - 0xdc00);
          } else if (code_point >= 0xdc00 && code_point < 0xe000) {
            fail(field, "unpaired UTF-16 surrogate in \\u escape");
          }
          detail::append_utf8(scratch_, code_point);
          break;
        }
        default:
          fail(field, fmt::format("invalid escape '\\{}' in string", escaped));
      }
    }
    fail(field, "unterminated string");
  }

  std::uint32_t parse_hex4(std::string_view field) {
    if (position_ + 4 > line_.size()) fail(field, "truncated \\u escape");
    std::uint32_t result = 0;
    if (!detail::parse_hex4(line_.substr(position_, 4), result)) fail(field, "invalid \\u escape");
    position_ += 4;
    return result;
  }

  // Skips a nested array or object, returning its exact text.
  std::string_view skip_nested(std::string_view field) {
    std::size_t start = position_;
    int depth = 0;
    bool in_string = false;
    while (position_ < line_.size()) {
      char character = line_[position_++];
      if (in_string) {
        if (character == '\\') {
          ++position_;
        } else if (character == '"') {
          in_string = false;
        }
        continue;
      }
      if (character == '"') {
        in_string = true;
      } else if (character == '[' || character == '{') {
        ++depth;
      } else if (character == ']' || character == '}') {
        if (--depth == 0) return line_.substr(start, position_ - start);
      }
    }
    fail(field,
         in_string ? "unterminated string" : fmt::format("unterminated {}", line_[start] == '[' ? "array" : "object"));
  }

  bool consume_literal(std::string_view literal) {
    if (line_.substr(position_, literal.size()) != literal) return false;
    position_ += literal.size();
    return true;
  }

  JsonScalar parse_value(std::string_view field) {
    JsonScalar result;
    char character = next_character();
    switch (character) {
      case '"':
        result.kind = JsonKind::string;
        result.text = parse_string(field);
        return result;
      case '[':
      case '{':
        result.kind = JsonKind::other;
        result.text = skip_nested(field);
        return result;
      case 'n':
        if (consume_literal("null")) return result;
        break;
      case 't':
        if (consume_literal("true")) {
          result.kind = JsonKind::boolean_true;
          return result;
        }
        break;
      case 'f':
        if (consume_literal("false")) {
          result.kind = JsonKind::boolean_false;
          return result;
        }
        break;
      case '\0':
        fail(field, "missing value at the end of the line");
      default:
        if (character == '-' || (character >= '0' && character <= '9')) return parse_number(field);
        break;
    }
    fail(field, fmt::format("invalid JSON value starting at '{}'", excerpt(line_.substr(position_))));
  }

  JsonScalar parse_number(std::string_view field) {
    JsonScalar result;
    std::size_t start = position_;
    if (line_[position_] == '-') ++position_;
    std::size_t digits_start = position_;
    while (position_ < line_.size() && line_[position_] >= '0' && line_[position_] <= '9') ++position_;
    if (position_ == digits_start) fail(field, "invalid number");
    if (line_[digits_start] == '0' && position_ - digits_start > 1) fail(field, "invalid number (leading zero)");
    bool fraction = false;
    while (position_ < line_.size()) {
      char character = line_[position_];
      if (character == '.' || character == 'e' || character == 'E' || character == '+' || character == '-' ||
          (character >= '0' && character <= '9')) {
        fraction = true;
        ++position_;
      } else {
        break;
      }
    }
    result.text = line_.substr(start, position_ - start);
    if (!fraction) {
      auto parsed = std::from_chars(result.text.data(), result.text.data() + result.text.size(), result.integer);
      if (parsed.ec == std::errc() && parsed.ptr == result.text.data() + result.text.size()) {
        result.kind = JsonKind::integer;
        return result;
      }
    }
    // Fractions, exponents and integers beyond int64: let nlohmann decide.
    result.kind = JsonKind::other;
    return result;
  }

  nlohmann::json parse_json(std::string_view field, std::string_view text) {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& error) {
      // Drop nlohmann's "[json.exception.parse_error.101] " prefix.
      std::string_view reason = error.what();
      if (auto bracket = reason.find("] ");
          reason.starts_with("[json.exception") && bracket != std::string_view::npos) {
        reason.remove_prefix(bracket + 2);
      }
      fail(field, fmt::format("invalid JSON '{}': {}", excerpt(text), reason));
    }
  }

  static std::string_view describe(const JsonScalar& scalar) {
    switch (scalar.kind) {
      case JsonKind::string:
        return "a string";
      case JsonKind::integer:
        return "an integer";
      case JsonKind::null:
        return "null";
      case JsonKind::boolean_true:
      case JsonKind::boolean_false:
        return "a boolean";
      case JsonKind::other:
        return scalar.text.empty() ? "a value"
                                   : (scalar.text[0] == '['   ? "an array"
                                      : scalar.text[0] == '{' ? "an object"
                                                              : "a number");
    }
    return "a value";
  }

  void parse_object() {
    if (next_character() != '{')
      fail("", fmt::format("expected a JSON object, got '{}'", excerpt(line_.substr(position_))));
    ++position_;
    Operation op;
    op.time = detail::kMissingTime;
    unsigned seen = 0;
    value_is_txn_ = false;
    if (jepsen_) file_indices_.push_back(detail::kMissingTime);
    if (next_character() == '}') {
      ++position_;
    } else {
      while (true) {
        if (next_character() != '"')
          fail("", fmt::format("expected a field name at '{}'", excerpt(line_.substr(position_))));
        std::string_view name = parse_string("");
        if (name.data() == scratch_.data()) {
          // The name had escapes and lives in scratch_, which the value reuses: keep a copy.
          field_name_.assign(name);
          name = field_name_;
        }
        if (next_character() != ':') fail(name, "expected ':' after the field name");
        ++position_;
        read_field(name, op, seen);
        char separator = next_character();
        if (separator == ',') {
          ++position_;
          continue;
        }
        if (separator == '}') {
          ++position_;
          break;
        }
        if (separator == '\0') fail("", "unterminated object (missing '}')");
        fail("",
             fmt::format("expected ',' or '}}' after field '{}', got '{}'", name, excerpt(line_.substr(position_))));
      }
    }
    skip_spaces();
    if (position_ != line_.size())
      fail("", fmt::format("unexpected text after the object: '{}'", excerpt(line_.substr(position_))));
    if (!(seen & kFieldType)) fail("type", "missing");
    if (!(seen & kFieldProcess)) fail("process", "missing");
    if (!(seen & kFieldFunction)) {
      // Elle's histories leave "f" out: the value is the transaction.
      if (!value_is_txn_) fail("f", "missing");
      if (txn_function_ == 0) txn_function_ = history_.functions.intern("txn");
      op.function = txn_function_;
    }
    history_.operations.push_back(op);
  }

  void mark(unsigned& seen, FieldBit bit, std::string_view field) {
    if (seen & bit) fail(field, "appears twice");
    seen |= bit;
  }

  void read_field(std::string_view field, Operation& op, unsigned& seen) {
    JsonScalar scalar = parse_value(field);
    if (field == "value") {
      mark(seen, kFieldValue, field);
      switch (scalar.kind) {
        case JsonKind::integer:
          op.value = history_.values.intern_int(scalar.integer);
          break;
        case JsonKind::string:
          op.value = history_.values.intern_string(scalar.text);
          break;
        case JsonKind::null:
          op.value = kNull;
          break;
        case JsonKind::boolean_true:
          op.value = history_.values.intern_json(true);
          break;
        case JsonKind::boolean_false:
          op.value = history_.values.intern_json(false);
          break;
        case JsonKind::other:
          op.value = intern_nested(field, scalar.text);
          value_is_txn_ = starts_with_nested_array(scalar.text);
          break;
      }
    } else if (field == "type") {
      mark(seen, kFieldType, field);
      if (scalar.kind != JsonKind::string) fail(field, fmt::format("expected a string, got {}", describe(scalar)));
      auto type = parse_op_type(scalar.text);
      if (!type)
        fail(field, fmt::format("unknown op type \"{}\" (expected invoke, ok, fail or info)", excerpt(scalar.text)));
      op.type = *type;
    } else if (field == "process") {
      mark(seen, kFieldProcess, field);
      if (scalar.kind == JsonKind::integer && scalar.integer >= 0) {
        op.process = scalar.integer;
      } else if (scalar.kind == JsonKind::string && scalar.text == "nemesis") {
        op.process = kNemesisProcess;
      } else if (scalar.kind == JsonKind::integer) {
        fail(field, fmt::format("negative process number {}", scalar.integer));
      } else if (scalar.kind == JsonKind::string) {
        fail(field, fmt::format("expected an integer or \"nemesis\", got \"{}\"", excerpt(scalar.text)));
      } else {
        fail(field, fmt::format("expected an integer or \"nemesis\", got {}", describe(scalar)));
      }
    } else if (field == "f") {
      mark(seen, kFieldFunction, field);
      if (scalar.kind != JsonKind::string) fail(field, fmt::format("expected a string, got {}", describe(scalar)));
      op.function = intern_cached(history_.functions, scalar.text, function_cache_);
    } else if (field == "key") {
      mark(seen, kFieldKey, field);
      if (scalar.kind == JsonKind::string) {
        op.key = history_.keys.intern(scalar.text);
      } else if (scalar.kind == JsonKind::integer) {
        char digits[24];
        auto written = std::to_chars(digits, digits + sizeof digits, scalar.integer);
        op.key = history_.keys.intern(std::string_view(digits, static_cast<std::size_t>(written.ptr - digits)));
      } else if (scalar.kind != JsonKind::null) {
        fail(field, fmt::format("expected a string or an integer, got {}", describe(scalar)));
      }
    } else if (field == "time") {
      mark(seen, kFieldTime, field);
      if (scalar.kind != JsonKind::integer)
        fail(field, fmt::format("expected an integer (ns), got {}", describe(scalar)));
      op.time = scalar.integer;
    } else if (field == "node") {
      mark(seen, kFieldNode, field);
      if (scalar.kind == JsonKind::string) {
        op.node = intern_node(history_, scalar.text, [&](std::string_view message) { fail(field, message); });
      } else if (scalar.kind != JsonKind::null) {
        fail(field, fmt::format("expected a string, got {}", describe(scalar)));
      }
    } else if (field == "error") {
      mark(seen, kFieldError, field);
      // A string as we write it; anything else (another tool's error object) kept as its JSON text.
      if (scalar.kind == JsonKind::other && !nlohmann::json::accept(scalar.text)) {
        fail(field, fmt::format("invalid JSON '{}'", excerpt(scalar.text)));
      }
      std::string text;
      switch (scalar.kind) {
        case JsonKind::null:
          break;
        case JsonKind::string:
        case JsonKind::other:
          text = scalar.text;
          break;
        case JsonKind::integer:
          text = std::to_string(scalar.integer);
          break;
        case JsonKind::boolean_true:
        case JsonKind::boolean_false:
          text = scalar.kind == JsonKind::boolean_true ? "true" : "false";
          break;
      }
      if (!text.empty()) history_.set_error(history_.operations.size(), text);
    } else if (field == "index") {
      mark(seen, kFieldIndex, field);
      if (scalar.kind != JsonKind::integer) fail(field, fmt::format("expected an integer, got {}", describe(scalar)));
      auto position = static_cast<std::int64_t>(history_.operations.size());
      if (jepsen_) {
        file_indices_.back() = scalar.integer;
      } else if (scalar.integer != position) {
        fail(field, fmt::format("is {} but the operation is at position {} (Jepsen's JSON, which keeps its own "
                                "indices, is read with --format json)",
                                scalar.integer, position));
      }
    } else if (scalar.kind == JsonKind::other && !nlohmann::json::accept(scalar.text)) {
      fail(field, fmt::format("invalid JSON '{}'", excerpt(scalar.text)));
    }
  }

  // "[[" (blanks allowed): a list of micro-ops.
  static bool starts_with_nested_array(std::string_view text) {
    std::size_t position = 1;
    while (position < text.size() && is_space(text[position])) ++position;
    return text.size() > 1 && text[0] == '[' && position < text.size() && text[position] == '[';
  }

  // Nested values such as cas pairs repeat: the same text always interns to the
  // same Value, so remember short texts instead of parsing them again.
  Value intern_nested(std::string_view field, std::string_view text) {
    constexpr std::size_t kLongestCachedText = 64;
    constexpr std::size_t kMostCachedTexts = 1 << 16;
    if (text.size() > kLongestCachedText) return history_.values.intern_json(parse_json(field, text));
    nested_key_.assign(text);
    auto found = nested_cache_.find(nested_key_);
    if (found != nested_cache_.end()) return found->second;
    Value value = history_.values.intern_json(parse_json(field, text));
    if (nested_cache_.size() < kMostCachedTexts) nested_cache_.emplace(nested_key_, value);
    return value;
  }

  // Function names repeat constantly: remember the last few.
  struct CacheEntry {
    std::string name;
    std::uint32_t id = 0;
  };
  std::uint32_t intern_cached(SymbolTable& table, std::string_view name, std::array<CacheEntry, 8>& cache) {
    std::size_t slot = (name.size() * 31 + static_cast<unsigned char>(name.empty() ? 0 : name[0])) % cache.size();
    CacheEntry& entry = cache[slot];
    if (entry.id != 0 && entry.name == name) return entry.id;
    entry.name.assign(name);
    entry.id = table.intern(name);
    return entry.id;
  }

  History& history_;
  std::string_view source_;
  bool jepsen_ = false;
  bool value_is_txn_ = false;
  std::uint32_t txn_function_ = 0;
  std::vector<std::int64_t> file_indices_;
  std::string_view line_;
  std::size_t line_number_ = 0;
  std::size_t position_ = 0;
  std::string scratch_;
  std::string field_name_;
  std::array<CacheEntry, 8> function_cache_;
  std::string nested_key_;
  std::unordered_map<std::string, Value> nested_cache_;
};

// ---------------------------------------------------------------------------
// JSONL writer helpers.

void append_escaped(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto character = static_cast<unsigned char>(text[i]);
    if (character >= 0x20 && character != '"' && character != '\\') continue;
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (character) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(character));
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out.push_back('"');
}

void append_integer(std::string& out, std::int64_t number) {
  char digits[24];
  auto written = std::to_chars(digits, digits + sizeof digits, number);
  out.append(digits, static_cast<std::size_t>(written.ptr - digits));
}

void write_all(int file_descriptor, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t written = ::write(file_descriptor, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "write " + path.string());
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

void sync_file(int file_descriptor, const std::filesystem::path& path) {
  while (::fsync(file_descriptor) != 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "fsync " + path.string());
  }
}

}  // namespace

// ---------------------------------------------------------------------------

namespace detail {

void keep_file_indices(History& history, std::vector<std::int64_t>& indices) {
  bool differs = false;
  for (std::size_t position = 0; position < indices.size(); ++position) {
    if (indices[position] == kMissingTime) indices[position] = static_cast<std::int64_t>(position);
    differs |= indices[position] != static_cast<std::int64_t>(position);
  }
  if (differs && indices.size() == history.size()) history.file_index = std::move(indices);
}

void fill_missing_times(History& history) {
  bool any_time = false;
  for (const Operation& op : history.operations) {
    if (op.time != kMissingTime) {
      any_time = true;
      break;
    }
  }
  std::int64_t previous = 0;
  for (std::size_t index = 0; index < history.operations.size(); ++index) {
    Operation& op = history.operations[index];
    if (!any_time) {
      op.time = static_cast<std::int64_t>(index);
    } else if (op.time == kMissingTime) {
      op.time = previous;
    }
    previous = op.time;
  }
}

}  // namespace detail

std::string_view to_string(HistoryFormat format) {
  switch (format) {
    case HistoryFormat::automatic:
      return "auto";
    case HistoryFormat::jsonl:
      return "jsonl";
    case HistoryFormat::edn:
      return "edn";
    case HistoryFormat::porcupine_log:
      return "porcupine-log";
    case HistoryFormat::json:
      return "json";
  }
  return "?";
}

std::optional<HistoryFormat> parse_history_format(std::string_view text) {
  if (text == "auto") return HistoryFormat::automatic;
  if (text == "jsonl") return HistoryFormat::jsonl;
  if (text == "edn") return HistoryFormat::edn;
  if (text == "porcupine-log") return HistoryFormat::porcupine_log;
  if (text == "json") return HistoryFormat::json;
  return std::nullopt;
}

HistoryFormat detect_history_format(std::string_view text) {
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  std::size_t position = 0;
  while (position < text.size() && is_space(text[position])) ++position;
  if (position == text.size()) return HistoryFormat::jsonl;
  char first = text[position];
  if (first == '{') {
    ++position;
    while (position < text.size() && is_space(text[position])) ++position;
    if (position == text.size()) return HistoryFormat::automatic;
    if (text[position] == '"' || text[position] == '}') return HistoryFormat::jsonl;
    return HistoryFormat::edn;  // `{:type ...`, `{"type" ...` is handled above
  }
  if (first == '[') {
    // `[{"type" ...` is Jepsen's JSON, `[{:type ...` EDN.
    std::size_t next = position + 1;
    while (next < text.size() && is_space(text[next])) ++next;
    if (next < text.size() && text[next] == '{') {
      ++next;
      while (next < text.size() && is_space(text[next])) ++next;
      if (next < text.size() && (text[next] == '"' || text[next] == '}')) return HistoryFormat::json;
    }
    return HistoryFormat::edn;
  }
  if (first == '(' || first == '#' || first == ';') return HistoryFormat::edn;
  if (text.substr(position).starts_with("INFO")) return HistoryFormat::porcupine_log;
  return HistoryFormat::automatic;
}

History parse_jsonl_history(std::string_view text, std::string_view source) {
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  History history;
  history.operations.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  JsonlReader reader(history, source);
  std::size_t line_number = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    ++line_number;
    const void* found = std::memchr(text.data() + position, '\n', text.size() - position);
    std::size_t end = found ? static_cast<std::size_t>(static_cast<const char*>(found) - text.data()) : text.size();
    std::string_view line = text.substr(position, end - position);
    position = end + 1;
    std::size_t first = 0;
    while (first < line.size() && is_space(line[first])) ++first;
    if (first == line.size()) continue;  // blank line
    reader.read_line(line, line_number);
  }
  detail::fill_missing_times(history);
  return history;
}

History parse_json_history(std::string_view text, std::string_view source) {
  if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
  History history;
  JsonlReader reader(history, source, true);
  std::size_t position = 0;
  std::size_t line = 1;
  auto skip_blanks = [&] {
    while (position < text.size() && is_space(text[position])) line += text[position++] == '\n';
  };
  auto fail = [&](std::string_view message) { throw HistoryError(fmt::format("{}:{}: {}", source, line, message)); };
  skip_blanks();
  if (position < text.size() && text[position] == '[') {
    // A JSON array of objects; each object may span lines.
    std::size_t opening_line = line;
    ++position;
    skip_blanks();
    bool first = true;
    while (true) {
      if (position >= text.size()) {
        line = opening_line;
        fail("unterminated JSON array (opened on this line; missing ']')");
      }
      if (text[position] == ']') {
        ++position;
        break;
      }
      if (!first) {
        if (text[position] != ',')
          fail(fmt::format("expected ',' or ']' between operations, got '{}'", excerpt(text.substr(position))));
        ++position;
        skip_blanks();
      }
      first = false;
      if (position >= text.size() || text[position] != '{') {
        fail(fmt::format("expected an op object like {{\"type\":\"invoke\", ...}}, got '{}'",
                         excerpt(text.substr(position))));
      }
      // The object's extent: braces outside strings.
      std::size_t start = position;
      std::size_t start_line = line;
      int depth = 0;
      bool in_string = false;
      for (; position < text.size(); ++position) {
        char character = text[position];
        if (character == '\n') ++line;
        if (in_string) {
          if (character == '\\') {
            ++position;
          } else if (character == '"') {
            in_string = false;
          }
        } else if (character == '"') {
          in_string = true;
        } else if (character == '{' || character == '[') {
          ++depth;
        } else if ((character == '}' || character == ']') && --depth == 0) {
          ++position;
          break;
        }
      }
      if (depth != 0) {
        line = start_line;
        fail(in_string ? "unterminated string in this op" : "unterminated op object (missing '}')");
      }
      reader.read_line(text.substr(start, position - start), start_line);
      skip_blanks();
    }
    skip_blanks();
    if (position < text.size())
      fail(fmt::format("unexpected text after the JSON array: '{}'", excerpt(text.substr(position))));
  } else {
    // One object per line.
    std::size_t line_number = 0;
    position = 0;
    while (position < text.size()) {
      ++line_number;
      std::size_t end = text.find('\n', position);
      if (end == std::string_view::npos) end = text.size();
      std::string_view one = text.substr(position, end - position);
      position = end + 1;
      std::size_t first = 0;
      while (first < one.size() && is_space(one[first])) ++first;
      if (first == one.size()) continue;
      reader.read_line(one, line_number);
    }
  }
  detail::keep_file_indices(history, reader.file_indices());
  detail::fill_missing_times(history);
  return history;
}

History parse_history(std::string_view text, HistoryFormat format, std::string_view source, HistoryFormat* detected) {
  if (format == HistoryFormat::automatic) {
    format = detect_history_format(text);
    if (format == HistoryFormat::automatic) {
      std::size_t line = 1;
      std::size_t position = 0;
      while (position < text.size() && is_space(text[position])) {
        if (text[position] == '\n') ++line;
        ++position;
      }
      throw HistoryError(
          fmt::format("{}:{}: cannot tell the history format from '{}' (expected JSONL '{{\"', Jepsen JSON '[{{\"', "
                      "EDN '{{:', '[' or '#', or a Porcupine log 'INFO  jepsen.util')",
                      source, line, excerpt(text.substr(position))));
    }
  }
  if (detected) *detected = format;
  switch (format) {
    case HistoryFormat::jsonl:
      return parse_jsonl_history(text, source);
    case HistoryFormat::edn:
      return parse_edn_history(text, source);
    case HistoryFormat::porcupine_log:
      return parse_porcupine_log(text, source);
    case HistoryFormat::json:
      return parse_json_history(text, source);
    case HistoryFormat::automatic:
      break;
  }
  throw HistoryError(fmt::format("{}: unknown history format", source));
}

History read_history_file(const std::filesystem::path& given, HistoryFormat format, HistoryFormat* detected) {
  std::filesystem::path path = given;
  std::error_code error;
  if (std::filesystem::is_directory(given, error)) {
    // A store directory: ours (history.jsonl) or Jepsen's (history.edn).
    bool found = false;
    for (const char* name : {"history.jsonl", "history.edn", "history.json"}) {
      if (std::filesystem::is_regular_file(given / name, error)) {
        path = given / name;
        found = true;
        break;
      }
    }
    if (!found) {
      throw HistoryError(
          fmt::format("{}: a directory with no history.jsonl, history.edn or history.json in it", given.string()));
    }
  }
  std::string name = path.string();
  int file_descriptor = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (file_descriptor < 0) throw HistoryError(fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
  std::string text;
  struct stat status {};
  if (::fstat(file_descriptor, &status) == 0 && status.st_size > 0)
    text.reserve(static_cast<std::size_t>(status.st_size));
  char chunk[1 << 16];
  while (true) {
    ssize_t count = ::read(file_descriptor, chunk, sizeof chunk);
    if (count < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(file_descriptor);
      throw HistoryError(fmt::format("{}: cannot read: {}", name, std::strerror(saved)));
    }
    if (count == 0) break;
    text.append(chunk, static_cast<std::size_t>(count));
  }
  ::close(file_descriptor);
  return parse_history(text, format, name, detected);
}

void append_jsonl_line(std::string& buffer, const History& history, std::size_t index) {
  const Operation& op = history.operations.at(index);
  buffer.append("{\"index\":");
  append_integer(buffer, static_cast<std::int64_t>(index));
  buffer.append(",\"type\":\"");
  buffer.append(to_string(op.type));
  buffer.append("\",\"process\":");
  if (op.process == kNemesisProcess) {
    buffer.append("\"nemesis\"");
  } else {
    append_integer(buffer, op.process);
  }
  buffer.append(",\"f\":");
  append_escaped(buffer, history.functions.name(op.function));
  if (op.key != 0) {
    buffer.append(",\"key\":");
    append_escaped(buffer, history.keys.name(op.key));
  }
  buffer.append(",\"value\":");
  if (op.value.is_null()) {
    buffer.append("null");
  } else if (history.values.is_int(op.value)) {
    append_integer(buffer, history.values.as_int(op.value));
  } else if (history.values.is_string(op.value)) {
    append_escaped(buffer, history.values.as_string(op.value));
  } else {
    buffer.append(history.values.to_text(op.value));
  }
  buffer.append(",\"time\":");
  append_integer(buffer, op.time);
  if (op.node != 0) {
    buffer.append(",\"node\":");
    append_escaped(buffer, history.nodes.name(op.node));
  }
  if (const std::string* error = history.error(index)) {
    buffer.append(",\"error\":");
    append_escaped(buffer, *error);
  }
  buffer.push_back('}');
}

std::string format_jsonl_line(const History& history, std::size_t index) {
  std::string line;
  append_jsonl_line(line, history, index);
  return line;
}

JsonlWriter::JsonlWriter(const std::filesystem::path& path, std::chrono::milliseconds sync_interval)
    : path_(path), sync_interval_(sync_interval), last_sync_(std::chrono::steady_clock::now()) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
}

JsonlWriter::~JsonlWriter() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; callers who care call close() themselves.
  }
}

void JsonlWriter::write(const History& history, std::size_t index) {
  if (fd_ < 0) throw std::system_error(EBADF, std::generic_category(), "write " + path_.string() + " after close");
  buffer_.clear();
  append_jsonl_line(buffer_, history, index);
  buffer_.push_back('\n');
  write_all(fd_, buffer_, path_);
  if (std::chrono::steady_clock::now() - last_sync_ >= sync_interval_) sync();
}

void JsonlWriter::sync() {
  sync_file(fd_, path_);
  last_sync_ = std::chrono::steady_clock::now();
}

void JsonlWriter::close() {
  if (fd_ < 0) return;
  int file_descriptor = fd_;
  fd_ = -1;
  int sync_error = ::fsync(file_descriptor) == 0 ? 0 : errno;
  int close_error = ::close(file_descriptor) == 0 ? 0 : errno;
  if (sync_error != 0) throw std::system_error(sync_error, std::generic_category(), "fsync " + path_.string());
  if (close_error != 0) throw std::system_error(close_error, std::generic_category(), "close " + path_.string());
}

void write_history_file(const History& history, const std::filesystem::path& path) {
  int file_descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (file_descriptor < 0) throw std::system_error(errno, std::generic_category(), "open " + path.string());
  try {
    constexpr std::size_t kChunk = 1 << 20;
    std::string buffer;
    buffer.reserve(kChunk + 4096);
    for (std::size_t index = 0; index < history.operations.size(); ++index) {
      append_jsonl_line(buffer, history, index);
      buffer.push_back('\n');
      if (buffer.size() >= kChunk) {
        write_all(file_descriptor, buffer, path);
        buffer.clear();
      }
    }
    write_all(file_descriptor, buffer, path);
    sync_file(file_descriptor, path);
  } catch (...) {
    ::close(file_descriptor);
    throw;
  }
  if (::close(file_descriptor) != 0) throw std::system_error(errno, std::generic_category(), "close " + path.string());
}

}  // namespace chaosbench::checkers
