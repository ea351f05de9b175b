// Redis + Sentinel (Debian redis-server, redis-sentinel) as a Target: n1 primary,
// the others its replicas, a Sentinel companion per node; the gateway sends each
// op to the primary the node's Sentinel names (hiredis): SET/GET, RPUSH for
// append, INCRBY for add, DEL, a Lua script for cas, WATCH/MULTI/EXEC for txn.
// Target arguments:
// --min-replicas-to-write=N, --min-replicas-max-lag=SECONDS (default 10).
#pragma once

#include "chaosbench/targets/adapters/target.h"

namespace chaosbench::targets::adapters {

class RedisTarget : public Target {
 public:
  // Throws std::invalid_argument for an unknown target argument.
  explicit RedisTarget(const std::vector<std::string>& target_arguments);
  const std::string& name() const override;
  bool elects_leader() const override { return true; }
  // The append-only file's pieces; the RDB snapshot.
  std::string storage_glob(const std::string& file_class) const override {
    return file_class == "wal" ? "appendonlydir/*" : file_class == "snapshot" ? "*.rdb" : "*";
  }
  std::set<std::string> supported_operations() const override { return all_client_operations(); }
  std::vector<RequiredProgram> required_programs(const std::filesystem::path& refnode) const override;
  NodeLaunch launch(const NodeContext& node) const override;
  std::uint16_t client_port() const override { return kRedisPort; }
  std::unique_ptr<Gateway> open_gateway(const NodeContext& node, const std::string& listen_address) const override;

  static constexpr std::uint16_t kRedisPort = 6379;
  static constexpr std::uint16_t kSentinelPort = 26379;
  static constexpr const char* kMasterName = "chaosbench";  // the name Sentinel monitors the primary under

 private:
  int min_replicas_to_write_ = 0;
  int min_replicas_max_lag_ = 10;
  std::string appendfsync_ = "everysec";  // --appendfsync=always|everysec|no
};

}  // namespace chaosbench::targets::adapters
