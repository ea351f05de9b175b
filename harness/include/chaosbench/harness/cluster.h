// The deployed cluster: one node of the Target (targets/adapters) per Host, its
// data dir and log under the run's store (nodes/<n>/{data,log}) or, on SSH hosts,
// under a remote directory (logs copied back at the end), optionally under
// libfaketime; for real systems, a client-protocol gateway per node in the
// controller. Implements the nemesis's NemesisTarget (kill/restart/pause/resume,
// leader). Thread-safe: clients, the nemesis and the run loop may use it together.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/host.h"
#include "chaosbench/nemesis/nemesis_target.h"
#include "chaosbench/targets/adapters/target.h"

namespace chaosbench::harness {

struct ClusterOptions {
  std::filesystem::path refnode;              // the reference node executable
  std::filesystem::path nodes_directory;      // <run>/nodes
  bool faketime = false;                      // start nodes under libfaketime (clock faults)
  std::string gateway_address = "127.0.0.1";  // where real-system gateways listen (controller side)
  // SSH hosts: non-empty puts node n's directory at <remote_nodes_directory>/<n>
  // on its host (created there), runs refnode from remote_refnode (see
  // install_refnode), and reads logs through the host; collect_logs() copies
  // them into nodes_directory. Empty: the nodes share this machine's filesystem.
  std::filesystem::path remote_nodes_directory;
  std::filesystem::path remote_refnode;
  // Non-empty: faultfs (this executable) is mounted over each node's data
  // directory before the node first starts, for storage faults; its log is
  // nodes/<n>/faultfs.log. Unmounted by stop_all(); in the sandbox the mount
  // and its process also end with the sandbox. On SSH hosts it runs from
  // remote_faultfs (install_faultfs) in a user and mount namespace of its own,
  // which the node joins: the mount ends with faultfs, however faultfs ends.
  std::filesystem::path faultfs;
  std::filesystem::path remote_faultfs;
  // Non-empty (and the target has a peer_port): a linkproxy (this executable)
  // runs beside each node, started before the nodes, and the node reaches
  // every peer through it (link toxics); its log is nodes/<n>/linkproxy.log.
  // On SSH hosts it runs from remote_linkproxy (install_linkproxy).
  std::filesystem::path linkproxy;
  std::filesystem::path remote_linkproxy;
  std::uint64_t faultfs_seed = 1;           // node i's faultfs draws from faultfs_seed + i
  std::string faultfs_metadata = "strict";  // faultfs --metadata
};

struct NodeEndpoint {
  std::string name;
  std::string address;
  std::uint16_t port = 0;
};

// A node process (or one of its companions, such as a Redis Sentinel) that
// exited although nothing here stopped it.
struct NodeExit {
  std::string node;
  control::ExitStatus status;
  std::string companion;  // the companion's name; "" for the node itself
};

class Cluster : public nemesis::NemesisTarget {
 public:
  Cluster(std::vector<std::shared_ptr<control::Host>> hosts, std::shared_ptr<const targets::adapters::Target> target,
          ClusterOptions options);
  ~Cluster() override;  // kills every node still running

  void start_all();
  // Remote hosts only: puts the refnode executable at remote_refnode on every
  // host unless an identical copy (same SHA-256) is there. Returns a one-line
  // summary ("uploaded to n1; identical copy on n2, n3"). Throws ControlError.
  std::string install_refnode();
  // Remote hosts, real systems: every program the target runs is on every
  // host: at the path the hosts file gives (then used in the node's command
  // lines), or at its usual path, or installed there with apt-get (in parallel,
  // unless the host says install_packages = false). Says on `out` what it
  // installed and which paths it took; ControlError naming the host, the
  // program and its Debian package otherwise.
  void check_programs(std::ostream& out);
  // Remote hosts with faultfs only: installs it at remote_faultfs the same way,
  // then checks that each host can run it (/dev/fuse, libfuse3, unshare and
  // nsenter): a host that cannot is a ControlError naming what is missing.
  std::string install_faultfs();
  // Remote hosts with link proxies only: installs linkproxy at remote_linkproxy the same way.
  std::string install_linkproxy();
  // The first port of the node's link proxy: it forwards 127.0.0.1:(this + j) to node j.
  static constexpr std::uint16_t kLinkProxyBasePort = 17000;
  // Remote hosts only: copies every node's log into nodes_directory/<n>/log,
  // its companions', faultfs's, linkproxy's and the lease supervisor's logs
  // beside it, and a listing of its data directory as <n>/data-listing.
  // Returns one line per file that could not be copied (empty: all copied).
  std::vector<std::string> collect_logs();
  // Remote hosts only: removes every node's directory (data and log) on its host,
  // then the run directory if it is empty. Returns one line per failure.
  std::vector<std::string> remove_node_directories();
  // Leaves the nodes running after this Cluster is gone (--leave-db-running).
  // Throws ControlError if a host cannot leave processes behind (the sandbox).
  void leave_running();
  // Until every node answers `status` and, when the target elects one, one is
  // leader. Throws ControlError naming the nodes that did not come up, with the
  // tail of their logs.
  void wait_until_ready(std::chrono::milliseconds timeout);
  // Until some node answers as leader (at once for leaderless targets); false at the timeout.
  bool wait_for_leader(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after grace. Resumes paused nodes first. Then
  // unmounts faultfs, so that each data directory holds its files again.
  void stop_all(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // The nodes whose process has exited since the last call, although no kill
  // or stop here ended it (a crash, a fail-stop, a failpoint's crash). Each is
  // reaped and dropped, so a later restart starts it again.
  std::vector<NodeExit> collect_exits();

  const targets::adapters::Target& target() const { return *target_; }
  // Where clients speak the client protocol: the node itself, or its gateway.
  std::vector<NodeEndpoint> endpoints() const;
  nlohmann::json layout() const;  // for test.json
  std::string log_tail(const std::string& node, std::size_t lines = 10) const;

  std::vector<std::string> node_names() const override;
  control::Host& host(const std::string& node) override;
  std::shared_ptr<control::Host> shared_host(const std::string& node) const;
  void kill(const std::string& node) override;
  void restart(const std::string& node) override;
  void pause(const std::string& node) override;
  void resume(const std::string& node) override;
  std::optional<std::string> leader() override;
  std::optional<nlohmann::json> status(const std::string& node) override;  // nullopt at once when paused
  std::optional<std::filesystem::path> clock_file(const std::string& node) const override;
  void set_failpoint(const std::string& node, const std::string& point, const std::string& action) override;
  nlohmann::json storage_fault(const std::string& node, const nlohmann::json& request) override;
  bool has_link_proxies() const override { return link_proxies_; }
  nlohmann::json link_toxics(const std::string& node, const nlohmann::json& request) override;

 private:
  struct Node {
    std::shared_ptr<control::Host> host;
    targets::adapters::NodeLaunch launch;
    control::DaemonSpec spec;
    std::unique_ptr<control::Daemon> daemon;
    std::vector<control::DaemonSpec> companion_specs;  // one per launch.companions
    std::vector<std::unique_ptr<control::Daemon>> companions;
    std::vector<bool> companion_exit_reported;  // one per companion: collect_exits() has reported it
    bool started_once = false;                  // its written_once files are in place
    std::unique_ptr<targets::adapters::Gateway> gateway;
    NodeEndpoint endpoint;
    bool paused = false;
    std::filesystem::path node_directory;
    std::filesystem::path data_directory;
    std::unique_ptr<control::Daemon> faultfs;  // mounted over data_directory
    std::filesystem::path faultfs_socket;
    control::DaemonSpec link_proxy_spec;          // when the run has link proxies
    std::unique_ptr<control::Daemon> link_proxy;  // started once, before the node
    std::filesystem::path link_proxy_socket;
    std::mutex mutex;
  };
  Node& node(const std::string& name) const;
  void start_locked(Node& node);
  void mount_faultfs_locked(Node& node);
  std::uint64_t node_index(const Node& node) const;
  // Starts a helper of node (faultfs, linkproxy) and waits up to 10 s for its
  // control socket to answer `status`; otherwise throws ControlError
  // "<node>: <failure>: <its log's last line, or why it did not answer>".
  std::unique_ptr<control::Daemon> start_controlled_locked(Node& node, const control::DaemonSpec& spec,
                                                           const std::filesystem::path& program,
                                                           const std::filesystem::path& socket, const std::string& what,
                                                           const std::string& failure);
  // SIGTERM to every node's `helper` daemon, SIGKILL after 5 s.
  void stop_helpers(std::unique_ptr<control::Daemon> Node::*helper);
  // One request to a control socket through `program control SOCKET REQUEST` on the node's host.
  nlohmann::json ask_control(Node& node, const std::filesystem::path& program, const std::filesystem::path& socket,
                             const nlohmann::json& request, const std::string& what,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool remote() const { return !options_.remote_nodes_directory.empty(); }
  // Puts `local` at `remote_path` on every host unless an identical copy is there.
  std::string install_executable(const std::filesystem::path& local, const std::filesystem::path& remote_path);
  const std::filesystem::path& faultfs_program() const { return remote() ? options_.remote_faultfs : options_.faultfs; }
  // Where node's faultfs (remote hosts) writes the PID whose namespaces the node joins.
  static std::filesystem::path faultfs_pid_file(const Node& node) { return node.node_directory / "faultfs.pid"; }

  std::shared_ptr<const targets::adapters::Target> target_;
  ClusterOptions options_;
  bool link_proxies_ = false;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace chaosbench::harness
