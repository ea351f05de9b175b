#include "chaosbench/harness/control/network_faults.h"

#include <cstdint>
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

void ensure_chain(Host& host, const std::string& chain) {
  if (!host.run(iptables({"-n", "-L", chain})).succeeded()) host.run_checked(iptables({"-N", chain}));
  if (!host.run(iptables({"-C", "INPUT", "-j", chain})).succeeded())
    host.run_checked(iptables({"-I", "INPUT", "1", "-j", chain}));
}

void ensure_chain(Host& host) { ensure_chain(host, host.firewall_chain()); }

}  // namespace

std::string tracking_chain(const Host& host) { return host.firewall_chain() + "-tracking"; }

std::string run_chain_name(const std::string& scope) {
  std::uint32_t hash = 2166136261u;  // FNV-1a: the same name from every build
  for (const unsigned char byte : scope) hash = (hash ^ byte) * 16777619u;
  return fmt::format("chaosbench-{:08x}", hash);
}

void drop_traffic_from(Host& host, const std::vector<std::string>& addresses) {
  ensure_chain(host);
  for (const std::string& address : addresses)
    host.run_checked(iptables({"-A", host.firewall_chain(), "-s", address, "-j", "DROP"}));
}

void drop_connections_opened_by(Host& host, const std::vector<std::string>& addresses) {
  ensure_chain(host);
  for (const std::string& address : addresses) {
    host.run_checked(
        iptables({"-A", host.firewall_chain(), "-s", address, "-m", "conntrack", "--ctdir", "REPLY", "-j", "RETURN"}));
    host.run_checked(iptables({"-A", host.firewall_chain(), "-s", address, "-j", "DROP"}));
  }
}

void track_connections(Host& host) {
  const std::string chain = tracking_chain(host);
  ensure_chain(host, chain);
  const std::vector<std::string> counting = {chain, "-m", "conntrack", "--ctdir", "ORIGINAL"};
  std::vector<std::string> check = {"-C"}, append = {"-A"};
  check.insert(check.end(), counting.begin(), counting.end());
  append.insert(append.end(), counting.begin(), counting.end());
  if (!host.run(iptables(check)).succeeded()) host.run_checked(iptables(append));
}

void drop_random_traffic(Host& host, double probability) {
  if (!(probability > 0.0 && probability <= 1.0))
    throw ControlError(fmt::format("{}: packet loss probability {} is outside (0, 1]", host.name(), probability));
  ensure_chain(host);
  host.run_checked(iptables({"-A", host.firewall_chain(), "-m", "statistic", "--mode", "random", "--probability",
                             fmt::format("{:.6f}", probability), "-j", "DROP"}));
}

void heal_network(Host& host) {
  ensure_chain(host);
  host.run_checked(iptables({"-F", host.firewall_chain()}));
}

void remove_chains(Host& host) {
  for (const std::string& chain : {host.firewall_chain(), tracking_chain(host)}) {
    if (!host.run(iptables({"-n", "-L", chain})).succeeded()) continue;
    while (host.run(iptables({"-D", "INPUT", "-j", chain})).succeeded()) {
    }
    host.run_checked(iptables({"-F", chain}));
    host.run_checked(iptables({"-X", chain}));
  }
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
  CommandResult result = host.run_checked(iptables({"-S", host.firewall_chain()}));
  std::vector<std::string> rules;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("-A ", 0) == 0) rules.push_back(line);
  }
  return rules;
}

}  // namespace chaosbench::harness::control
