#include "chaosbench/harness/swarm.h"

#include <random>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "chaosbench/nemesis/fault.h"
#include "chaosbench/nemesis/partition.h"

namespace chaosbench::harness {

std::string SwarmDraw::flags() const {
  return fmt::format("--nemesis {} --kill-targets {} --partition-shapes {} --nemesis-interval {}", nemesis,
                     kill_targets, partition_shapes, nemesis_interval);
}

SwarmDraw draw_swarm(std::uint64_t seed, bool target_has_failpoints, bool target_has_link_proxies) {
  // Its own generator: the run's other draws (schedule, operations) stay those of the seed.
  std::mt19937_64 random(seed ^ 0x5377'6172'6d00'0001ULL);
  std::vector<std::string> pool = {"partition", "kill", "pause", "clock", "loss", "delay"};
  if (target_has_failpoints) pool.push_back("failpoint");
  std::vector<std::string> kinds;
  for (const std::string& kind : pool) {
    if (random() % 2 == 0) kinds.push_back(kind);
  }
  if (kinds.empty()) kinds.push_back(pool[random() % pool.size()]);
  static const nemesis::KillTargets kTargets[] = {nemesis::KillTargets::mixed,    nemesis::KillTargets::one,
                                                  nemesis::KillTargets::minority, nemesis::KillTargets::majority,
                                                  nemesis::KillTargets::all,      nemesis::KillTargets::leader,
                                                  nemesis::KillTargets::followers};
  std::vector<std::string> shapes;
  for (nemesis::PartitionShape shape : nemesis::all_partition_shapes()) {
    if (random() % 2 == 0) shapes.emplace_back(nemesis::to_string(shape));
  }
  if (shapes.empty()) shapes.emplace_back(nemesis::to_string(nemesis::all_partition_shapes()[0]));
  static const char* kIntervals[] = {"1s", "2s", "3s", "5s", "10s"};
  SwarmDraw draw;
  draw.kill_targets = std::string(nemesis::to_string(kTargets[random() % std::size(kTargets)]));
  draw.partition_shapes = fmt::format("{}", fmt::join(shapes, ","));
  draw.nemesis_interval = kIntervals[random() % std::size(kIntervals)];
  // Drawn last, so that the draws above stay those of the seed as before.
  if (target_has_link_proxies) {
    for (const char* kind : {"bandwidth", "slicer", "reset-peer", "blackhole", "slow-close", "limit-data"}) {
      if (random() % 4 == 0) kinds.push_back(kind);
    }
  }
  draw.nemesis = fmt::format("{}", fmt::join(kinds, ","));
  return draw;
}

}  // namespace chaosbench::harness
