// Jepsen EDN histories and Porcupine etcd logs.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "chaosbench/checkers/edn.h"
#include "chaosbench/checkers/history_io.h"

namespace chaosbench::checkers {
namespace {

// A short description of a value for error messages: scalars are shown as
// written, collections by kind.
std::string describe(const EdnValue& value) {
  switch (value.kind) {
    case EdnKind::nil:
      return "nil";
    case EdnKind::boolean:
      return value.boolean ? "true" : "false";
    case EdnKind::integer:
      return std::to_string(value.integer);
    case EdnKind::floating:
      return fmt::format("{}", value.floating);
    case EdnKind::string:
      return fmt::format("the string \"{}\"", value.text.substr(0, 40));
    case EdnKind::character:
      return fmt::format("the character \\{}", value.text);
    case EdnKind::keyword:
      return ":" + value.text;
    case EdnKind::symbol:
      return "the symbol " + value.text;
    case EdnKind::tagged:
      return "a #" + value.text + " tagged literal";
    default:
      return "a " + std::string(to_string(value.kind));
  }
}

[[noreturn]] void fail_field(std::string_view source, std::uint32_t line, std::string_view field,
                             std::string_view message) {
  throw HistoryError(fmt::format("{}:{}: field '{}': {}", source, line, field, message));
}

// Runs a conversion to JSON, turning nlohmann's complaints (invalid UTF-8 in
// a string) into a HistoryError naming the field.
template <typename Conversion>
auto converting(std::string_view source, std::uint32_t line, std::string_view field, Conversion conversion) {
  try {
    return conversion();
  } catch (const nlohmann::json::exception& error) {
    std::string_view reason = error.what();
    if (auto bracket = reason.find("] "); reason.starts_with("[json.exception") && bracket != std::string_view::npos) {
      reason.remove_prefix(bracket + 2);
    }
    fail_field(source, line, field, fmt::format("cannot convert to JSON: {}", reason));
  }
}

Value intern_edn_value(ValuePool& pool, const EdnValue& value) {
  const EdnValue& bare = value.untagged();
  switch (bare.kind) {
    case EdnKind::nil:
      return kNull;
    case EdnKind::integer:
      return pool.intern_int(bare.integer);
    case EdnKind::string:
    case EdnKind::character:
    case EdnKind::keyword:
    case EdnKind::symbol:
      return pool.intern_string(bare.text);
    default:
      return pool.intern_json(edn_to_json(bare));
  }
}

// Text of a key (edn_text); nullopt for nil.
std::optional<std::string> key_text(const EdnValue& value) {
  if (value.untagged().kind == EdnKind::nil) return std::nullopt;
  return edn_text(value);
}

// Recognises Jepsen's independent tuples; on success sets key and inner value.
bool split_independent_tuple(const EdnValue& value, const EdnValue*& key, const EdnValue*& inner) {
  if (value.kind == EdnKind::vector && value.items.size() == 3 && value.items[0].is_keyword("independent")) {
    key = &value.items[1];
    inner = &value.items[2];
    return true;
  }
  if (value.kind != EdnKind::tagged || value.items.size() != 1) return false;
  const EdnValue& tagged = value.items[0];
  if (value.text == "jepsen.independent/tuple" && tagged.is_sequence() && tagged.items.size() == 2) {
    key = &tagged.items[0];
    inner = &tagged.items[1];
    return true;
  }
  if (value.text == "jepsen.independent.Tuple" && tagged.kind == EdnKind::map) {
    key = tagged.find("key");
    inner = tagged.find("value");
    if (key == nullptr) return false;
    static const EdnValue kNil;
    if (inner == nullptr) inner = &kNil;
    return true;
  }
  return false;
}

std::string_view name_of(const EdnValue& value) {
  const EdnValue& bare = value.untagged();
  switch (bare.kind) {
    case EdnKind::keyword:
    case EdnKind::string:
    case EdnKind::symbol:
      return bare.text;
    default:
      return {};
  }
}

// An Elle txn: a vector (or list) whose every element is a vector or list.
bool is_txn_value(const EdnValue& value) {
  const EdnValue& bare = value.untagged();
  if (!bare.is_sequence() || bare.items.empty()) return false;
  return std::all_of(bare.items.begin(), bare.items.end(),
                     [](const EdnValue& item) { return item.untagged().is_sequence(); });
}

void add_edn_operation(History& history, const EdnValue& form, std::string_view source,
                       std::vector<std::int64_t>& file_indices) {
  const EdnValue& map = form.untagged();
  if (map.kind != EdnKind::map) {
    throw HistoryError(fmt::format("{}:{}: expected an op map like {{:type :invoke, :f :read, ...}}, got {}", source,
                                   form.line, describe(form)));
  }
  Operation op;
  op.time = detail::kMissingTime;
  const EdnValue* type = nullptr;
  const EdnValue* function = nullptr;
  const EdnValue* process = nullptr;
  const EdnValue* value = nullptr;
  const EdnValue* key = nullptr;
  const EdnValue* time = nullptr;
  const EdnValue* node = nullptr;
  const EdnValue* index = nullptr;
  const EdnValue* error = nullptr;
  for (std::size_t i = 0; i + 1 < map.items.size(); i += 2) {
    std::string_view name = name_of(map.items[i]);
    const EdnValue* field_value = &map.items[i + 1];
    const EdnValue** slot = nullptr;
    if (name == "type") {
      slot = &type;
    } else if (name == "f") {
      slot = &function;
    } else if (name == "process") {
      slot = &process;
    } else if (name == "value") {
      slot = &value;
    } else if (name == "key") {
      slot = &key;
    } else if (name == "time") {
      slot = &time;
    } else if (name == "node") {
      slot = &node;
    } else if (name == "index") {
      slot = &index;
    } else if (name == "error") {
      slot = &error;
    } else {
      continue;  // :debug and other fields are not needed
    }
    if (*slot != nullptr) fail_field(source, map.items[i].line, name, "appears twice");
    *slot = field_value;
  }

  if (type == nullptr) fail_field(source, map.line, "type", "missing");
  auto parsed_type = parse_op_type(name_of(*type));
  if (!parsed_type) {
    fail_field(source, type->line, "type",
               fmt::format("unknown op type {} (expected :invoke, :ok, :fail or :info)", describe(*type)));
  }
  op.type = *parsed_type;

  if (function == nullptr) {
    // Elle's histories leave :f out: the value is the transaction.
    if (value == nullptr || !is_txn_value(*value)) fail_field(source, map.line, "f", "missing");
    op.function = history.functions.intern("txn");
  } else {
    std::string_view function_name = name_of(*function);
    if (function_name.empty()) {
      fail_field(source, function->line, "f", fmt::format("expected a keyword, got {}", describe(*function)));
    }
    op.function = history.functions.intern(function_name);
  }

  file_indices.push_back(detail::kMissingTime);
  if (index != nullptr) {
    const EdnValue& bare_index = index->untagged();
    if (bare_index.kind != EdnKind::integer) {
      fail_field(source, index->line, "index", fmt::format("expected an integer, got {}", describe(bare_index)));
    }
    file_indices.back() = bare_index.integer;
  }
  if (error != nullptr && error->untagged().kind != EdnKind::nil) {
    std::string text = converting(source, error->line, "error", [&] { return edn_text(*error); });
    history.set_error(history.operations.size(), text);
  }

  if (process == nullptr) fail_field(source, map.line, "process", "missing");
  const EdnValue& bare_process = process->untagged();
  if (bare_process.kind == EdnKind::integer && bare_process.integer >= 0) {
    op.process = bare_process.integer;
  } else if (name_of(bare_process) == "nemesis") {
    op.process = kNemesisProcess;
  } else {
    fail_field(source, process->line, "process",
               fmt::format("expected a non-negative integer or :nemesis, got {}", describe(bare_process)));
  }

  if (time != nullptr) {
    const EdnValue& bare_time = time->untagged();
    if (bare_time.kind != EdnKind::integer) {
      fail_field(source, time->line, "time", fmt::format("expected an integer (ns), got {}", describe(bare_time)));
    }
    op.time = bare_time.integer;
  }

  if (node != nullptr && node->untagged().kind != EdnKind::nil) {
    std::string_view node_name = name_of(*node);
    if (node_name.empty())
      fail_field(source, node->line, "node", fmt::format("expected a string, got {}", describe(*node)));
    std::uint32_t id = history.nodes.intern(node_name);
    if (id > 0xffff) fail_field(source, node->line, "node", "more than 65535 distinct node names");
    op.node = static_cast<std::uint16_t>(id);
  }

  const EdnValue* tuple_key = nullptr;
  const EdnValue* tuple_value = nullptr;
  if (key != nullptr) {
    auto text = converting(source, key->line, "key", [&] { return key_text(*key); });
    if (text) op.key = history.keys.intern(*text);
  } else if (value != nullptr && split_independent_tuple(*value, tuple_key, tuple_value)) {
    auto text = converting(source, tuple_key->line, "value", [&] { return key_text(*tuple_key); });
    if (text) op.key = history.keys.intern(*text);
    value = tuple_value;
  }
  if (value != nullptr) {
    op.value = converting(source, value->line, "value", [&] { return intern_edn_value(history.values, *value); });
  }
  history.operations.push_back(op);
}

bool is_space_in_line(char character) {
  return character == ' ' || character == '\t' || character == '\r' || character == '\f' || character == '\v';
}

// Splits the next blank-separated word off `rest`.
std::string_view next_word(std::string_view& rest) {
  std::size_t start = 0;
  while (start < rest.size() && is_space_in_line(rest[start])) ++start;
  std::size_t end = start;
  while (end < rest.size() && !is_space_in_line(rest[end])) ++end;
  std::string_view word = rest.substr(start, end - start);
  rest.remove_prefix(end);
  return word;
}

std::string shorten(std::string_view text) {
  std::string shown(text.substr(0, 60));
  for (char& character : shown) {
    if (static_cast<unsigned char>(character) < 0x20) character = ' ';
  }
  if (text.size() > 60) shown += "...";
  return shown;
}

}  // namespace

History parse_edn_history(std::string_view text, std::string_view source) {
  History history;
  std::vector<std::int64_t> file_indices;
  EdnParser parser(text, source);
  if (parser.at_end()) return history;
  char first = parser.peek();
  if (first == '[' || first == '(') {
    std::uint32_t opening_line = parser.line();
    char closing = first == '[' ? ']' : ')';
    parser.consume();
    while (true) {
      if (parser.at_end()) parser.fail(opening_line, "unterminated history vector (opened on this line)");
      if (parser.peek() == closing) {
        parser.consume();
        break;
      }
      EdnValue form = parser.read();
      add_edn_operation(history, form, source, file_indices);
    }
    if (!parser.at_end()) parser.fail(parser.line(), "unexpected form after the history vector");
  } else {
    while (!parser.at_end()) {
      EdnValue form = parser.read();
      add_edn_operation(history, form, source, file_indices);
    }
  }
  detail::keep_file_indices(history, file_indices);
  detail::fill_missing_times(history);
  return history;
}

History parse_porcupine_log(std::string_view text, std::string_view source) {
  History history;
  std::uint32_t line_number = 0;
  std::size_t position = 0;
  while (position < text.size()) {
    ++line_number;
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(position, end - position);
    position = end + 1;

    std::string_view rest = line;
    std::string_view level = next_word(rest);
    if (level.empty()) continue;  // blank line
    auto fail = [&](std::string_view field, std::string_view message) {
      if (field.empty()) throw HistoryError(fmt::format("{}:{}: {}", source, line_number, message));
      throw HistoryError(fmt::format("{}:{}: field '{}': {}", source, line_number, field, message));
    };
    std::string_view logger = next_word(rest);
    std::string_view dash = next_word(rest);
    if (level != "INFO" || logger != "jepsen.util" || dash != "-") {
      fail("", fmt::format("expected 'INFO  jepsen.util - PROCESS :TYPE :F VALUE', got '{}'", shorten(line)));
    }

    Operation op;
    op.time = static_cast<std::int64_t>(history.operations.size());

    std::string_view process = next_word(rest);
    if (process.empty()) fail("process", "missing");
    if (process == ":nemesis") {
      op.process = kNemesisProcess;
    } else {
      auto parsed = std::from_chars(process.data(), process.data() + process.size(), op.process);
      if (parsed.ec != std::errc() || parsed.ptr != process.data() + process.size() || op.process < 0) {
        fail("process", fmt::format("expected a non-negative integer or :nemesis, got '{}'", shorten(process)));
      }
    }

    std::string_view type = next_word(rest);
    if (type.empty()) fail("type", "missing");
    auto parsed_type = type.starts_with(':') ? parse_op_type(type.substr(1)) : std::nullopt;
    if (!parsed_type) {
      fail("type", fmt::format("unknown op type '{}' (expected :invoke, :ok, :fail or :info)", shorten(type)));
    }
    op.type = *parsed_type;

    std::string_view function = next_word(rest);
    if (function.empty()) fail("f", "missing");
    if (!function.starts_with(':') || function.size() < 2) {
      fail("f", fmt::format("expected a keyword like :read, got '{}'", shorten(function)));
    }
    op.function = history.functions.intern(function.substr(1));

    EdnParser value_parser(rest, source, line_number);
    if (value_parser.at_end()) fail("value", "missing");
    EdnValue value = value_parser.read();
    if (!value_parser.at_end()) fail("value", fmt::format("unexpected text after the value: '{}'", shorten(rest)));
    op.value = converting(source, line_number, "value", [&] { return intern_edn_value(history.values, value); });
    history.operations.push_back(op);
  }
  return history;
}

}  // namespace chaosbench::checkers
