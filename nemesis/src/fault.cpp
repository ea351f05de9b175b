#include "chaosbench/nemesis/fault.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

namespace chaosbench::nemesis {

const std::vector<FaultKind>& all_fault_kinds() {
  static const std::vector<FaultKind> kinds = {FaultKind::partition, FaultKind::kill, FaultKind::pause,
                                               FaultKind::clock,     FaultKind::loss, FaultKind::delay};
  return kinds;
}

std::string_view to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::partition: return "partition";
    case FaultKind::kill: return "kill";
    case FaultKind::pause: return "pause";
    case FaultKind::clock: return "clock";
    case FaultKind::loss: return "loss";
    case FaultKind::delay: return "delay";
  }
  return "?";
}

std::optional<FaultKind> parse_fault_kind(std::string_view text) {
  for (FaultKind kind : all_fault_kinds()) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

std::vector<FaultKind> parse_fault_list(std::string_view text) {
  std::vector<FaultKind> kinds;
  if (text.empty() || text == "none") return kinds;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    const std::string_view name = text.substr(begin, comma - begin);
    auto kind = parse_fault_kind(name);
    if (!kind) {
      throw std::invalid_argument(fmt::format(
          "unknown nemesis '{}' (known: partition, kill, pause, clock, loss, delay, or none)", name));
    }
    if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) kinds.push_back(*kind);
    begin = comma + 1;
  }
  return kinds;
}

}  // namespace chaosbench::nemesis
