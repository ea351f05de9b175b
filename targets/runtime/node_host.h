// NodeHost: the part of a refnode process that every protocol shares. It owns
// the peer transport, the client server, the tick timer and the storage worker;
// it answers `status` and `failpoint` (arming the node's Failpoints), refuses
// malformed and excess requests, and drives the protocol's Ready loop with
// group commit (every request and message already received is stepped before
// one flush; a Ready's disk work runs on the storage thread and its completion
// back on the io thread, in submission order). The protocol supplies a
// HostedProtocol; every call into it is on the io thread.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "runtime/client_server.h"
#include "runtime/failpoints.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/peer_transport.h"
#include "runtime/pending_requests.h"
#include "runtime/storage_worker.h"

namespace chaosbench::targets {

// One client request after the host's checks: it has a string op, is not a
// status request, and the protocol had room for it.
struct ClientRequest {
  std::shared_ptr<ClientConnection> connection;
  nlohmann::json id;
  std::string op;
  nlohmann::json body;  // the whole request
  SteadyTime deadline;  // now + the node's request timeout
};

class HostedProtocol {
 public:
  virtual ~HostedProtocol() = default;
  virtual void tick() = 0;                                   // one tick of the core
  virtual void expire(SteadyTime) {}                         // every 100 ms: time out pending requests
  virtual bool receive_peer_frame(std::string payload) = 0;  // false: garbage, drop the connection
  virtual void handle_request(const ClientRequest& request) = 0;
  virtual bool commit_next_ready() = 0;  // hands one Ready to commit(); false: none left
  virtual void after_flush() {}          // e.g. log role changes
  virtual std::size_t pending_requests() const = 0;
  virtual nlohmann::json status() const = 0;    // the value of a `status` reply
  virtual std::string description() const = 0;  // the start-up log line
};

class NodeHost {
 public:
  // Requests beyond this many in flight get {"error":"overloaded","definite":true}.
  static constexpr std::size_t kMaxPendingRequests = 100000;

  // `sync` makes everything staged so far durable (on the storage thread);
  // `failpoints` are the ones the protocol's storage and sends pass.
  NodeHost(boost::asio::io_context& io_context, const NodeConfig& config, Logger& logger, HostedProtocol& protocol,
           Failpoints& failpoints, std::function<void()> sync);
  void start();  // binds the ports, starts ticking; throws std::system_error on bind failure

  // Runs the flush loop soon, once, after what is already queued on the io thread.
  void schedule_flush();
  // Group commit: `stage` (may be empty) on the storage thread, then `complete`
  // on the io thread, after every earlier Ready's completion. Without disk work
  // and with nothing in flight, `complete` runs at once.
  void commit(std::function<void()> stage, std::function<void()> complete);

  void send(const std::string& peer, std::string payload) { transport_.send(peer, std::move(payload)); }
  // send, unless an `error` armed at `point` (before-vote-send, before-ack-send) drops it.
  void send_through(std::string_view point, const std::string& peer, std::string payload) {
    if (point.empty() || !failpoints_.hit(point)) send(peer, std::move(payload));
  }
  Failpoints& failpoints() { return failpoints_; }
  std::uint64_t dropped_peer_frames() const { return transport_.dropped_frames(); }

  // Decodes a peer frame with `decode` (which throws std::runtime_error on
  // garbage) and checks it is addressed to this node from another member;
  // logs and returns nothing otherwise.
  template <class Decode>
  auto decode_peer_frame(const std::string& payload, Decode decode)
      -> std::optional<std::decay_t<decltype(decode(payload))>> {
    try {
      auto message = decode(payload);
      if (!addressed_here(message.from, message.to)) return std::nullopt;
      return message;
    } catch (const std::runtime_error& error) {
      logger_.info("peer frame rejected: {}", error.what());
      return std::nullopt;
    }
  }

  // decode_peer_frame, then `step` on the message and a flush: a server's
  // whole receive_peer_frame. False when the frame was rejected.
  template <class Decode, class Step>
  bool deliver_peer_frame(const std::string& payload, Decode decode, Step step) {
    auto message = decode_peer_frame(payload, decode);
    if (!message) return false;
    step(*message);
    schedule_flush();
    return true;
  }

  const NodeConfig& config() const { return config_; }
  Logger& logger() { return logger_; }

 private:
  void schedule_tick();
  void flush();
  bool addressed_here(const std::string& from, const std::string& to);
  void accept_request(const std::shared_ptr<ClientConnection>& connection, nlohmann::json request);

  boost::asio::io_context& io_context_;
  const NodeConfig& config_;
  Logger& logger_;
  HostedProtocol& protocol_;
  Failpoints& failpoints_;
  PeerTransport transport_;
  ClientServer client_server_;
  boost::asio::steady_timer tick_timer_;
  SteadyTime next_tick_;
  int ticks_since_expiry_ = 0;
  bool flush_scheduled_ = false;
  int pending_syncs_ = 0;
  // Last: destroyed (thread joined) before the transport and server it posts to.
  StorageWorker storage_worker_;
};

}  // namespace chaosbench::targets
