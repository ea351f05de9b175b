// ZabServer: a complete ZAB node process. Wires the deterministic ZabNode to
// the runtime: a tick timer, PeerTransport, ZabStorage on a StorageWorker
// thread (group commit), the KvStateMachine and the ClientServer. Reads are
// answered locally by a serving replica (sequential consistency; with
// --read-mode sync each read is a sync then a local read); every reply
// carries the zxid it reflects and a request's `min_zxid` makes the replica
// wait until it has applied that far (ZooKeeper's session lastZxid). `sync`
// catches the replica up to what the leader had proposed; updates sent to a
// follower are forwarded to the leader and answered once applied here. Runs
// on one io_context thread (plus the storage thread); storage errors stop it.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/client_server.h"
#include "runtime/kv_state_machine.h"
#include "runtime/logger.h"
#include "runtime/node_config.h"
#include "runtime/peer_transport.h"
#include "runtime/storage_worker.h"
#include "zab/zab_node.h"
#include "zab/zab_storage.h"

namespace chaosbench::zab {

class ZabServer {
 public:
  // Requests beyond this many in flight get {"error":"overloaded","definite":true}.
  static constexpr std::size_t kMaxPendingRequests = 100000;

  ZabServer(boost::asio::io_context& io_context, targets::NodeConfig config, targets::Logger& logger);
  void start();  // binds the ports, starts ticking; throws std::system_error on bind failure

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct PendingRequest {
    std::weak_ptr<targets::ClientConnection> connection;
    nlohmann::json id;
    bool update;  // an update (outcome unknown on timeout) or a sync (no effect)
    SteadyTime deadline;
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
    SteadyTime deadline;
  };

  void schedule_tick();
  void schedule_flush();
  void flush();
  void complete(const Ready& ready);
  void log_state_changes();
  void apply_txn(const Txn& txn);
  void expire_requests();
  bool handle_peer_frame(std::string payload);
  void handle_request(const std::shared_ptr<targets::ClientConnection>& connection, nlohmann::json request);
  void reply_not_serving(const std::shared_ptr<targets::ClientConnection>& connection, const nlohmann::json& id);
  void answer_or_park_read(const std::shared_ptr<targets::ClientConnection>& connection, const nlohmann::json& id,
                           const std::string& key, std::uint64_t min_zxid, SteadyTime deadline);
  void release_parked_reads();
  nlohmann::json status_value() const;

  boost::asio::io_context& io_context_;
  targets::NodeConfig config_;
  targets::Logger& logger_;
  ZabStorage storage_;
  std::unique_ptr<ZabNode> node_;
  targets::KvStateMachine machine_;
  Zxid applied_;
  targets::PeerTransport transport_;
  targets::ClientServer client_server_;
  boost::asio::steady_timer tick_timer_;
  SteadyTime next_tick_;
  int ticks_since_expiry_ = 0;
  bool flush_scheduled_ = false;
  std::map<std::uint64_t, PendingRequest> requests_;  // by context
  std::vector<ParkedRead> parked_reads_;
  bool sync_reads_ = false;     // --read-mode sync
  std::uint64_t next_context_;  // random start: a restarted node never reuses a context still in the log
  std::uint64_t txns_since_snapshot_ = 0;
  // Declared after everything its jobs touch, so it is destroyed (thread joined) first.
  std::unique_ptr<targets::StorageWorker> storage_worker_;
  int pending_syncs_ = 0;
  Role logged_role_ = Role::looking;
  std::uint64_t logged_epoch_ = 0;
  std::string logged_leader_;
  Phase logged_phase_ = Phase::discovering;
};

}  // namespace chaosbench::zab
