#include "chaosbench/harness/duration.h"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

namespace chaosbench::harness {

std::chrono::milliseconds parse_duration(std::string_view text) {
  auto invalid = [&] {
    return std::invalid_argument("'" + std::string(text) + "' is not a duration (examples: 30, 30s, 500ms, 2m, 1h)");
  };
  std::size_t unit_start = 0;
  while (unit_start < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[unit_start])) || text[unit_start] == '.')) {
    ++unit_start;
  }
  if (unit_start == 0) throw invalid();
  double number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + unit_start, number);
  if (error != std::errc() || end != text.data() + unit_start || !std::isfinite(number)) throw invalid();
  std::string_view unit = text.substr(unit_start);
  double milliseconds_per_unit = 0;
  if (unit.empty() || unit == "s") {
    milliseconds_per_unit = 1000;
  } else if (unit == "ms") {
    milliseconds_per_unit = 1;
  } else if (unit == "m" || unit == "min") {
    milliseconds_per_unit = 60'000;
  } else if (unit == "h") {
    milliseconds_per_unit = 3'600'000;
  } else {
    throw invalid();
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(number * milliseconds_per_unit)));
}

}  // namespace chaosbench::harness
