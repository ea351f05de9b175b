// etcd (Debian etcd-server 3.4) as a Target: one etcd member per node, and a
// gateway per node translating the client protocol to etcd's v3 JSON gateway
// (kv/range, kv/put, kv/deleterange, kv/txn for cas, and for txn, append and add
// as a snapshot read plus a commit guarded by mod revisions; maintenance/status
// for the role). --read=serializable makes single reads serializable (local, may be stale).
#pragma once

#include "chaosbench/targets/adapters/target.h"

namespace chaosbench::targets::adapters {

class EtcdTarget : public Target {
 public:
  // Throws std::invalid_argument for an unknown target argument.
  explicit EtcdTarget(const std::vector<std::string>& target_arguments);
  const std::string& name() const override;
  bool elects_leader() const override { return true; }
  std::string storage_glob(const std::string& file_class) const override {
    return file_class == "wal" ? "member/wal/*.wal" : file_class == "snapshot" ? "member/snap/*" : "*";
  }
  std::set<std::string> supported_operations() const override { return all_client_operations(); }
  std::vector<RequiredProgram> required_programs(const std::filesystem::path& refnode) const override;
  NodeLaunch launch(const NodeContext& node) const override;
  std::uint16_t client_port() const override { return 2379; }
  std::unique_ptr<Gateway> open_gateway(const NodeContext& node, const std::string& listen_address) const override;

 private:
  bool serializable_reads_ = false;
  std::vector<std::string> etcd_arguments_;  // other target arguments, passed to etcd
  static constexpr std::uint16_t kPeerPort = 2380;
};

}  // namespace chaosbench::targets::adapters
