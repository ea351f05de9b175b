// Parsing durations given on the command line: "90", "90s", "1.5s", "500ms",
// "2m", "1h". A bare number is seconds. Throws std::invalid_argument with a
// one-line message naming the text when it is not a non-negative duration.
#pragma once

#include <chrono>
#include <string_view>

namespace chaosbench::harness {

std::chrono::milliseconds parse_duration(std::string_view text);

}  // namespace chaosbench::harness
