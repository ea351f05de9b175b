// ZabNode: the deterministic ZAB core (fast leader election, discovery,
// synchronisation, broadcast). A pure state machine driven by step(message),
// tick() and client calls; no sockets, threads, files or clocks (randomness
// from a seed). After any call, take_ready() hands back what the driver must
// do, in this order: persist (snapshot, log edit, epochs), send messages,
// apply committed txns, then answer released syncs. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "zab/zab_persistent_state.h"
#include "zab/zab_types.h"

namespace chaosbench::zab {

// Deliberate, realistic mistakes for the harness to find (all off by default).
struct ZabBugs {
  bool skip_truncate = false;         // a follower ignores TRUNC, keeping old-epoch uncommitted txns
  bool commit_before_quorum = false;  // the leader commits a proposal on its own ack
  bool epoch_not_persisted = false;   // acceptedEpoch/currentEpoch only in memory; a restart
                                      // derives both from the last logged zxid (pre-3.4 ZooKeeper)
  bool ack_before_fsync = false;      // drivers send a follower's ACK of proposals before the Ready's
                                      // fsync (sendable_before_persist)
};

struct ZabConfig {
  NodeId id;
  std::vector<NodeId> members;  // every voter, including id
  int heartbeat_ticks = 2;      // leader pings synced followers
  int notification_ticks = 5;   // a looking node re-sends its vote (plus random jitter)
  int sync_limit_ticks = 10;    // silence after which follower/leader give up the session
  int init_limit_ticks = 20;    // discovery + synchronisation must finish within this
  std::uint64_t random_seed = 1;
  ZabBugs bugs;
};

struct Ready {
  std::optional<Snapshot> snapshot;  // persist; if restore_state_machine, also load it
  bool restore_state_machine = false;
  std::optional<Zxid> truncate_after;  // with txns: drop the log after this zxid, then append txns
  std::vector<Txn> txns;
  std::optional<EpochState> epochs;  // persist before sending messages
  std::vector<Message> messages;
  std::vector<Txn> committed;                 // apply in order
  std::vector<std::uint64_t> released_syncs;  // contexts: answer after applying `committed`
  std::vector<std::uint64_t> failed_syncs;    // contexts: session lost
  bool empty() const {
    return !snapshot && !truncate_after && !epochs && messages.empty() && committed.empty() && released_syncs.empty() &&
           failed_syncs.empty();
  }
};

enum class Phase { discovering, synchronising, broadcasting };

// Whether a driver may send one of a Ready's messages before the Ready's disk
// write completes. None may: an ACK promises a durable proposal, ACKEPOCH and
// the NEWLEADER ack durable epochs and history. With the ack-before-fsync bug
// a follower's ACK goes early: it acknowledges proposals it has not made durable.
bool sendable_before_persist(const Message& message, const ZabBugs& bugs);

class ZabNode {
 public:
  ZabNode(ZabConfig config, const PersistentState& restored);

  void tick();
  void step(const Message& message);

  // A client update: the leader proposes it, a serving follower forwards it to
  // the leader. The txn carries (id, context) so the origin answers on apply.
  // False when this node is not serving (looking or still synchronising).
  bool submit(std::string command, std::uint64_t context);

  // A client sync: released (Ready::released_syncs) once this replica has
  // applied everything the leader had proposed when it saw the request. The
  // leader first confirms it still leads: a quorum must answer a ping round
  // sent after the request (so a deposed leader cannot release a stale sync).
  bool request_sync(std::uint64_t context);

  // Replaces the log prefix up to `zxid` (<= applied) with a snapshot.
  void compact(const Zxid& zxid, std::string state_machine_data);

  Ready take_ready();

  // The driver reports that the log is on stable storage up to `zxid`. The
  // leader counts its own ack only up to here.
  void acknowledge_persisted(const Zxid& zxid);

  // Introspection for the runtime, status replies and the simulator's invariants.
  const NodeId& id() const { return config_.id; }
  Role role() const { return role_; }
  Phase phase() const { return phase_; }
  bool serving() const { return role_ != Role::looking && phase_ == Phase::broadcasting; }
  // The commit point when this node last began serving: a replica answers
  // reads only once it has applied at least this far (ZooKeeper applies the
  // leader's sync before it serves clients).
  const Zxid& serving_since() const { return serving_since_; }
  std::uint64_t accepted_epoch() const { return epochs_.accepted_epoch; }
  std::uint64_t current_epoch() const { return epochs_.current_epoch; }
  std::uint64_t session_epoch() const { return session_epoch_; }
  const NodeId& leader_id() const { return leader_id_; }
  const Zxid& commit_zxid() const { return commit_; }
  const Zxid& applied_zxid() const { return applied_; }
  Zxid last_zxid() const { return log_.empty() ? snapshot_.zxid : log_.back().zxid; }
  const Zxid& snapshot_zxid() const { return snapshot_.zxid; }
  const std::vector<Txn>& log() const { return log_; }

 private:
  struct FollowerSession {
    bool info = false;  // FOLLOWERINFO received in this leadership
    std::uint64_t accepted_epoch = 0;
    bool acked_epoch = false;    // counted towards establishing the epoch
    bool awaiting_sync = false;  // acked (perhaps withheld): sync once established
    bool synced = false;         // NEWLEADER (with the sync) sent: proposals flow
    bool acked_new_leader = false;
    Zxid acked;  // highest zxid the follower logged
    int ticks_since_heard = 0;
    std::uint64_t confirmed_round = 0;  // highest ping round it answered in this session
  };
  struct ConfirmingSync {  // leader: a sync waiting for its ping round to reach a quorum
    std::uint64_t round;
    NodeId origin;  // follower that asked; empty: a client of this node
    std::uint64_t context;
    Zxid target;
  };
  struct PendingSync {
    std::uint64_t context;
    Zxid target;
  };

  std::size_t quorum() const { return config_.members.size() / 2 + 1; }
  void send(Message message);
  // A message of `type` to `to` in this node's session epoch.
  Message message_to(const NodeId& to, MessageType type) const;
  void send_commit_to_synced_followers();
  void mark_log_dirty(const Zxid& from);
  void truncate_after(const Zxid& zxid);
  void append(const Txn& txn);
  bool log_contains(const Zxid& zxid) const;
  std::vector<Txn>::const_iterator first_after(const Zxid& zxid) const;  // first logged txn above zxid
  void advance_commit(const Zxid& zxid);
  void fail_pending_syncs();

  // Election.
  void become_looking();
  Vote own_vote() const { return Vote{config_.id, last_zxid(), epochs_.current_epoch}; }
  void broadcast_notification();
  Message notification_to(const NodeId& peer) const;
  void handle_notification(const Message& message);
  void check_election_over();

  // Follower.
  void become_following(const NodeId& leader);
  void handle_leader_message(const Message& message);  // checks, then one handler per message
  void handle_new_epoch(const Message& message);
  void handle_new_leader(const Message& message);
  void handle_sync_reply(const Message& message);
  void handle_up_to_date(const Message& message);
  void handle_proposal(const Message& message);
  void handle_ping(const Message& message);
  void request_resync();

  // Leader.
  void become_leading();
  void handle_follower_message(const Message& message);  // checks, then one handler per message
  void handle_follower_info(const Message& message);
  void handle_ack_epoch(const Message& message, FollowerSession& session);
  void handle_ack_new_leader(const Message& message, FollowerSession& session);
  void handle_forward(const Message& message);
  void maybe_choose_epoch();
  void send_sync(const NodeId& follower);
  void maybe_establish();
  void propose(Txn txn);
  void maybe_commit();
  void confirm_sync(NodeId origin, std::uint64_t context);
  void send_confirmation_round();
  void release_confirmed_syncs();

  ZabConfig config_;
  std::mt19937_64 random_;

  EpochState epochs_;
  Snapshot snapshot_;
  std::vector<Txn> log_;
  std::optional<Zxid> dirty_from_;  // the log after this zxid must be (re)written
  bool epochs_dirty_ = false;
  bool snapshot_dirty_ = false;
  bool restore_state_machine_ = false;
  Zxid durable_;
  Zxid commit_;
  Zxid applied_;

  Role role_ = Role::looking;
  Phase phase_ = Phase::discovering;
  NodeId leader_id_;
  std::uint64_t session_epoch_ = 0;
  int phase_elapsed_ = 0;
  bool follower_synced_ = false;
  NodeId accepted_from_;             // leader whose NEWEPOCH(accepted_epoch) we acked (memory only)
  bool epoch_ack_withheld_ = false;  // NEWLEADER of this session applied (messages may be lost)
  int silence_ticks_ = 0;            // follower: since the leader was heard
  int heartbeat_elapsed_ = 0;

  // Election state.
  std::uint64_t round_ = 0;
  Vote vote_;
  std::map<NodeId, Vote> received_votes_;  // same round, looking senders
  std::map<NodeId, std::pair<Vote, Role>> out_of_election_;
  int notification_elapsed_ = 0;
  int notification_timeout_ = 0;

  // Leader state.
  std::map<NodeId, FollowerSession> followers_;
  bool epoch_chosen_ = false;
  bool epoch_established_ = false;  // a quorum acknowledged the new epoch
  Zxid initial_history_last_;
  std::uint64_t counter_ = 0;
  std::vector<PendingSync> pending_syncs_;
  std::vector<ConfirmingSync> confirming_syncs_;
  // Forwarded updates are proposed once even if a forward arrives twice: per
  // origin, its incarnation and the highest request context proposed (a
  // follower's contexts increase within one incarnation).
  std::map<NodeId, std::pair<std::uint64_t, std::uint64_t>> forwarded_;
  std::uint64_t incarnation_ = 0;    // random per process start, sent with forwards
  std::uint64_t confirm_round_ = 0;  // last ping round sent in this leadership
  bool confirm_round_due_ = false;   // a sync arrived since that round was sent
  Zxid serving_since_;
  // Follower: client syncs not yet sent, and sent batches (one sync_request
  // per flush, its context the batch number) awaiting the leader's reply.
  std::vector<std::uint64_t> unsent_syncs_;
  std::map<std::uint64_t, std::vector<std::uint64_t>> sync_batches_;
  std::uint64_t next_sync_batch_ = 0;

  std::vector<Message> outbox_;
  std::map<NodeId, std::size_t> last_message_to_;  // outbox position of the latest message per peer
  std::vector<std::uint64_t> released_syncs_;
  std::vector<std::uint64_t> failed_syncs_;
};

}  // namespace chaosbench::zab
