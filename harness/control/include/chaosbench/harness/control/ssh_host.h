// SshHost: a Host reached over SSH (libssh): key file, agent or password auth,
// commands under `sudo -n` when the user is not root, uploads over SFTP. Thread-safe
// (a small pool of authenticated sessions); every failure is a ControlError naming
// the host as "name (address:port)". Host keys are checked against a known_hosts file (HostKeyPolicy).
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chaosbench/harness/control/host.h"

namespace chaosbench::harness::control {

// How a host's key is checked against known_hosts when a session connects.
// strict: it must be there and match; accept_new: an unknown host's key is
// recorded (trust on first use), a changed one is refused; off: not checked.
enum class HostKeyPolicy { strict, accept_new, off };
std::string_view to_string(HostKeyPolicy policy);

struct SshHostOptions {
  std::string name;     // n1, ...
  std::string address;  // what peers and clients use, and where we connect
  int port = 22;
  std::string user = "root";
  std::filesystem::path key_file;  // empty: no key file
  std::string password;            // empty: no password auth
  bool use_agent = true;           // try $SSH_AUTH_SOCK when it is set
  std::optional<bool> sudo;        // unset: `sudo -n` exactly when user is not root
  std::chrono::milliseconds connect_timeout{10'000};
  int max_sessions = 4;  // sessions opened at most, for concurrent commands
  HostKeyPolicy host_key = HostKeyPolicy::strict;
  std::filesystem::path known_hosts;  // empty: the user's (~/.ssh/known_hosts)
  HostSoftware software;
};

class SshHost : public Host {
 public:
  explicit SshHost(SshHostOptions options);  // does not connect yet
  ~SshHost() override;
  SshHost(const SshHost&) = delete;
  SshHost& operator=(const SshHost&) = delete;

  // Connects and authenticates one session now (kept for later commands).
  // Throws ControlError: "n2 (10.0.0.2:22): cannot connect: Connection refused".
  void connect();
  // "n2 (10.0.0.2:22)"
  const std::string& label() const { return label_; }
  bool uses_sudo() const { return sudo_; }
  // After connect(): how the host key was taken: "verified", "recorded" (accept-new, first
  // contact) or "not verified" (off).
  std::string host_key_outcome() const;
  const SshHostOptions& options() const { return options_; }

  // run(): a command killed by signal N reports "exited with 128+N" (it is seen
  // through the remote shell); commands run under `timeout -s KILL` on the host.
  const std::string& name() const override { return options_.name; }
  const std::string& address() const override { return options_.address; }
  HostSoftware software() const override { return options_.software; }
  CommandResult run(const Command& command) override;
  std::unique_ptr<Daemon> start_daemon(const DaemonSpec& spec) override;
  void copy_to(const std::filesystem::path& local_file, const std::filesystem::path& path) override;
  void write_file(const std::filesystem::path& path, std::string_view contents) override;
  std::string read_file(const std::filesystem::path& path) override;

  // Runs a shell command line as is (sudo prefixed when needed); for the daemon
  // handles. description names it in errors.
  CommandResult run_shell(const std::string& shell_line, std::chrono::milliseconds timeout,
                          const std::string& description);

 private:
  class Session;
  std::unique_ptr<Session> acquire();
  void release(std::unique_ptr<Session> session);
  void upload(const std::string& remote_path, std::string_view contents, int mode);

  SshHostOptions options_;
  std::string label_;
  bool sudo_;
  mutable std::mutex mutex_;
  std::condition_variable session_available_;
  std::vector<std::unique_ptr<Session>> idle_;
  int open_sessions_ = 0;
  std::string host_key_outcome_;  // of the first session
};

// Quotes text for a POSIX shell: 'it'\''s'.
std::string shell_quote(const std::string& text);

}  // namespace chaosbench::harness::control
