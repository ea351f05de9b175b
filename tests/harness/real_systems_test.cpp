// `harness run --target etcd` end to end on real etcd clusters (Debian
// etcd-server) in the sandbox: default (linearizable) reads stay linearizable
// under partitions and kills; with --read=serializable and isolate-one
// partitions, an isolated member serves stale reads on some seed.
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

bool etcd_installed() { return access("/usr/bin/etcd", X_OK) == 0; }

std::vector<std::string> etcd_run(const fs::path& store, const std::string& seed, const std::string& nemesis,
                                  const std::string& shapes, const std::vector<std::string>& extra = {}) {
  return run_arguments({{"--target", "etcd"},
                        {"--nodes", "3"},
                        {"--store", store.string()},
                        {"--nemesis", nemesis},
                        {"--partition-shapes", shapes},
                        {"--nemesis-interval", "3s"},
                        {"--time-limit", "15s"},
                        {"--rate", "300"},
                        {"--concurrency", "20"},
                        {"--read-fraction", "0.9"},
                        {"--recovery-time", "1s"},
                        {"--seed", seed}},
                       extra);
}

TEST(RealSystems, EtcdIsLinearizableUnderPartitionsAndKills) {
  if (!etcd_installed()) GTEST_SKIP() << "/usr/bin/etcd is not installed (Debian package etcd-server)";
  TemporaryDirectory directory("etcd-run");
  const fs::path store = directory.path / "store";
  auto result = run_harness(etcd_run(store, "1", "partition,kill", "two-way"));
  EXPECT_EQ(result.status.exit_code, 0) << describe(result);
  const std::string history = latest_history_text(store);
  EXPECT_NE(history.find("\"start-partition\""), std::string::npos) << "no partition happened";
  EXPECT_NE(history.find("\"start-kill\""), std::string::npos) << "no kill happened";
}

// Serializable reads are answered from the member's local state, so a member
// cut off by isolate-one keeps answering old values while the majority
// acknowledges new writes. Measured seeds: see docs/real-systems.md.
TEST(RealSystems, EtcdSerializableReadsAreStaleUnderPartition) {
  if (!etcd_installed()) GTEST_SKIP() << "/usr/bin/etcd is not installed (Debian package etcd-server)";
  std::string outputs;
  bool found_stale = false;
  for (const char* seed : {"1", "2", "3"}) {
    TemporaryDirectory directory("etcd-run");
    const fs::path store = directory.path / "store";
    auto run = run_harness(etcd_run(store, seed, "partition", "isolate-one", {"--target-arg=--read=serializable"}));
    ASSERT_TRUE(run.status.exit_code == 0 || run.status.exit_code == 1) << "seed " << seed << ": " << describe(run);
    outputs += fmt::format("seed {}: run exit {}\n", seed, run.status.exit_code);
    if (run.status.exit_code == 1) {
      found_stale = true;
      break;
    }
  }
  EXPECT_TRUE(found_stale) << "serializable reads were linearizable on seeds 1-3:\n" << outputs;
}

TEST(RealSystems, UnknownEtcdReadModeIsABadArgument) {
  TemporaryDirectory directory("etcd-run");
  auto run = run_harness(
      {"run", "--target", "etcd", "--store", (directory.path / "store").string(), "--target-arg=--read=sometimes"});
  EXPECT_EQ(run.status.exit_code, 3) << describe(run);
  EXPECT_NE(run.err.find("--read=sometimes"), std::string::npos) << describe(run);
}

}  // namespace
