// RaftSimulator: runs a cluster of RaftNode cores in one thread over a
// simulated network that drops, duplicates, delays and reorders messages,
// partitions nodes and crashes/restarts them from their persisted state (with
// storage faults: torn writes recovered silently, flipped bits refused at
// start, the node then fail-stopped). After every step it checks Raft's safety
// properties; run() returns the first violation (naming seed and step) or,
// after healing, a liveness failure.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "raft/raft_node.h"
#include "raft/raft_storage.h"
#include "runtime/clock.h"
#include "runtime/kv_state_machine.h"
#include "sim/cluster_faults.h"
#include "sim/links.h"
#include "sim/simulated_disk.h"
#include "sim/simulated_network.h"
#include "sim/simulation_failure.h"
#include "sim/simulation_run.h"

namespace chaosbench::raft::simulation {

// Raft's settings beside the shared ones (seed, size, steps, network and node faults).
struct SimulationOptions : sim::SimulationRun {
  // Drops and duplicates in the chaos phase; every message waits 0-3 ticks.
  SimulationOptions() { network = {.drop_probability = 0.05, .duplicate_probability = 0.02, .max_delay = 3}; }
  // Disk writes complete asynchronously, as with refnode's storage thread: a
  // Ready's effects wait for its write, which completes with this probability
  // per step; a leader's AppendEntries go out before it. A crash loses
  // whatever has not completed.
  bool asynchronous_disk = true;
  double disk_completion_probability = 0.5;
  double propose_probability = 0.5;  // per step: a client write at the leader
  double read_probability = 0.2;     // per step: a ReadIndex read at the leader
  std::size_t max_entries_per_message = 3;
  std::uint64_t compact_every = 20;  // applied entries between snapshots
  RaftBugs bugs;
  // lease-wall-clock: leases are timed with each node's wall clock, which the
  // clock nemesis steps back and forth; otherwise with the shared monotonic clock.
  bool lease_wall_clock = false;
  double clock_bump_probability = 0.0;  // per step: one node's wall clock jumps
};

struct SimulationResult {
  bool ok = true;
  std::string failure;  // "seed S step N: ..." when !ok
  std::uint64_t committed_entries = 0;
  std::uint64_t leaders_elected = 0;
  std::uint64_t reads_served = 0;
  std::uint64_t snapshots_installed = 0;
  std::uint64_t torn_tails_truncated = 0;  // recoveries that cut a torn tail off the WAL
  std::uint64_t torn_writes = 0;           // crashes whose pending write tore
  std::uint64_t fail_stopped = 0;          // nodes that refused to start on a flipped bit
};

class RaftSimulator : private sim::FaultTarget {
 public:
  explicit RaftSimulator(SimulationOptions options);
  SimulationResult run();

 private:
  struct SimulatedNode {
    NodeId id;
    std::unique_ptr<RaftNode> core;  // null while crashed
    std::unique_ptr<targets::ManualClock> wall_clock = std::make_unique<targets::ManualClock>();
    std::int64_t wall_offset_nanoseconds = 0;
    std::unique_ptr<sim::SimulatedDisk> disk = std::make_unique<sim::SimulatedDisk>();
    std::unique_ptr<RaftStorage> storage;  // refnode's WAL and snapshot code over `disk`; null while crashed
    targets::KvStateMachine machine;
    std::uint64_t applied_index = 0;
    std::deque<Ready> unsynced;                             // taken from the core, not yet on disk
    std::optional<sim::SimulatedDisk::BitFlip> corruption;  // a synced bit flipped while it was down
    bool fail_stopped = false;                              // refused to start on that corruption: down for good
  };
  struct CommittedEntry {
    std::uint64_t term;
    std::string command;
    std::uint64_t commit_term;  // term of the leader that committed it
  };

  void start_node(SimulatedNode& node);
  void process_ready(SimulatedNode& node);
  void complete_disk_writes(SimulatedNode& node);
  void enqueue(const Message& message, bool faulty);
  void inject_faults();
  void client_activity(bool faulty);
  void deliver_due_messages(bool faulty);
  void check_invariants();
  void fail(const std::string& message);
  static std::size_t index_of(const NodeId& id) { return std::stoul(id.substr(1)) - 1; }

  // sim::FaultTarget
  std::size_t node_count() const override { return nodes_.size(); }
  bool running(std::size_t node) const override { return nodes_[node].core != nullptr; }
  bool can_restart(const SimulatedNode& node) const { return !node.core && !node.fail_stopped; }
  bool leader(std::size_t node) const override { return nodes_[node].core->role() == Role::leader; }
  void crash(std::size_t node) override;
  void restart(std::size_t node) override {
    if (can_restart(nodes_[node])) start_node(nodes_[node]);
  }
  void pause(std::size_t node, std::int64_t ticks) override { network_.pause(node, now_ticks_ + ticks); }

  SimulationOptions options_;
  targets::Logger storage_logger_{"sim", /*enabled=*/false};
  std::mt19937_64 random_;
  targets::ManualClock clock_;
  std::vector<SimulatedNode> nodes_;
  sim::Links links_;
  sim::SimulatedNetwork<Message> network_;
  std::int64_t now_ticks_ = 0;
  int step_ = 0;
  bool chaos_phase_ = true;
  std::uint64_t next_command_ = 0;
  std::uint64_t next_read_context_ = 1;
  int corrupted_nodes_ = 0;  // at most a minority, so a majority can still commit after healing

  // Ghost state for the invariants.
  std::map<std::uint64_t, NodeId> leader_of_term_;
  std::map<std::uint64_t, CommittedEntry> committed_;
  std::map<std::uint64_t, std::uint64_t> read_required_index_;  // context -> index acknowledged before the read
  std::uint64_t acknowledged_index_ = 0;                        // highest index a client has been told is committed
  SimulationResult result_;
};

// Runs `seed_count` seeds from `first_seed`; returns the first failing result
// (or the last successful one).
SimulationResult run_seeds(SimulationOptions options, std::uint64_t first_seed, int seed_count);

}  // namespace chaosbench::raft::simulation
