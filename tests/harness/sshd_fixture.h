// Real sshd on sandbox nodes, for the SSH tests: generated keys and sshd files
// in a directory, sshd started on a node as uid 1000 ("cbuser") of a nested user
// namespace (user namespaces forbid sshd's privilege-separation setgroups).
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/host.h"
#include "chaosbench/harness/control/process.h"
#include "chaosbench/harness/control/ssh_host.h"

namespace sshd_fixture {

inline constexpr const char* kUser = "cbuser";  // uid 1000 in sshd's user namespace
// Password "secret" (SHA-512 crypt).
inline constexpr const char* kPasswordHash =
    "$6$8WncW5v3k6MYVsKj$40WC.ZIPYV.Gg9LEqryxDPDdAnoEoPDnvUc626SXF8pg6l57QkElXEMhu.ixGNNS/k30ewbo6jd1jWlK6.FVJ1";

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream output(path);
  output << text;
  if (!output) throw std::runtime_error("cannot write " + path.string());
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream input(path);
  std::ostringstream text;
  text << input.rdbuf();
  return text.str();
}

// In directory: host_key, user_key(.pub), wrong_key(.pub), passwd, group, shadow
// (readable: sshd runs without root) and sshd_config (port 22, keys of user_key.pub).
inline void write_sshd_files(const std::filesystem::path& directory) {
  using namespace std::chrono_literals;
  namespace control = chaosbench::harness::control;
  for (const char* key : {"host_key", "user_key", "wrong_key"}) {
    auto result = control::run_local(
        {{"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (directory / key).string()}, {}, {}, {}}, 30s, "test");
    if (!result.succeeded()) throw std::runtime_error("ssh-keygen failed: " + result.err);
  }
  write_text(directory / "passwd", fmt::format("{}:x:1000:1000::{}:/bin/sh\n", kUser, directory.string()));
  write_text(directory / "group", fmt::format("{}:x:1000:\n", kUser));
  write_text(directory / "shadow", fmt::format("{}:{}:19000:0:99999:7:::\n", kUser, kPasswordHash));
  ::chmod((directory / "shadow").c_str(), 0644);
  write_text(directory / "sshd_config",
             fmt::format("Port 22\nHostKey {0}/host_key\nAuthorizedKeysFile {0}/user_key.pub\n"
                         "PidFile none\nUsePAM no\nStrictModes no\n"
                         "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nSubsystem sftp internal-sftp\n",
                         directory.string()));
}

// A stand-in `sudo` in bin_directory: demands -n, appends the command to log_file,
// then `exec <run_prefix> "$@"` (run_prefix empty: runs it as the caller).
inline void write_stand_in_sudo(const std::filesystem::path& bin_directory, const std::filesystem::path& log_file,
                                const std::string& run_prefix = "") {
  std::filesystem::create_directories(bin_directory);
  write_text(bin_directory / "sudo",
             fmt::format("#!/bin/sh\n[ \"$1\" = -n ] || {{ echo 'sudo: expected -n' >&2; exit 1; }}\nshift\n"
                         "echo \"$*\" >> {}\nexec {}\"$@\"\n",
                         log_file.string(), run_prefix.empty() ? "" : run_prefix + " "));
  ::chmod((bin_directory / "sudo").c_str(), 0755);
}

// Starts sshd on node (listening on address:22) with directory's files, /etc's
// passwd, group and shadow replaced by them and bin_directory mounted on
// /usr/local/bin (first on sshd's PATH) in a private mount namespace, after
// the shell commands `more_mounts` (empty, or ending in "&& ").
inline std::unique_ptr<chaosbench::harness::control::Daemon> start_sshd(chaosbench::harness::control::Host& node,
                                                                        const std::filesystem::path& directory,
                                                                        const std::filesystem::path& bin_directory,
                                                                        const std::filesystem::path& log_file,
                                                                        const std::string& more_mounts = "") {
  // sshd runs without capabilities: let it bind port 22 in the node's namespace.
  node.run_checked({"sysctl", "-q", "-w", "net.ipv4.ip_unprivileged_port_start=0"});
  std::string inner = fmt::format(
      "mount --bind {0}/passwd /etc/passwd && mount --bind {0}/group /etc/group && "
      "mount --bind {0}/shadow /etc/shadow && mount --bind {2} /usr/local/bin && {3}"
      "exec unshare --user --map-user=1000 --map-group=1000 /usr/sbin/sshd -D -e -f {0}/sshd_config -o "
      "ListenAddress={1}",
      directory.string(), node.address(), bin_directory.string(), more_mounts);
  return node.start_daemon(
      {{"unshare", "--mount", "--propagation", "private", "sh", "-c", inner}, {}, log_file, {}, {}});
}

// Until host authenticates (sshd is up); throws with sshd's log after timeout or
// when sshd exits.
inline void wait_for_sshd(chaosbench::harness::control::SshHost& host, chaosbench::harness::control::Daemon& sshd,
                          const std::filesystem::path& log_file,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    try {
      host.connect();
      return;
    } catch (const chaosbench::harness::control::ControlError& error) {
      if (std::chrono::steady_clock::now() > deadline || !sshd.alive())
        throw std::runtime_error(std::string("sshd did not come up: ") + error.what() +
                                 " | log: " + chaosbench::harness::control::one_line(read_text(log_file)));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

}  // namespace sshd_fixture
