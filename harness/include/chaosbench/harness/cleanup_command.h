// `harness cleanup --hosts hosts.toml`: removes what earlier runs left on the
// SSH hosts under the remote directory (a SIGKILLed controller, a run with
// --leave-db-running): the processes of each run (node, faultfs, linkproxy,
// companions, found by their pid files and killed only when their command line
// names the run's directory), the run directories, and, when no run is left,
// the iptables chains the nemesis uses. Idempotent. Returns the exit code
// (0 done, 3 bad input or a host that failed).
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "chaosbench/harness/run_command.h"

namespace CLI {
class App;
}  // namespace CLI

namespace chaosbench::harness {

struct CleanupOptions {
  std::string hosts_file;
  std::string remote_directory = RunOptions{}.remote_directory;  // harness run's default
  std::string older_than = "0";  // only runs whose directory is older (a duration); 0: every run
};

CLI::App* add_cleanup_command(CLI::App& app, CleanupOptions& options);
int run_cleanup_command(const CleanupOptions& options, std::ostream& out, std::ostream& errors);

}  // namespace chaosbench::harness
