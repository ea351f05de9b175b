// A checker's verdict: valid, invalid, or unknown (it gave up at a time or
// memory limit, never a guess, or the history gave it nothing to judge: reason
// "nothing to judge: ..."). Combining verdicts: any invalid wins, then any
// unknown, else valid.
#pragma once

#include <optional>
#include <string_view>

namespace chaosbench::checkers {

enum class Verdict { valid, invalid, unknown };

std::string_view to_string(Verdict verdict);
std::optional<Verdict> parse_verdict(std::string_view text);
Verdict combine(Verdict left, Verdict right);

}  // namespace chaosbench::checkers
