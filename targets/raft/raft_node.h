// RaftNode: the deterministic Raft core. A pure state machine driven by
// step(message), tick() and client calls; it never touches sockets, threads,
// files or the system clock (time comes from an injected Clock, randomness from
// a seed). After any call, take_ready() hands back what the driver must do, in
// this order: persist (snapshot, entries, hard state), send messages, apply
// committed entries, then serve released reads. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "raft/persistent_state.h"
#include "raft/raft_types.h"
#include "runtime/clock.h"

namespace chaosbench::raft {

// Deliberate, realistic mistakes for the harness to find (all off by default).
struct RaftBugs {
  bool no_vote_log_check = false;     // grant votes without the up-to-date-log check
  bool commit_previous_term = false;  // commit entries of earlier terms by counting replicas
                                      // (and so, like Raft without Figure 8, no election no-op)
  bool ack_before_fsync = false;      // the leader counts its own log towards a commit before it is
                                      // durable, and drivers send AppendEntries responses before the
                                      // Ready's fsync (sendable_before_persist)
  // (lease-wall-clock and stale-follower-read live in the runtime: they change
  // which clock is injected and who answers reads.)
};

struct RaftConfig {
  NodeId id;
  std::vector<NodeId> members;  // every voter, including id
  int election_ticks = 30;      // randomised timeout in [election_ticks, 2*election_ticks)
  int heartbeat_ticks = 5;
  std::int64_t tick_nanoseconds = 10'000'000;
  std::int64_t clock_drift_bound_nanoseconds = 50'000'000;  // subtracted from the lease
  std::size_t max_entries_per_message = 512;
  std::uint64_t random_seed = 1;
  RaftBugs bugs;
};

// A read the driver may now answer from its state machine (after applying the
// committed entries of the same Ready).
struct ReadState {
  std::uint64_t context = 0;
  std::uint64_t index = 0;
};

struct Ready {
  std::optional<Snapshot> snapshot;  // persist; if restore_state_machine, also load it
  bool restore_state_machine = false;
  std::vector<LogEntry> entries;        // persist; the first index replaces everything from there on
  std::optional<HardState> hard_state;  // persist before sending messages
  std::vector<Message> messages;
  std::vector<LogEntry> committed_entries;  // apply in order
  std::vector<ReadState> reads;             // serve after applying committed_entries
  std::vector<std::uint64_t> failed_reads;  // contexts: leadership lost, answer not_leader
  bool empty() const {
    return !snapshot && entries.empty() && !hard_state && messages.empty() && committed_entries.empty() &&
           reads.empty() && failed_reads.empty();
  }
};

enum class ReadMode { read_index, lease };

// Whether a driver may send one of a Ready's messages before the Ready's
// disk write completes: a leader's AppendEntries and InstallSnapshot of its
// current term (Raft lets the leader write its log in parallel with
// replication), never ahead of a term or vote still on its way to disk
// (`hard_state_unsynced`: in this Ready or an earlier unfinished one).
// Everything else promises durable state. With the ack-before-fsync bug,
// AppendEntries responses go early too: a follower acknowledges entries it
// has not made durable.
bool sendable_before_persist(const Message& message, Role role, std::uint64_t term, bool hard_state_unsynced,
                             const RaftBugs& bugs);

class RaftNode {
 public:
  RaftNode(RaftConfig config, const PersistentState& restored, const targets::Clock& lease_clock);

  void tick();
  void step(const Message& message);

  // Appends a command if this node is leader; returns its (index, term).
  std::optional<std::pair<std::uint64_t, std::uint64_t>> propose(std::string command);

  // Queues a linearizable read; false if this node is not leader (answer not_leader).
  bool request_read(std::uint64_t context, ReadMode mode);

  // Replaces the log prefix up to `index` (<= applied) with a snapshot.
  void compact(std::uint64_t index, std::string state_machine_data);

  Ready take_ready();

  // The driver reports that the entries of a Ready, up to (index, term), are
  // on stable storage. A leader counts its own log towards a commit only up to
  // here, because it sends AppendEntries before its own write completes.
  void acknowledge_persisted(std::uint64_t index, std::uint64_t term);

  // Introspection for the runtime, status replies and the simulator's invariants.
  const NodeId& id() const { return config_.id; }
  Role role() const { return role_; }
  std::uint64_t term() const { return hard_state_.term; }
  const NodeId& leader_id() const { return leader_id_; }
  std::uint64_t commit_index() const { return commit_index_; }
  std::uint64_t applied_index() const { return applied_index_; }
  std::uint64_t last_index() const;
  std::uint64_t last_term() const;
  std::uint64_t snapshot_index() const { return snapshot_.index; }
  std::uint64_t snapshot_term() const { return snapshot_.term; }
  // Term of the entry at index; 0 for index 0; nullopt if compacted away or beyond the log.
  std::optional<std::uint64_t> term_at(std::uint64_t index) const;
  const LogEntry* entry_at(std::uint64_t index) const;
  std::uint64_t entries_since_snapshot() const { return entries_.size(); }

 private:
  struct PendingRead {
    std::uint64_t context;
    std::uint64_t index;
    std::uint64_t round;  // heartbeat round that must be acknowledged by a majority
  };
  struct Progress {
    std::uint64_t next_index = 1;
    std::uint64_t match_index = 0;
    std::uint64_t acknowledged_round = 0;
    bool recently_active = false;
  };

  std::size_t quorum() const { return config_.members.size() / 2 + 1; }
  void reset_election_timer();
  void become_follower(std::uint64_t term, const NodeId& leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void send(Message message);
  void send_append(const NodeId& peer);
  void broadcast_append();
  void broadcast_heartbeat();
  bool log_is_up_to_date(std::uint64_t last_log_term, std::uint64_t last_log_index) const;
  bool in_leader_lease() const;
  void truncate_from(std::uint64_t index);
  void append_entry(LogEntry entry);
  void maybe_commit();
  void advance_reads();
  void fail_pending_reads();

  void handle_pre_vote(const Message& message);
  void handle_vote(const Message& message);
  void handle_vote_response(const Message& message);
  void handle_append_entries(const Message& message);
  void handle_install_snapshot(const Message& message);
  void handle_append_entries_response(const Message& message);

  RaftConfig config_;
  const targets::Clock& lease_clock_;
  std::mt19937_64 random_;

  HardState hard_state_;
  HardState persisted_hard_state_;
  Snapshot snapshot_;
  std::vector<LogEntry> entries_;  // entries_[i].index == snapshot_.index + 1 + i
  std::uint64_t unstable_from_;    // lowest index changed since the last Ready
  std::uint64_t durable_index_;    // the log is on disk up to here (acknowledge_persisted)
  bool snapshot_unpersisted_ = false;
  bool restore_state_machine_ = false;

  Role role_ = Role::follower;
  NodeId leader_id_;
  std::uint64_t commit_index_ = 0;
  std::uint64_t applied_index_ = 0;
  int election_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  int heartbeat_elapsed_ = 0;
  int ticks_since_start_ = 0;
  std::set<NodeId> votes_granted_;

  // Leader state.
  std::map<NodeId, Progress> progress_;
  std::uint64_t term_start_index_ = 0;  // index of this term's no-op
  std::uint64_t heartbeat_round_ = 0;
  bool heartbeat_requested_ = false;
  bool append_requested_ = false;
  std::deque<std::pair<std::uint64_t, std::int64_t>> round_send_times_;
  std::int64_t lease_expiry_nanoseconds_ = 0;
  bool lease_valid_ = false;
  std::deque<PendingRead> pending_reads_;

  std::vector<Message> outbox_;
  std::vector<ReadState> released_reads_;
  std::vector<std::uint64_t> failed_reads_;
};

}  // namespace chaosbench::raft
