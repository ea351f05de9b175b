#include "raft/raft_protocol.h"

#include "raft/raft_server.h"

namespace chaosbench::raft {

bool RaftOptions::read_config_key(const std::string& key, const nlohmann::json& value) {
  if (key != "clock_drift_bound_ms") return false;
  clock_drift_bound_milliseconds = value.get<std::int64_t>();
  return true;
}

void RaftOptions::finish(const targets::NodeConfig& shared) {
  if (clock_drift_bound_milliseconds < 0 ||
      clock_drift_bound_milliseconds >= shared.election_ticks * shared.tick_milliseconds) {
    throw targets::ConfigError("clock drift bound must be below the minimum election timeout");
  }
}

targets::ProtocolEntry raft_protocol() {
  targets::ProtocolEntry entry;
  entry.name = "raft";
  entry.read_modes = {"read-index", "lease", "local"};
  entry.read_mode_help = "read-index (default, linearizable) | lease | local (stale by design)";
  entry.bugs = {
      {"no-vote-log-check", "grant votes without checking the candidate's log is up to date"},
      {"commit-previous-term", "commit entries of earlier terms by counting replicas (no election no-op)"},
      {"ack-before-fsync",
       "count the leader's own log and send AppendEntries responses before the fsync: a power loss loses "
       "committed entries"},
      {"lease-wall-clock", "measure the leader lease with the wall clock, so clock skew breaks it"},
      {"stale-follower-read", "followers answer reads from their local state"},
      {"unsupported-add",
       "answer every add with 'unsupported', as an adapter without the op would: a run that tests nothing"},
  };
  entry.make_options = [] { return std::make_unique<RaftOptions>(); };
  entry.make_node = [](boost::asio::io_context& io_context, const targets::NodeConfig& config,
                       const targets::ProtocolOptions* options, targets::Logger& logger) {
    return std::make_unique<RaftServer>(io_context, config, dynamic_cast<const RaftOptions&>(*options), logger);
  };
  return entry;
}

}  // namespace chaosbench::raft
