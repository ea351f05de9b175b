// Entering the local sandbox: the calling process moves into fresh user (caller
// mapped to root), mount, network and PID namespaces, as root or unprivileged.
// Call enter() first thing in main(), before any thread exists: it returns only
// in the controller inside the sandbox. Process layout (outside pid: P0):
//   P0  the process the user started: waits, forwards SIGTERM/SIGINT/SIGHUP sent
//       to it, exits with the controller's status (128+N if killed by signal N).
//   P1  PID 1 of the sandbox ("sandbox-init"): reaps orphans, exits when the
//       controller does; dies with P0 (PR_SET_PDEATHSIG).
//   P2  the controller: enter() returns here, with /proc remounted for the new
//       PID namespace and a private tmpfs on /run (for `ip netns`).
// When P1 exits or is SIGKILLed the kernel kills every process in the sandbox
// and its interfaces, namespaces and iptables rules vanish: nothing leaks.
#pragma once

#include <sys/types.h>

namespace chaosbench::harness::control {

class SandboxSession {
 public:
  // Throws SandboxUnavailable if the kernel forbids the namespaces (e.g.
  // unprivileged user namespaces disabled), ControlError for other failures
  // (called with threads running, mount failure). Errors raised before the
  // fork are thrown in the original process; after it, in the controller.
  static SandboxSession enter();

  uid_t outer_uid() const { return outer_uid_; }  // who started the harness
  gid_t outer_gid() const { return outer_gid_; }

 private:
  SandboxSession(uid_t uid, gid_t gid) : outer_uid_(uid), outer_gid_(gid) {}
  uid_t outer_uid_;
  gid_t outer_gid_;
};

}  // namespace chaosbench::harness::control
