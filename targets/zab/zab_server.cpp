#include "zab/zab_server.h"

#include <fmt/format.h>

#include "chaosbench/targets/protocol/transaction.h"

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
  zab.bugs.ack_before_fsync = config.has_bug("ack-before-fsync");
  return zab;
}

// ZooKeeper's 64-bit zxid: epoch in the high 32 bits, counter in the low.
std::uint64_t packed(const Zxid& zxid) { return (zxid.epoch << 32) | (zxid.counter & 0xffffffffu); }

// The failpoint a message passes on its way out ("" for none).
std::string_view send_failpoint(const Message& message) {
  switch (message.type) {
    case MessageType::notification:
      return "before-vote-send";
    case MessageType::ack:
    case MessageType::ack_epoch:
    case MessageType::ack_new_leader:
      return "before-ack-send";
    default:
      return "";
  }
}

}  // namespace

ZabServer::ZabServer(asio::io_context& io_context, const targets::NodeConfig& config, targets::Logger& logger)
    : config_(config),
      logger_(logger),
      failpoints_(config_.id, config_.failpoints),
      storage_(config_.data_dir, config_.fsync, logger_, failpoints_.storage_env()),
      next_context_((std::random_device{}() | 1ull) << 20),
      host_(io_context, config_, logger_, *this, failpoints_, [this] { storage_.sync(); }) {
  sync_reads_ = config_.read_mode == "sync";
  const ZabConfig zab_config = make_zab_config(config_);
  bugs_ = zab_config.bugs;
  node_ = std::make_unique<ZabNode>(zab_config, storage_.state());
  machine_.restore(storage_.state().snapshot.data);
  applied_ = storage_.state().snapshot.zxid;
  logger_.set_state(role_name(node_->role()), node_->current_epoch());
}

std::string ZabServer::description() const { return fmt::format("reads {}", sync_reads_ ? "sync" : "local"); }

bool ZabServer::commit_next_ready() {
  Ready taken = node_->take_ready();
  if (taken.empty()) return false;
  auto ready = std::make_shared<Ready>(std::move(taken));
  // Every message waits for the Ready's write: acks and ACKEPOCH/NEWLEADER
  // acknowledgements promise durable state (but for the ack-before-fsync bug's early ACKs).
  std::vector<Message> after_sync;
  for (auto& message : ready->messages) {
    if (sendable_before_persist(message, bugs_)) {
      host_.send_through(send_failpoint(message), message.to, encode_message(message));
    } else {
      after_sync.push_back(std::move(message));
    }
  }
  ready->messages = std::move(after_sync);
  const bool needs_disk = ready->snapshot || ready->truncate_after || ready->epochs;
  host_.commit(needs_disk ? std::function<void()>([this, ready] { storage_.stage(*ready); }) : std::function<void()>(),
               [this, ready] { complete(*ready); });
  return true;
}

void ZabServer::complete(const Ready& ready) {
  if (!ready.txns.empty()) {
    node_->acknowledge_persisted(ready.txns.back().zxid);
    host_.schedule_flush();  // the leader may now count its own ack
  }
  if (ready.snapshot && ready.restore_state_machine) {
    host_.failpoints().hit("before-snapshot-install");
    machine_.restore(ready.snapshot->data);
    host_.failpoints().hit("after-snapshot-install");
    applied_ = ready.snapshot->zxid;
    txns_since_snapshot_ = 0;
    logger_.info("installed snapshot at {} from the leader", to_string(applied_));
  }
  for (const auto& message : ready.messages) {
    host_.send_through(send_failpoint(message), message.to, encode_message(message));
  }
  for (const auto& txn : ready.committed) apply_txn(txn);
  for (auto context : ready.released_syncs) {
    auto request = requests_.take(context);
    if (!request) continue;
    if (request->details.read_key) {
      if (auto connection = request->connection.lock()) {
        answer_or_park_read(connection, request->id, *request->details.read_key, request->details.min_zxid,
                            request->deadline);
      }
    } else {
      requests_.reply(*request, json{{"ok", true}, {"zxid", packed(applied_)}});
    }
  }
  for (auto context : ready.failed_syncs) {
    auto request = requests_.take(context);
    if (!request) continue;
    if (auto connection = request->connection.lock()) reply_not_serving(connection, request->id);
  }
  if (txns_since_snapshot_ >= config_.snapshot_every) {
    node_->compact(applied_, machine_.snapshot());
    txns_since_snapshot_ = 0;
    logger_.info("snapshot at {}", to_string(applied_));
    host_.schedule_flush();
  }
  release_parked_reads();
  log_state_changes();
}

void ZabServer::answer_or_park_read(const std::shared_ptr<ClientConnection>& connection, const json& id,
                                    const std::string& key, std::uint64_t min_zxid, targets::SteadyTime deadline) {
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
  host_.failpoints().hit("before-apply");
  json result = machine_.apply(json::parse(txn.command));
  applied_ = txn.zxid;
  ++txns_since_snapshot_;
  if (txn.origin != config_.id) return;
  auto request = requests_.take(txn.context);
  if (!request) return;
  result["zxid"] = packed(txn.zxid);
  requests_.reply(*request, std::move(result));
}

void ZabServer::expire(targets::SteadyTime now) {
  requests_.expire(now);   // an update may still commit later; a sync changes nothing
  release_parked_reads();  // times out reads that waited too long, fails them if we stopped serving
}

bool ZabServer::receive_peer_frame(std::string payload) {
  return host_.deliver_peer_frame(payload, decode_message, [this](const Message& message) { node_->step(message); });
}

void ZabServer::reply_not_serving(const std::shared_ptr<ClientConnection>& connection, const json& id) {
  const NodeId& leader = node_->leader_id();
  connection->reply(error_reply(id, "not_leader", true,
                                {{"leader", leader.empty() ? json(nullptr) : json(leader)},
                                 {"message", "this replica is not serving (looking or synchronising)"}}));
}

json ZabServer::status() const {
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
              {"dropped_peer_frames", host_.dropped_peer_frames()}};
}

void ZabServer::submit_sync(const targets::ClientRequest& request, std::optional<std::string> read_key,
                            std::uint64_t min_zxid) {
  const std::uint64_t context = next_context_++;
  if (!node_->request_sync(context)) {
    reply_not_serving(request.connection, request.id);
    return;
  }
  requests_.add(context, {request.connection, request.id, request.deadline, false,
                          RequestDetails{std::move(read_key), min_zxid}});
  host_.schedule_flush();
}

void ZabServer::handle_request(const targets::ClientRequest& request) {
  const auto& [connection, id, op, body, deadline] = request;
  if (op == "read") {
    auto key_field = body.find("key");
    if (key_field == body.end() || !key_field->is_string()) {
      connection->reply(error_reply(id, "malformed", true, {{"message", "read needs a string key"}}));
      return;
    }
    std::uint64_t min_zxid = 0;
    if (auto min_field = body.find("min_zxid"); min_field != body.end()) {
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
    // Sync read: a sync through the leader, then a local read (linearizable).
    submit_sync(request, key_field->get<std::string>(), min_zxid);
    return;
  }
  if (op == "sync") {
    submit_sync(request, std::nullopt, 0);
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
  const std::uint64_t context = next_context_++;
  if (!node_->submit(targets::protocol::logged_command(body), context)) {
    reply_not_serving(connection, id);
    return;
  }
  requests_.add(context, {connection, id, deadline, true, RequestDetails{}});
  host_.schedule_flush();
}

}  // namespace chaosbench::zab
