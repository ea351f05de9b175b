// Hosts files: the SSH hosts of a run, as TOML `[[host]]` tables (name, address,
// port, user, key, password, agent, sudo, connect_timeout_ms, host_key,
// known_hosts, install_packages, programs; the last four also at the top level,
// for every host, a host's programs merged over the top level's). Bad input is a
// HostsFileError "FILE:LINE: host[i].key: what is wrong"; connect_all checks every
// host before anything starts and names each one that cannot be reached.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/ssh_host.h"

namespace chaosbench::harness::control {

// Malformed hosts file (user input: the CLI exits with code 3).
class HostsFileError : public ControlError {
 public:
  using ControlError::ControlError;
};

// Parses text (file_name is used in messages only). Relative key paths are
// resolved against the file's directory. Names and addresses must be unique.
std::vector<SshHostOptions> parse_hosts_file(std::string_view text, const std::filesystem::path& file_name);
std::vector<SshHostOptions> read_hosts_file(const std::filesystem::path& file);

// Builds the hosts and connects to all of them in parallel. Throws ControlError
// listing every host that failed ("cannot reach 2 of 5 hosts: n2 (...): ...; n4 ...").
std::vector<std::shared_ptr<SshHost>> connect_all(const std::vector<SshHostOptions>& hosts);

// One line on how the connected hosts' keys were taken, e.g. "verified for n1,
// n2 (~/.ssh/known_hosts); recorded for n3 in hosts/known_hosts (accept-new,
// first contact); not verified for n4 (host_key = "off")".
std::string describe_host_keys(const std::vector<std::shared_ptr<SshHost>>& hosts);

}  // namespace chaosbench::harness::control
