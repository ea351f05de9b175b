#include "chaosbench/harness/cleanup_command.h"

#include <ostream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/hosts_file.h"
#include "chaosbench/harness/duration.h"
#include "chaosbench/harness/exit_code.h"
#include "chaosbench/harness/remote_shell_functions.h"

namespace chaosbench::harness {

namespace {

// One pass over a host, as one shell script (after remote_shell_functions.h's):
// $1 the remote directory, $2 the age in minutes below which a run is kept. Runs are DIR/<test>/<timestamp>/
// (DIR/bin holds the installed programs and stays). A pid file's process is
// killed (its group first) only if its command line names the run's
// directory: a recycled PID of something else is left alone. faultfs's
// mounts live in namespaces of their own and end with it. A removed run's
// chains (its nodes' `chains` files, host_lease.h) go with it; once no run is
// left, so does every chain named as the nemesis names them ("chaosbench",
// "chaosbench-<8 hex>", each with "-tracking"), which a run killed before its
// supervisor started may have left. Prints
// "<processes killed> <runs removed> <runs kept> <chains removed...>".
constexpr const char* kCleanupScript = R"sh(
dir="$1"; minutes="$2"; killed=0; removed=0; kept=0
for run in "$dir"/*/*/; do
  [ -d "$run" ] || continue
  case "$run" in "$dir"/bin/*) continue ;; esac
  if [ "$minutes" -gt 0 ] && [ -z "$(find "$run" -maxdepth 0 -mmin +"$minutes")" ]; then
    kept=$((kept + 1)); continue
  fi
  for pidfile in "$run"*/*.pid; do
    [ -f "$pidfile" ] && kill_pid_file "$pidfile" "$run" && killed=$((killed + 1))
  done
  for chainfile in "$run"*/chains; do
    [ -f "$chainfile" ] || continue
    while read -r chain; do [ -n "$chain" ] && remove_chain "$chain"; done < "$chainfile"
  done
  rm -rf "$run" && removed=$((removed + 1))
  rmdir "$(dirname "$run")" 2>/dev/null
done
if [ "$kept" -eq 0 ] && command -v iptables >/dev/null 2>&1; then
  for chain in $(iptables -w 5 -S 2>/dev/null | sed -n 's/^-N \(chaosbench\(-[0-9a-f]\{8\}\)\{0,1\}\(-tracking\)\{0,1\}\)$/\1/p'); do
    remove_chain "$chain"
  done
fi
echo "$killed $removed $kept$removed_chains"
)sh";

std::string describe_cleanup(const std::string& host, const std::string& output) {
  std::istringstream fields(output);
  int killed = 0, removed = 0, kept = 0;
  fields >> killed >> removed >> kept;
  std::string chains, chain;
  while (fields >> chain) chains += (chains.empty() ? "" : ", ") + chain;
  if (killed == 0 && removed == 0 && chains.empty())
    return fmt::format("{}: nothing to clean{}", host, kept > 0 ? fmt::format(" ({} newer run(s) kept)", kept) : "");
  std::string line = fmt::format("{}: killed {} process(es), removed {} run director{}", host, killed, removed,
                                 removed == 1 ? "y" : "ies");
  if (!chains.empty()) line += fmt::format(", removed iptables chain(s) {}", chains);
  if (kept > 0) line += fmt::format("; kept {} newer run(s) and the chains", kept);
  return line;
}

}  // namespace

CLI::App* add_cleanup_command(CLI::App& app, CleanupOptions& options) {
  CLI::App* cleanup = app.add_subcommand(
      "cleanup",
      "Remove what earlier runs left on SSH hosts: their processes (node, faultfs, linkproxy), run directories "
      "and, when no run is left, the nemesis's iptables chains. Idempotent (docs/ssh.md)");
  cleanup->add_option("--hosts", options.hosts_file, "The hosts file (as for harness run --hosts)")->required();
  cleanup->add_option("--remote-dir", options.remote_directory, "The runs' directory on each host")
      ->capture_default_str();
  cleanup
      ->add_option("--older-than", options.older_than,
                   "Only runs whose directory is older than this (e.g. 2h); 0: every run")
      ->capture_default_str();
  return cleanup;
}

int run_cleanup_command(const CleanupOptions& options, std::ostream& out, std::ostream& errors) {
  std::chrono::milliseconds older_than{0};
  std::vector<control::SshHostOptions> host_options;
  try {
    older_than = parse_duration(options.older_than);
    check_remote_directory(options.remote_directory);
    host_options = control::read_hosts_file(options.hosts_file);
  } catch (const std::exception& error) {
    errors << "harness cleanup: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  std::vector<std::shared_ptr<control::SshHost>> hosts;
  try {
    hosts = control::connect_all(host_options);
  } catch (const control::ControlError& error) {
    errors << "harness cleanup: --hosts " << options.hosts_file << ": " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  // A minute at least once an age is given: find -mmin counts whole minutes.
  const long long minutes =
      older_than.count() == 0 ? 0 : std::max<long long>(1, (older_than.count() + 59'999) / 60'000);
  std::vector<std::string> lines(hosts.size()), failures(hosts.size());
  {
    std::vector<std::jthread> workers;
    for (std::size_t index = 0; index < hosts.size(); ++index) {
      workers.emplace_back([&, index] {
        try {
          const auto result =
              hosts[index]->run(control::Command({"sh", "-c", with_remote_shell_functions(kCleanupScript), "cleanup",
                                                  options.remote_directory, std::to_string(minutes)})
                                    .with_timeout(std::chrono::seconds(120)));
          if (!result.succeeded()) {
            failures[index] = fmt::format("{}: the cleanup {}: {}", hosts[index]->label(), result.status.describe(),
                                          control::one_line(result.err));
          } else {
            lines[index] = describe_cleanup(hosts[index]->name(), result.out);
          }
        } catch (const std::exception& error) {
          failures[index] = error.what();
        }
      });
    }
  }
  int exit_code = 0;
  for (std::size_t index = 0; index < hosts.size(); ++index) {
    if (!failures[index].empty()) {
      errors << "harness cleanup: " << failures[index] << "\n";
      exit_code = kExitHarnessFailed;
    } else {
      out << "harness cleanup: " << lines[index] << "\n";
    }
  }
  return exit_code;
}

}  // namespace chaosbench::harness
