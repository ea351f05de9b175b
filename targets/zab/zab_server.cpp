#include "zab/zab_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace chaosbench::zab {

namespace asio = boost::asio;
using nlohmann::json;
using targets::ClientConnection;
using targets::error_reply;

namespace {

ZabConfig make_zab_config(const targets::NodeConfig& config) {
  ZabConfig zab;
  zab.id = config.id;
  for (const auto& peer : config.peers) zab.members.push_back(peer.id);
  // The shared timing flags: heartbeat_ticks paces pings, election_ticks is
  // the session timeout (ZooKeeper's syncLimit) and half the initLimit.
  zab.heartbeat_ticks = config.heartbeat_ticks;
  zab.notification_ticks = config.heartbeat_ticks * 2;
  zab.sync_limit_ticks = config.election_ticks;
  zab.init_limit_ticks = config.election_ticks * 2;
  zab.random_seed = std::random_device{}();
  zab.bugs.skip_truncate = config.has_bug("skip-truncate");
  zab.bugs.commit_before_quorum = config.has_bug("commit-before-quorum");
  zab.bugs.epoch_not_persisted = config.has_bug("epoch-not-persisted");
  return zab;
}

// The part of a request that goes into the log: everything but the id.
std::string command_of(const json& request) {
  json command = json::object();
  for (const char* field : {"op", "key", "value", "from", "to"}) {
    if (request.contains(field)) command[field] = request[field];
  }
  return command.dump();
}

// ZooKeeper's 64-bit zxid: epoch in the high 32 bits, counter in the low.
std::uint64_t packed(const Zxid& zxid) { return (zxid.epoch << 32) | (zxid.counter & 0xffffffffu); }

}  // namespace

ZabServer::ZabServer(asio::io_context& io_context, targets::NodeConfig config, targets::Logger& logger)
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
      next_context_((std::random_device{}() | 1ull) << 20),
      storage_worker_(std::make_unique<targets::StorageWorker>(io_context_, [this] { storage_.sync(); })) {
  sync_reads_ = config_.read_mode == "sync";
  node_ = std::make_unique<ZabNode>(make_zab_config(config_), storage_.state());
  machine_.restore(storage_.state().snapshot.data);
  applied_ = storage_.state().snapshot.zxid;
  logger_.set_state(role_name(node_->role()), node_->current_epoch());
}

void ZabServer::start() {
  transport_.start();
  client_server_.start();
  std::string bugs;
  for (const auto& bug : config_.bugs) bugs += " " + bug;
  logger_.info("zab node started: peers on {}:{}, clients on {}:{}, reads {}, fsync {}, bugs:{}", config_.self().host,
               config_.self().port, config_.client_host, config_.client_port, sync_reads_ ? "sync" : "local",
               config_.fsync ? "on" : "off", bugs.empty() ? " none" : bugs);
  next_tick_ = std::chrono::steady_clock::now();
  schedule_tick();
  schedule_flush();  // the initial election notifications
}

void ZabServer::schedule_tick() {
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

void ZabServer::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Posted, so every request and message already received is stepped first
  // and they all share one Ready and one fsync (group commit).
  asio::post(io_context_, [this] {
    flush_scheduled_ = false;
    flush();
  });
}

void ZabServer::flush() {
  while (true) {
    Ready taken = node_->take_ready();
    if (taken.empty()) break;
    auto ready = std::make_shared<Ready>(std::move(taken));
    // Every message waits for the Ready's write: acks and ACKEPOCH/NEWLEADER
    // acknowledgements promise durable state. FIFO through the worker keeps
    // every Ready's effects in order.
    const bool needs_disk = ready->snapshot || ready->truncate_after || ready->epochs;
    if (!needs_disk && pending_syncs_ == 0) {
      complete(*ready);
      continue;
    }
    ++pending_syncs_;
    storage_worker_->submit(
        needs_disk ? std::function<void()>([this, ready] { storage_.stage(*ready); }) : std::function<void()>(),
        [this, ready] {
          --pending_syncs_;
          complete(*ready);
        });
  }
  log_state_changes();
}

void ZabServer::complete(const Ready& ready) {
  if (!ready.txns.empty()) {
    node_->acknowledge_persisted(ready.txns.back().zxid);
    schedule_flush();  // the leader may now count its own ack
  }
  if (ready.snapshot && ready.restore_state_machine) {
    machine_.restore(ready.snapshot->data);
    applied_ = ready.snapshot->zxid;
    txns_since_snapshot_ = 0;
    logger_.info("installed snapshot at {} from the leader", to_string(applied_));
  }
  for (const auto& message : ready.messages) transport_.send(message.to, encode_message(message));
  for (const auto& txn : ready.committed) apply_txn(txn);
  for (auto context : ready.released_syncs) {
    auto found = requests_.find(context);
    if (found == requests_.end()) continue;
    const PendingRequest& request = found->second;
    if (auto connection = request.connection.lock()) {
      if (request.read_key) {
        answer_or_park_read(connection, request.id, *request.read_key, request.min_zxid, request.deadline);
      } else {
        connection->reply(json{{"id", request.id}, {"ok", true}, {"zxid", packed(applied_)}});
      }
    }
    requests_.erase(found);
  }
  for (auto context : ready.failed_syncs) {
    auto found = requests_.find(context);
    if (found == requests_.end()) continue;
    if (auto connection = found->second.connection.lock()) reply_not_serving(connection, found->second.id);
    requests_.erase(found);
  }
  if (txns_since_snapshot_ >= config_.snapshot_every) {
    node_->compact(applied_, machine_.snapshot());
    txns_since_snapshot_ = 0;
    logger_.info("snapshot at {}", to_string(applied_));
    schedule_flush();
  }
  release_parked_reads();
  log_state_changes();
}

void ZabServer::answer_or_park_read(const std::shared_ptr<ClientConnection>& connection, const json& id,
                                    const std::string& key, std::uint64_t min_zxid, SteadyTime deadline) {
  const std::uint64_t floor = std::max(min_zxid, packed(node_->serving_since()));
  if (packed(applied_) >= floor) {
    connection->reply(json{{"id", id}, {"ok", true}, {"value", machine_.read(key)}, {"zxid", packed(applied_)}});
    return;
  }
  parked_reads_.push_back(ParkedRead{connection, id, key, min_zxid, deadline});
}

void ZabServer::release_parked_reads() {
  if (parked_reads_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<ParkedRead> parked = std::move(parked_reads_);
  parked_reads_.clear();
  for (auto& read : parked) {
    auto connection = read.connection.lock();
    if (!connection) continue;
    if (!node_->serving()) {
      reply_not_serving(connection, read.id);
    } else if (packed(applied_) >= std::max(read.min_zxid, packed(node_->serving_since()))) {
      answer_or_park_read(connection, read.id, read.key, read.min_zxid, read.deadline);
    } else if (read.deadline <= now) {
      connection->reply(error_reply(read.id, "timeout", true, {{"message", "replica behind the session's zxid"}}));
    } else {
      parked_reads_.push_back(std::move(read));
    }
  }
}

void ZabServer::log_state_changes() {
  if (node_->role() != logged_role_ || node_->current_epoch() != logged_epoch_ ||
      node_->leader_id() != logged_leader_ || node_->phase() != logged_phase_) {
    logger_.set_state(role_name(node_->role()), node_->current_epoch());
    static constexpr const char* kPhases[] = {"discovery", "synchronisation", "broadcast"};
    logger_.info("now {} ({}) in epoch {}, leader {}", role_name(node_->role()),
                 kPhases[static_cast<int>(node_->phase())], node_->current_epoch(),
                 node_->leader_id().empty() ? "unknown" : node_->leader_id());
    logged_role_ = node_->role();
    logged_epoch_ = node_->current_epoch();
    logged_leader_ = node_->leader_id();
    logged_phase_ = node_->phase();
  }
}

void ZabServer::apply_txn(const Txn& txn) {
  json result = machine_.apply(json::parse(txn.command));
  applied_ = txn.zxid;
  ++txns_since_snapshot_;
  if (txn.origin != config_.id) return;
  auto found = requests_.find(txn.context);
  if (found == requests_.end()) return;
  if (auto connection = found->second.connection.lock()) {
    result["id"] = found->second.id;
    result["zxid"] = packed(txn.zxid);
    connection->reply(result);
  }
  requests_.erase(found);
}

void ZabServer::expire_requests() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    // An update may still commit later; a sync changes nothing.
    if (auto connection = it->second.connection.lock()) {
      connection->reply(error_reply(it->second.id, "timeout", !it->second.update));
    }
    it = requests_.erase(it);
  }
  release_parked_reads();  // times out reads that waited too long, fails them if we stopped serving
}

bool ZabServer::handle_peer_frame(std::string payload) {
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

void ZabServer::reply_not_serving(const std::shared_ptr<ClientConnection>& connection, const json& id) {
  const NodeId& leader = node_->leader_id();
  connection->reply(error_reply(id, "not_leader", true,
                                {{"leader", leader.empty() ? json(nullptr) : json(leader)},
                                 {"message", "this replica is not serving (looking or synchronising)"}}));
}

json ZabServer::status_value() const {
  return json{{"node", config_.id},
              {"role", role_name(node_->role())},
              {"term", node_->current_epoch()},
              {"leader", node_->leader_id().empty() ? json(nullptr) : json(node_->leader_id())},
              {"commit", packed(node_->commit_zxid())},
              {"applied", packed(applied_)},
              {"serving", node_->serving()},
              {"accepted_epoch", node_->accepted_epoch()},
              {"commit_zxid", to_string(node_->commit_zxid())},
              {"last_zxid", to_string(node_->last_zxid())},
              {"snapshot_zxid", to_string(node_->snapshot_zxid())},
              {"wal_syncs", storage_.sync_count()},
              {"dropped_peer_frames", transport_.dropped_frames()}};
}

void ZabServer::handle_request(const std::shared_ptr<ClientConnection>& connection, json request) {
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
  if (op == "read") {
    auto key_field = request.find("key");
    if (key_field == request.end() || !key_field->is_string()) {
      connection->reply(error_reply(id, "malformed", true, {{"message", "read needs a string key"}}));
      return;
    }
    std::uint64_t min_zxid = 0;
    if (auto min_field = request.find("min_zxid"); min_field != request.end()) {
      if (!min_field->is_number_unsigned()) {
        connection->reply(error_reply(id, "malformed", true, {{"message", "min_zxid must be an unsigned integer"}}));
        return;
      }
      min_zxid = min_field->get<std::uint64_t>();
    }
    // As in ZooKeeper, only a replica following (or leading) a synced epoch
    // answers: a looking or just-restarted node may hold far older state.
    if (!node_->serving()) {
      reply_not_serving(connection, id);
      return;
    }
    if (!sync_reads_) {
      // Local read: what this replica has applied (sequentially consistent).
      answer_or_park_read(connection, id, key_field->get<std::string>(), min_zxid, deadline);
      return;
    }
    if (requests_.size() >= kMaxPendingRequests) {
      connection->reply(error_reply(id, "overloaded", true, {{"message", "too many requests in flight"}}));
      return;
    }
    // Sync read: a sync through the leader, then a local read (linearizable).
    const std::uint64_t context = next_context_++;
    if (!node_->request_sync(context)) {
      reply_not_serving(connection, id);
      return;
    }
    requests_.emplace(context,
                      PendingRequest{connection, id, false, deadline, key_field->get<std::string>(), min_zxid});
    schedule_flush();
    return;
  }
  if (requests_.size() >= kMaxPendingRequests) {
    connection->reply(error_reply(id, "overloaded", true, {{"message", "too many requests in flight"}}));
    return;
  }
  if (op == "sync") {
    const std::uint64_t context = next_context_++;
    if (!node_->request_sync(context)) {
      reply_not_serving(connection, id);
      return;
    }
    requests_.emplace(context, PendingRequest{connection, id, false, deadline, std::nullopt, 0});
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
  const std::uint64_t context = next_context_++;
  if (!node_->submit(command_of(request), context)) {
    reply_not_serving(connection, id);
    return;
  }
  requests_.emplace(context, PendingRequest{connection, id, true, deadline, std::nullopt, 0});
  schedule_flush();
}

}  // namespace chaosbench::zab
