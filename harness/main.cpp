// harness: chaosbench's controller command line. Exit codes (DESIGN.md):
// 0 valid, 1 invalid, 2 unknown, 3 the harness itself failed (bad input included).
#include <iostream>

#include <CLI/CLI.hpp>

#include "chaosbench/harness/check_command.h"
#include "chaosbench/harness/exit_code.h"

using namespace chaosbench::harness;

int main(int argc, char** argv) {
  CLI::App app{"chaosbench harness: chaos tests and consistency checks for replicated databases"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  CheckCommandOptions check;
  CLI::App* check_app = app.add_subcommand("check", "Check history files for linearizability");
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
  check_app->add_option("--threads", check.threads, "Worker threads for per-key partitions (0: all cores)")
      ->capture_default_str();
  check_app->add_flag("!--no-partition", check.partition_by_key,
                      "Check all keys as one object instead of one search per key");
  check_app->add_flag("--all-keys", check.check_every_partition,
                      "Keep checking the other keys after one is found invalid (to list every bad key)");
  check_app->add_flag("-q,--quiet", check.quiet, "Only the one-line verdict per file, no evidence");
  check_app->add_option("-o,--output", check.output, "Write machine-readable results (JSON) to this file");

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

  try {
    if (check_app->parsed()) return run_check_command(check, std::cout, std::cerr);
  } catch (const std::exception& error) {
    std::cerr << "harness: " << error.what() << "\n";
    return kExitHarnessFailed;
  }
  return kExitHarnessFailed;
}
