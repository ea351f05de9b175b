// Internal: the two pieces of string-escape decoding the JSONL and EDN readers
// share: four hex digits of a \u escape, and a code point appended as UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chaosbench::checkers::detail {

// Reads the first four characters of `text` as hex; false when there are fewer
// than four or one is not a hex digit.
inline bool parse_hex4(std::string_view text, std::uint32_t& result) {
  if (text.size() < 4) return false;
  result = 0;
  for (std::size_t index = 0; index < 4; ++index) {
    char character = text[index];
    result <<= 4;
    if (character >= '0' && character <= '9') {
      result |= static_cast<std::uint32_t>(character - '0');
    } else if (character >= 'a' && character <= 'f') {
      result |= static_cast<std::uint32_t>(character - 'a' + 10);
    } else if (character >= 'A' && character <= 'F') {
      result |= static_cast<std::uint32_t>(character - 'A' + 10);
    } else {
      return false;
    }
  }
  return true;
}

inline void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

}  // namespace chaosbench::checkers::detail
