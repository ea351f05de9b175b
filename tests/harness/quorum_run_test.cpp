// `harness run --target quorum` end to end on real refnode --protocol quorum
// clusters in the sandbox: a strict quorum (N=3, R=W=2) under partitions keeps
// the unique-register workload linearizable and session-consistent; a sloppy
// quorum under partitions, with clients behind a "load balancer"
// (--client-routing any), breaks session guarantees on some seed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

json run_quorum(const fs::path& store, const std::string& seed, const std::vector<std::string>& extra) {
  control::LocalProcessSpec spec;
  spec.argv = {kHarness,
               "run",
               "--target",
               "quorum",
               "--workload",
               "unique-register",
               "--store",
               store.string(),
               "--nemesis",
               "partition",
               "--nemesis-interval",
               "2s",
               "--time-limit",
               "8s",
               "--client-routing",
               "any",
               "--recovery-time",
               "2s",
               "--checker",
               "linearizable",
               "--checker",
               "session",
               "--checker",
               "convergence",
               "--seed",
               seed};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  auto result = control::run_local(spec, 120s, "localhost");
  if (result.status.exit_code == 3 || result.status.signal != 0) {
    ADD_FAILURE() << result.status.describe() << "\nstdout:\n" << result.out << "\nstderr:\n" << result.err;
    return json::object();
  }
  std::ifstream input(fs::canonical(store / "latest" / "results.json"));
  std::stringstream buffer;
  buffer << input.rdbuf();
  return json::parse(buffer.str());
}

std::string verdict_of(const json& results, const std::string& checker) {
  return results.contains("checker") ? results["checker"][checker].value("verdict", "") : "";
}

TEST(QuorumRun, StrictQuorumUnderPartitionsIsLinearizableAndConverges) {
  TemporaryDirectory directory("quorum-run");
  const json results = run_quorum(directory.path / "store", "1", {});
  EXPECT_EQ(verdict_of(results, "linearizable"), "valid") << results.dump(2).substr(0, 3000);
  EXPECT_EQ(verdict_of(results, "session"), "valid");
  EXPECT_EQ(verdict_of(results, "convergence"), "valid");
}

// Sloppy quorum: writes on one side of a partition land on stand-ins, reads
// through another coordinator miss them. Found on seeds 1 and 3 of 1-4 when
// measured (docs/quorum.md); the test tries up to four seeds.
TEST(QuorumRun, SloppyQuorumUnderPartitionsBreaksSessionGuarantees) {
  std::string found;
  for (const char* seed : {"3", "1", "5", "6"}) {
    TemporaryDirectory directory("quorum-run");
    const json results = run_quorum(directory.path / "store", seed, {"--target-arg=--sloppy"});
    if (verdict_of(results, "session") == "invalid") {
      found = seed;
      EXPECT_EQ(results.value("verdict", ""), "invalid");
      EXPECT_EQ(verdict_of(results, "convergence"), "valid") << "replicas converge after the heal all the same";
      break;
    }
  }
  EXPECT_FALSE(found.empty()) << "no session violation on any of the seeds";
}

}  // namespace
