// NodeConfig: the settings every refnode protocol shares (identity, peers,
// ports, data directory, timing, bugs). A protocol's own settings live with the
// protocol (its ProtocolOptions); parse_node_config (protocol_registry.h) reads
// both. A bad setting is a ConfigError with a one-line message (exit code 3).
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
  std::string protocol;  // a name in the registry refnode was built with
  std::string id;
  std::vector<PeerAddress> peers;  // every member including this node
  std::string client_host = "0.0.0.0";
  std::uint16_t client_port = 0;
  std::filesystem::path data_dir;
  std::string read_mode;  // one of the protocol's read modes; its first when not given
  std::set<std::string> bugs;
  std::vector<std::string> failpoints;  // NAME=ACTION, armed at start (runtime/failpoints.h)
  bool fsync = true;
  int tick_milliseconds = 10;
  int election_ticks = 30;  // 300-600 ms randomised election timeout
  int heartbeat_ticks = 5;
  std::uint64_t snapshot_every = 10000;  // applied entries between snapshots
  int request_timeout_milliseconds = 5000;

  const PeerAddress& self() const;
  bool has_bug(const std::string& name) const { return bugs.count(name) != 0; }
};

// Parses "n1=host:port,n2=host:port".
std::vector<PeerAddress> parse_peer_list(const std::string& text);

// A TCP port 1-65535; ConfigError naming `what` otherwise.
std::uint16_t parse_port(const std::string& text, const std::string& what);

// "250ms", "10s", "5m" or a bare number of milliseconds; ConfigError naming `what` otherwise.
std::int64_t parse_duration_milliseconds(const std::string& text, const std::string& what);

}  // namespace chaosbench::targets
