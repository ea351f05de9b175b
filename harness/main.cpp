// harness: chaosbench's controller command line. Exit codes (DESIGN.md):
// 0 valid, 1 invalid, 2 unknown, 3 the harness itself failed (bad input included).
// Each command declares its own flags beside it (add_<command>_command).
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "chaosbench/harness/bench_command.h"
#include "chaosbench/harness/check_command.h"
#include "chaosbench/harness/cleanup_command.h"
#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/hosts_file.h"
#include "chaosbench/harness/control/sandbox_session.h"
#include "chaosbench/harness/exit_code.h"
#include "chaosbench/harness/report_command.h"
#include "chaosbench/harness/run_command.h"
#include "chaosbench/harness/suite_command.h"
#include "chaosbench/harness/suite_shards.h"

using namespace chaosbench::harness;

namespace {

// This program's path, for finding refnode beside it (argv[0] if /proc/self/exe is missing).
std::filesystem::path harness_executable(const char* argv0) {
  std::error_code ignored;
  auto executable = std::filesystem::read_symlink("/proc/self/exe", ignored);
  return executable.empty() ? std::filesystem::absolute(argv0) : executable;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"chaosbench harness: chaos tests and consistency checks for replicated databases"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  CheckCommandOptions check;
  CLI::App* check_app = add_check_command(app, check);

  RunOptions run;
  std::uint64_t seed = 0;
  CLI::App* run_app = add_run_command(app, run, seed);

  ReportCommandOptions report;
  CLI::App* report_app = add_report_command(app, report);

  SuiteCommandOptions suite;
  CLI::App* suite_app = add_suite_command(app, suite);
  SuiteMergeOptions suite_merge;
  CLI::App* suite_merge_app = add_suite_merge_command(*suite_app, suite_merge);

  BenchOptions bench;
  CLI::App* bench_app = add_bench_command(app, bench);

  CleanupOptions cleanup;
  CLI::App* cleanup_app = add_cleanup_command(app, cleanup);

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
      plan = plan_run(run, harness_executable(argv[0]));
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
      std::cout << "harness: host keys " << control::describe_host_keys(hosts) << "\n" << std::flush;
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
    if (cleanup_app->parsed()) return run_cleanup_command(cleanup, std::cout, std::cerr);
    if (report_app->parsed()) return run_report_command(report, std::cout, std::cerr);
    if (bench_app->parsed()) return run_bench_command(bench, harness_executable(argv[0]), std::cout, std::cerr);
    if (suite_merge_app->parsed()) return run_suite_merge_command(suite_merge, std::cout, std::cerr);
    if (suite_app->parsed()) return run_suite_command(suite, harness_executable(argv[0]), std::cout, std::cerr);
  } catch (const std::exception& error) {
    std::cerr << "harness: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  return kExitHarnessFailed;
}
