#include "raft/raft_server.h"

#include <fmt/format.h>

#include <random>

namespace chaosbench::raft {

namespace asio = boost::asio;
using nlohmann::json;
using targets::ClientConnection;
using targets::error_reply;

namespace {

RaftConfig make_raft_config(const targets::NodeConfig& config) {
  RaftConfig raft;
  raft.id = config.id;
  for (const auto& peer : config.peers) raft.members.push_back(peer.id);
  raft.election_ticks = config.election_ticks;
  raft.heartbeat_ticks = config.heartbeat_ticks;
  raft.tick_nanoseconds = std::int64_t{config.tick_milliseconds} * 1'000'000;
  raft.clock_drift_bound_nanoseconds = config.clock_drift_bound_milliseconds * 1'000'000;
  raft.random_seed = std::random_device{}();
  raft.bugs.no_vote_log_check = config.has_bug("no-vote-log-check");
  raft.bugs.commit_previous_term = config.has_bug("commit-previous-term");
  return raft;
}

// The part of a request that goes into the log: everything but the id.
std::string command_of(const json& request) {
  json command = json::object();
  for (const char* field : {"op", "key", "value", "from", "to"}) {
    if (request.contains(field)) command[field] = request[field];
  }
  return command.dump();
}

}  // namespace

RaftServer::RaftServer(asio::io_context& io_context, targets::NodeConfig config, targets::Logger& logger)
    : io_context_(io_context),
      config_(std::move(config)),
      logger_(logger),
      storage_(config_.data_dir, config_.fsync, logger_),
      transport_(io_context_, config_, logger_,
                 [this](std::string payload) { return handle_peer_frame(std::move(payload)); }),
      client_server_(io_context_, config_.client_host, config_.client_port, logger_,
                     [this](const std::shared_ptr<ClientConnection>& connection, json request) {
                       handle_request(connection, std::move(request));
                     }),
      tick_timer_(io_context_),
      storage_worker_(std::make_unique<targets::StorageWorker>(io_context_, [this] { storage_.sync(); })) {
  // lease-wall-clock (bug): the lease is timed with the wall clock, which
  // clock skew (libfaketime) moves; the correct node uses the monotonic clock.
  const targets::Clock& lease_clock =
      config_.has_bug("lease-wall-clock") ? static_cast<const targets::Clock&>(wall_clock_) : monotonic_clock_;
  node_ = std::make_unique<RaftNode>(make_raft_config(config_), storage_.state(), lease_clock);
  machine_.restore(storage_.state().snapshot.data);
  applied_index_ = storage_.state().snapshot.index;
  if (config_.read_mode == "lease") read_mode_ = ReadMode::lease;
  logger_.set_state(role_name(node_->role()), node_->term());
  logged_term_ = node_->term();
}

void RaftServer::start() {
  transport_.start();
  client_server_.start();
  std::string bugs;
  for (const auto& bug : config_.bugs) bugs += " " + bug;
  logger_.info("raft node started: peers on {}:{}, clients on {}:{}, read mode {}, fsync {}, bugs:{}",
               config_.self().host, config_.self().port, config_.client_host, config_.client_port, config_.read_mode,
               config_.fsync ? "on" : "off", bugs.empty() ? " none" : bugs);
  next_tick_ = std::chrono::steady_clock::now();
  schedule_tick();
}

void RaftServer::schedule_tick() {
  next_tick_ += std::chrono::milliseconds(config_.tick_milliseconds);
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([this](boost::system::error_code error) {
    if (error) return;
    node_->tick();
    if (++ticks_since_expiry_ * config_.tick_milliseconds >= 100) {
      ticks_since_expiry_ = 0;
      expire_requests();
    }
    schedule_flush();
    schedule_tick();
  });
}

void RaftServer::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Posted, so every request and message already received is stepped first
  // and they all share one Ready and one fsync (group commit).
  asio::post(io_context_, [this] {
    flush_scheduled_ = false;
    flush();
  });
}

void RaftServer::flush() {
  while (true) {
    Ready taken = node_->take_ready();
    if (taken.empty()) break;
    auto ready = std::make_shared<Ready>(std::move(taken));
    // A leader's entries may go out before its own fsync (Raft allows the
    // leader to write its log in parallel with replication): it counts its own
    // log towards a commit only once complete() reports it durable
    // (acknowledge_persisted). Everything else waits for the disk.
    auto after_sync = std::make_shared<std::vector<Message>>();
    for (auto& message : ready->messages) {
      // ...but never ahead of a term or vote that is not yet durable.
      const bool replication =
          node_->role() == Role::leader && message.term == node_->term() && !ready->hard_state &&
          unsynced_hard_states_ == 0 &&
          (message.type == MessageType::append_entries || message.type == MessageType::install_snapshot);
      if (replication) {
        transport_.send(message.to, encode_message(message));
      } else {
        after_sync->push_back(std::move(message));
      }
    }
    ready->messages.clear();
    const bool needs_disk = ready->snapshot || !ready->entries.empty() || ready->hard_state;
    if (!needs_disk && pending_syncs_ == 0) {
      complete(*ready, *after_sync);
      continue;
    }
    // FIFO through the storage worker keeps every Ready's effects in order.
    ++pending_syncs_;
    if (ready->hard_state) ++unsynced_hard_states_;
    storage_worker_->submit(
        needs_disk ? std::function<void()>([this, ready] { storage_.stage(*ready); }) : std::function<void()>(),
        [this, ready, after_sync] {
          --pending_syncs_;
          if (ready->hard_state) --unsynced_hard_states_;
          complete(*ready, *after_sync);
        });
  }
  log_state_changes();
}

void RaftServer::complete(const Ready& ready, const std::vector<Message>& messages) {
  if (ready.snapshot) node_->acknowledge_persisted(ready.snapshot->index, ready.snapshot->term);
  if (!ready.entries.empty()) {
    node_->acknowledge_persisted(ready.entries.back().index, ready.entries.back().term);
    schedule_flush();  // the leader may now count its own log towards a commit
  }
  if (ready.snapshot && ready.restore_state_machine) {
    machine_.restore(ready.snapshot->data);
    applied_index_ = ready.snapshot->index;
    logger_.info("installed snapshot at index {} term {}", ready.snapshot->index, ready.snapshot->term);
    // Proposals the snapshot swallowed have an unknown outcome.
    for (auto it = proposals_.begin(); it != proposals_.end() && it->first <= applied_index_;) {
      if (auto connection = it->second.connection.lock()) {
        connection->reply(error_reply(it->second.id, "unknown_outcome", false));
      }
      it = proposals_.erase(it);
    }
  }
  for (const auto& message : messages) transport_.send(message.to, encode_message(message));
  for (const auto& entry : ready.committed_entries) apply_entry(entry);
  // Reads released by ReadIndex / lease: their index is applied by now.
  for (const auto& read : ready.reads) {
    auto found = reads_.find(read.context);
    if (found == reads_.end()) continue;
    if (auto connection = found->second.connection.lock()) {
      if (found->second.op == "sync") {
        connection->reply(json{{"id", found->second.id}, {"ok", true}});
      } else {
        connection->reply(json{{"id", found->second.id}, {"ok", true}, {"value", machine_.read(found->second.key)}});
      }
    }
    reads_.erase(found);
  }
  for (auto context : ready.failed_reads) {
    auto found = reads_.find(context);
    if (found == reads_.end()) continue;
    if (auto connection = found->second.connection.lock()) reply_not_leader(connection, found->second.id);
    reads_.erase(found);
  }
  if (applied_index_ >= node_->snapshot_index() + config_.snapshot_every) {
    node_->compact(applied_index_, machine_.snapshot());
    logger_.info("snapshot at index {}", applied_index_);
    schedule_flush();
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
  if (entry.kind == EntryKind::command) result = machine_.apply(json::parse(entry.command));
  applied_index_ = entry.index;
  auto found = proposals_.find(entry.index);
  if (found == proposals_.end()) return;
  if (auto connection = found->second.connection.lock()) {
    if (found->second.term == entry.term) {
      result["id"] = found->second.id;
      connection->reply(result);
    } else {
      // Another entry was committed at our index: ours never will be.
      connection->reply(error_reply(found->second.id, "not_committed", true,
                                    {{"message", "leadership changed before the write committed"}}));
    }
  }
  proposals_.erase(found);
}

void RaftServer::expire_requests() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    if (auto connection = it->second.connection.lock()) connection->reply(error_reply(it->second.id, "timeout", false));
    it = proposals_.erase(it);
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    // A read changes nothing, so a timed-out read definitely had no effect.
    if (auto connection = it->second.connection.lock()) connection->reply(error_reply(it->second.id, "timeout", true));
    it = reads_.erase(it);
  }
}

bool RaftServer::handle_peer_frame(std::string payload) {
  Message message;
  try {
    message = decode_message(payload);
  } catch (const std::runtime_error& error) {
    logger_.info("peer frame rejected: {}", error.what());
    return false;
  }
  bool known_sender = false;
  for (const auto& peer : config_.peers)
    known_sender = known_sender || (peer.id == message.from && peer.id != config_.id);
  if (message.to != config_.id || !known_sender) {
    logger_.info("peer frame rejected: {} -> {} is not for this node", message.from, message.to);
    return false;
  }
  node_->step(message);
  schedule_flush();
  return true;
}

void RaftServer::reply_not_leader(const std::shared_ptr<ClientConnection>& connection, const json& id) {
  const NodeId& leader = node_->leader_id();
  connection->reply(error_reply(id, "not_leader", true, {{"leader", leader.empty() ? json(nullptr) : json(leader)}}));
}

json RaftServer::status_value() const {
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
              {"dropped_peer_frames", transport_.dropped_frames()}};
}

void RaftServer::handle_request(const std::shared_ptr<ClientConnection>& connection, json request) {
  const json id = request.contains("id") ? request["id"] : json(nullptr);
  auto op_field = request.find("op");
  if (op_field == request.end() || !op_field->is_string()) {
    logger_.info("client {}: request without an op", connection->remote());
    connection->reply(error_reply(id, "malformed", true, {{"message", "missing string field op"}}));
    return;
  }
  const std::string op = op_field->get<std::string>();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.request_timeout_milliseconds);
  if (op == "status") {
    connection->reply(json{{"id", id}, {"ok", true}, {"value", status_value()}});
    return;
  }
  if (proposals_.size() + reads_.size() >= kMaxPendingRequests) {
    connection->reply(error_reply(id, "overloaded", true, {{"message", "too many requests in flight"}}));
    return;
  }
  if (op == "read" || op == "sync") {
    std::string key;
    if (op == "read") {
      auto key_field = request.find("key");
      if (key_field == request.end() || !key_field->is_string()) {
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
    reads_.emplace(context, PendingRead{connection, id, op, key, deadline});
    schedule_flush();
    return;
  }
  if (!targets::KvStateMachine::is_update(op)) {
    logger_.info("client {}: unknown op '{}'", connection->remote(), op);
    connection->reply(error_reply(id, "unknown_op", true, {{"message", fmt::format("unknown op '{}'", op)}}));
    return;
  }
  if (auto problem = targets::KvStateMachine::validate(request)) {
    connection->reply(error_reply(id, "malformed", true, {{"message", *problem}}));
    return;
  }
  if (op == "add" && config_.has_bug("unsupported-add")) {
    connection->reply(error_reply(id, "unsupported", true, {{"message", "add (planted bug unsupported-add)"}}));
    return;
  }
  auto proposed = node_->propose(command_of(request));
  if (!proposed) {
    reply_not_leader(connection, id);
    return;
  }
  proposals_[proposed->first] = PendingProposal{proposed->second, connection, id, deadline};
  schedule_flush();
}

}  // namespace chaosbench::raft
