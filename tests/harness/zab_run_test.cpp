// `harness run --target zab` end to end on real refnode clusters in the
// sandbox, under partitions: sync-then-read (--read-mode sync) is
// linearizable; plain local reads are sequentially consistent (checked by
// `harness check --checker sequential` on the run's history) but, on some
// seed, not linearizable: an isolated replica serves stale reads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

// A short ZAB run under partitions only, 3 nodes, many reads.
std::vector<std::string> zab_run(const fs::path& store, const std::string& seed, const std::string& shapes,
                                 const std::vector<std::string>& extra = {}) {
  return run_arguments({{"--target", "zab"},
                        {"--nodes", "3"},
                        {"--store", store.string()},
                        {"--nemesis", "partition"},
                        {"--partition-shapes", shapes},
                        {"--nemesis-interval", "2s"},
                        {"--time-limit", "10s"},
                        {"--rate", "500"},
                        {"--concurrency", "20"},
                        {"--read-fraction", "0.9"},
                        {"--recovery-time", "1s"},
                        {"--seed", seed}},
                       extra);
}

fs::path latest_history(const fs::path& store) { return fs::canonical(store / "latest" / "history.jsonl"); }

TEST(ZabRun, SyncReadsAreLinearizableUnderPartitions) {
  for (const char* seed : {"1", "2"}) {
    TemporaryDirectory directory("zab-run");
    const fs::path store = directory.path / "store";
    auto result = run_harness(zab_run(store, seed, "two-way", {"--target-arg=--read-mode=sync"}));
    EXPECT_EQ(result.status.exit_code, 0) << "seed " << seed << ": " << describe(result);
    const json results = read_json(store / "latest" / "results.json");
    EXPECT_EQ(results["verdict"], "valid") << "seed " << seed;
    // A run without a partition proves nothing.
    std::ifstream history(latest_history(store));
    const std::string text((std::istreambuf_iterator<char>(history)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\"start-partition\""), std::string::npos) << "seed " << seed << ": no partition";
  }
}

// Local reads: invalid for linearizability on some seed (a replica cut off
// by isolate-one answers reads for up to its 300 ms session timeout while the
// majority acknowledges new writes), yet every history is sequentially
// consistent per key. Measured: linearizability violations on 8 of 8 seeds
// (1-8) with these settings; up to four seeds make a miss very unlikely.
TEST(ZabRun, LocalReadsAreSequentiallyConsistentButNotLinearizable) {
  std::string outputs;
  bool found_stale = false;
  for (const char* seed : {"1", "2", "3", "4"}) {
    TemporaryDirectory directory("zab-run");
    const fs::path store = directory.path / "store";
    auto run = run_harness(zab_run(store, seed, "isolate-one"));
    ASSERT_TRUE(run.status.exit_code == 0 || run.status.exit_code == 1) << "seed " << seed << ": " << describe(run);
    auto check = run_harness({"check", "--checker", "sequential", "-q", latest_history(store).string()});
    EXPECT_EQ(check.status.exit_code, 0) << "seed " << seed << " not sequentially consistent: " << describe(check);
    EXPECT_NE(check.out.find("sequential: valid"), std::string::npos) << check.out;
    outputs += fmt::format("seed {}: run exit {}\n", seed, run.status.exit_code);
    if (run.status.exit_code == 1) {
      found_stale = true;
      break;
    }
  }
  EXPECT_TRUE(found_stale) << "local reads were linearizable on seeds 1-4:\n" << outputs;
}

}  // namespace
