#include "runtime/node_host.h"

#include <fmt/format.h>

namespace chaosbench::targets {

namespace asio = boost::asio;
using nlohmann::json;

NodeHost::NodeHost(asio::io_context& io_context, const NodeConfig& config, Logger& logger, HostedProtocol& protocol,
                   Failpoints& failpoints, std::function<void()> sync)
    : io_context_(io_context),
      config_(config),
      logger_(logger),
      protocol_(protocol),
      failpoints_(failpoints),
      transport_(io_context_, config_, logger_,
                 [this](std::string payload) { return protocol_.receive_peer_frame(std::move(payload)); }),
      client_server_(io_context_, config_.client_host, config_.client_port, logger_,
                     [this](const std::shared_ptr<ClientConnection>& connection, json request) {
                       accept_request(connection, std::move(request));
                     }),
      tick_timer_(io_context_),
      storage_worker_(io_context_, std::move(sync)) {}

void NodeHost::start() {
  transport_.start();
  client_server_.start();
  std::string bugs;
  for (const auto& bug : config_.bugs) bugs += " " + bug;
  logger_.info("{} node started: peers on {}:{}, clients on {}:{}, {}, fsync {}, bugs:{}", config_.protocol,
               config_.self().host, config_.self().port, config_.client_host, config_.client_port,
               protocol_.description(), config_.fsync ? "on" : "off", bugs.empty() ? " none" : bugs);
  for (const auto& failpoint : config_.failpoints) logger_.info("failpoint armed: {}", failpoint);
  next_tick_ = std::chrono::steady_clock::now();
  schedule_tick();
  schedule_flush();  // whatever the core produced while recovering (election notifications, reservations)
}

void NodeHost::schedule_tick() {
  next_tick_ += std::chrono::milliseconds(config_.tick_milliseconds);
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([this](boost::system::error_code error) {
    if (error) return;
    protocol_.tick();
    if (++ticks_since_expiry_ * config_.tick_milliseconds >= 100) {
      ticks_since_expiry_ = 0;
      protocol_.expire(std::chrono::steady_clock::now());
    }
    schedule_flush();
    schedule_tick();
  });
}

void NodeHost::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Posted, so every request and message already received is stepped first
  // and they all share one Ready and one fsync (group commit).
  asio::post(io_context_, [this] {
    flush_scheduled_ = false;
    flush();
  });
}

void NodeHost::flush() {
  while (protocol_.commit_next_ready()) {
  }
  protocol_.after_flush();
}

void NodeHost::commit(std::function<void()> stage, std::function<void()> complete) {
  if (!stage && pending_syncs_ == 0) {
    complete();
    return;
  }
  // FIFO through the storage worker keeps every Ready's effects in order.
  ++pending_syncs_;
  storage_worker_.submit(std::move(stage), [this, complete = std::move(complete)] {
    --pending_syncs_;
    complete();
  });
}

bool NodeHost::addressed_here(const std::string& from, const std::string& to) {
  bool known_sender = false;
  for (const auto& peer : config_.peers) known_sender = known_sender || (peer.id == from && peer.id != config_.id);
  if (to == config_.id && known_sender) return true;
  logger_.info("peer frame rejected: {} -> {} is not for this node", from, to);
  return false;
}

void NodeHost::accept_request(const std::shared_ptr<ClientConnection>& connection, json request) {
  // The client server passes on only objects with a string op (protocol::parse_request_line).
  const json id = request.contains("id") ? request["id"] : json(nullptr);
  std::string op = request["op"].get<std::string>();
  if (op == "status") {
    connection->reply(json{{"id", id}, {"ok", true}, {"value", protocol_.status()}});
    return;
  }
  if (op == "failpoint") {
    try {
      json value = failpoints_.handle_request(request);
      if (request.contains("name"))
        logger_.info("failpoint {} set to {}", request["name"].get<std::string>(),
                     request["action"].get<std::string>());
      connection->reply(json{{"id", id}, {"ok", true}, {"value", std::move(value)}});
    } catch (const std::invalid_argument& error) {
      connection->reply(error_reply(id, "malformed", true, {{"message", error.what()}}));
    }
    return;
  }
  if (protocol_.pending_requests() >= kMaxPendingRequests) {
    connection->reply(error_reply(id, "overloaded", true, {{"message", "too many requests in flight"}}));
    return;
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.request_timeout_milliseconds);
  protocol_.handle_request(ClientRequest{connection, id, std::move(op), std::move(request), deadline});
}

}  // namespace chaosbench::targets
