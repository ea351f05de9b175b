// The nemesis schedule: when each fault starts and stops, computed up front
// from the seed (same seed, faults and times: same schedule). Each fault kind
// runs on its own timeline: quiet for about one interval, active for half to a
// whole interval, quiet again; timelines of different kinds overlap freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "chaosbench/nemesis/fault.h"

namespace chaosbench::nemesis {

struct NemesisEvent {
  std::chrono::milliseconds at{0};  // since the workload started
  FaultKind fault = FaultKind::partition;
  bool start = true;
  std::uint64_t seed = 0;  // drives this start's random choices (shape, nodes, offsets)
};

// Events in time order; a fault still active at `duration` is stopped by the
// final heal, not by the schedule.
std::vector<NemesisEvent> build_schedule(const std::vector<FaultKind>& faults, std::chrono::milliseconds interval,
                                         std::chrono::milliseconds duration, std::uint64_t seed);

}  // namespace chaosbench::nemesis
