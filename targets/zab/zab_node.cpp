#include "zab/zab_node.h"

#include <algorithm>
#include <stdexcept>

namespace chaosbench::zab {

ZabNode::ZabNode(ZabConfig config, const PersistentState& restored)
    : config_(std::move(config)),
      random_(config_.random_seed),
      epochs_(restored.epochs),
      snapshot_(restored.snapshot),
      log_(restored.log) {
  if (std::find(config_.members.begin(), config_.members.end(), config_.id) == config_.members.end()) {
    throw std::invalid_argument("zab: node " + config_.id + " is not a member");
  }
  if (config_.bugs.epoch_not_persisted) {
    // Nothing on disk: derive both epochs from the last logged zxid.
    epochs_.accepted_epoch = epochs_.current_epoch = last_zxid().epoch;
  }
  incarnation_ = random_() | 1;
  durable_ = last_zxid();
  commit_ = applied_ = snapshot_.zxid;
  become_looking();
}

// ---------------------------------------------------------------- plumbing

void ZabNode::send(Message message) {
  message.from = config_.id;
  // Consecutive proposals to one follower travel as one message (the
  // follower acks the batch once): far fewer frames under load.
  auto last = last_message_to_.find(message.to);
  if (message.type == MessageType::proposal && last != last_message_to_.end()) {
    Message& previous = outbox_[last->second];
    if (previous.type == MessageType::proposal && previous.epoch == message.epoch &&
        previous.txns.back().zxid == message.previous_zxid) {
      previous.txns.push_back(std::move(message.txns.front()));
      return;
    }
  }
  // Likewise consecutive forwarded updates to the leader.
  if (message.type == MessageType::forward && last != last_message_to_.end()) {
    Message& previous = outbox_[last->second];
    if (previous.type == MessageType::forward && previous.epoch == message.epoch) {
      previous.txns.push_back(std::move(message.txns.front()));
      return;
    }
  }
  last_message_to_[message.to] = outbox_.size();
  outbox_.push_back(std::move(message));
}

void ZabNode::mark_log_dirty(const Zxid& from) {
  if (!dirty_from_ || from < *dirty_from_) dirty_from_ = from;
}

void ZabNode::truncate_after(const Zxid& zxid) {
  if (!log_.empty() && log_.back().zxid > zxid) {
    std::erase_if(log_, [&](const Txn& txn) { return txn.zxid > zxid; });
    mark_log_dirty(std::max(zxid, snapshot_.zxid));
    if (durable_ > zxid) durable_ = std::max(zxid, snapshot_.zxid);
  }
}

void ZabNode::append(const Txn& txn) {
  mark_log_dirty(last_zxid());
  log_.push_back(txn);
}

std::vector<Txn>::const_iterator ZabNode::first_after(const Zxid& zxid) const {
  return std::upper_bound(log_.begin(), log_.end(), zxid,
                          [](const Zxid& value, const Txn& txn) { return value < txn.zxid; });
}

bool ZabNode::log_contains(const Zxid& zxid) const {
  if (zxid == snapshot_.zxid) return true;
  auto found = std::lower_bound(log_.begin(), log_.end(), zxid,
                                [](const Txn& txn, const Zxid& value) { return txn.zxid < value; });
  return found != log_.end() && found->zxid == zxid;
}

void ZabNode::advance_commit(const Zxid& zxid) {
  const Zxid bounded = std::min(zxid, last_zxid());
  if (bounded > commit_) commit_ = bounded;
}

void ZabNode::fail_pending_syncs() {
  for (const auto& pending : pending_syncs_) failed_syncs_.push_back(pending.context);
  pending_syncs_.clear();
  for (const auto& confirming : confirming_syncs_) {
    if (confirming.origin.empty()) failed_syncs_.push_back(confirming.context);
  }
  confirming_syncs_.clear();  // a follower's request fails there when its session ends
  failed_syncs_.insert(failed_syncs_.end(), unsent_syncs_.begin(), unsent_syncs_.end());
  unsent_syncs_.clear();
  for (const auto& [batch, contexts] : sync_batches_)
    failed_syncs_.insert(failed_syncs_.end(), contexts.begin(), contexts.end());
  sync_batches_.clear();
}

bool sendable_before_persist(const Message& message, const ZabBugs& bugs) {
  return bugs.ack_before_fsync && message.type == MessageType::ack;
}

void ZabNode::acknowledge_persisted(const Zxid& zxid) {
  durable_ = std::max(durable_, std::min(zxid, last_zxid()));
  if (role_ == Role::leading) {
    maybe_establish();
    maybe_commit();
  }
}

void ZabNode::compact(const Zxid& zxid, std::string state_machine_data) {
  if (zxid > applied_) throw std::logic_error("zab: compacting beyond the applied zxid");
  if (zxid <= snapshot_.zxid) return;
  snapshot_ = Snapshot{zxid, std::move(state_machine_data)};
  std::erase_if(log_, [&](const Txn& txn) { return txn.zxid <= zxid; });
  snapshot_dirty_ = true;
}

Ready ZabNode::take_ready() {
  // One ping round confirms every sync that arrived since the last round.
  if (confirm_round_due_) send_confirmation_round();
  // One sync request carries every client sync that arrived since the last.
  if (!unsent_syncs_.empty() && role_ == Role::following) {
    Message request = message_to(leader_id_, MessageType::sync_request);
    request.context = ++next_sync_batch_;
    sync_batches_[request.context] = std::move(unsent_syncs_);
    unsent_syncs_.clear();
    send(std::move(request));
  }
  Ready ready;
  if (snapshot_dirty_) {
    ready.snapshot = snapshot_;
    ready.restore_state_machine = restore_state_machine_;
    snapshot_dirty_ = restore_state_machine_ = false;
  }
  if (dirty_from_) {
    ready.truncate_after = *dirty_from_;
    ready.txns.assign(first_after(*dirty_from_), log_.cend());
    dirty_from_.reset();
  }
  if (epochs_dirty_) {
    if (!config_.bugs.epoch_not_persisted) ready.epochs = epochs_;
    epochs_dirty_ = false;
  }
  ready.messages = std::move(outbox_);
  outbox_.clear();
  last_message_to_.clear();
  if (ready.restore_state_machine) applied_ = snapshot_.zxid;
  for (auto it = first_after(applied_); it != log_.cend() && it->zxid <= commit_; ++it) {
    ready.committed.push_back(*it);
    applied_ = it->zxid;
  }
  std::erase_if(pending_syncs_, [&](const PendingSync& pending) {
    if (pending.target > applied_) return false;
    released_syncs_.push_back(pending.context);
    return true;
  });
  ready.released_syncs = std::move(released_syncs_);
  released_syncs_.clear();
  ready.failed_syncs = std::move(failed_syncs_);
  failed_syncs_.clear();
  return ready;
}

// ---------------------------------------------------------------- client calls

bool ZabNode::submit(std::string command, std::uint64_t context) {
  if (!serving()) return false;
  Txn txn{Zxid{}, std::move(command), config_.id, context};
  if (role_ == Role::leading) {
    propose(std::move(txn));
  } else {
    Message forward = message_to(leader_id_, MessageType::forward);
    forward.round = incarnation_;
    forward.txns.push_back(std::move(txn));
    send(std::move(forward));
  }
  return true;
}

bool ZabNode::request_sync(std::uint64_t context) {
  if (!serving()) return false;
  if (role_ == Role::leading) {
    confirm_sync(NodeId{}, context);
  } else {
    unsent_syncs_.push_back(context);  // sent with the others of this flush by take_ready
  }
  return true;
}

// ---------------------------------------------------------------- ticks

void ZabNode::tick() {
  ++phase_elapsed_;
  switch (role_) {
    case Role::looking:
      if (++notification_elapsed_ >= notification_timeout_) broadcast_notification();
      break;
    case Role::following:
      if (++silence_ticks_ > config_.sync_limit_ticks ||
          (phase_ != Phase::broadcasting && phase_elapsed_ > config_.init_limit_ticks)) {
        become_looking();
        break;
      }
      if (phase_ == Phase::discovering && phase_elapsed_ % config_.notification_ticks == 0) {
        Message info;
        info.type = MessageType::follower_info;
        info.to = leader_id_;
        info.peer_epoch = epochs_.accepted_epoch;
        info.zxid = last_zxid();
        send(std::move(info));
      }
      break;
    case Role::leading: {
      if (phase_ != Phase::broadcasting) {
        if (phase_elapsed_ > config_.init_limit_ticks) become_looking();
        break;
      }
      std::size_t alive = 1;
      for (auto& [peer, session] : followers_) {
        ++session.ticks_since_heard;
        if (session.acked_new_leader && session.ticks_since_heard <= config_.sync_limit_ticks) ++alive;
      }
      if (alive < quorum()) {
        become_looking();
        break;
      }
      if (++heartbeat_elapsed_ >= config_.heartbeat_ticks) {
        heartbeat_elapsed_ = 0;
        for (const auto& [peer, session] : followers_) {
          if (!session.synced) continue;
          Message ping = message_to(peer, MessageType::ping);
          ping.commit = commit_;
          ping.round = confirm_round_;
          send(std::move(ping));
        }
      }
      break;
    }
  }
}

// ---------------------------------------------------------------- election

void ZabNode::become_looking() {
  fail_pending_syncs();
  role_ = Role::looking;
  phase_ = Phase::discovering;
  leader_id_.clear();
  session_epoch_ = 0;
  followers_.clear();
  epoch_chosen_ = epoch_established_ = false;
  ++round_;
  vote_ = own_vote();
  received_votes_.clear();
  received_votes_[config_.id] = vote_;
  out_of_election_.clear();
  phase_elapsed_ = 0;
  broadcast_notification();
  check_election_over();  // a single-node cluster elects itself at once
}

Message ZabNode::notification_to(const NodeId& peer) const {
  Message message;
  message.type = MessageType::notification;
  message.to = peer;
  message.round = round_;
  message.sender_role = role_;
  if (role_ == Role::looking) {
    message.vote = vote_;
  } else {
    message.vote = Vote{leader_id_, last_zxid(), session_epoch_};
  }
  return message;
}

void ZabNode::broadcast_notification() {
  notification_elapsed_ = 0;
  notification_timeout_ = config_.notification_ticks + static_cast<int>(random_() % 3);
  for (const auto& peer : config_.members) {
    if (peer != config_.id) send(notification_to(peer));
  }
}

void ZabNode::handle_notification(const Message& message) {
  if (role_ != Role::looking) {
    // Peers in any state answer: a looking peer learns who leads.
    if (message.sender_role == Role::looking) send(notification_to(message.from));
    return;
  }
  if (message.sender_role == Role::looking) {
    if (message.round > round_) {
      round_ = message.round;
      received_votes_.clear();
      vote_ = vote_beats(message.vote, own_vote()) ? message.vote : own_vote();
      received_votes_[config_.id] = vote_;
      broadcast_notification();
    } else if (message.round < round_) {
      send(notification_to(message.from));
      return;
    } else if (vote_beats(message.vote, vote_)) {
      vote_ = message.vote;
      received_votes_[config_.id] = vote_;
      broadcast_notification();
    }
    received_votes_[message.from] = message.vote;
    check_election_over();
    return;
  }
  // A peer that is following or leading: join its leader once a quorum of such
  // peers names it and the leader itself says it leads (ZooKeeper's checkLeader).
  out_of_election_[message.from] = {message.vote, message.sender_role};
  const NodeId& leader = message.vote.leader;
  std::size_t supporters = 0;
  bool leader_confirms = false;
  for (const auto& [peer, report] : out_of_election_) {
    if (report.first.leader != leader) continue;
    ++supporters;
    if (peer == leader && report.second == Role::leading) leader_confirms = true;
  }
  if (supporters >= quorum() && leader_confirms) become_following(leader);
}

void ZabNode::check_election_over() {
  std::size_t agreeing = 0;
  for (const auto& [peer, vote] : received_votes_) {
    if (vote == vote_) ++agreeing;
  }
  if (agreeing < quorum()) return;
  if (vote_.leader == config_.id) {
    become_leading();
  } else {
    become_following(vote_.leader);
  }
}

// ---------------------------------------------------------------- follower

void ZabNode::become_following(const NodeId& leader) {
  role_ = Role::following;
  phase_ = Phase::discovering;
  leader_id_ = leader;
  session_epoch_ = 0;
  phase_elapsed_ = 0;
  silence_ticks_ = 0;
  follower_synced_ = false;
  Message info;
  info.type = MessageType::follower_info;
  info.to = leader;
  info.peer_epoch = epochs_.accepted_epoch;
  info.zxid = last_zxid();
  send(std::move(info));
}

void ZabNode::request_resync() {
  phase_ = Phase::synchronising;
  follower_synced_ = false;  // ignore proposals, commits and pings until the next NEWLEADER
  Message ack = message_to(leader_id_, MessageType::ack_epoch);
  ack.peer_epoch = epochs_.current_epoch;
  ack.zxid = last_zxid();
  ack.epoch_ack_withheld = epoch_ack_withheld_;
  send(std::move(ack));
}

// Messages from the leader we follow: NEWEPOCH first; then, in its session,
// NEWLEADER and sync replies; the broadcast messages only once synced.
void ZabNode::handle_leader_message(const Message& message) {
  if (message.from != leader_id_) return;
  if (message.type == MessageType::new_epoch) {
    handle_new_epoch(message);
    return;
  }
  if (session_epoch_ == 0 || message.epoch != session_epoch_) return;
  silence_ticks_ = 0;
  if (message.type == MessageType::new_leader) {
    handle_new_leader(message);
    return;
  }
  if (message.type == MessageType::sync_reply) {
    handle_sync_reply(message);
    return;
  }
  // The channel is FIFO, but a lost message breaks it: everything else counts
  // only after this session's NEWLEADER (a resync resets it).
  if (!follower_synced_) return;
  switch (message.type) {
    case MessageType::up_to_date:
      handle_up_to_date(message);
      break;
    case MessageType::proposal:
      handle_proposal(message);
      break;
    case MessageType::commit:
      advance_commit(message.zxid);
      break;
    case MessageType::ping:
      handle_ping(message);
      break;
    default:
      break;
  }
}

void ZabNode::handle_new_epoch(const Message& message) {
  if (message.epoch < epochs_.accepted_epoch) {
    // Never serve a leader whose epoch is older than one we accepted.
    become_looking();
    return;
  }
  silence_ticks_ = 0;
  if (message.epoch > epochs_.accepted_epoch) {
    epochs_.accepted_epoch = message.epoch;
    accepted_from_ = message.from;
    epochs_dirty_ = true;
    epoch_ack_withheld_ = false;
  } else {
    // Already accepted this epoch: from another leader (or before a restart)
    // the ack must not count towards establishing it (ZOOKEEPER-1192).
    epoch_ack_withheld_ = accepted_from_ != message.from;
  }
  session_epoch_ = message.epoch;
  phase_elapsed_ = 0;
  request_resync();
}

void ZabNode::handle_sync_reply(const Message& message) {
  // Released once this replica has applied the leader's zxid, even if it
  // must resynchronise first (the zxid is in the leader's log).
  auto found = sync_batches_.find(message.context);
  if (found == sync_batches_.end()) return;
  for (auto context : found->second) pending_syncs_.push_back(PendingSync{context, message.zxid});
  sync_batches_.erase(found);
}

void ZabNode::handle_up_to_date(const Message& message) {
  phase_ = Phase::broadcasting;
  advance_commit(message.commit);
  serving_since_ = commit_;
}

void ZabNode::handle_proposal(const Message& message) {
  // txns in zxid order; previous_zxid precedes the first.
  Zxid previous = message.previous_zxid;
  bool appended = false;
  for (const Txn& txn : message.txns) {
    const Zxid expected_previous = previous;
    previous = txn.zxid;
    if (txn.zxid <= last_zxid()) continue;  // already have it
    if (expected_previous != last_zxid()) {
      request_resync();  // a gap: the channel lost something
      return;
    }
    append(txn);
    appended = true;
  }
  if (!appended) return;
  Message ack = message_to(leader_id_, MessageType::ack);
  ack.zxid = last_zxid();
  send(std::move(ack));
}

void ZabNode::handle_ping(const Message& message) {
  advance_commit(message.commit);
  Message reply = message_to(leader_id_, MessageType::ping_ack);
  reply.zxid = last_zxid();
  reply.round = message.round;  // confirms the leader's sync round
  send(std::move(reply));
}

void ZabNode::handle_new_leader(const Message& message) {
  if (message.mode == SyncMode::snap) {
    snapshot_ = message.snapshot;
    snapshot_dirty_ = true;
    restore_state_machine_ = true;
    log_.clear();
    mark_log_dirty(snapshot_.zxid);
    durable_ = snapshot_.zxid;
    commit_ = snapshot_.zxid;
    for (const auto& txn : message.txns) {
      if (txn.zxid > last_zxid()) append(txn);
    }
  } else {
    if (!(config_.bugs.skip_truncate && message.mode == SyncMode::trunc)) truncate_after(message.truncate_to);
    for (const auto& txn : message.txns) {
      if (txn.zxid > last_zxid()) append(txn);
    }
  }
  follower_synced_ = true;
  if (epochs_.current_epoch != session_epoch_) {
    epochs_.current_epoch = session_epoch_;
    epochs_dirty_ = true;
  }
  advance_commit(message.commit);
  Message ack = message_to(leader_id_, MessageType::ack_new_leader);
  ack.zxid = last_zxid();
  send(std::move(ack));
}

// ---------------------------------------------------------------- leader

void ZabNode::become_leading() {
  role_ = Role::leading;
  phase_ = Phase::discovering;
  leader_id_ = config_.id;
  session_epoch_ = 0;
  phase_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  followers_.clear();
  epoch_chosen_ = epoch_established_ = false;
  counter_ = 0;
  confirm_round_ = 0;
  confirm_round_due_ = false;
  forwarded_.clear();
  maybe_choose_epoch();
}

void ZabNode::maybe_choose_epoch() {
  if (epoch_chosen_) return;
  std::size_t informed = 1;
  std::uint64_t highest = epochs_.accepted_epoch;
  for (const auto& [peer, session] : followers_) {
    if (!session.info) continue;
    ++informed;
    highest = std::max(highest, session.accepted_epoch);
  }
  if (informed < quorum()) return;
  epoch_chosen_ = true;
  session_epoch_ = highest + 1;
  epochs_.accepted_epoch = session_epoch_;
  epochs_dirty_ = true;
  phase_ = Phase::synchronising;
  phase_elapsed_ = 0;
  for (const auto& [peer, session] : followers_) {
    if (!session.info) continue;
    Message new_epoch = message_to(peer, MessageType::new_epoch);
    send(std::move(new_epoch));
  }
  maybe_establish();  // a single-node cluster
}

void ZabNode::send_sync(const NodeId& follower) {
  FollowerSession& session = followers_[follower];
  const Zxid follower_last = session.acked;
  Message sync = message_to(follower, MessageType::new_leader);
  if (log_contains(follower_last)) {
    sync.mode = SyncMode::diff;
    sync.truncate_to = follower_last;
  } else if (follower_last > snapshot_.zxid) {
    // The follower has txns this leader never had: truncate them away.
    sync.mode = SyncMode::trunc;
    sync.truncate_to = snapshot_.zxid;
    for (const auto& txn : log_) {
      if (txn.zxid <= follower_last) sync.truncate_to = txn.zxid;
    }
  } else {
    sync.mode = SyncMode::snap;
    sync.has_snapshot = true;
    sync.snapshot = snapshot_;
    sync.truncate_to = snapshot_.zxid;
  }
  for (const auto& txn : log_) {
    if (txn.zxid > sync.truncate_to) sync.txns.push_back(txn);
  }
  sync.commit = commit_;
  session.synced = true;
  session.acked = std::min(session.acked, sync.truncate_to);
  send(std::move(sync));
}

void ZabNode::maybe_establish() {
  if (!epoch_chosen_) return;
  if (!epoch_established_) {
    std::size_t acked = 1;
    for (const auto& [peer, session] : followers_) acked += session.acked_epoch ? 1 : 0;
    if (acked < quorum()) return;
    epoch_established_ = true;
    epochs_.current_epoch = session_epoch_;
    epochs_dirty_ = true;
    initial_history_last_ = last_zxid();
    for (const auto& [peer, session] : followers_) {
      if (session.awaiting_sync) send_sync(peer);
    }
  }
  if (phase_ == Phase::broadcasting) return;
  std::size_t synced = durable_ >= initial_history_last_ ? 1 : 0;
  for (const auto& [peer, session] : followers_) synced += session.acked_new_leader ? 1 : 0;
  if (synced < quorum()) return;
  phase_ = Phase::broadcasting;
  advance_commit(initial_history_last_);  // the whole initial history is now committed
  serving_since_ = commit_;
  for (const auto& [peer, session] : followers_) {
    if (!session.acked_new_leader) continue;
    Message up_to_date = message_to(peer, MessageType::up_to_date);
    up_to_date.commit = commit_;
    send(std::move(up_to_date));
  }
}

Message ZabNode::message_to(const NodeId& to, MessageType type) const {
  Message message;
  message.type = type;
  message.to = to;
  message.epoch = session_epoch_;
  return message;
}

void ZabNode::propose(Txn txn) {
  const Zxid previous = last_zxid();
  txn.zxid = Zxid{session_epoch_, ++counter_};
  append(txn);
  for (const auto& [peer, session] : followers_) {
    if (!session.synced) continue;
    Message proposal = message_to(peer, MessageType::proposal);
    proposal.previous_zxid = previous;
    proposal.txns.push_back(txn);
    send(std::move(proposal));
  }
  if (config_.bugs.commit_before_quorum) {
    commit_ = txn.zxid;
    send_commit_to_synced_followers();
  }
}

void ZabNode::maybe_commit() {
  if (role_ != Role::leading || phase_ != Phase::broadcasting) return;
  std::vector<Zxid> acked{durable_};
  for (const auto& [peer, session] : followers_) {
    if (session.synced) acked.push_back(session.acked);
  }
  if (acked.size() < quorum()) return;
  std::sort(acked.begin(), acked.end(), std::greater<>());
  const Zxid candidate = std::min(acked[quorum() - 1], last_zxid());
  // Only txns of this epoch are committed by counting acks.
  if (candidate.epoch != session_epoch_ || candidate <= commit_) return;
  commit_ = candidate;
  send_commit_to_synced_followers();
}

void ZabNode::send_commit_to_synced_followers() {
  for (const auto& [peer, session] : followers_) {
    if (!session.synced) continue;
    Message commit = message_to(peer, MessageType::commit);
    commit.zxid = commit_;
    send(std::move(commit));
  }
}

// Messages from members to the leader: FOLLOWERINFO from anyone; the rest
// only from a follower with a session in the chosen epoch.
void ZabNode::handle_follower_message(const Message& message) {
  if (std::find(config_.members.begin(), config_.members.end(), message.from) == config_.members.end()) return;
  if (message.type == MessageType::follower_info) {
    handle_follower_info(message);
    return;
  }
  auto found = followers_.find(message.from);
  if (found == followers_.end() || !epoch_chosen_ || message.epoch != session_epoch_) return;
  FollowerSession& session = found->second;
  session.ticks_since_heard = 0;
  switch (message.type) {
    case MessageType::ack_epoch:
      handle_ack_epoch(message, session);
      break;
    case MessageType::ack_new_leader:
      handle_ack_new_leader(message, session);
      break;
    case MessageType::ack:
      session.acked = std::max(session.acked, message.zxid);
      maybe_commit();
      break;
    case MessageType::ping_ack:
      session.confirmed_round = std::max(session.confirmed_round, message.round);
      release_confirmed_syncs();
      break;
    case MessageType::forward:
      handle_forward(message);
      break;
    case MessageType::sync_request:
      if (phase_ == Phase::broadcasting) confirm_sync(message.from, message.context);
      break;
    default:
      break;
  }
}

void ZabNode::handle_follower_info(const Message& message) {
  FollowerSession& session = followers_[message.from];
  session = FollowerSession{};  // a (re)connecting follower starts over
  session.info = true;
  session.accepted_epoch = message.peer_epoch;
  session.acked = message.zxid;
  if (epoch_chosen_ && message.peer_epoch > session_epoch_) {
    // It accepted a newer epoch and will refuse ours: step down so the next
    // election picks an epoch above it (otherwise it could never rejoin).
    become_looking();
    return;
  }
  if (epoch_chosen_) {
    Message new_epoch = message_to(message.from, MessageType::new_epoch);
    send(std::move(new_epoch));
  } else {
    maybe_choose_epoch();
  }
}

void ZabNode::handle_ack_epoch(const Message& message, FollowerSession& session) {
  if (!epoch_established_ &&
      std::pair(message.peer_epoch, message.zxid) > std::pair(epochs_.current_epoch, last_zxid())) {
    // A quorum member has a newer history than ours: we must not lead.
    become_looking();
    return;
  }
  session.acked_epoch = session.acked_epoch || !message.epoch_ack_withheld;
  session.awaiting_sync = true;
  session.acked = message.zxid;
  if (epoch_established_) {
    send_sync(message.from);
  } else {
    maybe_establish();
  }
}

void ZabNode::handle_ack_new_leader(const Message& message, FollowerSession& session) {
  session.acked_new_leader = true;
  session.acked = std::max(session.acked, message.zxid);
  if (phase_ == Phase::broadcasting) {
    Message up_to_date = message_to(message.from, MessageType::up_to_date);
    up_to_date.commit = commit_;
    send(std::move(up_to_date));
    maybe_commit();
  } else {
    maybe_establish();
  }
}

void ZabNode::handle_forward(const Message& message) {
  if (phase_ != Phase::broadcasting) return;
  auto& [incarnation, highest_context] = forwarded_[message.from];
  for (const auto& txn : message.txns) {
    if (incarnation == message.round && txn.context <= highest_context) continue;  // a duplicate
    incarnation = message.round;
    highest_context = txn.context;
    propose(txn);
  }
}

void ZabNode::confirm_sync(NodeId origin, std::uint64_t context) {
  // Everything acknowledged to a client before this request is in our log
  // (if we still lead): the round below proves we still did after it arrived.
  confirming_syncs_.push_back(ConfirmingSync{confirm_round_ + 1, std::move(origin), context, last_zxid()});
  confirm_round_due_ = true;
  release_confirmed_syncs();  // a single-node cluster
}

void ZabNode::send_confirmation_round() {
  confirm_round_due_ = false;
  ++confirm_round_;
  for (const auto& [peer, session] : followers_) {
    if (!session.synced) continue;
    Message ping = message_to(peer, MessageType::ping);
    ping.commit = commit_;
    ping.round = confirm_round_;
    send(std::move(ping));
  }
  release_confirmed_syncs();
}

void ZabNode::release_confirmed_syncs() {
  // A follower that answered round r was in this session after round r began,
  // so it had not yet accepted a newer epoch: no newer leader had committed
  // anything. A quorum of such answers (ours included) confirms our leadership.
  std::erase_if(confirming_syncs_, [&](const ConfirmingSync& confirming) {
    if (confirming.round > confirm_round_) return false;  // its round is not sent yet
    std::size_t confirmed = 1;
    for (const auto& [peer, session] : followers_) {
      if (session.acked_new_leader && session.confirmed_round >= confirming.round) ++confirmed;
    }
    if (confirmed < quorum()) return false;
    if (confirming.origin.empty()) {
      pending_syncs_.push_back(PendingSync{confirming.context, confirming.target});
    } else {
      Message reply = message_to(confirming.origin, MessageType::sync_reply);
      reply.context = confirming.context;
      reply.zxid = confirming.target;
      send(std::move(reply));
    }
    return true;
  });
}

// ---------------------------------------------------------------- dispatch

void ZabNode::step(const Message& message) {
  if (message.to != config_.id || message.from == config_.id) return;
  switch (message.type) {
    case MessageType::notification:
      handle_notification(message);
      break;
    case MessageType::follower_info:
    case MessageType::ack_epoch:
    case MessageType::ack_new_leader:
    case MessageType::ack:
    case MessageType::ping_ack:
    case MessageType::forward:
    case MessageType::sync_request:
      if (role_ == Role::leading) handle_follower_message(message);
      break;
    case MessageType::new_epoch:
    case MessageType::new_leader:
    case MessageType::up_to_date:
    case MessageType::proposal:
    case MessageType::commit:
    case MessageType::ping:
    case MessageType::sync_reply:
      if (role_ == Role::following) handle_leader_message(message);
      break;
  }
}

}  // namespace chaosbench::zab
