// Test helpers for process tests: RefnodeCluster starts real refnode
// processes on 127.0.0.1 (ports picked by the kernel, data dirs under a fresh
// temporary directory), signals them by PID and SIGKILLs whatever is still
// running when destroyed (used by the process tests and by cluster_bench).
// LineClient is the protocol's BlockingClient. Failures throw
// std::runtime_error with the reason.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chaosbench/targets/protocol/blocking_client.h"

namespace chaosbench::testing {

// The client protocol's blocking client (targets/protocol), by its tests' name.
using LineClient = targets::protocol::BlockingClient;

std::uint16_t pick_free_port();

// build/bin/refnode of the build these tests belong to.
std::filesystem::path refnode_binary();

class RefnodeCluster {
 public:
  // `binary`: the refnode to run; `data_parent`: where the cluster's temporary directory goes.
  RefnodeCluster(int size, std::vector<std::string> extra_arguments = {}, std::string protocol = "raft",
                 std::filesystem::path binary = refnode_binary(), const std::filesystem::path& data_parent = "/tmp");
  ~RefnodeCluster();

  int size() const { return static_cast<int>(nodes_.size()); }
  void start(int node);
  void start_all();
  void signal(int node, int signal_number);
  void kill(int node);  // SIGKILL and reap
  // Restarts a killed node. Its ports were picked once; while it was down another
  // process's outgoing connection may briefly hold one of them as an ephemeral
  // port, so a restart that exits at once (bind failure) is retried (5 times).
  void restart_retrying(int node);
  bool running(int node) const { return nodes_[node].pid > 0; }
  pid_t pid(int node) const { return nodes_[node].pid; }
  void wipe_data(int node);
  std::filesystem::path data_dir(int node) const { return root_ / id(node); }
  // Waits for a node to exit by itself; returns its exit code (-1 if killed by a signal).
  int wait_for_exit(int node, std::chrono::milliseconds timeout);
  std::uint16_t client_port(int node) const { return nodes_[node].client_port; }
  std::uint16_t peer_port(int node) const { return nodes_[node].peer_port; }
  // The other nodes (started after this call) reach `node` at `port`, e.g. a
  // test proxy in front of its peer_port; the node itself still listens on peer_port.
  void advertise_peer_port(int node, std::uint16_t port) { nodes_[node].advertised_peer_port = port; }
  std::string id(int node) const { return "n" + std::to_string(node + 1); }
  int index_of(const std::string& id) const { return std::stoi(id.substr(1)) - 1; }
  std::filesystem::path log_path(int node) const;
  std::string log_text(int node) const;
  // Status of a node, or nullopt if it does not answer.
  std::optional<nlohmann::json> status(int node);
  // Waits until some running node reports itself leader (ZAB: leading and
  // serving); returns its index.
  int wait_for_leader(std::chrono::milliseconds timeout, std::optional<int> excluding = std::nullopt);
  // Sends a write to the leader, following not_leader hints until it is acknowledged.
  nlohmann::json write(const std::string& key, const nlohmann::json& value,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  nlohmann::json request_leader(nlohmann::json request, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  struct Node {
    std::uint16_t peer_port = 0;
    std::uint16_t advertised_peer_port = 0;  // 0: peer_port
    std::uint16_t client_port = 0;
    pid_t pid = -1;
  };
  std::vector<std::string> arguments_for(int node) const;

  std::filesystem::path root_;
  std::vector<Node> nodes_;
  std::vector<std::string> extra_arguments_;
  std::string protocol_;
  std::filesystem::path binary_;
};

}  // namespace chaosbench::testing
