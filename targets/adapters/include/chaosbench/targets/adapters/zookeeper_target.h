// ZooKeeper (Debian zookeeper 3.8) as a Target: one QuorumPeerMain per node,
// run in the foreground under java, and a gateway per node translating the
// client protocol to the ZooKeeper C client (libzookeeper_mt): key k is the
// znode /chaosbench/<k, percent-escaped> holding the value's JSON text; cas sets
// at the version read, txn (and append, add) is one multi with version checks.
// Target arguments: --sync-reads (sync() before each single read), --tick-ms=N
// (ZooKeeper's tickTime; default 100).
#pragma once

#include "chaosbench/targets/adapters/target.h"

namespace chaosbench::targets::adapters {

class ZookeeperTarget : public Target {
 public:
  // Throws std::invalid_argument for an unknown target argument.
  explicit ZookeeperTarget(const std::vector<std::string>& target_arguments);
  const std::string& name() const override;
  bool elects_leader() const override { return true; }
  std::string storage_glob(const std::string& file_class) const override {
    return file_class == "wal" ? "version-2/log.*" : file_class == "snapshot" ? "version-2/snapshot.*" : "*";
  }
  std::set<std::string> supported_operations() const override { return all_client_operations(); }
  std::vector<RequiredProgram> required_programs(const std::filesystem::path& refnode) const override;
  NodeLaunch launch(const NodeContext& node) const override;
  std::uint16_t client_port() const override { return 2181; }
  std::unique_ptr<Gateway> open_gateway(const NodeContext& node, const std::string& listen_address) const override;

 private:
  bool sync_reads_ = false;
  bool force_sync_ = true;       // --force-sync=no: the transaction log is not fsynced before the ack
  int tick_milliseconds_ = 100;  // ZooKeeper's tickTime
  static constexpr std::uint16_t kQuorumPort = 2888;
  static constexpr std::uint16_t kElectionPort = 3888;
};

}  // namespace chaosbench::targets::adapters
