// QuorumServer: a complete quorum KV node process. Wires the deterministic
// QuorumNode to the runtime: a tick timer, PeerTransport, QuorumStorage on a
// StorageWorker thread (group commit: a Ready's records are durable before its
// messages and replies leave), and the ClientServer. Runs on one io_context
// thread (plus the storage thread); storage errors stop the node.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "quorum/quorum_node.h"
#include "quorum/quorum_storage.h"
#include "runtime/client_server.h"
#include "runtime/clock.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/peer_transport.h"
#include "runtime/storage_worker.h"

namespace chaosbench::quorum {

// The QuorumConfig refnode's flags describe (timing derived from the tick flags).
QuorumConfig make_quorum_config(const targets::NodeConfig& config);

class QuorumServer {
 public:
  // Requests beyond this many in flight get {"error":"overloaded","definite":true}.
  static constexpr std::size_t kMaxPendingRequests = 100000;

  QuorumServer(boost::asio::io_context& io_context, targets::NodeConfig config, targets::Logger& logger);
  void start();  // binds the ports, starts ticking; throws std::system_error on bind failure

 private:
  struct PendingRequest {
    std::weak_ptr<targets::ClientConnection> connection;
    nlohmann::json id;
  };

  void schedule_tick();
  void schedule_flush();
  void flush();
  void complete(const Ready& ready);
  bool handle_peer_frame(std::string payload);
  void handle_request(const std::shared_ptr<targets::ClientConnection>& connection, nlohmann::json request);
  void log_membership_changes();

  boost::asio::io_context& io_context_;
  targets::NodeConfig config_;
  targets::Logger& logger_;
  targets::MonotonicClock monotonic_;
  targets::WallClock wall_;
  QuorumStorage storage_;
  std::unique_ptr<QuorumNode> node_;
  targets::PeerTransport transport_;
  targets::ClientServer client_server_;
  boost::asio::steady_timer tick_timer_;
  std::chrono::steady_clock::time_point next_tick_;
  bool flush_scheduled_ = false;
  std::map<std::uint64_t, PendingRequest> requests_;
  std::uint64_t next_request_ = 1;
  std::string logged_up_;
  // Declared after everything its jobs touch, so it is destroyed (thread joined) first.
  std::unique_ptr<targets::StorageWorker> storage_worker_;
  int pending_syncs_ = 0;
};

}  // namespace chaosbench::quorum
