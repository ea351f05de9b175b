// A small EDN reader for what Jepsen histories contain: scalars, keywords,
// vectors, lists, sets, maps, tagged literals, comments and #_ discards.
// Syntax errors throw HistoryError "SOURCE:LINE: what is wrong".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace chaosbench::checkers {

enum class EdnKind : std::uint8_t {
  nil,
  boolean,
  integer,
  floating,
  string,
  character,
  keyword,
  symbol,
  vector,
  list,
  set,
  map,
  tagged,
};

std::string_view to_string(EdnKind kind);

struct EdnValue {
  EdnKind kind = EdnKind::nil;
  bool boolean = false;
  std::int64_t integer = 0;
  double floating = 0;
  // String contents, character, keyword name without the colon, symbol, or tag
  // name (without the '#'), depending on kind.
  std::string text;
  // vector / list / set: the elements; map: key, value, key, value, ...;
  // tagged: exactly one element, the tagged form.
  std::vector<EdnValue> items;
  std::uint32_t line = 0;  // 1-based line on which the value starts

  bool is_keyword(std::string_view name) const { return kind == EdnKind::keyword && text == name; }
  bool is_sequence() const { return kind == EdnKind::vector || kind == EdnKind::list || kind == EdnKind::set; }
  // A map looked up by keyword key (`:name`); nullptr when absent or not a map.
  const EdnValue* find(std::string_view keyword) const;
  // The value itself with every tag removed (#jepsen.history.Op{...} -> the map).
  const EdnValue& untagged() const;
};

// Converts to JSON: keywords and symbols become their names (":f :read" ->
// "read"), vectors, lists and sets become arrays (set elements sorted), maps
// become objects with stringified keys, tags are dropped, nil becomes null.
nlohmann::json edn_to_json(const EdnValue& value);
// A value as one piece of text (a JSON key, an op's key or :error): strings,
// characters, keywords and symbols by name, integers in decimal, anything else
// as compact JSON.
std::string edn_text(const EdnValue& value);

// Reads EDN forms one at a time from a text; `source` names it in errors.
class EdnParser {
 public:
  // `first_line` numbers the first line of `text` (for text cut out of a file).
  EdnParser(std::string_view text, std::string_view source, std::uint32_t first_line = 1);

  // Skips blanks, commas, comments and #_ discards; true when no form is left.
  bool at_end();
  // The next significant character ('\0' at the end), not consumed.
  char peek();
  // Consumes the next significant character, which the caller has peeked.
  void consume();
  // Reads the next form; throws HistoryError at the end of input or on bad syntax.
  EdnValue read();
  // The current 1-based line.
  std::uint32_t line() const { return line_; }
  const std::string& source() const { return source_; }

  // Throws HistoryError "SOURCE:LINE: message".
  [[noreturn]] void fail(std::uint32_t line, std::string_view message) const;

 private:
  void skip_blanks();
  void read_into(EdnValue& value, int depth);
  void read_string(EdnValue& value);
  void read_character(EdnValue& value);
  void read_collection(EdnValue& value, EdnKind kind, char closing, int depth);
  void read_dispatch(EdnValue& value, int depth);
  std::string_view read_token();
  void interpret_token(std::string_view token, EdnValue& value);

  std::string_view text_;
  std::size_t position_ = 0;
  std::uint32_t line_ = 1;
  std::string source_;
};

}  // namespace chaosbench::checkers
