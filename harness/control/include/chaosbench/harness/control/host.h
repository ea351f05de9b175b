// Host: the one interface through which the controller touches a machine (a
// sandbox node namespace or, later, an SSH host): run a command, start and
// signal a daemon, copy/write/read files. Implementations are thread-safe; every
// failure is a ControlError (control_error.h) naming the host and the command.
#pragma once

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chaosbench::harness::control {

enum class Signal { kill, stop, cont, term, interrupt };

int signal_number(Signal signal);
std::string_view signal_name(Signal signal);  // "SIGKILL", ...

// Renders argv as a shell-like one-line string for messages: iptables -A INPUT ...
std::string format_command(const std::vector<std::string>& argv);

// A command to run to completion. The environment entries are added to (or
// replace) the host's default environment.
struct Command {
  Command(std::initializer_list<std::string> arguments) : argv(arguments) {}
  explicit Command(std::vector<std::string> arguments) : argv(std::move(arguments)) {}
  Command& with_timeout(std::chrono::milliseconds value) {
    timeout = value;
    return *this;
  }

  std::vector<std::string> argv;
  std::chrono::milliseconds timeout{30'000};
  std::map<std::string, std::string> environment;
  std::filesystem::path working_directory;  // empty: the host's default
};

// How a process ended: exit_code when it exited, signal (non-zero) when killed.
struct ExitStatus {
  int exit_code = 0;
  int signal = 0;
  bool succeeded() const { return signal == 0 && exit_code == 0; }
  std::string describe() const;  // "exited with 1", "killed by SIGKILL"
};

struct CommandResult {
  ExitStatus status;
  std::string out;  // captured stdout
  std::string err;  // captured stderr
  bool succeeded() const { return status.succeeded(); }
};

// A long-running process. stdout and stderr are appended to log_file, stdin is
// /dev/null, and it runs in its own session (signals reach its whole process
// group). faketime_file set: started under libfaketime with that offset file
// (faketime.h); created with "+0" if missing.
struct DaemonSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> environment;
  std::filesystem::path log_file;
  std::filesystem::path working_directory;  // empty: the host's default
  std::optional<std::filesystem::path> faketime_file;
};

// Handle to a started daemon. Owns the process: destroying the handle kills the
// daemon (SIGKILL to its process group) and reaps it. Thread-safe.
class Daemon {
 public:
  virtual ~Daemon() = default;
  virtual int pid() const = 0;  // as seen by the controller
  virtual const std::string& host_name() const = 0;
  virtual std::string describe() const = 0;  // "n1 pid 42 (refnode --id n1)"
  // Sends the signal to the daemon's process group. Returns false (sending
  // nothing) if the daemon has already exited.
  virtual bool signal(Signal signal) = 0;
  virtual bool alive() = 0;  // a stopped (SIGSTOP) daemon is alive
  // Waits up to timeout for the daemon to exit; nullopt if it is still running.
  virtual std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout) = 0;
  // Gives up ownership: destroying the handle then leaves the daemon running.
  // False (nothing changes) where a daemon cannot outlive the controller (sandbox).
  virtual bool detach() { return false; }
};

// What a host's owner says about the software on it (the hosts file): where a
// program a target needs is when not at its usual path, keyed by the usual
// path's file name ("etcd", "redis-server", "zookeeper.jar"), and whether a
// missing Debian package may be installed there with apt-get.
struct HostSoftware {
  std::map<std::string, std::filesystem::path> program_paths;
  bool install_packages = true;
};

class Host {
 public:
  virtual ~Host() = default;
  virtual const std::string& name() const = 0;
  virtual const std::string& address() const = 0;  // where peers and clients reach it
  // The local sandbox: no paths and no installing (the controller's own machine).
  virtual HostSoftware software() const { return {{}, false}; }

  // Runs to completion and returns the status and output, whatever the exit
  // code. Throws ControlError if it cannot start (e.g. missing binary) and
  // CommandTimedOut (after killing it) if it outlives command.timeout.
  virtual CommandResult run(const Command& command) = 0;
  // run(), and CommandFailed unless it exited 0.
  CommandResult run_checked(const Command& command);

  virtual std::unique_ptr<Daemon> start_daemon(const DaemonSpec& spec) = 0;

  // Copies a controller-local file to path on the host (parents created).
  virtual void copy_to(const std::filesystem::path& local_file, const std::filesystem::path& path) = 0;
  // Replaces path on the host with contents atomically (readers never see a
  // partial file); parents created.
  virtual void write_file(const std::filesystem::path& path, std::string_view contents) = 0;
  virtual std::string read_file(const std::filesystem::path& path) = 0;

  // The iptables chain network_faults.h keeps this host's rules in (and
  // "<chain>-tracking"): "chaosbench" unless set. A run on SSH hosts names one
  // of its own, so that runs sharing a host never touch each other's rules.
  // Set it before the host is used from several threads.
  const std::string& firewall_chain() const { return firewall_chain_; }
  void set_firewall_chain(std::string chain) { firewall_chain_ = std::move(chain); }

 private:
  std::string firewall_chain_ = "chaosbench";
};

}  // namespace chaosbench::harness::control
