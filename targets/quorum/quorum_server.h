// QuorumServer: a complete quorum KV node process: the deterministic
// QuorumNode and its QuorumStorage, hosted by the NodeHost (group commit: a
// Ready's records are durable before its messages and replies leave). The
// core answers every request itself, timeouts included. Storage errors stop
// the node.
#pragma once

#include <boost/asio.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "quorum/quorum_node.h"
#include "quorum/quorum_protocol.h"
#include "quorum/quorum_storage.h"
#include "runtime/clock.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/node_host.h"
#include "runtime/pending_requests.h"

namespace chaosbench::quorum {

class QuorumServer final : public targets::NodeProcess, private targets::HostedProtocol {
 public:
  QuorumServer(boost::asio::io_context& io_context, const targets::NodeConfig& config, const QuorumOptions& options,
               targets::Logger& logger);
  void start() override { host_.start(); }  // throws std::system_error on bind failure

 private:
  void tick() override;
  bool receive_peer_frame(std::string payload) override;
  void handle_request(const targets::ClientRequest& request) override;
  bool commit_next_ready() override;
  std::size_t pending_requests() const override { return requests_.size(); }
  nlohmann::json status() const override { return node_->status(); }
  std::string description() const override;

  void complete(const Ready& ready);

  const targets::NodeConfig config_;
  targets::Logger& logger_;
  targets::MonotonicClock monotonic_;
  targets::WallClock wall_;
  targets::Failpoints failpoints_;  // before the storage that passes them
  QuorumStorage storage_;
  std::unique_ptr<QuorumNode> node_;
  targets::PendingRequests<> requests_;  // no deadline here: the core times requests out
  std::uint64_t next_request_ = 1;
  std::string logged_up_;
  // Last: destroyed first, so the storage thread is joined before the state its jobs touch.
  targets::NodeHost host_;
};

}  // namespace chaosbench::quorum
