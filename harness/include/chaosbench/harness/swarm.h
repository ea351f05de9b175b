// Swarm testing (`harness run --nemesis random`): the seed is expanded into a
// fault configuration, as VOPR expands a seed into its options: which fault
// kinds, which nodes kills hit, which partition shapes, how often. The draw is
// a pure function of the seed and the target, so `--seed N` replays it exactly.
#pragma once

#include <cstdint>
#include <string>

#include "chaosbench/harness/run_command.h"

namespace chaosbench::harness {

struct SwarmDraw {
  std::string nemesis;           // e.g. "partition,pause,clock"
  std::string kill_targets;      // a nemesis::KillTargets name
  std::string partition_shapes;  // comma-separated shape names
  std::string nemesis_interval;  // e.g. "2s"
  std::string flags() const;     // the same as harness run flags, for the log line
};

// Kinds drawn from: partition, kill, pause, clock, loss, delay, and failpoint
// where the target has failpoints (each with probability 1/2, at least one);
// where its peers can be proxied, each link toxic too (probability 1/4).
// Storage faults and the scripted scenarios are never drawn.
SwarmDraw draw_swarm(std::uint64_t seed, bool target_has_failpoints, bool target_has_link_proxies);

}  // namespace chaosbench::harness
