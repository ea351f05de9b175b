// NodeConfig: everything refnode needs to start a node, from command-line
// flags and/or a JSON config file (flags win). parse_node_config throws
// ConfigError with a one-line message for any bad or missing setting; refnode
// prints it and exits with code 3.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace chaosbench::targets {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PeerAddress {
  std::string id;
  std::string host;
  std::uint16_t port = 0;
};

struct NodeConfig {
  std::string protocol;  // raft, zab or quorum
  std::string id;
  std::vector<PeerAddress> peers;  // every member including this node
  std::string client_host = "0.0.0.0";
  std::uint16_t client_port = 0;
  std::filesystem::path data_dir;
  std::string read_mode = "read-index";  // read-index | lease | local
  std::set<std::string> bugs;
  bool fsync = true;
  int tick_milliseconds = 10;
  int election_ticks = 30;  // 300-600 ms randomised election timeout
  int heartbeat_ticks = 5;
  std::int64_t clock_drift_bound_milliseconds = 50;
  std::uint64_t snapshot_every = 10000;  // applied entries between snapshots
  int request_timeout_milliseconds = 5000;
  // quorum (Dynamo-style): 0 for N means min(3, members), 0 for R/W a majority of N.
  int quorum_n = 0;
  int quorum_r = 0;
  int quorum_w = 0;
  bool sloppy_quorum = false;
  std::string conflict = "vector-clocks";  // vector-clocks | lww
  int virtual_nodes = 64;
  std::int64_t anti_entropy_interval_milliseconds = 10000;  // 0: never
  std::int64_t tombstone_grace_milliseconds = 600000;

  const PeerAddress& self() const;
  bool has_bug(const std::string& name) const { return bugs.count(name) != 0; }
};

// The bug names refnode accepts, with one-line descriptions (for --help).
const std::vector<std::pair<std::string, std::string>>& known_bugs();

// Parses "n1=host:port,n2=host:port".
std::vector<PeerAddress> parse_peer_list(const std::string& text);

// Returns the configuration, or throws ConfigError. Prints help and exits 0 for --help.
NodeConfig parse_node_config(int argc, const char* const* argv);

// Checks cross-field consistency (id among peers, ports, read mode, bugs).
void validate_node_config(const NodeConfig& config);

}  // namespace chaosbench::targets
