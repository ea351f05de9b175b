// harness: chaosbench's controller command line. Exit codes (DESIGN.md):
// 0 valid, 1 invalid, 2 unknown, 3 the harness itself failed (bad input included).
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "chaosbench/harness/bench_command.h"
#include "chaosbench/harness/check_command.h"
#include "chaosbench/harness/checker_selection.h"
#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/hosts_file.h"
#include "chaosbench/harness/control/sandbox_session.h"
#include "chaosbench/harness/exit_code.h"
#include "chaosbench/harness/report_command.h"
#include "chaosbench/harness/run_command.h"
#include "chaosbench/harness/suite_command.h"
#include "chaosbench/targets/adapters/target_registry.h"

using namespace chaosbench::harness;

int main(int argc, char** argv) {
  CLI::App app{"chaosbench harness: chaos tests and consistency checks for replicated databases"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  CheckCommandOptions check;
  CLI::App* check_app =
      app.add_subcommand("check", "Check history files (linearizability unless --checker says otherwise)");
  check_app->add_option("files", check.files, "History files: chaosbench JSONL, Jepsen EDN or Porcupine logs")
      ->required()
      ->check(CLI::ExistingFile);
  check_app->add_option("--format", check.format, "auto, jsonl, edn or porcupine-log")->capture_default_str();
  check_app->add_option("--model", check.model,
                        "cas-register, kv or mutex (default: inferred from the operations' functions)");
  check_app->add_option("--nil-read", check.nil_read,
                        "absent: a nil read means the key does not exist (etcd, Porcupine; default for JSONL and "
                        "Porcupine logs); any: a nil read matches any value (Knossos; default for EDN)");
  check_app->add_option("--initial", check.initial, "Initial register value as JSON, with --nil-read any");
  check_app->add_option("--time-limit", check.time_limit, "Give up with 'unknown' after this long per file (0: never)")
      ->capture_default_str();
  check_app
      ->add_option("--memory-limit", check.memory_limit_megabytes,
                   "Give up with 'unknown' when the search's memo tables exceed this many MiB")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  check_app->add_option("--threads", check.threads, "Worker threads for per-key partitions (0: all cores)")
      ->capture_default_str();
  check_app->add_flag("!--no-partition", check.partition_by_key,
                      "Check all keys as one object instead of one search per key");
  check_app->add_flag("--all-keys", check.check_every_partition,
                      "Keep checking the other keys after one is found invalid (to list every bad key)");
  check_app->add_flag("-q,--quiet", check.quiet, "Only the one-line verdict per file, no evidence");
  check_app->add_option("-o,--output", check.output, "Write machine-readable results (JSON) to this file");
  check_app->add_option("--checker", check.checkers,
                        "Checker to run, repeatable (default: linearizable): " + known_checkers_text());
  check_app
      ->add_option("--consistency-model", check.consistency_model,
                   "Model for the elle-* checkers: read-uncommitted, read-committed, snapshot-isolation, "
                   "repeatable-read, serializable, strong-session-serializable, strict-serializable, ...")
      ->capture_default_str();
  check_app->add_option("--bank-total", check.bank_total, "Expected total balance for the bank checker");

  RunOptions run;
  std::uint64_t seed = 0;
  CLI::App* run_app = app.add_subcommand("run",
                                         "Deploy a cluster in a local sandbox (or on SSH hosts: --hosts), run a "
                                         "workload under faults, check the history. Exit codes: 0 valid, "
                                         "1 invalid, 2 unknown, 3 the harness failed");
  run_app
      ->add_option("--target", run.target,
                   fmt::format("What runs on the nodes: {} (raft, zab and quorum are the reference nodes, refnode; the "
                               "others are real systems from their Debian packages, docs/real-systems.md)",
                               chaosbench::targets::adapters::known_targets_text()))
      ->capture_default_str();
  run_app->add_option("--nodes", run.nodes, "Number of nodes (1-250)")->capture_default_str();
  run_app
      ->add_option("--workload", run.workload,
                   "register (read/write/cas), unique-register (unique writes, no cas), register-delete (unique "
                   "writes and deletes), kv (get/put/append), set, counter, bank (guarded transfers), "
                   "list-append or rw-register (txns)")
      ->capture_default_str();
  run_app
      ->add_option("--nemesis", run.nemesis,
                   "Faults, comma-separated: partition, kill, pause, clock, loss, delay; or none. Scripted "
                   "leader-reactive scenarios: orphan-leader (kill the leader, pause the new leader's followers "
                   "the moment it leads, kill it, restart it last), figure-8 (Raft paper figure 8, steered by each "
                   "node's log terms, kills as cuts; "
                   "refnode raft only)")
      ->capture_default_str();
  run_app
      ->add_option("--nemesis-interval", run.nemesis_interval,
                   "Typical time between a fault kind's windows; each window lasts 0.5-1 interval")
      ->capture_default_str();
  run_app
      ->add_option("--partition-shapes", run.partition_shapes,
                   "Partition shapes to draw from: halves, random-halves, isolate-one, isolate-leader, "
                   "majorities-ring, bridge, or all")
      ->capture_default_str();
  run_app
      ->add_option("--kill-targets", run.kill_targets,
                   "Nodes a kill hits: mixed (leader or a random minority), one, minority, majority, all, leader")
      ->capture_default_str();
  run_app->add_option("--clock-bump", run.clock_bump_max_seconds, "Largest clock offset in seconds (bump and strobe)")
      ->capture_default_str();
  run_app->add_option("--concurrency", run.concurrency, "Logical client processes")->capture_default_str();
  run_app->add_option("--rate", run.rate, "Intended operations per second, open loop; 0 = closed loop")
      ->capture_default_str();
  run_app->add_option("--time-limit", run.time_limit, "How long the workload runs (90, 90s, 2m, 500ms)")
      ->capture_default_str();
  run_app->add_option("--seed", seed, "Seed of the operation mix and the fault schedule (default: random, printed)");
  run_app
      ->add_option("--target-arg", run.target_arguments,
                   "Extra flag for every node, repeatable: --target-arg=--read-mode=lease "
                   "--target-arg=--bug=lease-wall-clock")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  run_app->add_option("--store", run.store, "Store directory; the run goes to STORE/<test>/<timestamp>/")
      ->capture_default_str();
  run_app->add_option("--test-name", run.test_name, "Test name in the store (default: <target>-<workload>)");
  run_app->add_option("--ops-per-key", run.ops_per_key, "Operations per key before moving to a fresh key (N or A-B)")
      ->capture_default_str();
  run_app
      ->add_option("--client-routing", run.client_routing,
                   "sticky: each client process talks to one node; any: each operation goes to a random node "
                   "(a client behind a load balancer)")
      ->capture_default_str();
  run_app
      ->add_option("--read-fraction", run.read_fraction,
                   "Share of reads (register) or gets (kv); the rest are writes/cas or appends/puts")
      ->capture_default_str();
  run_app
      ->add_option("--op-timeout", run.operation_timeout,
                   "Client timeout per operation; a timed-out op is info and its process is replaced")
      ->capture_default_str();
  run_app->add_option("--recovery-time", run.recovery_time, "Quiet period from the heal to the final reads")
      ->capture_default_str();
  run_app->add_option("--check-time-limit", run.check_time_limit, "Time limit of each checker's search (then: unknown)")
      ->capture_default_str();
  run_app->add_option("--refnode", run.refnode, "The node executable (default: refnode next to harness)");
  run_app->add_option("--hosts", run.hosts_file,
                      "Run on the SSH hosts of this TOML file (one [[host]] per node, docs/ssh.md) instead of the "
                      "local sandbox; every host is connected to before anything starts");
  run_app
      ->add_option("--remote-dir", run.remote_directory,
                   "With --hosts: directory on each host for bin/refnode and <test>/<timestamp>/<node>/{data,log}")
      ->capture_default_str();
  run_app->add_flag("--leave-db-running", run.leave_db_running,
                    "With --hosts: leave the nodes running and their directories on the hosts after the run");
  run_app
      ->add_option("--checker", run.checker_names,
                   "Checker to run on the history, repeatable (default: the workload's: linearizable for register "
                   "and kv, set, counter, bank, elle-list-append, elle-rw-register); any of: " +
                       known_checkers_text())
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  run_app->add_option("--consistency-model", run.consistency_model,
                      "Model for the elle-* checkers (default: strict-serializable): read-committed, "
                      "snapshot-isolation, serializable, strict-serializable, ...");

  ReportCommandOptions report;
  CLI::App* report_app = app.add_subcommand(
      "report", "Regenerate a run's report.html and junit.xml (RUN_DIR), or the store's index.html (--index)");
  report_app->add_option("run_directory", report.run_directory, "Run directory: STORE/<test>/<timestamp>");
  report_app->add_flag("--index", report.index, "Regenerate STORE/index.html, listing every run in the store");
  report_app->add_option("--store", report.store, "Store directory, with --index")->capture_default_str();

  SuiteCommandOptions suite;
  CLI::App* suite_app = app.add_subcommand(
      "suite",
      "Run a suite file's matrix of `harness run` entries; exit 1 if any verdict differs from its `expect`, "
      "3 on a harness failure or a bad suite file (docs/suites.md)");
  suite_app->add_option("file", suite.file, "Suite file (TOML), e.g. suites/smoke.toml")->required();
  suite_app->add_option("--store", suite.store, "Store directory; the suite goes to STORE/<suite>/<timestamp>/")
      ->capture_default_str();
  suite_app
      ->add_option("--parallel", suite.parallel,
                   "Entries run at once (default: the file's `parallel`, else 1); each entry is a whole cluster")
      ->check(CLI::PositiveNumber);
  suite_app->add_option("--filter", suite.filter, "Run only entries whose id contains this text");
  suite_app->add_flag("--list", suite.list, "Print the expanded entries and their `harness run` commands, run nothing");

  BenchOptions bench;
  CLI::App* bench_app = app.add_subcommand(
      "bench",
      "Same seeded open-loop load against each target under each fault kind (one `harness run` each); one "
      "table of throughput, latency, availability and recovery (docs/bench-mode.md)");
  bench_app->add_option("--targets", bench.targets, "Targets, comma-separated")->capture_default_str();
  bench_app->add_option("--workload", bench.workload, "Workload of every run")->capture_default_str();
  bench_app->add_option("--nemesis", bench.nemeses, "Fault kinds, comma-separated, one run each; none = no faults")
      ->capture_default_str();
  bench_app->add_option("--rate", bench.rate, "Intended operations per second (open loop)")->capture_default_str();
  bench_app->add_option("--concurrency", bench.concurrency, "Logical client processes")->capture_default_str();
  bench_app->add_option("--nodes", bench.nodes, "Nodes per cluster")->capture_default_str();
  bench_app->add_option("--time-limit", bench.time_limit, "Workload time per run")->capture_default_str();
  bench_app->add_option("--warmup", bench.warmup, "Operations invoked before this are left out")->capture_default_str();
  bench_app->add_option("--nemesis-interval", bench.nemesis_interval, "As for harness run")->capture_default_str();
  bench_app->add_option("--seed", bench.seed, "Seed of every run (same ops, same schedule)")->capture_default_str();
  bench_app->add_option("--store", bench.store, "Store directory; the bench goes to STORE/bench/<timestamp>/")
      ->capture_default_str();
  bench_app
      ->add_option("--run-arg", bench.run_arguments,
                   "Extra `harness run` flag for every run, repeatable: --run-arg=--op-timeout=1s")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::ParseError& error) {
    std::cerr << "harness: " << error.what() << " (see harness --help)\n";
    return kExitHarnessFailed;
  }

  if (run_app->parsed()) {
    if (run_app->count("--seed")) run.seed = seed;
    run.nodes_from_hosts = !run.hosts_file.empty() && run_app->count("--nodes") == 0;
    run.command_line.assign(argv, argv + argc);
    RunPlan plan;
    try {
      std::error_code ignored;  // /proc/self/exe missing: fall back to argv[0]
      auto executable = std::filesystem::read_symlink("/proc/self/exe", ignored);
      if (executable.empty()) executable = std::filesystem::absolute(argv[0]);
      plan = plan_run(run, executable);
    } catch (const std::invalid_argument& error) {
      std::cerr << "harness run: " << error.what() << "\n";
      return kExitHarnessFailed;
    }
    if (!plan.hosts.empty()) {
      // SSH hosts: no sandbox (its network namespace has no route out). Every
      // host must answer before the store directory or any node exists.
      std::vector<std::shared_ptr<control::SshHost>> hosts;
      try {
        hosts = control::connect_all(plan.hosts);
      } catch (const control::ControlError& error) {
        std::cerr << "harness run: --hosts " << run.hosts_file << ": " << error.what() << "\n";
        return kExitHarnessFailed;
      }
      try {
        return run_test(plan, hosts, std::cout, std::cerr);
      } catch (const std::exception& error) {
        std::cerr << "harness run: " << error.what() << "\n";
        return kExitHarnessFailed;
      }
    }
    try {
      auto session = control::SandboxSession::enter();
      return run_test(plan, session, std::cout, std::cerr);
    } catch (const control::SandboxUnavailable& error) {
      std::cerr << "harness run: the local sandbox is unavailable here: " << error.what() << "\n";
      return kExitHarnessFailed;
    } catch (const std::exception& error) {
      std::cerr << "harness run: " << error.what() << "\n";
      return kExitHarnessFailed;
    }
  }

  try {
    if (check_app->parsed()) return run_check_command(check, std::cout, std::cerr);
    if (report_app->parsed()) return run_report_command(report, std::cout, std::cerr);
    if (bench_app->parsed()) {
      std::error_code ignored;  // /proc/self/exe missing: fall back to argv[0]
      auto executable = std::filesystem::read_symlink("/proc/self/exe", ignored);
      if (executable.empty()) executable = std::filesystem::absolute(argv[0]);
      return run_bench_command(bench, executable, std::cout, std::cerr);
    }
    if (suite_app->parsed()) {
      std::error_code ignored;  // /proc/self/exe missing: fall back to argv[0]
      auto executable = std::filesystem::read_symlink("/proc/self/exe", ignored);
      if (executable.empty()) executable = std::filesystem::absolute(argv[0]);
      return run_suite_command(suite, executable, std::cout, std::cerr);
    }
  } catch (const std::exception& error) {
    std::cerr << "harness: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  return kExitHarnessFailed;
}
