// RaftServer: a complete Raft node process. Wires the deterministic RaftNode
// to the runtime: a tick timer, PeerTransport, RaftStorage on a StorageWorker
// thread (WAL group commit: one fsync for every Ready queued while the previous
// fsync ran, however many requests they carry), the KvStateMachine
// and the ClientServer. Followers answer updates and linearizable reads with
// {"error":"not_leader","definite":true,"leader":<hint>} (no forwarding), so
// the client decides where to retry. Runs on one io_context thread (plus the
// storage thread); storage errors propagate out of io_context::run() and stop
// the node.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "raft/raft_node.h"
#include "raft/raft_storage.h"
#include "runtime/client_server.h"
#include "runtime/clock.h"
#include "runtime/kv_state_machine.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/peer_transport.h"
#include "runtime/storage_worker.h"

namespace chaosbench::raft {

class RaftServer {
 public:
  // Requests beyond this many in flight get {"error":"overloaded","definite":true}.
  static constexpr std::size_t kMaxPendingRequests = 100000;

  RaftServer(boost::asio::io_context& io_context, targets::NodeConfig config, targets::Logger& logger);
  void start();  // binds the ports, starts ticking; throws std::system_error on bind failure

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct PendingProposal {
    std::uint64_t term;
    std::weak_ptr<targets::ClientConnection> connection;
    nlohmann::json id;
    SteadyTime deadline;
  };
  struct PendingRead {
    std::weak_ptr<targets::ClientConnection> connection;
    nlohmann::json id;
    std::string op;
    std::string key;
    SteadyTime deadline;
  };

  void schedule_tick();
  void schedule_flush();
  void flush();
  void complete(const Ready& ready, const std::vector<Message>& messages);
  void log_state_changes();
  void apply_entry(const LogEntry& entry);
  void expire_requests();
  bool handle_peer_frame(std::string payload);
  void handle_request(const std::shared_ptr<targets::ClientConnection>& connection, nlohmann::json request);
  void reply_not_leader(const std::shared_ptr<targets::ClientConnection>& connection, const nlohmann::json& id);
  nlohmann::json status_value() const;

  boost::asio::io_context& io_context_;
  targets::NodeConfig config_;
  targets::Logger& logger_;
  targets::MonotonicClock monotonic_clock_;
  targets::WallClock wall_clock_;
  RaftStorage storage_;
  std::unique_ptr<RaftNode> node_;
  targets::KvStateMachine machine_;
  std::uint64_t applied_index_ = 0;
  targets::PeerTransport transport_;
  targets::ClientServer client_server_;
  boost::asio::steady_timer tick_timer_;
  SteadyTime next_tick_;
  int ticks_since_expiry_ = 0;
  bool flush_scheduled_ = false;
  ReadMode read_mode_ = ReadMode::read_index;
  std::map<std::uint64_t, PendingProposal> proposals_;  // by log index
  std::map<std::uint64_t, PendingRead> reads_;          // by read context
  std::uint64_t next_read_context_ = 1;
  // Declared after everything its jobs touch, so it is destroyed (thread joined) first.
  std::unique_ptr<targets::StorageWorker> storage_worker_;
  int pending_syncs_ = 0;
  int unsynced_hard_states_ = 0;  // Readies with a term/vote change still on their way to disk
  Role logged_role_ = Role::follower;
  std::uint64_t logged_term_ = 0;
  std::string logged_leader_;
};

}  // namespace chaosbench::raft
