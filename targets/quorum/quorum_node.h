// QuorumNode: the deterministic core of a Dynamo-style leaderless replica.
// Any node coordinates: a write goes to the key's N replicas (preference list
// on the hash ring) and succeeds after W durable acks; a read asks the N
// replicas and answers after R replies, repairing stale ones. Membership by
// gossip, sloppy quorum with hinted handoff, Merkle-tree anti-entropy,
// tombstones with a grace period. Time comes from two injected clocks
// (monotonic for timers, wall for LWW timestamps and tombstone ages) and
// randomness from a seed; I/O is returned by take_ready(): the caller makes
// `records` durable (or replaces the log with `rewrite`), then sends
// `messages` and `replies`, in that order, Ready after Ready.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "quorum/hash_ring.h"
#include "quorum/key_versions.h"
#include "quorum/membership.h"
#include "quorum/merkle_tree.h"
#include "quorum/quorum_messages.h"
#include "runtime/clock.h"

namespace chaosbench::quorum {

struct QuorumBugs {
  bool no_read_repair = false;      // reads never repair stale replicas
  bool tombstone_gc_early = false;  // tombstones are collected at the next sweep, ignoring the grace period
  bool ack_before_write = false;    // the coordinator acks a write before W replicas confirm it
  bool wal_no_fsync = false;        // the replica's WAL is written but never fsynced, so its acks promise
                                    // only the page cache (the core never reads it: its storage's owner,
                                    // the server or the simulator, opens the WAL without fsync)
};

struct QuorumConfig {
  std::string id;
  std::vector<std::string> members;  // every node, including this one
  int replicas = 3;                  // N
  int read_quorum = 2;               // R
  int write_quorum = 2;              // W
  bool sloppy = false;
  ConflictMode conflict = ConflictMode::vector_clocks;
  int virtual_nodes = 64;
  int merkle_depth = 14;
  int merkle_levels_per_round = 2;
  std::int64_t gossip_interval_nanoseconds = 50'000'000;
  std::int64_t failure_timeout_nanoseconds = 1'000'000'000;
  std::int64_t request_timeout_nanoseconds = 5'000'000'000;
  std::int64_t anti_entropy_interval_nanoseconds = 10'000'000'000;  // 0: never
  std::int64_t tombstone_grace_nanoseconds = 600'000'000'000;
  std::int64_t hint_replay_interval_nanoseconds = 500'000'000;
  std::int64_t sweep_interval_nanoseconds = 1'000'000'000;
  std::uint64_t random_seed = 1;
  QuorumBugs bugs;
};

// What the log holds, recovered at start (records written by earlier Readies).
struct RecoveredState {
  std::vector<std::string> records;
};

struct ClientReply {
  std::uint64_t request_id;
  nlohmann::json body;  // without the id
};

struct Ready {
  std::vector<std::string> records;                 // append to the log, then sync
  std::optional<std::vector<std::string>> rewrite;  // or: replace the whole log with these, then sync
  std::vector<Message> messages;
  std::vector<ClientReply> replies;
  bool empty() const { return records.empty() && !rewrite && messages.empty() && replies.empty(); }
};

struct QuorumStatistics {
  std::uint64_t local_writes = 0;  // store changes applied on this node
  std::uint64_t read_repairs = 0;  // repair messages sent
  std::uint64_t hints_stored = 0;
  std::uint64_t hints_delivered = 0;
  std::uint64_t anti_entropy_sessions = 0;  // sessions this node started
  std::uint64_t anti_entropy_keys_sent = 0;
  std::uint64_t anti_entropy_keys_repaired = 0;  // keys changed here by anti-entropy
  std::uint64_t tombstones_collected = 0;
};

class QuorumNode {
 public:
  // Throws std::invalid_argument for an inconsistent config, std::runtime_error for bad records.
  QuorumNode(QuorumConfig config, const targets::Clock& monotonic, const targets::Clock& wall,
             const RecoveredState& recovered);

  // Runs the timers: gossip, request deadlines, hint replay, anti-entropy, tombstone sweeps.
  void tick();
  void receive(const Message& message);
  // A client request (read, write, delete, append, add; cas/txn/sync are refused). The
  // reply comes back in some Ready's replies under `request_id`.
  void client_request(std::uint64_t request_id, const nlohmann::json& request);
  Ready take_ready();

  // Starts one anti-entropy session with `peer` now (tests and benchmarks; tick() does it periodically).
  void start_anti_entropy(const std::string& peer);
  // Writes `versions` straight into the local store, as a replica would (bulk loading in benchmarks).
  void store_locally(const std::string& key, const Siblings& versions);

  nlohmann::json status() const;
  const std::string& id() const { return config_.id; }
  const QuorumConfig& config() const { return config_; }
  const HashRing& ring() const { return ring_; }
  const std::map<std::string, Siblings>& store() const { return store_; }
  std::size_t hint_count() const { return hints_.size(); }
  std::size_t pending_operations() const { return operations_.size(); }
  bool peer_up(const std::string& peer) const;
  const QuorumStatistics& statistics() const { return statistics_; }

 private:
  struct Hint {
    std::string target;
    std::string key;
    Siblings versions;
    std::int64_t last_sent = 0;
  };
  enum class OperationKind { write, read, read_for_update };
  struct Operation {
    OperationKind kind;
    std::uint64_t request_id = 0;
    std::string key;
    std::int64_t deadline = 0;
    bool answered = false;
    // writes
    Siblings written;
    std::set<std::string> acked;
    // reads
    std::vector<std::string> asked;
    std::map<std::string, Siblings> replies;
    nlohmann::json update;  // the client's append/add, for read_for_update
  };
  struct Session {
    std::string peer;
    std::int64_t deadline = 0;
    std::shared_ptr<MerkleTree> tree;
    std::map<std::size_t, std::vector<std::pair<std::string, std::uint64_t>>> keys_by_leaf;
  };
  struct Target {
    std::string node;
    std::string hint_for;  // sloppy quorum: the replica this one stands in for
  };

  std::int64_t now() const { return monotonic_.now_nanoseconds(); }
  void send(Message message);
  void reply(std::uint64_t request_id, nlohmann::json body);
  void apply_record(const nlohmann::json& record);
  void persist_key(const std::string& key);
  // Merges into the local store; returns true if the store changed.
  bool merge_into_store(const std::string& key, const Siblings& versions);
  const Siblings& local(const std::string& key) const;
  std::optional<std::vector<Target>> choose_targets(const std::string& key, int needed);
  void start_write(std::uint64_t request_id, const std::string& key, Version version);
  void start_read(std::uint64_t request_id, const std::string& key, OperationKind kind, nlohmann::json update);
  Version new_version(const std::string& key, nlohmann::json value, bool tombstone,
                      const std::optional<VectorClock>& context);
  void finish_write_if_quorum(std::uint64_t operation_id);
  void on_read_reply(std::uint64_t operation_id, const std::string& from, const Siblings& versions);
  // A reply of `type` to `message`'s sender, for the same operation.
  Message answer_to(const Message& message, MessageType type) const;
  void on_gossip(const Message& message);
  void on_replica_write(const Message& message);
  void on_write_ack(const Message& message);
  void on_replica_read(const Message& message);
  void on_hint_replay(const Message& message);
  void on_hint_ack(const Message& message);
  void answer_read(std::uint64_t operation_id);
  void repair(const std::string& node, const std::string& key, const Siblings& merged);
  void expire_operations();
  void gossip();
  void replay_hints();
  void sweep_tombstones();
  void maybe_compact();
  bool is_replica(const std::string& node, const std::string& key) const;
  Session& session_for(std::uint64_t session_id, const std::string& peer);
  void on_tree_level(const Message& message);
  void on_bucket_digests(const Message& message);
  void on_key_versions(const Message& message);
  void reserve_counters();

  QuorumConfig config_;
  const targets::Clock& monotonic_;
  const targets::Clock& wall_;
  HashRing ring_;
  Membership membership_;
  std::mt19937_64 random_;
  std::map<std::string, Siblings> store_;
  std::map<std::string, std::uint64_t> digests_;  // key -> digest(store_[key])
  std::set<std::string> tombstoned_;              // keys whose versions are all tombstones
  std::map<std::uint64_t, Hint> hints_;
  std::map<std::uint64_t, Operation> operations_;
  std::map<std::uint64_t, Session> sessions_;
  std::uint64_t next_operation_;
  std::uint64_t counter_ = 0;           // this node's vector clock entry / hint ids
  std::uint64_t counter_reserved_ = 0;  // durable upper bound for counter_
  std::uint64_t records_since_rewrite_ = 0;
  std::int64_t next_gossip_ = 0, next_hint_replay_ = 0, next_anti_entropy_ = 0, next_sweep_ = 0;
  Ready ready_;
  QuorumStatistics statistics_;
};

}  // namespace chaosbench::quorum
