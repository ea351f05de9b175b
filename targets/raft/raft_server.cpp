#include "raft/raft_server.h"

#include <fmt/format.h>

#include "chaosbench/targets/protocol/transaction.h"

#include <random>

namespace chaosbench::raft {

namespace asio = boost::asio;
using nlohmann::json;
using targets::ClientConnection;
using targets::error_reply;

namespace {

RaftConfig make_raft_config(const targets::NodeConfig& config, const RaftOptions& options) {
  RaftConfig raft;
  raft.id = config.id;
  for (const auto& peer : config.peers) raft.members.push_back(peer.id);
  raft.election_ticks = config.election_ticks;
  raft.heartbeat_ticks = config.heartbeat_ticks;
  raft.tick_nanoseconds = std::int64_t{config.tick_milliseconds} * 1'000'000;
  raft.clock_drift_bound_nanoseconds = options.clock_drift_bound_milliseconds * 1'000'000;
  raft.random_seed = std::random_device{}();
  raft.bugs.no_vote_log_check = config.has_bug("no-vote-log-check");
  raft.bugs.commit_previous_term = config.has_bug("commit-previous-term");
  raft.bugs.ack_before_fsync = config.has_bug("ack-before-fsync");
  return raft;
}

// The failpoint a message passes on its way out ("" for none).
std::string_view send_failpoint(const Message& message) {
  switch (message.type) {
    case MessageType::pre_vote_response:
    case MessageType::vote_response:
      return "before-vote-send";
    case MessageType::append_entries_response:
      return "before-ack-send";
    default:
      return "";
  }
}

}  // namespace

RaftServer::RaftServer(asio::io_context& io_context, const targets::NodeConfig& config, const RaftOptions& options,
                       targets::Logger& logger)
    : config_(config),
      logger_(logger),
      failpoints_(config_.id, config_.failpoints),
      storage_(config_.data_dir, config_.fsync, logger_, failpoints_.storage_env()),
      host_(io_context, config_, logger_, *this, failpoints_, [this] { storage_.sync(); }) {
  // lease-wall-clock (bug): the lease is timed with the wall clock, which
  // clock skew (libfaketime) moves; the correct node uses the monotonic clock.
  const targets::Clock& lease_clock =
      config_.has_bug("lease-wall-clock") ? static_cast<const targets::Clock&>(wall_clock_) : monotonic_clock_;
  const RaftConfig raft_config = make_raft_config(config_, options);
  bugs_ = raft_config.bugs;
  node_ = std::make_unique<RaftNode>(raft_config, storage_.state(), lease_clock);
  machine_.restore(storage_.state().snapshot.data);
  applied_index_ = storage_.state().snapshot.index;
  if (config_.read_mode == "lease") read_mode_ = ReadMode::lease;
  logger_.set_state(role_name(node_->role()), node_->term());
  logged_term_ = node_->term();
}

std::string RaftServer::description() const { return fmt::format("read mode {}", config_.read_mode); }

void RaftServer::expire(targets::SteadyTime now) {
  proposals_.expire(now);
  reads_.expire(now);
}

bool RaftServer::commit_next_ready() {
  Ready taken = node_->take_ready();
  if (taken.empty()) return false;
  auto ready = std::make_shared<Ready>(std::move(taken));
  // A leader's entries may go out before its own fsync (Raft allows the
  // leader to write its log in parallel with replication): it counts its own
  // log towards a commit only once complete() reports it durable
  // (acknowledge_persisted). Everything else waits for the disk.
  auto after_sync = std::make_shared<std::vector<Message>>();
  const bool hard_state_unsynced = ready->hard_state || unsynced_hard_states_ > 0;
  for (auto& message : ready->messages) {
    if (sendable_before_persist(message, node_->role(), node_->term(), hard_state_unsynced, bugs_)) {
      host_.send_through(send_failpoint(message), message.to, encode_message(message));
    } else {
      after_sync->push_back(std::move(message));
    }
  }
  ready->messages.clear();
  const bool needs_disk = ready->snapshot || !ready->entries.empty() || ready->hard_state;
  if (ready->hard_state) ++unsynced_hard_states_;  // a hard state always goes to disk first
  host_.commit(needs_disk ? std::function<void()>([this, ready] { storage_.stage(*ready); }) : std::function<void()>(),
               [this, ready, after_sync] {
                 if (ready->hard_state) --unsynced_hard_states_;
                 complete(*ready, *after_sync);
               });
  return true;
}

void RaftServer::complete(const Ready& ready, const std::vector<Message>& messages) {
  if (ready.snapshot) node_->acknowledge_persisted(ready.snapshot->index, ready.snapshot->term);
  if (!ready.entries.empty()) {
    node_->acknowledge_persisted(ready.entries.back().index, ready.entries.back().term);
    host_.schedule_flush();  // the leader may now count its own log towards a commit
  }
  if (ready.snapshot && ready.restore_state_machine) {
    host_.failpoints().hit("before-snapshot-install");
    machine_.restore(ready.snapshot->data);
    host_.failpoints().hit("after-snapshot-install");
    applied_index_ = ready.snapshot->index;
    logger_.info("installed snapshot at index {} term {}", ready.snapshot->index, ready.snapshot->term);
    // Proposals the snapshot swallowed have an unknown outcome.
    proposals_.fail_through(applied_index_, "unknown_outcome", false);
  }
  for (const auto& message : messages) host_.send_through(send_failpoint(message), message.to, encode_message(message));
  for (const auto& entry : ready.committed_entries) apply_entry(entry);
  // Reads released by ReadIndex / lease: their index is applied by now.
  for (const auto& read : ready.reads) {
    auto request = reads_.take(read.context);
    if (!request) continue;
    if (request->details.op == "sync") {
      reads_.reply(*request, json{{"ok", true}});
    } else {
      reads_.reply(*request, json{{"ok", true}, {"value", machine_.read(request->details.key)}});
    }
  }
  for (auto context : ready.failed_reads) {
    auto request = reads_.take(context);
    if (!request) continue;
    if (auto connection = request->connection.lock()) reply_not_leader(connection, request->id);
  }
  if (applied_index_ >= node_->snapshot_index() + config_.snapshot_every) {
    node_->compact(applied_index_, machine_.snapshot());
    logger_.info("snapshot at index {}", applied_index_);
    host_.schedule_flush();
  }
  log_state_changes();
}

void RaftServer::log_state_changes() {
  if (node_->role() != logged_role_ || node_->term() != logged_term_ || node_->leader_id() != logged_leader_) {
    logger_.set_state(role_name(node_->role()), node_->term());
    logger_.info("now {} in term {}, leader {}", role_name(node_->role()), node_->term(),
                 node_->leader_id().empty() ? "unknown" : node_->leader_id());
    logged_role_ = node_->role();
    logged_term_ = node_->term();
    logged_leader_ = node_->leader_id();
  }
}

void RaftServer::apply_entry(const LogEntry& entry) {
  json result;
  if (entry.kind == EntryKind::command) {
    host_.failpoints().hit("before-apply");
    result = machine_.apply(json::parse(entry.command));
  }
  applied_index_ = entry.index;
  auto proposal = proposals_.take(entry.index);
  if (!proposal) return;
  if (proposal->details == entry.term) {
    proposals_.reply(*proposal, std::move(result));
  } else {
    // Another entry was committed at our index: ours never will be.
    proposals_.reply(*proposal, error_reply(proposal->id, "not_committed", true,
                                            {{"message", "leadership changed before the write committed"}}));
  }
}

bool RaftServer::receive_peer_frame(std::string payload) {
  return host_.deliver_peer_frame(payload, decode_message, [this](const Message& message) { node_->step(message); });
}

void RaftServer::reply_not_leader(const std::shared_ptr<ClientConnection>& connection, const json& id) {
  const NodeId& leader = node_->leader_id();
  connection->reply(error_reply(id, "not_leader", true, {{"leader", leader.empty() ? json(nullptr) : json(leader)}}));
}

json RaftServer::status() const {
  return json{{"node", config_.id},
              {"role", role_name(node_->role())},
              {"term", node_->term()},
              {"leader", node_->leader_id().empty() ? json(nullptr) : json(node_->leader_id())},
              {"commit", node_->commit_index()},
              {"applied", applied_index_},
              {"last_index", node_->last_index()},
              {"last_term", node_->last_term()},
              {"snapshot_index", node_->snapshot_index()},
              {"wal_syncs", storage_.sync_count()},
              {"dropped_peer_frames", host_.dropped_peer_frames()}};
}

void RaftServer::handle_request(const targets::ClientRequest& request) {
  const auto& [connection, id, op, body, deadline] = request;
  if (op == "read" || op == "sync") {
    std::string key;
    if (op == "read") {
      auto key_field = body.find("key");
      if (key_field == body.end() || !key_field->is_string()) {
        connection->reply(error_reply(id, "malformed", true, {{"message", "read needs a string key"}}));
        return;
      }
      key = key_field->get<std::string>();
    }
    const bool local = op == "read" && (config_.read_mode == "local" ||
                                        (config_.has_bug("stale-follower-read") && node_->role() != Role::leader));
    if (local) {
      connection->reply(json{{"id", id}, {"ok", true}, {"value", machine_.read(key)}});
      return;
    }
    const std::uint64_t context = next_read_context_++;
    if (!node_->request_read(context, op == "sync" ? ReadMode::read_index : read_mode_)) {
      reply_not_leader(connection, id);
      return;
    }
    // A read changes nothing, so a timed-out read definitely had no effect.
    reads_.add(context, {connection, id, deadline, false, ReadDetails{op, key}});
    host_.schedule_flush();
    return;
  }
  if (!targets::KvStateMachine::is_update(op)) {
    logger_.info("client {}: unknown op '{}'", connection->remote(), op);
    connection->reply(error_reply(id, "unknown_op", true, {{"message", fmt::format("unknown op '{}'", op)}}));
    return;
  }
  if (auto problem = targets::KvStateMachine::validate(body)) {
    connection->reply(error_reply(id, "malformed", true, {{"message", *problem}}));
    return;
  }
  if (op == "add" && config_.has_bug("unsupported-add")) {
    connection->reply(error_reply(id, "unsupported", true, {{"message", "add (planted bug unsupported-add)"}}));
    return;
  }
  auto proposed = node_->propose(targets::protocol::logged_command(body));
  if (!proposed) {
    reply_not_leader(connection, id);
    return;
  }
  proposals_.add(proposed->first, {connection, id, deadline, true, proposed->second});
  host_.schedule_flush();
}

}  // namespace chaosbench::raft
