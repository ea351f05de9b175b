// Target: what a system under test needs from the controller, per node: the
// daemon to start (argv, environment, config files to write on the node), where
// its client-protocol endpoint is, and whether it elects a leader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chaosbench/targets/adapters/gateway.h"

namespace chaosbench::targets::adapters {

struct NodeAddress {
  std::string name;     // n1..nN
  std::string address;  // where peers and clients reach it
};

// Everything a Target needs to describe one node of the cluster.
struct NodeContext {
  int index = 0;  // 0-based position of this node in `nodes`
  std::vector<NodeAddress> nodes;
  std::filesystem::path node_directory;  // nodes/<n>: holds data/ and log
  std::filesystem::path refnode;         // the reference node executable
  // Non-zero: the node's link proxy forwards 127.0.0.1:(this + j) to node j's
  // peer port, and the node must reach every peer j there (Target::peer_port).
  std::uint16_t link_proxy_base_port = 0;
  const NodeAddress& self() const { return nodes.at(static_cast<std::size_t>(index)); }
  std::filesystem::path data_directory() const { return node_directory / "data"; }
};

// A file the controller writes on the node (Host::write_file) before each start.
// written_once: only before the node's first start, because the daemon rewrites
// it and must find its own version after a restart (Redis CONFIG REWRITE, Sentinel).
struct ConfigFile {
  std::filesystem::path path;
  std::string contents;
  bool written_once = false;
};

// A second daemon of the node (e.g. Redis Sentinel beside redis-server): started
// after the main daemon when the cluster starts, with its own PID and its log in
// nodes/<n>/<name>.log, under the node's libfaketime clock, stopped at teardown.
// The kill and pause nemeses act on the main daemon only: a companion runs for
// the whole run. Its files are written once, before it starts.
struct CompanionLaunch {
  std::string name;
  std::vector<std::string> argv;
  std::map<std::string, std::string> environment;
  std::vector<ConfigFile> files;
};

struct NodeLaunch {
  std::vector<std::string> argv;
  std::map<std::string, std::string> environment;
  std::vector<ConfigFile> files;
  std::vector<CompanionLaunch> companions;
};

// A program the target runs, the Debian package that provides it, and the
// service that package starts on the system's ports (stopped and disabled
// where the harness installs the package, so that the run's own nodes get them).
struct RequiredProgram {
  std::filesystem::path program;
  std::string debian_package;  // empty: built by this project
  std::string debian_service;  // empty: the package starts none
};

// Every client-protocol op that changes or reads data: read, write, cas, append, add, delete, txn.
inline std::set<std::string> all_client_operations() {
  return {"read", "write", "cas", "append", "add", "delete", "txn"};
}

class Target {
 public:
  virtual ~Target() = default;
  virtual const std::string& name() const = 0;
  // Readiness waits for a leader only when this is true; the nemesis's
  // isolate-leader shape and the report use the `status` role.
  virtual bool elects_leader() const = 0;
  // The client-protocol ops (DESIGN.md) this target serves: read, write, cas,
  // append, add, delete, txn. A workload that needs another is refused before deploying.
  virtual std::set<std::string> supported_operations() const = 0;
  // The node answers refnode's `failpoint` request (the failpoint nemesis).
  virtual bool has_failpoints() const { return false; }
  // The node's files of a class ("wal", "snapshot"), as a glob relative to its
  // data directory, for the corrupt fault; "*" (every file) where unknown.
  virtual std::string storage_glob(const std::string& /*file_class*/) const { return "*"; }
  virtual std::vector<RequiredProgram> required_programs(const std::filesystem::path& refnode) const = 0;
  virtual NodeLaunch launch(const NodeContext& node) const = 0;
  // The node's own client port when it speaks the client protocol itself
  // (reference nodes); for real systems the port of its native client API.
  virtual std::uint16_t client_port() const = 0;
  // The port its peers connect to, when the node can reach them through a link
  // proxy (NodeContext::link_proxy_base_port); nullopt: no link proxy (real
  // systems: their peer URLs are part of the cluster's identity).
  virtual std::optional<std::uint16_t> peer_port() const { return std::nullopt; }
  // Real systems: a gateway in the controller, listening on listen_address,
  // that speaks the client protocol and translates for this node. nullptr:
  // the node speaks the client protocol at address:client_port() itself.
  virtual std::unique_ptr<Gateway> open_gateway(const NodeContext& node, const std::string& listen_address) const = 0;
};

}  // namespace chaosbench::targets::adapters
