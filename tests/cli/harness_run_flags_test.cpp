// `harness run` flag checking end to end, before anything starts (no sandbox,
// no nodes): the transactional workloads' key-pool flags --key-dist,
// --key-count and --max-writes-per-key, long-fork's --group-size and the
// rw-register version-order flags refuse bad values (or a workload they do
// not apply to) with exit code 3 and one line naming the flag and the value,
// and nothing (not even the store) is made.
#include <gtest/gtest.h>

#include <filesystem>

#include "chaosbench/harness/control/process.h"

namespace chaosbench::harness {
namespace {

const std::string kHarnessBinary = std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness";

TEST(HarnessRunFlags, BadKeyPoolFlagsExitThreeWithOneLineNamingFlagAndValue) {
  const std::filesystem::path store =
      std::filesystem::temp_directory_path() / ("chaosbench-run-flags-" + std::to_string(::getpid()));
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--workload", "list-append", "--key-dist", "exponential"},
       "--key-dist: unknown distribution 'exponential' (known: uniform, zipf)"},
      {{"--workload", "rw-register", "--key-count", "0"}, "--key-count '0': expected a whole number from 1 to"},
      {{"--workload", "list-append", "--key-count", "ten"}, "--key-count 'ten': expected a whole number"},
      {{"--workload", "list-append", "--key-count", "-3"}, "--key-count '-3': expected a whole number"},
      {{"--workload", "list-append", "--key-count", "1000001"}, "--key-count '1000001'"},
      {{"--workload", "rw-register", "--max-writes-per-key", "0"}, "--max-writes-per-key '0': expected a whole number"},
      {{"--workload", "list-append", "--max-writes-per-key", "4.5"}, "--max-writes-per-key '4.5'"},
      {{"--workload", "register", "--key-dist", "uniform"},
       "--key-dist: applies to the list-append and rw-register workloads only, not register"},
      {{"--workload", "bank", "--max-writes-per-key", "8"}, "--max-writes-per-key: applies to the list-append"},
      {{"--workload", "long-fork", "--group-size", "0"}, "--group-size '0': expected a whole number from 1 to 1000"},
      {{"--workload", "long-fork", "--group-size", "two"}, "--group-size 'two': expected a whole number"},
      {{"--workload", "list-append", "--group-size", "2"},
       "--group-size: applies to the long-fork workload only, not list-append"},
      {{"--workload", "set", "--power-loss-restart", "first"},
       "--power-loss-restart: unknown order 'first' (known: together, leader-last)"},
      {{"--workload", "list-append", "--sequential-keys", "--linearizable-keys"},
       "--sequential-keys: applies to the elle-rw-register checker only, which this run does not use (workload "
       "list-append)"},
  };
  for (const auto& [arguments, reason] : cases) {
    control::LocalProcessSpec spec;
    spec.argv = {kHarnessBinary, "run", "--store", store.string()};
    spec.argv.insert(spec.argv.end(), arguments.begin(), arguments.end());
    const control::CommandResult result = control::run_local(spec, std::chrono::seconds(30), "localhost");
    const std::string said = arguments[2] + " " + arguments[3] + ": " + result.err;
    EXPECT_EQ(result.status.exit_code, 3) << said;
    EXPECT_NE(result.err.find("harness run: " + reason), std::string::npos) << said;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << said;
    EXPECT_TRUE(result.out.empty()) << result.out;
  }
  EXPECT_FALSE(std::filesystem::exists(store)) << "nothing may start on bad input";
}

}  // namespace
}  // namespace chaosbench::harness
