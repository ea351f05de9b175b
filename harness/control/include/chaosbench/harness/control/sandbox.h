// The local sandbox cluster: inside a SandboxSession, one bridge plus one
// network namespace per node (n1..nN), each with a veth pair on the bridge and
// an address in a private subnet used only inside these namespaces. Hosts run
// commands and daemons inside their node's namespace. One Sandbox at a time per
// session; the hosts may be used from several threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chaosbench/harness/control/host.h"
#include "chaosbench/harness/control/sandbox_session.h"

namespace chaosbench::harness::control {

struct SandboxOptions {
  int nodes = 5;                   // 1..250; named n1..nN
  std::string bridge = "cb0";      // in the controller's (sandbox) network namespace
  std::string subnet = "10.77.0";  // /24: node i gets .i, the controller (bridge) .254
};

class Sandbox {
 public:
  // Builds the network: bridge, namespaces, veths, addresses, loopbacks, and an
  // /etc/hosts (bind-mounted, sandbox only) resolving n1..nN and "controller".
  // Throws ControlError naming the failing `ip` command.
  Sandbox(const SandboxSession& session, SandboxOptions options = {});
  ~Sandbox();  // teardown(); failures are printed to stderr (a destructor cannot throw)
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  const std::vector<std::shared_ptr<Host>>& hosts() const { return hosts_; }
  // Throws UnknownHost (listing the known names) for a name not in the sandbox.
  std::shared_ptr<Host> host(std::string_view name) const;
  // The controller's address on the bridge (clients connect from here).
  const std::string& controller_address() const { return controller_address_; }

  // Deletes the namespaces and the bridge and restores /etc/hosts. Daemons
  // still running keep their namespace alive until their handles are destroyed.
  // Idempotent; throws ControlError listing every step that failed.
  void teardown();

 private:
  SandboxOptions options_;
  std::string controller_address_;
  std::vector<std::shared_ptr<Host>> hosts_;
  bool hosts_file_mounted_ = false;
  int namespaces_created_ = 0;
  bool bridge_created_ = false;
  bool torn_down_ = false;
};

}  // namespace chaosbench::harness::control
