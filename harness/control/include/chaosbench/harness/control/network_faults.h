// Network faults on a host, applied through Host::run (so they act inside a
// sandbox node's namespace or on an SSH host): iptables DROP rules for
// partitions and random loss, all in one chain "chaosbench" jumped to first from
// INPUT so heal_network() removes exactly what was added; tc netem for delay.
// Errors: CommandFailed; FaultUnsupported when the kernel lacks the feature.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/host.h"

namespace chaosbench::harness::control {

inline constexpr const char* kFirewallChain = "chaosbench";

// The kernel (or host) cannot apply this fault, e.g. no netem qdisc. The run
// can warn and go on.
class FaultUnsupported : public ControlError {
 public:
  using ControlError::ControlError;
};

// Drops every packet arriving at host from each of the addresses.
void drop_traffic_from(Host& host, const std::vector<std::string>& addresses);

// Drops each arriving packet with the given probability (0 < p <= 1).
void drop_random_traffic(Host& host, double probability);

// Removes every rule added above (the chain stays, empty).
void heal_network(Host& host);

// Delays every packet leaving device by delay (tc netem, root qdisc). Throws
// FaultUnsupported if the kernel has no netem (as on these machines).
void delay_traffic(Host& host, std::chrono::milliseconds delay, const std::string& device = "eth0");
// Removes the netem qdisc added by delay_traffic; does nothing if there is none.
void clear_delay(Host& host, const std::string& device = "eth0");

// The current rules of the chain, one `iptables -S` line each (for tests and reports).
std::vector<std::string> firewall_rules(Host& host);

}  // namespace chaosbench::harness::control
