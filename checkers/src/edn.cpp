#include "chaosbench/checkers/edn.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "chaosbench/checkers/errors.h"
#include "text_escapes.h"

namespace chaosbench::checkers {
namespace {

using detail::append_utf8;
using detail::parse_hex4;

// Deeper nesting than this is rejected instead of risking the stack.
constexpr int kMaximumDepth = 512;

bool is_blank(char character) {
  return character == ' ' || character == '\t' || character == '\n' || character == '\r' || character == ',' ||
         character == '\f' || character == '\v';
}

bool is_token_character(char character) {
  if (is_blank(character)) return false;
  switch (character) {
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case '"':
    case ';':
      return false;
    default:
      return true;
  }
}

bool is_digit(char character) { return character >= '0' && character <= '9'; }

}  // namespace

std::string edn_text(const EdnValue& value) {
  const EdnValue& bare = value.untagged();
  switch (bare.kind) {
    case EdnKind::string:
    case EdnKind::character:
    case EdnKind::keyword:
    case EdnKind::symbol:
      return bare.text;
    case EdnKind::integer:
      return std::to_string(bare.integer);
    default:
      return edn_to_json(bare).dump();
  }
}

std::string_view to_string(EdnKind kind) {
  switch (kind) {
    case EdnKind::nil:
      return "nil";
    case EdnKind::boolean:
      return "boolean";
    case EdnKind::integer:
      return "integer";
    case EdnKind::floating:
      return "float";
    case EdnKind::string:
      return "string";
    case EdnKind::character:
      return "character";
    case EdnKind::keyword:
      return "keyword";
    case EdnKind::symbol:
      return "symbol";
    case EdnKind::vector:
      return "vector";
    case EdnKind::list:
      return "list";
    case EdnKind::set:
      return "set";
    case EdnKind::map:
      return "map";
    case EdnKind::tagged:
      return "tagged literal";
  }
  return "?";
}

const EdnValue* EdnValue::find(std::string_view keyword) const {
  const EdnValue& map = untagged();
  if (map.kind != EdnKind::map) return nullptr;
  for (std::size_t i = 0; i + 1 < map.items.size(); i += 2) {
    if (map.items[i].is_keyword(keyword)) return &map.items[i + 1];
  }
  return nullptr;
}

const EdnValue& EdnValue::untagged() const {
  const EdnValue* value = this;
  while (value->kind == EdnKind::tagged && !value->items.empty()) value = &value->items.front();
  return *value;
}

nlohmann::json edn_to_json(const EdnValue& value) {
  switch (value.kind) {
    case EdnKind::nil:
      return nullptr;
    case EdnKind::boolean:
      return value.boolean;
    case EdnKind::integer:
      return value.integer;
    case EdnKind::floating:
      return value.floating;
    case EdnKind::string:
    case EdnKind::character:
    case EdnKind::keyword:
    case EdnKind::symbol:
      return value.text;
    case EdnKind::vector:
    case EdnKind::list:
    case EdnKind::set: {
      nlohmann::json array = nlohmann::json::array();
      for (const EdnValue& item : value.items) array.push_back(edn_to_json(item));
      if (value.kind == EdnKind::set) std::sort(array.begin(), array.end());
      return array;
    }
    case EdnKind::map: {
      nlohmann::json object = nlohmann::json::object();
      for (std::size_t i = 0; i + 1 < value.items.size(); i += 2) {
        object[edn_text(value.items[i])] = edn_to_json(value.items[i + 1]);
      }
      return object;
    }
    case EdnKind::tagged:
      return value.items.empty() ? nlohmann::json(nullptr) : edn_to_json(value.items.front());
  }
  return nullptr;
}

EdnParser::EdnParser(std::string_view text, std::string_view source, std::uint32_t first_line)
    : text_(text), line_(first_line), source_(source) {}

void EdnParser::fail(std::uint32_t line, std::string_view message) const {
  throw HistoryError(fmt::format("{}:{}: {}", source_, line, message));
}

void EdnParser::skip_blanks() {
  while (position_ < text_.size()) {
    char character = text_[position_];
    if (character == '\n') {
      ++line_;
      ++position_;
    } else if (is_blank(character)) {
      ++position_;
    } else if (character == ';') {
      while (position_ < text_.size() && text_[position_] != '\n') ++position_;
    } else if (character == '#' && position_ + 1 < text_.size() && text_[position_ + 1] == '_') {
      std::uint32_t start = line_;
      position_ += 2;
      skip_blanks();
      if (position_ >= text_.size()) fail(start, "#_ discard without a form to discard");
      EdnValue discarded;
      read_into(discarded, 0);
    } else {
      return;
    }
  }
}

bool EdnParser::at_end() {
  skip_blanks();
  return position_ >= text_.size();
}

char EdnParser::peek() {
  skip_blanks();
  return position_ < text_.size() ? text_[position_] : '\0';
}

void EdnParser::consume() {
  skip_blanks();
  if (position_ < text_.size()) ++position_;
}

EdnValue EdnParser::read() {
  skip_blanks();
  if (position_ >= text_.size()) fail(line_, "unexpected end of input, expected a value");
  EdnValue value;
  read_into(value, 0);
  return value;
}

void EdnParser::read_into(EdnValue& value, int depth) {
  if (depth > kMaximumDepth) fail(line_, fmt::format("nesting deeper than {} levels", kMaximumDepth));
  value.line = line_;
  char character = text_[position_];
  switch (character) {
    case '"':
      read_string(value);
      return;
    case '[':
      read_collection(value, EdnKind::vector, ']', depth);
      return;
    case '(':
      read_collection(value, EdnKind::list, ')', depth);
      return;
    case '{':
      read_collection(value, EdnKind::map, '}', depth);
      return;
    case ']':
    case ')':
    case '}':
      fail(line_, fmt::format("unexpected '{}' without a matching opening bracket", character));
    case '#':
      read_dispatch(value, depth);
      return;
    case '\\':
      read_character(value);
      return;
    default:
      interpret_token(read_token(), value);
      return;
  }
}

void EdnParser::read_string(EdnValue& value) {
  value.kind = EdnKind::string;
  std::uint32_t start_line = line_;
  ++position_;  // opening quote
  std::string& out = value.text;
  while (true) {
    // Copy the run of ordinary characters in one go.
    std::size_t run_end = position_;
    while (run_end < text_.size()) {
      char character = text_[run_end];
      if (character == '"' || character == '\\') break;
      if (character == '\n') ++line_;
      ++run_end;
    }
    out.append(text_.substr(position_, run_end - position_));
    position_ = run_end;
    if (position_ >= text_.size()) fail(start_line, "unterminated string");
    char character = text_[position_++];
    if (character == '"') return;
    // A backslash escape.
    if (position_ >= text_.size()) fail(start_line, "unterminated string");
    char escaped = text_[position_++];
    switch (escaped) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case '\'':
        out.push_back('\'');
        break;
      case 'u': {
        std::uint32_t code_point = 0;
        if (!parse_hex4(text_.substr(position_), code_point)) fail(line_, "invalid \\u escape in string");
        position_ += 4;
        if (code_point >= 0xd800 && code_point < 0xdc00 && text_.substr(position_, 2) == "\\u") {
          std::uint32_t low = 0;
          if (parse_hex4(text_.substr(position_ + 2), low) && low >= 0xdc00 && low < 0xe000) {
            code_point = 0x10000 + ((code_point - 0xd800) << 10) + (low - 0xdc00);
            position_ += 6;
          }
        }
        append_utf8(out, code_point);
        break;
      }
      default:
        fail(line_, fmt::format("invalid escape '\\{}' in string", escaped));
    }
  }
}

void EdnParser::read_character(EdnValue& value) {
  value.kind = EdnKind::character;
  ++position_;  // backslash
  if (position_ >= text_.size()) fail(line_, "backslash at the end of input");
  std::size_t start = position_;
  ++position_;  // the first character is taken whatever it is
  while (position_ < text_.size() && is_token_character(text_[position_])) ++position_;
  std::string_view name = text_.substr(start, position_ - start);
  if (name.size() == 1) {
    value.text = std::string(name);
  } else if (name == "newline") {
    value.text = "\n";
  } else if (name == "space") {
    value.text = " ";
  } else if (name == "tab") {
    value.text = "\t";
  } else if (name == "return") {
    value.text = "\r";
  } else if (name == "backspace") {
    value.text = "\b";
  } else if (name == "formfeed") {
    value.text = "\f";
  } else if (name.size() == 5 && name[0] == 'u') {
    std::uint32_t code_point = 0;
    if (!parse_hex4(name.substr(1), code_point)) fail(line_, fmt::format("invalid character '\\{}'", name));
    append_utf8(value.text, code_point);
  } else {
    fail(line_, fmt::format("invalid character '\\{}'", name));
  }
}

void EdnParser::read_collection(EdnValue& value, EdnKind kind, char closing, int depth) {
  value.kind = kind;
  std::uint32_t start_line = line_;
  ++position_;  // opening bracket
  while (true) {
    skip_blanks();
    if (position_ >= text_.size())
      fail(start_line, fmt::format("unterminated {} (opened on this line)", to_string(kind)));
    char character = text_[position_];
    if (character == closing) {
      ++position_;
      break;
    }
    if (character == ']' || character == ')' || character == '}') {
      fail(line_, fmt::format("unexpected '{}' inside a {} opened on line {}", character, to_string(kind), start_line));
    }
    value.items.emplace_back();
    read_into(value.items.back(), depth + 1);
  }
  if (kind == EdnKind::map && value.items.size() % 2 != 0) {
    fail(start_line, "map literal has an odd number of forms");
  }
}

void EdnParser::read_dispatch(EdnValue& value, int depth) {
  std::uint32_t start_line = line_;
  ++position_;  // '#'
  if (position_ >= text_.size()) fail(start_line, "'#' at the end of input");
  char character = text_[position_];
  if (character == '{') {
    read_collection(value, EdnKind::set, '}', depth);
    value.line = start_line;
    return;
  }
  if (character == '"') {  // regular expression: kept as its source text
    read_string(value);
    value.line = start_line;
    return;
  }
  if (character == '#') {  // ##Inf, ##-Inf, ##NaN
    ++position_;
    std::string_view name = read_token();
    value.kind = EdnKind::floating;
    if (name == "Inf") {
      value.floating = std::numeric_limits<double>::infinity();
    } else if (name == "-Inf") {
      value.floating = -std::numeric_limits<double>::infinity();
    } else if (name == "NaN") {
      value.floating = std::numeric_limits<double>::quiet_NaN();
    } else {
      fail(start_line, fmt::format("invalid symbolic value '##{}'", name));
    }
    return;
  }
  std::string_view tag = read_token();
  if (tag.empty()) fail(start_line, fmt::format("invalid dispatch '#{}'", character));
  value.kind = EdnKind::tagged;
  value.text = std::string(tag);
  skip_blanks();
  if (position_ >= text_.size()) fail(start_line, fmt::format("tag #{} without a value", tag));
  value.items.emplace_back();
  read_into(value.items.back(), depth + 1);
}

std::string_view EdnParser::read_token() {
  std::size_t start = position_;
  while (position_ < text_.size() && is_token_character(text_[position_])) ++position_;
  return text_.substr(start, position_ - start);
}

void EdnParser::interpret_token(std::string_view token, EdnValue& value) {
  if (token.empty()) fail(line_, fmt::format("unexpected character '{}'", text_[position_]));
  if (token == "nil") {
    value.kind = EdnKind::nil;
    return;
  }
  if (token == "true" || token == "false") {
    value.kind = EdnKind::boolean;
    value.boolean = token == "true";
    return;
  }
  if (token.front() == ':') {
    if (token.size() == 1) fail(line_, "keyword without a name");
    value.kind = EdnKind::keyword;
    value.text = std::string(token.substr(1));
    return;
  }
  bool numeric = is_digit(token.front()) ||
                 (token.size() > 1 && (token.front() == '+' || token.front() == '-') && is_digit(token[1]));
  if (!numeric) {
    value.kind = EdnKind::symbol;
    value.text = std::string(token);
    return;
  }
  std::string_view digits = token.front() == '+' ? token.substr(1) : token;
  bool floating = digits.find_first_of(".eE") != std::string_view::npos || digits.back() == 'M';
  if (digits.back() == 'M' || digits.back() == 'N') digits.remove_suffix(1);
  if (auto slash = digits.find('/'); slash != std::string_view::npos) {  // ratio
    double numerator = 0;
    double denominator = 0;
    auto first = std::from_chars(digits.data(), digits.data() + slash, numerator);
    auto second = std::from_chars(digits.data() + slash + 1, digits.data() + digits.size(), denominator);
    if (first.ec != std::errc() || first.ptr != digits.data() + slash || second.ec != std::errc() ||
        second.ptr != digits.data() + digits.size() || denominator == 0) {
      fail(line_, fmt::format("invalid number '{}'", token));
    }
    value.kind = EdnKind::floating;
    value.floating = numerator / denominator;
    return;
  }
  const char* end = digits.data() + digits.size();
  if (floating) {
    auto result = std::from_chars(digits.data(), end, value.floating);
    if (result.ec != std::errc() || result.ptr != end) fail(line_, fmt::format("invalid number '{}'", token));
    value.kind = EdnKind::floating;
    return;
  }
  auto result = std::from_chars(digits.data(), end, value.integer);
  if (result.ec == std::errc::result_out_of_range) fail(line_, fmt::format("integer '{}' out of range", token));
  if (result.ec != std::errc() || result.ptr != end) fail(line_, fmt::format("invalid number '{}'", token));
  value.kind = EdnKind::integer;
}

}  // namespace chaosbench::checkers
