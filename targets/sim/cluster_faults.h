// ClusterFaults: the node-level faults of a simulation step, drawn from one
// seeded generator: crash a random node, a fault on the current leader (crash,
// pause or isolation), restarts of crashed nodes, a random partition, a heal.
// The simulator says how each is done (FaultTarget); inject() decides when.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>

#include "sim/links.h"

namespace chaosbench::sim {

struct ClusterFaultOptions {
  double crash_probability = 0.01;        // per step, one random node
  double restart_probability = 0.05;      // per step, per crashed node
  double partition_probability = 0.01;    // per step: new random partition
  double heal_probability = 0.02;         // per step: partition heals
  double leader_fault_probability = 0.0;  // per step: crash, isolate or pause a current leader
  int max_pause_ticks = 40;               // a paused node neither ticks nor receives (SIGSTOP, GC)
};

// What a simulator exposes to have faults injected.
class FaultTarget {
 public:
  virtual ~FaultTarget() = default;
  virtual std::size_t node_count() const = 0;
  virtual bool running(std::size_t node) const = 0;
  virtual bool leader(std::size_t node) const = 0;
  virtual void crash(std::size_t node) = 0;
  virtual void restart(std::size_t node) = 0;
  virtual void pause(std::size_t node, std::int64_t ticks) = 0;
};

// One step's faults. `between_restart_and_partition` runs at that point of the
// draw sequence (e.g. Raft's clock bumps), so a simulator adds its own faults
// without reordering these.
template <typename Extra>
void inject_cluster_faults(std::mt19937_64& random, const ClusterFaultOptions& options, FaultTarget& target,
                           Links& links, Extra&& between_restart_and_partition) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const std::size_t count = target.node_count();
  if (unit(random) < options.crash_probability) target.crash(random() % count);
  if (unit(random) < options.leader_fault_probability) {
    for (std::size_t node = 0; node < count; ++node) {
      if (!target.running(node) || !target.leader(node)) continue;
      const auto fault = random() % 3;
      if (fault == 0) {
        target.crash(node);
      } else if (fault == 1) {
        target.pause(node,
                     1 + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(options.max_pause_ticks)));
      } else {
        links.heal();
        links.isolate(node);
      }
      break;
    }
  }
  for (std::size_t node = 0; node < count; ++node) {
    if (!target.running(node) && unit(random) < options.restart_probability) target.restart(node);
  }
  between_restart_and_partition();
  if (unit(random) < options.partition_probability) links.split_randomly(random);
  if (unit(random) < options.heal_probability) links.heal();
}

inline void inject_cluster_faults(std::mt19937_64& random, const ClusterFaultOptions& options, FaultTarget& target,
                                  Links& links) {
  inject_cluster_faults(random, options, target, links, [] {});
}

}  // namespace chaosbench::sim
