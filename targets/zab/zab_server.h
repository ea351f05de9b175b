// ZabServer: a complete ZAB node process: the deterministic ZabNode, its
// ZabStorage and the KvStateMachine, hosted by the NodeHost. Reads are
// answered locally by a serving replica (sequential consistency; with
// --read-mode sync each read is a sync then a local read); every reply
// carries the zxid it reflects and a request's `min_zxid` makes the replica
// wait until it has applied that far (ZooKeeper's session lastZxid). `sync`
// catches the replica up to what the leader had proposed; updates sent to a
// follower are forwarded to the leader and answered once applied here.
// Storage errors stop the node.
#pragma once

#include <boost/asio.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/kv_state_machine.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/node_host.h"
#include "runtime/pending_requests.h"
#include "zab/zab_node.h"
#include "zab/zab_protocol.h"
#include "zab/zab_storage.h"

namespace chaosbench::zab {

class ZabServer final : public targets::NodeProcess, private targets::HostedProtocol {
 public:
  ZabServer(boost::asio::io_context& io_context, const targets::NodeConfig& config, targets::Logger& logger);
  void start() override { host_.start(); }  // throws std::system_error on bind failure

 private:
  struct RequestDetails {
    std::optional<std::string> read_key;  // --read-mode sync: read this key once the sync is released
    std::uint64_t min_zxid = 0;
  };
  // A read waiting until this replica has applied the client's min_zxid (or
  // what it was synced to when it began serving).
  struct ParkedRead {
    std::weak_ptr<targets::ClientConnection> connection;
    nlohmann::json id;
    std::string key;
    std::uint64_t min_zxid;
    targets::SteadyTime deadline;
  };

  void tick() override { node_->tick(); }
  void expire(targets::SteadyTime now) override;
  bool receive_peer_frame(std::string payload) override;
  void handle_request(const targets::ClientRequest& request) override;
  bool commit_next_ready() override;
  void after_flush() override { log_state_changes(); }
  std::size_t pending_requests() const override { return requests_.size(); }
  nlohmann::json status() const override;
  std::string description() const override;

  void complete(const Ready& ready);
  void log_state_changes();
  void apply_txn(const Txn& txn);
  void submit_sync(const targets::ClientRequest& request, std::optional<std::string> read_key, std::uint64_t min_zxid);
  void reply_not_serving(const std::shared_ptr<targets::ClientConnection>& connection, const nlohmann::json& id);
  void answer_or_park_read(const std::shared_ptr<targets::ClientConnection>& connection, const nlohmann::json& id,
                           const std::string& key, std::uint64_t min_zxid, targets::SteadyTime deadline);
  void release_parked_reads();

  const targets::NodeConfig config_;
  targets::Logger& logger_;
  targets::Failpoints failpoints_;  // before the storage that passes them
  ZabStorage storage_;
  std::unique_ptr<ZabNode> node_;
  ZabBugs bugs_;  // the core's planted bugs; ack-before-fsync also changes what commit_next_ready sends early
  targets::KvStateMachine machine_;
  Zxid applied_;
  targets::PendingRequests<RequestDetails> requests_;  // updates and syncs, by context
  std::vector<ParkedRead> parked_reads_;
  bool sync_reads_ = false;     // --read-mode sync
  std::uint64_t next_context_;  // random start: a restarted node never reuses a context still in the log
  std::uint64_t txns_since_snapshot_ = 0;
  Role logged_role_ = Role::looking;
  std::uint64_t logged_epoch_ = 0;
  std::string logged_leader_;
  Phase logged_phase_ = Phase::discovering;
  // Last: destroyed first, so the storage thread is joined before the state its jobs touch.
  targets::NodeHost host_;
};

}  // namespace chaosbench::zab
