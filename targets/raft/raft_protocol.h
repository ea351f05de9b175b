// Raft's entry in refnode's protocol registry: its read modes, planted bugs,
// its own settings (the lease's clock-drift bound) and its node factory.
#pragma once

#include "runtime/protocol_registry.h"

namespace chaosbench::raft {

struct RaftOptions : targets::ProtocolOptions {
  std::int64_t clock_drift_bound_milliseconds = 50;  // --config key clock_drift_bound_ms

  void add_flags(CLI::App&) override {}
  bool read_config_key(const std::string& key, const nlohmann::json& value) override;
  void finish(const targets::NodeConfig& shared) override;
};

targets::ProtocolEntry raft_protocol();

}  // namespace chaosbench::raft
