// Spreading one suite over machines: `harness suite FILE --shard K/N` runs the K-th of N
// disjoint shards of the expanded entries (each seed group whole, balanced by time limit,
// the same assignment on every machine), and `harness suite merge STORE...` combines the
// shards' stores into one suite.json, junit.xml and index.html with the whole suite's exit code.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "chaosbench/harness/suite_command.h"

namespace CLI {
class App;
}  // namespace CLI

namespace chaosbench::harness {

struct SuiteShard {
  int index = 1;  // 1..count
  int count = 1;
};

// Parses "K/N" (1 <= K <= N). Throws std::invalid_argument naming what is wrong.
SuiteShard parse_shard(const std::string& text);

// The shard (1..count) of every entry. Seed groups stay together (their expect_on_at_least
// is judged in one shard); groups go, largest first, to the shard with the least time so
// far (time limit plus a fixed cost per entry for deploy and check). Depends only on the
// entries, so every machine computes the same assignment.
std::vector<int> assign_shards(const std::vector<SuiteEntry>& entries, int count);

// What assign_shards weighs an entry by, in seconds.
double shard_weight_seconds(const SuiteEntry& entry);

struct SuiteMergeOptions {
  std::vector<std::filesystem::path> stores;  // a shard's suite directory, its STORE/<suite>, or its STORE
  std::string store = "store";                // where the merged suite goes: STORE/<suite>/<timestamp>/
};

// Checks that the stores are the N shards of one suite (same suite file and filter, every
// shard once, every entry in exactly one), copies their entries into a new suite directory
// and writes the combined summary. Exit code as if the suite had run whole: 0, 1 a verdict
// differs, 3 a harness failure, a missing or duplicated shard, or an unreadable store.
int run_suite_merge_command(const SuiteMergeOptions& options, std::ostream& out, std::ostream& errors);

// Adds `merge` under the `suite` subcommand; parsing fills `options`.
CLI::App* add_suite_merge_command(CLI::App& suite_app, SuiteMergeOptions& options);

}  // namespace chaosbench::harness
