// The kinds of fault the nemesis injects and how they are named on the command
// line (--nemesis partition,kill,pause,clock,loss,delay; "none" for no faults).
// Each has a start and a stop, recorded in the history as start-<kind> and stop-<kind>.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chaosbench::nemesis {

enum class FaultKind { partition, kill, pause, clock, loss, delay };

std::string_view to_string(FaultKind kind);
std::optional<FaultKind> parse_fault_kind(std::string_view text);
// Comma-separated names, duplicates ignored, order kept; "none" or "" = no faults.
// Throws std::invalid_argument (one line, listing the known names) for an unknown one.
std::vector<FaultKind> parse_fault_list(std::string_view text);
const std::vector<FaultKind>& all_fault_kinds();

}  // namespace chaosbench::nemesis
