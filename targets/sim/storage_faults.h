// StorageFaults: what a simulated crash does to a node's disk beyond losing
// unsynced writes, drawn from the simulation's generator: the write in flight
// tears (the power fails during its sync; a seeded prefix survives) and one bit
// of synced data flips. A node must recover a torn write silently and refuse
// to start on a flipped bit (fail-stop); the simulators check both.
#pragma once

#include <optional>
#include <random>

#include "sim/simulated_disk.h"

namespace chaosbench::sim {

struct StorageFaultOptions {
  double torn_write_probability = 0.0;  // per crash with a disk write pending: the power fails during it
  double corruption_probability = 0.0;  // per crash: a bit of the node's synced files flips
};

struct DiskCrash {
  bool torn = false;                           // the pending write's sync lost power
  std::optional<SimulatedDisk::BitFlip> flip;  // the bit that flipped, if any
};

// Crashes `disk`. With a write pending (`write` runs the first one through the
// node's storage) it may tear; with `may_corrupt` a synced bit may flip. No
// draw is made for a probability of 0, so runs without storage faults replay
// the seeds they always did.
template <typename Write>
DiskCrash crash_disk(SimulatedDisk& disk, std::mt19937_64& random, const StorageFaultOptions& options,
                     bool write_pending, bool may_corrupt, Write&& write) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  DiskCrash crash;
  if (write_pending && options.torn_write_probability > 0 && unit(random) < options.torn_write_probability) {
    disk.lose_power_at_next_sync();
    try {
      write();
    } catch (const PowerLoss&) {
      crash.torn = true;
    }
    disk.crash_tearing(random);
  } else {
    disk.crash();
  }
  if (may_corrupt && options.corruption_probability > 0 && unit(random) < options.corruption_probability) {
    crash.flip = disk.flip_synced_bit(random);
  }
  return crash;
}

}  // namespace chaosbench::sim
