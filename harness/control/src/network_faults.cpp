#include "chaosbench/harness/control/network_faults.h"

#include <sstream>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"

namespace chaosbench::harness::control {
namespace {

// -w: wait for the xtables lock when several rules change at once.
Command iptables(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"iptables", "-w", "5"});
  return Command(std::move(arguments)).with_timeout(std::chrono::seconds(15));
}

void ensure_chain(Host& host, const char* chain = kFirewallChain) {
  if (!host.run(iptables({"-n", "-L", chain})).succeeded()) host.run_checked(iptables({"-N", chain}));
  if (!host.run(iptables({"-C", "INPUT", "-j", chain})).succeeded())
    host.run_checked(iptables({"-I", "INPUT", "1", "-j", chain}));
}

}  // namespace

void drop_traffic_from(Host& host, const std::vector<std::string>& addresses) {
  ensure_chain(host);
  for (const std::string& address : addresses)
    host.run_checked(iptables({"-A", kFirewallChain, "-s", address, "-j", "DROP"}));
}

void drop_connections_opened_by(Host& host, const std::vector<std::string>& addresses) {
  ensure_chain(host);
  for (const std::string& address : addresses) {
    host.run_checked(
        iptables({"-A", kFirewallChain, "-s", address, "-m", "conntrack", "--ctdir", "REPLY", "-j", "RETURN"}));
    host.run_checked(iptables({"-A", kFirewallChain, "-s", address, "-j", "DROP"}));
  }
}

void track_connections(Host& host) {
  ensure_chain(host, kTrackingChain);
  const std::vector<std::string> counting = {kTrackingChain, "-m", "conntrack", "--ctdir", "ORIGINAL"};
  std::vector<std::string> check = {"-C"}, append = {"-A"};
  check.insert(check.end(), counting.begin(), counting.end());
  append.insert(append.end(), counting.begin(), counting.end());
  if (!host.run(iptables(check)).succeeded()) host.run_checked(iptables(append));
}

void drop_random_traffic(Host& host, double probability) {
  if (!(probability > 0.0 && probability <= 1.0))
    throw ControlError(fmt::format("{}: packet loss probability {} is outside (0, 1]", host.name(), probability));
  ensure_chain(host);
  host.run_checked(iptables({"-A", kFirewallChain, "-m", "statistic", "--mode", "random", "--probability",
                             fmt::format("{:.6f}", probability), "-j", "DROP"}));
}

void heal_network(Host& host) {
  ensure_chain(host);
  host.run_checked(iptables({"-F", kFirewallChain}));
}

void delay_traffic(Host& host, std::chrono::milliseconds delay, const std::string& device) {
  std::vector<std::string> argv = {
      "tc", "qdisc", "replace", "dev", device, "root", "netem", "delay", fmt::format("{}ms", delay.count())};
  CommandResult result = host.run(Command(argv).with_timeout(std::chrono::seconds(15)));
  if (result.succeeded()) return;
  if (result.err.find("qdisc kind is unknown") != std::string::npos) {
    throw FaultUnsupported(fmt::format("{}: packet delay is unsupported on this kernel (no netem qdisc): `{}`: {}",
                                       host.name(), format_command(argv), one_line(result.err)));
  }
  throw CommandFailed(fmt::format("{}: `{}` {}: {}", host.name(), format_command(argv), result.status.describe(),
                                  one_line(result.err.empty() ? result.out : result.err)));
}

void clear_delay(Host& host, const std::string& device) {
  CommandResult qdiscs = host.run_checked({"tc", "qdisc", "show", "dev", device, "root"});
  if (qdiscs.out.find("netem") == std::string::npos) return;
  host.run_checked({"tc", "qdisc", "del", "dev", device, "root"});
}

std::vector<std::string> firewall_rules(Host& host) {
  ensure_chain(host);
  CommandResult result = host.run_checked(iptables({"-S", kFirewallChain}));
  std::vector<std::string> rules;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("-A ", 0) == 0) rules.push_back(line);
  }
  return rules;
}

}  // namespace chaosbench::harness::control
