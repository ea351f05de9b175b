// QuorumSimulator: a deterministic in-memory cluster of QuorumNode cores for
// tests and benchmarks. One simulated monotonic clock (1 ms steps), a wall
// clock per node (offsets model clock skew), a seeded network with 1-3 ms
// latency, directed link blocks (partitions), crash (power loss) or kill
// (page cache kept) and restart from what each node's QuorumStorage (refnode's
// WAL) left on its SimulatedDisk, storage faults (a write torn by a power
// loss, a flipped bit), and byte counts of every encoded message by type.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "quorum/quorum_node.h"
#include "quorum/quorum_storage.h"
#include "runtime/clock.h"
#include "sim/links.h"
#include "sim/simulated_disk.h"
#include "sim/simulated_network.h"

namespace chaosbench::quorum::testing {

class OffsetClock final : public targets::Clock {
 public:
  OffsetClock(const targets::Clock& base, std::int64_t epoch) : base_(base), epoch_(epoch) {}
  std::int64_t now_nanoseconds() const override { return epoch_ + base_.now_nanoseconds() + offset_; }
  void set_offset(std::int64_t nanoseconds) { offset_ = nanoseconds; }

 private:
  const targets::Clock& base_;
  std::int64_t epoch_;
  std::int64_t offset_ = 0;
};

class QuorumSimulator {
 public:
  static constexpr std::int64_t kMillisecond = 1'000'000;
  static constexpr std::int64_t kSecond = 1'000'000'000;

  // `adjust` edits each node's config (N, R, W, bugs, intervals) before it starts.
  QuorumSimulator(int nodes, std::uint64_t seed, std::function<void(QuorumConfig&)> adjust = {});

  int size() const { return static_cast<int>(nodes_.size()); }
  static std::string id(int node) { return "n" + std::to_string(node + 1); }
  QuorumNode& node(int index) { return *nodes_.at(index).core; }
  bool running(int index) const { return nodes_.at(index).core != nullptr; }
  std::int64_t now() const { return clock_.now_nanoseconds(); }

  void set_wall_offset(int index, std::int64_t nanoseconds) { nodes_.at(index).wall->set_offset(nanoseconds); }
  // Drops every message from `from` to `to` until unblocked.
  void block(int from, int to) { links_.block(static_cast<std::size_t>(from), static_cast<std::size_t>(to)); }
  // Cuts every link between the two groups (both directions).
  void partition(const std::vector<int>& side_a, const std::vector<int>& side_b);
  void isolate(int index);
  void heal() { links_.heal(); }
  void crash(int index);  // a power loss: loses everything not durable (nothing is pending between steps)
  void kill(int index);   // SIGKILL: the process dies, what it wrote (synced or not) stays in the page cache
  // Recovers through QuorumStorage from its disk; throws targets::WalCorruption
  // when that refuses a corrupted WAL (the node stays down: fail-stop).
  void restart(int index);
  void wipe(int index);  // loses the disk too (a crashed node only)
  // The power fails during the node's next WAL sync: a seeded prefix of that
  // write survives (torn) and the node is down, its Ready's messages and
  // replies never sent.
  void lose_power_during_next_sync(int index) { nodes_.at(index).disk->lose_power_at_next_sync(); }
  // Flips a seeded bit of a crashed node's synced WAL (nullopt: nothing synced).
  std::optional<sim::SimulatedDisk::BitFlip> flip_synced_bit(int index);
  std::uint64_t torn_writes() const { return torn_writes_; }                    // syncs a power loss interrupted
  std::uint64_t torn_tails_truncated() const { return torn_tails_truncated_; }  // recoveries that cut a torn tail

  // Submits a client request at `index`; returns the request id.
  std::uint64_t submit(int index, nlohmann::json request);
  std::optional<nlohmann::json> reply(std::uint64_t request_id) const;
  // Submits and runs until the reply arrives (or `limit` simulated ns pass: throws).
  nlohmann::json call(int index, nlohmann::json request, std::int64_t limit = 30 * kSecond);
  void run_for(std::int64_t nanoseconds);
  void step();  // 1 ms: deliver due messages, tick every node

  // Called for every client reply as it is produced: (node, request id, reply body).
  std::function<void(int, std::uint64_t, const nlohmann::json&)> on_reply;

  std::uint64_t bytes_sent(MessageType type) const;
  std::uint64_t messages_sent(MessageType type) const;
  void reset_counters();

 private:
  struct SimulatedNode {
    std::unique_ptr<OffsetClock> wall;
    std::unique_ptr<QuorumNode> core;
    std::unique_ptr<sim::SimulatedDisk> disk = std::make_unique<sim::SimulatedDisk>();
    std::unique_ptr<QuorumStorage> storage;  // refnode's own, on `disk`
  };
  void start(int index);
  void drain(int index);

  std::uint64_t seed_;
  std::function<void(QuorumConfig&)> adjust_;
  targets::ManualClock clock_;
  std::mt19937_64 random_;
  std::vector<SimulatedNode> nodes_;
  sim::Links links_;
  sim::SimulatedNetwork<std::string> network_;  // encoded messages, 1-3 ms each
  std::uint64_t next_request_ = 1;
  std::map<std::uint64_t, int> request_node_;
  std::map<std::uint64_t, nlohmann::json> replies_;
  std::map<MessageType, std::uint64_t> bytes_, messages_;
  std::uint64_t torn_writes_ = 0;
  std::uint64_t torn_tails_truncated_ = 0;
};

}  // namespace chaosbench::quorum::testing
