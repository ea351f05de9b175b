#include "quorum/quorum_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace chaosbench::quorum {

namespace asio = boost::asio;
using nlohmann::json;
using targets::ClientConnection;
using targets::error_reply;

QuorumConfig make_quorum_config(const targets::NodeConfig& config) {
  constexpr std::int64_t kMillisecond = 1'000'000;
  QuorumConfig quorum;
  quorum.id = config.id;
  for (const auto& peer : config.peers) quorum.members.push_back(peer.id);
  quorum.replicas = config.quorum_n > 0 ? config.quorum_n : std::min<int>(3, static_cast<int>(config.peers.size()));
  quorum.read_quorum = config.quorum_r > 0 ? config.quorum_r : quorum.replicas / 2 + 1;
  quorum.write_quorum = config.quorum_w > 0 ? config.quorum_w : quorum.replicas / 2 + 1;
  quorum.sloppy = config.sloppy_quorum;
  quorum.conflict = config.conflict == "lww" ? ConflictMode::last_write_wins : ConflictMode::vector_clocks;
  quorum.virtual_nodes = config.virtual_nodes;
  quorum.gossip_interval_nanoseconds = std::int64_t{config.heartbeat_ticks} * config.tick_milliseconds * kMillisecond;
  quorum.failure_timeout_nanoseconds =
      4 * std::int64_t{config.election_ticks} * config.tick_milliseconds * kMillisecond;
  quorum.request_timeout_nanoseconds = std::int64_t{config.request_timeout_milliseconds} * kMillisecond;
  quorum.anti_entropy_interval_nanoseconds = config.anti_entropy_interval_milliseconds * kMillisecond;
  quorum.tombstone_grace_nanoseconds = config.tombstone_grace_milliseconds * kMillisecond;
  quorum.random_seed = std::random_device{}();
  quorum.bugs.no_read_repair = config.has_bug("no-read-repair");
  quorum.bugs.tombstone_gc_early = config.has_bug("tombstone-gc-early");
  quorum.bugs.ack_before_write = config.has_bug("ack-before-write");
  return quorum;
}

QuorumServer::QuorumServer(asio::io_context& io_context, targets::NodeConfig config, targets::Logger& logger)
    : io_context_(io_context),
      config_(std::move(config)),
      logger_(logger),
      storage_(config_.data_dir, config_.fsync),
      transport_(io_context_, config_, logger_,
                 [this](std::string payload) { return handle_peer_frame(std::move(payload)); }),
      client_server_(io_context_, config_.client_host, config_.client_port, logger_,
                     [this](const std::shared_ptr<ClientConnection>& connection, json request) {
                       handle_request(connection, std::move(request));
                     }),
      tick_timer_(io_context_),
      storage_worker_(std::make_unique<targets::StorageWorker>(io_context_, [this] { storage_.sync(); })) {
  RecoveredState recovered{storage_.recovered()};
  storage_.release_recovered();
  try {
    node_ = std::make_unique<QuorumNode>(make_quorum_config(config_), monotonic_, wall_, recovered);
  } catch (const std::invalid_argument& error) {
    throw targets::ConfigError(error.what());
  }
  logger_.set_state("replica", 0);
  logger_.info("recovered {} records: {} keys, {} hints", recovered.records.size(), node_->store().size(),
               node_->hint_count());
}

void QuorumServer::start() {
  transport_.start();
  client_server_.start();
  std::string bugs;
  for (const auto& bug : config_.bugs) bugs += " " + bug;
  logger_.info(
      "quorum node started: peers on {}:{}, clients on {}:{}, N={} R={} W={}{}, conflicts {}, fsync {}, bugs:{}",
      config_.self().host, config_.self().port, config_.client_host, config_.client_port, node_->config().replicas,
      node_->config().read_quorum, node_->config().write_quorum, config_.sloppy_quorum ? " sloppy" : "",
      config_.conflict, config_.fsync ? "on" : "off", bugs.empty() ? " none" : bugs);
  next_tick_ = std::chrono::steady_clock::now();
  schedule_tick();
  schedule_flush();  // the counter reservation made at start
}

void QuorumServer::schedule_tick() {
  next_tick_ += std::chrono::milliseconds(config_.tick_milliseconds);
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([this](boost::system::error_code error) {
    if (error) return;
    node_->tick();
    log_membership_changes();
    schedule_flush();
    schedule_tick();
  });
}

void QuorumServer::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Posted, so every request and message already received shares one Ready and one fsync.
  asio::post(io_context_, [this] {
    flush_scheduled_ = false;
    flush();
  });
}

void QuorumServer::flush() {
  Ready taken = node_->take_ready();
  if (taken.empty()) return;
  auto ready = std::make_shared<Ready>(std::move(taken));
  const bool needs_disk = !ready->records.empty() || ready->rewrite;
  if (!needs_disk && pending_syncs_ == 0) {
    complete(*ready);
    return;
  }
  // FIFO through the worker: nothing leaves before everything staged earlier is durable.
  ++pending_syncs_;
  storage_worker_->submit(needs_disk ? std::function<void()>([this, ready] {
                            if (ready->rewrite) {
                              storage_.rewrite(*ready->rewrite);
                            } else {
                              storage_.append(ready->records);
                            }
                          })
                                     : std::function<void()>(),
                          [this, ready] {
                            --pending_syncs_;
                            complete(*ready);
                          });
}

void QuorumServer::complete(const Ready& ready) {
  for (const auto& message : ready.messages) transport_.send(message.to, encode_message(message));
  for (const auto& answer : ready.replies) {
    auto found = requests_.find(answer.request_id);
    if (found == requests_.end()) continue;
    if (auto connection = found->second.connection.lock()) {
      json body = answer.body;
      body["id"] = found->second.id;
      connection->reply(body);
    }
    requests_.erase(found);
  }
}

void QuorumServer::log_membership_changes() {
  const json status = node_->status();
  const std::string up = status["up"].dump();
  if (up == logged_up_) return;
  logger_.info("peers up: {}", up);
  logged_up_ = up;
}

bool QuorumServer::handle_peer_frame(std::string payload) {
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
  node_->receive(message);
  schedule_flush();
  return true;
}

void QuorumServer::handle_request(const std::shared_ptr<ClientConnection>& connection, json request) {
  const json id = request.contains("id") ? request["id"] : json(nullptr);
  if (requests_.size() >= kMaxPendingRequests) {
    connection->reply(error_reply(id, "overloaded", true, {{"message", "too many requests in flight"}}));
    return;
  }
  const std::uint64_t request_id = next_request_++;
  requests_.emplace(request_id, PendingRequest{connection, id});
  node_->client_request(request_id, request);
  schedule_flush();
}

}  // namespace chaosbench::quorum
