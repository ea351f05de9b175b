#include "chaosbench/checkers/verdict.h"

namespace chaosbench::checkers {

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::valid:
      return "valid";
    case Verdict::invalid:
      return "invalid";
    case Verdict::unknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<Verdict> parse_verdict(std::string_view text) {
  if (text == "valid") return Verdict::valid;
  if (text == "invalid") return Verdict::invalid;
  if (text == "unknown") return Verdict::unknown;
  return std::nullopt;
}

Verdict combine(Verdict left, Verdict right) {
  if (left == Verdict::invalid || right == Verdict::invalid) return Verdict::invalid;
  if (left == Verdict::unknown || right == Verdict::unknown) return Verdict::unknown;
  return Verdict::valid;
}

}  // namespace chaosbench::checkers
