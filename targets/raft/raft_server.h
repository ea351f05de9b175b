// RaftServer: a complete Raft node process: the deterministic RaftNode, its
// RaftStorage and the KvStateMachine, hosted by the NodeHost (tick, peer
// transport, client server, WAL group commit: one fsync for every Ready queued
// while the previous fsync ran, however many requests they carry). Followers
// answer updates and linearizable reads with {"error":"not_leader",
// "definite":true,"leader":<hint>} (no forwarding): the client decides where to
// retry. Storage errors propagate out of
// io_context::run() and stop the node.
#pragma once

#include <boost/asio.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "raft/raft_node.h"
#include "raft/raft_protocol.h"
#include "raft/raft_storage.h"
#include "runtime/clock.h"
#include "runtime/kv_state_machine.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/node_host.h"
#include "runtime/pending_requests.h"

namespace chaosbench::raft {

class RaftServer final : public targets::NodeProcess, private targets::HostedProtocol {
 public:
  RaftServer(boost::asio::io_context& io_context, const targets::NodeConfig& config, const RaftOptions& options,
             targets::Logger& logger);
  void start() override { host_.start(); }  // throws std::system_error on bind failure

 private:
  struct ReadDetails {
    std::string op;  // read or sync
    std::string key;
  };

  void tick() override { node_->tick(); }
  void expire(targets::SteadyTime now) override;
  bool receive_peer_frame(std::string payload) override;
  void handle_request(const targets::ClientRequest& request) override;
  bool commit_next_ready() override;
  void after_flush() override { log_state_changes(); }
  std::size_t pending_requests() const override { return proposals_.size() + reads_.size(); }
  nlohmann::json status() const override;
  std::string description() const override;

  void complete(const Ready& ready, const std::vector<Message>& messages);
  void log_state_changes();
  void apply_entry(const LogEntry& entry);
  void reply_not_leader(const std::shared_ptr<targets::ClientConnection>& connection, const nlohmann::json& id);

  const targets::NodeConfig config_;
  targets::Logger& logger_;
  targets::MonotonicClock monotonic_clock_;
  targets::WallClock wall_clock_;
  targets::Failpoints failpoints_;  // before the storage that passes them
  RaftStorage storage_;
  std::unique_ptr<RaftNode> node_;
  RaftBugs bugs_;  // the core's planted bugs; ack-before-fsync also changes what commit_next_ready sends early
  targets::KvStateMachine machine_;
  std::uint64_t applied_index_ = 0;
  ReadMode read_mode_ = ReadMode::read_index;
  targets::PendingRequests<std::uint64_t> proposals_;  // by log index; details: the term proposed in
  targets::PendingRequests<ReadDetails> reads_;        // by read context
  std::uint64_t next_read_context_ = 1;
  int unsynced_hard_states_ = 0;  // Readies with a term/vote change still on their way to disk
  Role logged_role_ = Role::follower;
  std::uint64_t logged_term_ = 0;
  std::string logged_leader_;
  // Last: destroyed first, so the storage thread is joined before the state its jobs touch.
  targets::NodeHost host_;
};

}  // namespace chaosbench::raft
