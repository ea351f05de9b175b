// ZabSimulator: runs a cluster of ZabNode cores in one thread over a simulated
// network of FIFO links (like TCP) that drop messages, duplicate them (the copy
// right behind the original, like a retransmission) and delay them by
// different amounts per link (so messages from different senders reorder),
// partitions nodes, pauses them, and crashes/restarts them from exactly what
// reached their asynchronous disks (with storage faults: torn writes recovered
// silently, flipped bits refused at start, the node then fail-stopped). After
// every step it checks ZAB's properties; run() returns the first violation
// ("seed S step N: ...") or, after healing, a liveness failure.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "runtime/kv_state_machine.h"
#include "sim/cluster_faults.h"
#include "sim/links.h"
#include "sim/simulated_disk.h"
#include "sim/simulated_network.h"
#include "sim/simulation_failure.h"
#include "sim/simulation_run.h"
#include "zab/zab_node.h"
#include "zab/zab_storage.h"

namespace chaosbench::zab::simulation {

// ZAB's settings beside the shared ones (seed, size, steps, network and node faults).
struct SimulationOptions : sim::SimulationRun {
  // Drops and duplicates (the copy right behind the original) in the chaos
  // phase; every message waits 0-3 ticks, each link FIFO; pauses up to 30 ticks.
  SimulationOptions() {
    network = {.drop_probability = 0.03, .duplicate_probability = 0.02, .max_delay = 3};
    faults.max_pause_ticks = 30;
  }
  double disk_completion_probability = 0.5;  // per step: a node's pending disk writes complete
  double submit_probability = 0.5;           // per step: a client update at a random serving node
  double sync_probability = 0.1;             // per step: a client sync at a random serving node
  std::uint64_t compact_every = 15;          // applied txns between snapshots
  // A released sync must leave its replica with every update acknowledged
  // before the sync began (sync + read is then linearizable). ZooKeeper can
  // miss this when a deposed leader answers within its session timeout; no
  // seed here has produced that, so the check is on everywhere.
  bool check_sync_freshness = true;
  ZabBugs bugs;
};

struct SimulationResult {
  bool ok = true;
  std::string failure;  // "seed S step N: ..." when !ok
  std::uint64_t delivered_txns = 0;
  std::uint64_t epochs_established = 0;
  std::uint64_t syncs_released = 0;
  std::uint64_t forwarded_updates_applied = 0;
  std::uint64_t snapshot_syncs = 0;
  std::uint64_t torn_tails_truncated = 0;  // recoveries that cut a torn tail off the WAL
  std::uint64_t torn_writes = 0;           // crashes whose pending write tore
  std::uint64_t fail_stopped = 0;          // nodes that refused to start on a flipped bit
};

class ZabSimulator : private sim::FaultTarget {
 public:
  explicit ZabSimulator(SimulationOptions options);
  SimulationResult run();

 private:
  struct SimulatedNode {
    NodeId id;
    std::unique_ptr<ZabNode> core;  // null while crashed
    std::unique_ptr<sim::SimulatedDisk> disk = std::make_unique<sim::SimulatedDisk>();
    std::unique_ptr<ZabStorage> storage;  // refnode's WAL and snapshot code over `disk`; null while crashed
    targets::KvStateMachine machine;
    Zxid applied;
    std::deque<Ready> unsynced;                             // taken from the core, not yet on disk
    std::optional<sim::SimulatedDisk::BitFlip> corruption;  // a synced bit flipped while it was down
    bool fail_stopped = false;                              // refused to start on that corruption: down for good
  };

  void start_node(SimulatedNode& node);
  void process_ready(SimulatedNode& node);
  void complete_disk_writes(SimulatedNode& node);
  void deliver(SimulatedNode& node, const Txn& txn);
  void enqueue(const Message& message);
  void inject_faults();
  void client_activity();
  void deliver_due_messages(bool faulty);
  void resume_if_due(std::size_t index);
  void check_invariants();
  void fail(const std::string& message);
  static std::size_t index_of(const NodeId& id) { return std::stoul(id.substr(1)) - 1; }

  // sim::FaultTarget
  std::size_t node_count() const override { return nodes_.size(); }
  bool running(std::size_t node) const override { return nodes_[node].core != nullptr; }
  bool can_restart(const SimulatedNode& node) const { return !node.core && !node.fail_stopped; }
  bool leader(std::size_t node) const override { return nodes_[node].core->role() == Role::leading; }
  void crash(std::size_t node) override;
  void restart(std::size_t node) override {
    if (can_restart(nodes_[node])) start_node(nodes_[node]);
  }
  void pause(std::size_t node, std::int64_t ticks) override { network_.pause(node, now_ticks_ + ticks); }

  SimulationOptions options_;
  targets::Logger storage_logger_{"sim", /*enabled=*/false};
  std::mt19937_64 random_;
  std::vector<SimulatedNode> nodes_;
  sim::Links links_;
  sim::SimulatedNetwork<Message> network_;  // FIFO links, like TCP
  std::int64_t now_ticks_ = 0;
  int step_ = 0;
  bool chaos_phase_ = true;
  std::uint64_t next_value_ = 0;
  std::uint64_t next_context_ = 1;
  int corrupted_nodes_ = 0;  // at most a minority, so a quorum can still deliver after healing

  // Ghost state for the invariants.
  std::set<std::string> submitted_commands_;
  std::map<Zxid, std::string> delivered_;     // every txn delivered anywhere, in zxid order
  std::set<std::string> delivered_commands_;  // each submitted command at most once in that sequence
  std::map<std::uint64_t, NodeId> primary_of_epoch_;
  Zxid acknowledged_;                            // highest update acknowledged to its client
  std::map<std::uint64_t, Zxid> sync_required_;  // sync context -> acknowledged_ when it began
  SimulationResult result_;
};

}  // namespace chaosbench::zab::simulation
