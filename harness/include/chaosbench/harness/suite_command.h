// `harness suite FILE.toml`: expands a matrix of `harness run` entries, runs each (or one
// shard's share, see suite_shards.h) as a child process with its own store directory, and
// writes suite.json, junit.xml and index.html.
// load_suite() throws std::invalid_argument "FILE:LINE: key 'K': reason" on a bad suite file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}  // namespace CLI

namespace chaosbench::harness {

// One `harness run` of the expanded matrix.
struct SuiteEntry {
  std::string id;  // unique within the suite; also the run's test name
  std::string target, workload, nemesis;
  std::uint64_t seed = 0;
  std::string expect;  // "valid" or "invalid"
  // The [[entry]] and matrix cell this run belongs to (its id without the seed), how many
  // seeds that cell has, and how many of them must give `expect` (expect_on_at_least;
  // only with expect = "invalid"; default: all).
  std::string seed_group;
  int seeds_in_group = 1;
  std::optional<int> expect_on_at_least;
  std::string time_limit;
  std::optional<int> nodes;
  std::chrono::milliseconds timeout{0};  // wall-clock limit of the child; then it is killed (harness failure)
  std::vector<std::string> arguments;    // extra `harness run` flags
};

struct Suite {
  std::string name;
  std::filesystem::path file;
  int parallel = 1;
  std::vector<SuiteEntry> entries;
};

Suite load_suite(const std::filesystem::path& file);

// The `harness run` command line (without the executable) for one entry.
std::vector<std::string> run_arguments(const SuiteEntry& entry, const std::filesystem::path& entry_store);

// What a finished entry gave; filled from the child's exit code, results.json and history.jsonl.
struct EntryOutcome {
  int exit_code = -1;
  std::string verdict;  // valid, invalid, unknown, harness-failed, timed-out
  bool passed = false;
  bool tolerated = false;               // verdict differs from expect, but enough other seeds of its group gave it
  std::filesystem::path run_directory;  // empty when the run left none
  double wall_seconds = 0;
  std::optional<double> detection_seconds;         // completion of the first op the checker could not place
  std::optional<double> first_evidence_seconds;    // invocation of the earliest op named in the evidence
  std::optional<double> online_detection_seconds;  // --check-online: when the online check proved the anomaly
  std::optional<bool> online_agrees;               // --check-online: online and offline verdicts agree
  std::string message;
};

// Applies expect_on_at_least per seed group: a run whose verdict missed its expectation passes
// (tolerated) when enough runs of its group met it. With --filter only part of a group runs;
// the requirement then shrinks in proportion (rounded up). Returns one line per such group.
std::vector<std::string> apply_seed_tolerance(const std::vector<SuiteEntry>& entries,
                                              std::vector<EntryOutcome>& outcomes);

// Reads RUN_DIRECTORY/results.json and history.jsonl to fill verdict and detection times.
// Missing files leave the fields empty; a malformed results.json throws std::runtime_error.
void read_run_outcome(const std::filesystem::path& run_directory, EntryOutcome& outcome);

// The entries of `suite` whose id contains `filter` (all of them for an empty filter).
std::vector<SuiteEntry> filter_entries(const Suite& suite, const std::string& filter);

// The message of an entry whose verdict is not its `expect` (before seed tolerance).
std::string mismatch_message(const SuiteEntry& entry, const std::string& verdict);

struct SuiteCommandOptions {
  std::filesystem::path file;
  std::string store = "store";
  int parallel = 0;                        // 0: the suite file's `parallel` (default 1)
  std::string filter;                      // run only entries whose id contains this
  std::string shard;                       // "K/N": run only the K-th of N shards (suite_shards.h); empty: all
  bool list = false;                       // print the expanded entries and exit
  std::vector<std::string> run_arguments;  // appended to every entry's `harness run` arguments
};

// A new STORE/<suite>/<timestamp>/ with entries/ and a copy of the suite file (canonical path).
// Throws std::filesystem::filesystem_error.
std::filesystem::path create_suite_directory(const std::filesystem::path& store, const std::string& suite_name,
                                             const std::filesystem::path& suite_file);

// Applies seed tolerance to `outcomes`, writes suite.json (the fields of `summary_fields`
// plus the tallies and one document per entry), junit.xml and index.html into
// suite_directory, repoints STORE/<suite>/latest, and prints the closing lines. Returns the
// suite's exit code: 0 all as expected, 1 a verdict differs, 3 a harness failure (also when
// the summary cannot be written).
int finish_suite(const std::filesystem::path& store, const std::string& suite_name,
                 const std::filesystem::path& suite_directory, const std::vector<SuiteEntry>& entries,
                 std::vector<EntryOutcome>& outcomes, const std::vector<std::vector<std::string>>& commands,
                 nlohmann::json summary_fields, std::ostream& out, std::ostream& errors);

// Returns 0 every entry as expected, 1 some verdict differs from its expectation,
// 3 a harness failure (bad suite file, a child that failed, crashed or timed out).
int run_suite_command(const SuiteCommandOptions& options, const std::filesystem::path& harness_executable,
                      std::ostream& out, std::ostream& errors);

// Adds the `suite` subcommand and its flags to `app`; parsing fills `options`.
CLI::App* add_suite_command(CLI::App& app, SuiteCommandOptions& options);

}  // namespace chaosbench::harness
