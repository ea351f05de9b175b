#include "raft/raft_node.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace chaosbench::raft {

RaftNode::RaftNode(RaftConfig config, const PersistentState& restored, const targets::Clock& lease_clock)
    : config_(std::move(config)),
      lease_clock_(lease_clock),
      random_(config_.random_seed),
      hard_state_(restored.hard_state),
      persisted_hard_state_(restored.hard_state),
      snapshot_(restored.snapshot),
      entries_(restored.entries) {
  if (std::find(config_.members.begin(), config_.members.end(), config_.id) == config_.members.end()) {
    throw std::invalid_argument(fmt::format("node {} is not among the members", config_.id));
  }
  if (config_.election_ticks <= 0 || config_.heartbeat_ticks <= 0 || config_.max_entries_per_message == 0) {
    throw std::invalid_argument("election_ticks, heartbeat_ticks and max_entries_per_message must be positive");
  }
  for (std::size_t position = 0; position < entries_.size(); ++position) {
    if (entries_[position].index != snapshot_.index + 1 + position) {
      throw std::invalid_argument(fmt::format("restored log is not contiguous at position {}", position));
    }
  }
  unstable_from_ = last_index() + 1;
  durable_index_ = last_index();
  commit_index_ = snapshot_.index;
  applied_index_ = snapshot_.index;
  reset_election_timer();
}

std::uint64_t RaftNode::last_index() const { return snapshot_.index + entries_.size(); }

std::uint64_t RaftNode::last_term() const { return entries_.empty() ? snapshot_.term : entries_.back().term; }

std::optional<std::uint64_t> RaftNode::term_at(std::uint64_t index) const {
  if (index == 0) return 0;
  if (index == snapshot_.index) return snapshot_.term;
  if (index < snapshot_.index || index > last_index()) return std::nullopt;
  return entries_[index - snapshot_.index - 1].term;
}

const LogEntry* RaftNode::entry_at(std::uint64_t index) const {
  if (index <= snapshot_.index || index > last_index()) return nullptr;
  return &entries_[index - snapshot_.index - 1];
}

void RaftNode::reset_election_timer() {
  election_elapsed_ = 0;
  randomized_election_timeout_ =
      config_.election_ticks + static_cast<int>(random_() % static_cast<std::uint64_t>(config_.election_ticks));
}

bool RaftNode::in_leader_lease() const {
  // Leader stickiness: while this node believes a leader is alive (or it has
  // just started and cannot know), it refuses to help elect another one. This
  // is what makes the leader's lease safe.
  return election_elapsed_ < config_.election_ticks &&
         (!leader_id_.empty() || ticks_since_start_ < config_.election_ticks);
}

void RaftNode::tick() {
  if (ticks_since_start_ < config_.election_ticks) ++ticks_since_start_;  // saturates: only "< election_ticks" matters
  if (role_ == Role::leader) {
    ++heartbeat_elapsed_;
    ++election_elapsed_;
    if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
      heartbeat_elapsed_ = 0;
      broadcast_heartbeat();
    }
    if (election_elapsed_ >= config_.election_ticks) {
      // Check quorum: a leader that has not heard from a majority steps down.
      election_elapsed_ = 0;
      std::size_t active = 1;
      for (auto& [peer, progress] : progress_) {
        if (progress.recently_active) ++active;
        progress.recently_active = false;
      }
      if (active < quorum()) become_follower(hard_state_.term, "");
    }
    return;
  }
  ++election_elapsed_;
  if (election_elapsed_ >= randomized_election_timeout_) become_pre_candidate();
}

void RaftNode::become_follower(std::uint64_t term, const NodeId& leader) {
  if (term > hard_state_.term) {
    hard_state_.term = term;
    hard_state_.voted_for.clear();
  }
  if (role_ == Role::leader) {
    fail_pending_reads();
    progress_.clear();
    lease_valid_ = false;
    heartbeat_requested_ = false;
    append_requested_ = false;
  }
  role_ = Role::follower;
  leader_id_ = leader;
  reset_election_timer();
}

void RaftNode::become_pre_candidate() {
  role_ = Role::pre_candidate;
  leader_id_.clear();
  votes_granted_ = {config_.id};
  reset_election_timer();
  if (votes_granted_.size() >= quorum()) {
    become_candidate();
    return;
  }
  for (const auto& peer : config_.members) {
    if (peer == config_.id) continue;
    Message message;
    message.type = MessageType::pre_vote;
    message.to = peer;
    message.term = hard_state_.term + 1;
    message.last_log_index = last_index();
    message.last_log_term = last_term();
    send(std::move(message));
  }
}

void RaftNode::become_candidate() {
  role_ = Role::candidate;
  hard_state_.term += 1;
  hard_state_.voted_for = config_.id;
  leader_id_.clear();
  votes_granted_ = {config_.id};
  reset_election_timer();
  if (votes_granted_.size() >= quorum()) {
    become_leader();
    return;
  }
  for (const auto& peer : config_.members) {
    if (peer == config_.id) continue;
    Message message;
    message.type = MessageType::vote;
    message.to = peer;
    message.term = hard_state_.term;
    message.last_log_index = last_index();
    message.last_log_term = last_term();
    send(std::move(message));
  }
}

void RaftNode::become_leader() {
  role_ = Role::leader;
  leader_id_ = config_.id;
  progress_.clear();
  for (const auto& peer : config_.members) {
    if (peer == config_.id) continue;
    Progress progress;
    progress.next_index = last_index() + 1;
    progress.recently_active = true;
    progress_.emplace(peer, progress);
  }
  heartbeat_elapsed_ = 0;
  election_elapsed_ = 0;
  lease_valid_ = false;
  round_send_times_.clear();
  // The no-op lets this term commit (and so commit everything before it) and
  // marks the point ReadIndex reads must wait for. An implementation that
  // commits earlier-term entries by counting (the bug) sees no need for it.
  if (!config_.bugs.commit_previous_term) {
    LogEntry noop;
    noop.term = hard_state_.term;
    noop.index = last_index() + 1;
    noop.kind = EntryKind::noop;
    append_entry(std::move(noop));
  }
  term_start_index_ = last_index();
  broadcast_append();
  maybe_commit();
}

void RaftNode::send(Message message) {
  message.from = config_.id;
  outbox_.push_back(std::move(message));
}

void RaftNode::send_append(const NodeId& peer) {
  auto& progress = progress_.at(peer);
  Message message;
  message.to = peer;
  message.term = hard_state_.term;
  if (progress.next_index <= snapshot_.index) {
    message.type = MessageType::install_snapshot;
    message.snapshot = snapshot_;
    progress.next_index = snapshot_.index + 1;
    send(std::move(message));
    return;
  }
  message.type = MessageType::append_entries;
  message.previous_log_index = progress.next_index - 1;
  message.previous_log_term = term_at(message.previous_log_index).value();
  message.leader_commit = commit_index_;
  message.heartbeat_round = heartbeat_round_;
  const std::uint64_t last =
      std::min<std::uint64_t>(last_index(), progress.next_index + config_.max_entries_per_message - 1);
  for (std::uint64_t index = progress.next_index; index <= last; ++index) message.entries.push_back(*entry_at(index));
  if (!message.entries.empty()) progress.next_index = last + 1;  // pipeline optimistically
  send(std::move(message));
}

void RaftNode::broadcast_append() {
  for (const auto& [peer, progress] : progress_) send_append(peer);
}

void RaftNode::broadcast_heartbeat() {
  heartbeat_requested_ = false;
  append_requested_ = false;
  ++heartbeat_round_;
  round_send_times_.emplace_back(heartbeat_round_, lease_clock_.now_nanoseconds());
  while (round_send_times_.size() > 4096) round_send_times_.pop_front();
  broadcast_append();
  advance_reads();
}

bool RaftNode::log_is_up_to_date(std::uint64_t last_log_term, std::uint64_t last_log_index) const {
  if (config_.bugs.no_vote_log_check) return true;  // BUG (opt-in): any log wins a vote
  return last_log_term > last_term() || (last_log_term == last_term() && last_log_index >= last_index());
}

void RaftNode::truncate_from(std::uint64_t index) {
  entries_.resize(index - snapshot_.index - 1);
  unstable_from_ = std::min(unstable_from_, index);
  durable_index_ = std::min(durable_index_, index - 1);
}

void RaftNode::append_entry(LogEntry entry) {
  unstable_from_ = std::min(unstable_from_, entry.index);
  entries_.push_back(std::move(entry));
}

void RaftNode::maybe_commit() {
  if (role_ != Role::leader) return;
  // The leader's own log counts only as far as it is on disk (the bug: all of it).
  std::vector<std::uint64_t> matches{config_.bugs.ack_before_fsync ? last_index()
                                                                   : std::min(last_index(), durable_index_)};
  for (const auto& [peer, progress] : progress_) matches.push_back(progress.match_index);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const std::uint64_t replicated = matches[quorum() - 1];
  if (replicated <= commit_index_) return;
  // Raft's commit rule: only an entry of the current term is committed by
  // counting replicas (earlier entries commit with it). The bug drops the check.
  if (term_at(replicated) == hard_state_.term || config_.bugs.commit_previous_term) {
    commit_index_ = replicated;
    advance_reads();
  }
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> RaftNode::propose(std::string command) {
  if (role_ != Role::leader) return std::nullopt;
  LogEntry entry;
  entry.term = hard_state_.term;
  entry.index = last_index() + 1;
  entry.kind = EntryKind::command;
  entry.command = std::move(command);
  append_entry(std::move(entry));
  append_requested_ = true;
  maybe_commit();
  return std::make_pair(last_index(), hard_state_.term);
}

bool RaftNode::request_read(std::uint64_t context, ReadMode mode) {
  if (role_ != Role::leader) return false;
  const std::uint64_t index = std::max(commit_index_, term_start_index_);
  if (mode == ReadMode::lease && lease_valid_ && lease_clock_.now_nanoseconds() < lease_expiry_nanoseconds_) {
    pending_reads_.push_back(PendingRead{context, index, 0});
  } else {
    pending_reads_.push_back(PendingRead{context, index, heartbeat_round_ + 1});
    heartbeat_requested_ = true;
  }
  advance_reads();
  return true;
}

void RaftNode::advance_reads() {
  if (role_ != Role::leader) return;
  std::vector<std::uint64_t> rounds{heartbeat_round_};
  for (const auto& [peer, progress] : progress_) rounds.push_back(progress.acknowledged_round);
  std::sort(rounds.begin(), rounds.end(), std::greater<>());
  const std::uint64_t confirmed_round = rounds[quorum() - 1];
  // The lease runs from when the confirmed round was sent: each acknowledging
  // follower refuses votes for election_ticks after it received it.
  // Rounds in round_send_times_ are consecutive, so the confirmed one is found by offset.
  if (!round_send_times_.empty() && confirmed_round >= round_send_times_.front().first &&
      confirmed_round <= round_send_times_.back().first) {
    const std::int64_t sent_at = round_send_times_[confirmed_round - round_send_times_.front().first].second;
    const std::int64_t expiry =
        sent_at + config_.election_ticks * config_.tick_nanoseconds - config_.clock_drift_bound_nanoseconds;
    if (!lease_valid_ || expiry > lease_expiry_nanoseconds_) lease_expiry_nanoseconds_ = expiry;
    lease_valid_ = true;
    // Older rounds can never matter again.
    while (round_send_times_.front().first < confirmed_round) round_send_times_.pop_front();
  }
  if (commit_index_ < term_start_index_) return;
  std::deque<PendingRead> waiting;
  for (auto& read : pending_reads_) {
    if (read.round <= confirmed_round && read.index <= commit_index_) {
      released_reads_.push_back(ReadState{read.context, read.index});
    } else {
      waiting.push_back(read);
    }
  }
  pending_reads_.swap(waiting);
}

void RaftNode::fail_pending_reads() {
  for (const auto& read : pending_reads_) failed_reads_.push_back(read.context);
  pending_reads_.clear();
}

void RaftNode::compact(std::uint64_t index, std::string state_machine_data) {
  if (index <= snapshot_.index) return;
  if (index > applied_index_) {
    throw std::logic_error(fmt::format("compact({}) beyond applied index {}", index, applied_index_));
  }
  const std::uint64_t term = term_at(index).value();
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - snapshot_.index));
  snapshot_ = Snapshot{index, term, std::move(state_machine_data)};
  snapshot_unpersisted_ = true;
}

void RaftNode::step(const Message& message) {
  if (message.term > hard_state_.term) {
    const bool election_request = message.type == MessageType::pre_vote || message.type == MessageType::vote;
    if (election_request && in_leader_lease()) {
      if (message.type == MessageType::pre_vote) {
        Message reply;
        reply.type = MessageType::pre_vote_response;
        reply.to = message.from;
        reply.term = hard_state_.term;
        send(std::move(reply));
      }
      return;  // a live leader is known: do not let a disruptive candidate in
    }
    if (message.type == MessageType::pre_vote || (message.type == MessageType::pre_vote_response && message.granted)) {
      // Pre-vote never changes terms.
    } else {
      const bool from_leader =
          message.type == MessageType::append_entries || message.type == MessageType::install_snapshot;
      become_follower(message.term, from_leader ? message.from : NodeId{});
    }
  } else if (message.term < hard_state_.term) {
    if (message.type == MessageType::append_entries || message.type == MessageType::install_snapshot) {
      Message reply;  // tells a stale leader about the newer term
      reply.type = MessageType::append_entries_response;
      reply.to = message.from;
      reply.term = hard_state_.term;
      send(std::move(reply));
    } else if (message.type == MessageType::pre_vote) {
      Message reply;
      reply.type = MessageType::pre_vote_response;
      reply.to = message.from;
      reply.term = hard_state_.term;
      send(std::move(reply));
    }
    return;
  }

  switch (message.type) {
    case MessageType::pre_vote:
      handle_pre_vote(message);
      break;
    case MessageType::vote:
      handle_vote(message);
      break;
    case MessageType::pre_vote_response:
    case MessageType::vote_response:
      handle_vote_response(message);
      break;
    case MessageType::append_entries:
      handle_append_entries(message);
      break;
    case MessageType::install_snapshot:
      handle_install_snapshot(message);
      break;
    case MessageType::append_entries_response:
      handle_append_entries_response(message);
      break;
  }
}

void RaftNode::handle_pre_vote(const Message& message) {
  Message reply;
  reply.type = MessageType::pre_vote_response;
  reply.to = message.from;
  reply.granted = message.term > hard_state_.term && log_is_up_to_date(message.last_log_term, message.last_log_index);
  reply.term = reply.granted ? message.term : hard_state_.term;
  send(std::move(reply));
}

void RaftNode::handle_vote(const Message& message) {
  Message reply;
  reply.type = MessageType::vote_response;
  reply.to = message.from;
  reply.term = hard_state_.term;
  const bool free_to_vote = hard_state_.voted_for.empty() || hard_state_.voted_for == message.from;
  reply.granted = free_to_vote && log_is_up_to_date(message.last_log_term, message.last_log_index);
  if (reply.granted) {
    hard_state_.voted_for = message.from;  // persisted (Ready) before the reply is sent
    reset_election_timer();
  }
  send(std::move(reply));
}

void RaftNode::handle_vote_response(const Message& message) {
  if (role_ == Role::pre_candidate && message.type == MessageType::pre_vote_response) {
    if (message.granted && message.term == hard_state_.term + 1) {
      votes_granted_.insert(message.from);
      if (votes_granted_.size() >= quorum()) become_candidate();
    }
  } else if (role_ == Role::candidate && message.type == MessageType::vote_response) {
    if (message.granted && message.term == hard_state_.term) {
      votes_granted_.insert(message.from);
      if (votes_granted_.size() >= quorum()) become_leader();
    }
  }
}

void RaftNode::handle_append_entries(const Message& message) {
  if (role_ == Role::leader) return;  // impossible with election safety; never obey a rival
  if (role_ != Role::follower) become_follower(hard_state_.term, message.from);
  leader_id_ = message.from;
  election_elapsed_ = 0;

  Message reply;
  reply.type = MessageType::append_entries_response;
  reply.to = message.from;
  reply.term = hard_state_.term;
  reply.heartbeat_round = message.heartbeat_round;

  const std::uint64_t previous = message.previous_log_index;
  if (previous > last_index()) {
    reply.conflict_index = last_index() + 1;
    send(std::move(reply));
    return;
  }
  if (previous >= snapshot_.index && term_at(previous) != message.previous_log_term) {
    // Fast backtracking: skip the whole conflicting term at once.
    const std::uint64_t conflict_term = term_at(previous).value();
    std::uint64_t first = previous;
    while (first > snapshot_.index + 1 && term_at(first - 1) == conflict_term) --first;
    reply.conflict_term = conflict_term;
    reply.conflict_index = first;
    send(std::move(reply));
    return;
  }
  for (const auto& entry : message.entries) {
    if (entry.index <= snapshot_.index) continue;  // covered by our snapshot: committed, identical
    if (entry.index <= last_index()) {
      if (term_at(entry.index) == entry.term) continue;
      truncate_from(entry.index);
    }
    append_entry(entry);
  }
  const std::uint64_t last_new = previous + message.entries.size();
  if (message.leader_commit > commit_index_) {
    commit_index_ = std::max(commit_index_, std::min(message.leader_commit, last_new));
  }
  reply.success = true;
  reply.match_index = last_new;
  send(std::move(reply));
}

void RaftNode::handle_install_snapshot(const Message& message) {
  if (role_ == Role::leader) return;
  if (role_ != Role::follower) become_follower(hard_state_.term, message.from);
  leader_id_ = message.from;
  election_elapsed_ = 0;

  Message reply;
  reply.type = MessageType::append_entries_response;
  reply.to = message.from;
  reply.term = hard_state_.term;
  reply.success = true;
  const Snapshot& snapshot = message.snapshot;
  if (snapshot.index <= commit_index_) {
    reply.match_index = commit_index_;
    send(std::move(reply));
    return;
  }
  if (term_at(snapshot.index) == snapshot.term && snapshot.index <= last_index()) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(snapshot.index - snapshot_.index));
  } else {
    entries_.clear();
    durable_index_ = std::min(durable_index_, snapshot.index);
  }
  snapshot_ = snapshot;
  unstable_from_ = std::max(unstable_from_, snapshot_.index + 1);
  commit_index_ = snapshot.index;
  applied_index_ = snapshot.index;
  snapshot_unpersisted_ = true;
  restore_state_machine_ = true;
  reply.match_index = snapshot.index;
  send(std::move(reply));
}

void RaftNode::handle_append_entries_response(const Message& message) {
  if (role_ != Role::leader) return;
  auto found = progress_.find(message.from);
  if (found == progress_.end()) return;
  Progress& progress = found->second;
  progress.recently_active = true;
  if (message.heartbeat_round > progress.acknowledged_round) progress.acknowledged_round = message.heartbeat_round;
  if (message.success) {
    if (message.match_index > progress.match_index) progress.match_index = message.match_index;
    if (progress.next_index < progress.match_index + 1) progress.next_index = progress.match_index + 1;
    maybe_commit();
    if (progress.next_index <= last_index()) send_append(message.from);
  } else {
    std::uint64_t next = message.conflict_index;
    if (message.conflict_term > 0) {
      for (std::uint64_t index = last_index(); index > snapshot_.index; --index) {
        const std::uint64_t term = term_at(index).value();
        if (term == message.conflict_term) {
          next = index + 1;
          break;
        }
        if (term < message.conflict_term) break;
      }
    }
    next = std::max<std::uint64_t>(next, progress.match_index + 1);
    next = std::min<std::uint64_t>(next, last_index() + 1);
    next = std::max<std::uint64_t>(next, 1);
    progress.next_index = next;
    send_append(message.from);
  }
  advance_reads();
}

void RaftNode::acknowledge_persisted(std::uint64_t index, std::uint64_t term) {
  if (index <= snapshot_.index || term_at(index) == term) {
    durable_index_ = std::max(durable_index_, std::min(index, last_index()));
    maybe_commit();
  }
}

bool sendable_before_persist(const Message& message, Role role, std::uint64_t term, bool hard_state_unsynced,
                             const RaftBugs& bugs) {
  if (bugs.ack_before_fsync && message.type == MessageType::append_entries_response) return true;
  return role == Role::leader && message.term == term && !hard_state_unsynced &&
         (message.type == MessageType::append_entries || message.type == MessageType::install_snapshot);
}

Ready RaftNode::take_ready() {
  if (role_ == Role::leader && heartbeat_requested_) broadcast_heartbeat();
  if (role_ == Role::leader && append_requested_) {
    append_requested_ = false;
    broadcast_append();
  }
  Ready ready;
  if (snapshot_unpersisted_) {
    ready.snapshot = snapshot_;
    ready.restore_state_machine = restore_state_machine_;
    snapshot_unpersisted_ = false;
    restore_state_machine_ = false;
  }
  const std::uint64_t first_unstable = std::max(unstable_from_, snapshot_.index + 1);
  for (std::uint64_t index = first_unstable; index <= last_index(); ++index) ready.entries.push_back(*entry_at(index));
  unstable_from_ = last_index() + 1;
  if (hard_state_ != persisted_hard_state_) {
    ready.hard_state = hard_state_;
    persisted_hard_state_ = hard_state_;
  }
  ready.messages = std::move(outbox_);
  outbox_.clear();
  for (std::uint64_t index = applied_index_ + 1; index <= commit_index_; ++index) {
    ready.committed_entries.push_back(*entry_at(index));
  }
  applied_index_ = std::max(applied_index_, commit_index_);
  advance_reads();
  ready.reads = std::move(released_reads_);
  released_reads_.clear();
  ready.failed_reads = std::move(failed_reads_);
  failed_reads_.clear();
  return ready;
}

}  // namespace chaosbench::raft
