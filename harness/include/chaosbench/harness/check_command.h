// `harness check`: reads history files (JSONL, Jepsen EDN, Porcupine logs),
// runs the chosen checkers on each (default: linearizable) and prints one line
// per file and checker, with the evidence below a non-valid one. Returns the exit code (0 all valid, 1 any
// invalid, 2 any unknown, 3 bad input); files after a bad one are still checked.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "chaosbench/harness/checker_selection.h"  // kCheckerNames

namespace CLI {
class App;
}  // namespace CLI

namespace chaosbench::harness {

struct CheckCommandOptions {
  std::vector<std::string> files;
  std::string format = "auto";
  std::string model;     // "" = inferred from the operations' functions
  std::string nil_read;  // "" = follows the input format
  std::string initial;   // JSON text; "" = none
  std::string time_limit = "0";
  std::size_t memory_limit_megabytes = 8192;  // memo tables of one file's search
  unsigned threads = 0;
  bool partition_by_key = true;
  bool check_every_partition = false;
  bool quiet = false;  // no evidence lines
  std::string output;  // results.json path, "" = none
  // Checker names (kCheckerNames); empty = {"linearizable"}. Each verdict goes
  // to results.json files[].checkers.<name>; the file's verdict combines them.
  std::vector<std::string> checkers;
  std::string consistency_model = "serializable";  // for elle-list-append / elle-rw-register
  std::optional<std::int64_t> bank_total;          // for bank; unset = the first read's total
  std::size_t group_size = 2;                      // for long-fork: keys per read (Jepsen's default)
  bool wfr_keys = false;                           // elle-rw-register's version-order sources (Elle's names)
  bool sequential_keys = false;
  bool linearizable_keys = false;
};

int run_check_command(const CheckCommandOptions& options, std::ostream& out, std::ostream& errors);

// Adds the `check` subcommand and its flags to `app`; parsing fills `options`.
CLI::App* add_check_command(CLI::App& app, CheckCommandOptions& options);

}  // namespace chaosbench::harness
