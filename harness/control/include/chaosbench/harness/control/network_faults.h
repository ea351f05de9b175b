// Network faults on a host, applied through Host::run (so they act inside a
// sandbox node's namespace or on an SSH host): iptables DROP rules for
// partitions and random loss, all in the host's chain (Host::firewall_chain,
// "chaosbench" by default) jumped to first from INPUT, so heal_network()
// removes exactly what was added; tc netem for delay.
// Errors: CommandFailed; FaultUnsupported when the kernel lacks the feature.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/host.h"

namespace chaosbench::harness::control {

// The chains of a host whose chain was never set (Host::firewall_chain).
inline constexpr const char* kFirewallChain = "chaosbench";
inline constexpr const char* kTrackingChain = "chaosbench-tracking";

// The tracking chain that goes with a host's chain: "<chain>-tracking".
std::string tracking_chain(const Host& host);

// A chain name of a run's own, "chaosbench-" and 8 hex digits of a hash of
// scope (e.g. the node's directory on the host): at most 28 characters with
// its tracking chain, iptables' limit.
std::string run_chain_name(const std::string& scope);

// The kernel (or host) cannot apply this fault, e.g. no netem qdisc. The run
// can warn and go on.
class FaultUnsupported : public ControlError {
 public:
  using ControlError::ControlError;
};

// Drops every packet arriving at host from each of the addresses.
void drop_traffic_from(Host& host, const std::vector<std::string>& addresses);

// A one-way cut: drops what arrives from each address except packets of
// connections host opened itself (conntrack's reply direction), so the peer
// hears host on host's connections and host does not hear the peer on the
// peer's. For refnode (each side sends on the connection it opened) that is
// "host does not hear the peer"; for request/response protocols it is "host
// answers nothing the peer asks". track_connections() must have run on host
// before the connections opened, or conntrack picks them up mid-stream.
void drop_connections_opened_by(Host& host, const std::vector<std::string>& addresses);

// Makes the kernel track host's connections from now on (a counting conntrack
// rule in its own chain tracking_chain(host), which heal_network leaves).
// Idempotent; run before the nodes start when a run may cut links one way.
void track_connections(Host& host);

// Drops each arriving packet with the given probability (0 < p <= 1).
void drop_random_traffic(Host& host, double probability);

// Removes every rule added above (the chain stays, empty).
void heal_network(Host& host);

// Removes both chains of the host and their jumps from INPUT, where they
// exist: what a run on a shared (SSH) host does at its end. Idempotent.
void remove_chains(Host& host);

// Delays every packet leaving device by delay (tc netem, root qdisc). Throws
// FaultUnsupported if the kernel has no netem (as on these machines).
void delay_traffic(Host& host, std::chrono::milliseconds delay, const std::string& device = "eth0");
// Removes the netem qdisc added by delay_traffic; does nothing if there is none.
void clear_delay(Host& host, const std::string& device = "eth0");

// The current rules of the chain, one `iptables -S` line each (for tests and reports).
std::vector<std::string> firewall_rules(Host& host);

}  // namespace chaosbench::harness::control
