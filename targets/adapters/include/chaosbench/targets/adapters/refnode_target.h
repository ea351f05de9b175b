// The reference nodes (refnode --protocol raft|zab|quorum) as a Target: they
// speak the client protocol themselves, so no gateway; raft and zab elect a
// leader, quorum (role "replica") does not. Target arguments go to refnode.
#pragma once

#include "chaosbench/targets/adapters/target.h"

namespace chaosbench::targets::adapters {

class RefnodeTarget : public Target {
 public:
  RefnodeTarget(std::string protocol, std::vector<std::string> refnode_arguments);
  const std::string& name() const override { return protocol_; }
  bool elects_leader() const override { return protocol_ != "quorum"; }
  bool has_failpoints() const override { return true; }
  // wal.log (raft, zab) or quorum.wal; snapshot.bin.
  std::string storage_glob(const std::string& file_class) const override {
    return file_class == "wal" ? "*wal*" : file_class == "snapshot" ? "snapshot.bin*" : "*";
  }
  // quorum: no cas or txn (they need consensus; the node answers "unsupported").
  std::set<std::string> supported_operations() const override;
  std::vector<RequiredProgram> required_programs(const std::filesystem::path& refnode) const override;
  NodeLaunch launch(const NodeContext& node) const override;
  std::uint16_t client_port() const override { return 8000; }
  std::optional<std::uint16_t> peer_port() const override { return kPeerPort; }
  std::unique_ptr<Gateway> open_gateway(const NodeContext&, const std::string&) const override { return nullptr; }

 private:
  std::string protocol_;
  std::vector<std::string> refnode_arguments_;
  static constexpr std::uint16_t kPeerPort = 7000;
};

}  // namespace chaosbench::targets::adapters
