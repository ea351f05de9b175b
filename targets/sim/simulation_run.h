// SimulationRun: what every protocol's simulation is given beside its own
// settings: the seed, the cluster size, how many steps of chaos and then of
// healed network it runs, and the network, node and storage faults of the chaos phase.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/cluster_faults.h"
#include "sim/simulated_network.h"
#include "sim/storage_faults.h"

namespace chaosbench::sim {

struct SimulationRun {
  std::uint64_t seed = 1;
  int node_count = 3;
  int chaos_steps = 400;  // ticks with faults
  int heal_steps = 400;   // ticks allowed to recover after healing
  NetworkFaults network;
  ClusterFaultOptions faults;   // crashes, restarts, partitions, leader faults, pauses
  StorageFaultOptions storage;  // at each crash: a torn write, a flipped bit (off by default)
};

// n1, n2, ... n<count>: the node ids of a simulated cluster, index i is "n<i+1>".
inline std::vector<std::string> node_ids(int count) {
  std::vector<std::string> ids;
  for (int index = 0; index < count; ++index) ids.push_back("n" + std::to_string(index + 1));
  return ids;
}

}  // namespace chaosbench::sim
