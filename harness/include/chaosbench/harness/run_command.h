// `harness run`: deploys a cluster in the local sandbox (or on SSH hosts, --hosts), drives a workload
// while the nemesis injects faults, heals, runs final reads, checks the
// history and prints a summary; everything lands in the store (run_store.h).
// validate_run_options() runs before anything starts (bad input: one-line
// std::invalid_argument, exit 3); run_test() returns the exit code
// (0 valid, 1 invalid, 2 unknown, 3 the harness failed).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "chaosbench/checkers/elle.h"
#include "chaosbench/harness/control/hosts_file.h"
#include "chaosbench/harness/control/sandbox_session.h"
#include "chaosbench/harness/log_patterns.h"
#include "chaosbench/nemesis/fault.h"
#include "chaosbench/nemesis/partition.h"
#include "chaosbench/workloads/workload.h"

namespace CLI {
class App;
}  // namespace CLI

namespace chaosbench::harness {

// As given on the command line (the defaults are the default test).
struct RunOptions {
  std::string target = "raft";
  int nodes = 5;
  std::string workload = "register";
  std::string nemesis = "partition,kill,clock";
  std::string nemesis_interval = "10s";
  std::string partition_shapes = "two-way";
  std::string kill_targets = "mixed";           // mixed, one, minority, majority, all, leader, followers
  std::string corrupt_files = "any";            // which files corrupt damages: wal, snapshot, any
  std::string disk_targets = "mixed";           // nodes corrupt and the disk faults hit (as kill_targets)
  std::string power_loss_restart = "together";  // together, leader-last (nemesis::PowerLossRestart)
  std::string faultfs;                          // the faultfs executable; empty: next to harness
  std::string linkproxy;                        // the linkproxy executable; empty: next to harness
  std::string storage_metadata = "strict";      // faultfs --metadata: strict (POSIX) or journaled
  double clock_bump_max_seconds = 10;
  int concurrency = 10;
  double rate = 200;  // 0: closed loop
  std::string time_limit = "60s";
  std::optional<std::uint64_t> seed;  // default: drawn at random and printed
  std::vector<std::string> target_arguments;
  std::string store = "store";
  std::string test_name;  // default <target>-<workload>
  std::string ops_per_key = "100-300";
  double read_fraction = 0.5;
  // list-append, rw-register (KeyPool); "": Elle's defaults (zipf; 10 keys, 3 if uniform; 32 writes).
  std::string key_distribution;
  std::string key_count;
  std::string max_writes_per_key;
  std::string group_size;                 // long-fork: keys per group; "": Jepsen's 2
  std::string client_routing = "sticky";  // sticky: a process keeps its node; any: each op to a random node
  std::string operation_timeout = "2s";
  std::string recovery_time = "2s";  // quiet period from the heal to the final reads
  // After the final heal the cluster must serve an ok op within this (liveness.h); "0s": not checked.
  std::string recovery_limit = "10s";
  std::vector<std::string> log_patterns;  // --log-pattern; empty: default_log_patterns() (log_patterns.h)
  std::string check_time_limit = "120s";
  std::vector<std::string> checker_names;  // empty: the workload's default checkers
  std::string consistency_model;           // elle-* checkers; "": the workload's (strict-serializable)
  // elle-rw-register's optional version-order sources (Elle's names), added to
  // the workload's (the rw-register workload turns wfr-keys on).
  bool wfr_keys = false;
  bool sequential_keys = false;
  bool linearizable_keys = false;
  std::string refnode;            // default: refnode next to the harness executable
  std::string hosts_file;         // --hosts: run on these SSH hosts instead of the sandbox (docs/ssh.md)
  bool nodes_from_hosts = false;  // --nodes not given: as many nodes as the hosts file lists
  std::string remote_directory = "/tmp/chaosbench";  // on SSH hosts: bin/refnode, <test>/<timestamp>/<n>/
  bool leave_db_running = false;  // SSH hosts: leave the nodes running and their directories in place
  std::string host_lease = "5s";  // SSH hosts: the controller's lease (host_lease.h)
  std::string progress = "auto";  // the live progress line: auto (on a terminal), always, never
  bool check_online = false;      // check while the run goes (the checkers online_mode() allows)
  bool stop_on_invalid = false;   // end the run at the first anomaly the online check proves
  std::vector<std::string> command_line;
};

// The shell command that reruns a test: `command_line` (argv) without its --seed, with
// --seed SEED appended; arguments the shell would split or expand are single-quoted.
std::string rerun_command(const std::vector<std::string>& command_line, std::uint64_t seed);

// Parsed and checked.
struct RunPlan {
  RunOptions options;
  std::uint64_t seed = 0;
  std::vector<nemesis::FaultKind> faults;
  std::vector<nemesis::PartitionShape> partition_shapes;
  nemesis::KillTargets kill_targets = nemesis::KillTargets::mixed;
  nemesis::KillTargets disk_targets = nemesis::KillTargets::mixed;
  nemesis::PowerLossRestart power_loss_restart = nemesis::PowerLossRestart::together;
  workloads::KeyRotation rotation;
  workloads::KeyPoolOptions txn_keys;  // list-append, rw-register
  std::size_t long_fork_group_size = 2;
  std::vector<std::string> checker_names;                       // named, or the workload's defaults
  std::optional<checkers::ConsistencyModel> consistency_model;  // nullopt: the workload's
  std::chrono::milliseconds nemesis_interval{0}, time_limit{0}, operation_timeout{0}, recovery_time{0},
      recovery_limit{0}, check_time_limit{0}, host_lease{0};
  std::filesystem::path refnode;
  std::filesystem::path faultfs;  // set when a storage fault is asked for
  // Set when a link toxic (or delay, on a target whose peers can be proxied) is asked for.
  std::filesystem::path linkproxy;
  std::string corrupt_glob = "*";
  std::string test_name;
  std::vector<control::SshHostOptions> hosts;  // from --hosts; empty: the sandbox
  std::string swarm_flags;                     // --nemesis random: what the seed drew, as flags (swarm.h); "" otherwise
  std::vector<LogPattern> log_patterns;        // compiled; empty: --log-pattern none
};

const std::vector<std::string>& known_targets();  // "raft"

// Why target `target` cannot serve workload `workload` (the ops it lacks), or
// nullopt when it serves every op the workload sends. Throws
// std::invalid_argument ("--workload: unknown workload ...") for an unknown
// workload; the target name must be known.
std::optional<std::string> workload_not_served(const std::string& target, const std::string& workload);

// Throws std::invalid_argument with a one-line reason for any bad option.
// `harness_executable` locates the default refnode.
RunPlan plan_run(const RunOptions& options, const std::filesystem::path& harness_executable);

// Runs the test inside an entered sandbox. Call before any thread exists:
// it blocks SIGINT/SIGTERM/SIGHUP and handles them (heal, stop, check what
// was recorded).
int run_test(const RunPlan& plan, const control::SandboxSession& session, std::ostream& out, std::ostream& errors);

// Runs the test on plan.hosts, already connected (control::connect_all), without
// a sandbox: node directories under options.remote_directory on each host, refnode
// uploaded there, logs copied back into the store. Same exit codes.
int run_test(const RunPlan& plan, const std::vector<std::shared_ptr<control::SshHost>>& hosts, std::ostream& out,
             std::ostream& errors);

// --remote-dir (harness run, harness cleanup): an absolute directory other than /;
// else std::invalid_argument naming the flag.
void check_remote_directory(const std::string& directory);

// Adds the `run` subcommand and its flags to `app`; parsing fills `options` (--seed goes to `seed`: the caller sets
// options.seed only when it was given).
CLI::App* add_run_command(CLI::App& app, RunOptions& options, std::uint64_t& seed);

}  // namespace chaosbench::harness
