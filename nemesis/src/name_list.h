// Comma-separated names on the command line (--nemesis, --partition-shapes):
// each parsed in order, duplicates dropped, an unknown or empty name handed to
// `refuse`, which throws the flag's own one-line error.
#pragma once

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

namespace chaosbench::nemesis {

template <typename Value, typename Parse, typename Refuse>
std::vector<Value> parse_name_list(std::string_view text, Parse parse, Refuse refuse) {
  std::vector<Value> values;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    const std::string_view name = text.substr(begin, comma - begin);
    const std::optional<Value> value = parse(name);
    if (!value) refuse(name);
    if (std::find(values.begin(), values.end(), *value) == values.end()) values.push_back(*value);
    begin = comma + 1;
  }
  return values;
}

}  // namespace chaosbench::nemesis
