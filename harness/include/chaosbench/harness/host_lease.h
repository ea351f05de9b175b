// The controller's lease on SSH hosts: a small supervisor (a shell script) runs
// in each node's directory on its host, and the controller rewrites that
// directory's `lease` file every fifth of the lease. When the file goes
// unchanged for the whole lease (the controller was SIGKILLed, hung or lost the
// host), the supervisor kills every process group the run started there (its
// pid files), removes the node's iptables chains and what is mounted under the
// directory, writes `lapsed`, and exits. Ending the lease (end(), or the
// destructor) stops the supervisors first, so they kill nothing. Thread-safe.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chaosbench/harness/control/host.h"

namespace chaosbench::harness {

struct LeasedNode {
  std::shared_ptr<control::Host> host;
  std::filesystem::path directory;  // the node's directory on the host (it exists)
};

class HostLease {
 public:
  // Writes each first lease, starts each supervisor (chains: Host::firewall_chain
  // and its tracking chain, recorded in <directory>/chains for harness cleanup)
  // and starts renewing. Throws ControlError when a supervisor cannot start.
  HostLease(std::vector<LeasedNode> nodes, std::chrono::milliseconds lease);
  ~HostLease();
  HostLease(const HostLease&) = delete;
  HostLease& operator=(const HostLease&) = delete;

  // Ends the supervisors (they end nothing else), then stops renewing. Idempotent.
  void end();
  // One line for each node whose supervisor found the lease lapsed since the
  // last call ("n2: the controller's lease lapsed: ..."): its processes are gone.
  std::vector<std::string> take_lapses();

 private:
  struct Supervised {
    LeasedNode node;
    std::unique_ptr<control::Daemon> supervisor;
    std::jthread renewer;
  };
  void renew(Supervised& supervised, std::stop_token stop);

  std::chrono::milliseconds lease_;
  std::vector<std::unique_ptr<Supervised>> supervised_;
  std::mutex mutex_;
  std::vector<std::string> lapses_;
};

}  // namespace chaosbench::harness
