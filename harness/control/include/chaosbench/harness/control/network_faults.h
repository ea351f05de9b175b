// Network faults as iptables rules on a host (run through Host::run, so they
// act inside a sandbox node's namespace or on an SSH host). All rules live in
// one chain, "chaosbench", jumped to first from INPUT, so heal() removes exactly
// what these functions added and nothing else. Errors: CommandFailed.
#pragma once

#include <string>
#include <vector>

#include "chaosbench/harness/control/host.h"

namespace chaosbench::harness::control {

inline constexpr const char* kFirewallChain = "chaosbench";

// Drops every packet arriving at host from each of the addresses.
void drop_traffic_from(Host& host, const std::vector<std::string>& addresses);

// Drops each arriving packet with the given probability (0 < p <= 1).
void drop_random_traffic(Host& host, double probability);

// Removes every rule added above (the chain stays, empty).
void heal_network(Host& host);

// The current rules of the chain, one `iptables -S` line each (for tests and reports).
std::vector<std::string> firewall_rules(Host& host);

}  // namespace chaosbench::harness::control
