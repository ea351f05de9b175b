// The quorum KV's entry in refnode's protocol registry: its settings (N, R, W,
// sloppy quorum, conflict resolution, ring, anti-entropy, tombstones: flags and
// --config keys), planted bugs and node factory.
#pragma once

#include <cstdint>
#include <string>

#include "quorum/quorum_node.h"
#include "runtime/protocol_registry.h"

namespace chaosbench::quorum {

struct QuorumOptions : targets::ProtocolOptions {
  // 0 for N means min(3, members), 0 for R/W a majority of N.
  int replicas = 0;
  int read_quorum = 0;
  int write_quorum = 0;
  bool sloppy = false;
  std::string conflict = "vector-clocks";  // vector-clocks | lww
  int virtual_nodes = 64;
  std::int64_t anti_entropy_interval_milliseconds = 10000;  // 0: never
  std::int64_t tombstone_grace_milliseconds = 600000;

  void add_flags(CLI::App& app) override;
  bool read_config_key(const std::string& key, const nlohmann::json& value) override;
  void finish(const targets::NodeConfig& shared) override;

 private:
  // What the command line gave; copied over the file's values by finish().
  struct Flags {
    int replicas = 0, read_quorum = 0, write_quorum = 0, virtual_nodes = 0;
    bool sloppy = false;
    std::string conflict, anti_entropy_interval, tombstone_grace;
    CLI::App* app = nullptr;
  } flags_;
};

// The QuorumConfig these options and the shared flags describe (timing derived from the tick flags).
QuorumConfig make_quorum_config(const targets::NodeConfig& config, const QuorumOptions& options);

targets::ProtocolEntry quorum_protocol();

}  // namespace chaosbench::quorum
