// Every real system serves the workloads that need more than read/write/cas
// (append and list-append txns, bank txns, counter adds, deletes): short runs
// without faults on real etcd, ZooKeeper and Redis+Sentinel in the sandbox are
// valid with most operations ok and none refused as unsupported, malformed or
// of the wrong type (ZooKeeper's register-delete with sync reads: its local
// reads are not linearizable even without faults). And a target that lacks an op the workload needs is
// refused before anything is deployed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness_process_support.h"

using namespace harness_process_support;

namespace {

bool installed(const std::string& target) {
  if (target == "etcd") return access("/usr/bin/etcd", X_OK) == 0;
  if (target == "zookeeper") return access("/usr/share/java/zookeeper.jar", R_OK) == 0;
  return access("/usr/bin/redis-server", X_OK) == 0 && access("/usr/bin/redis-sentinel", X_OK) == 0;
}

struct Served {
  std::string target, workload;
  std::uint64_t least_ok;                   // ok client operations a 5 s run must reach
  std::vector<std::string> arguments = {};  // more `harness run` flags
};

void PrintTo(const Served& served, std::ostream* out) { *out << served.target << " x " << served.workload; }

class RealSystemWorkload : public testing::TestWithParam<Served> {};

TEST_P(RealSystemWorkload, IsServedAndValidWithoutFaults) {
  const Served& served = GetParam();
  if (!installed(served.target)) GTEST_SKIP() << served.target << " is not installed";
  TemporaryDirectory directory("served");
  const fs::path store = directory.path / "store";
  const auto arguments = run_arguments({{"--target", served.target},
                                        {"--workload", served.workload},
                                        {"--nodes", "3"},
                                        {"--nemesis", "none"},
                                        {"--time-limit", "5s"},
                                        {"--concurrency", "10"},
                                        {"--recovery-time", "500ms"},
                                        {"--seed", "1"},
                                        {"--store", store.string()}},
                                       served.arguments);
  auto run = run_harness(arguments);
  ASSERT_EQ(run.status.exit_code, 0) << describe(run);
  const json results = latest_results(store);
  const json& operations = results["operations"];
  const auto ok = operations["ok"].get<std::uint64_t>(), invoked = operations["invoked"].get<std::uint64_t>();
  EXPECT_GE(ok, served.least_ok) << results.dump();
  EXPECT_GT(2 * ok, invoked) << "most operations must be served: " << results.dump();
  EXPECT_EQ(results["unserved_operations"]["unserved"], 0) << results.dump();
  EXPECT_EQ(results["verdict"], "valid") << results.dump();
}

INSTANTIATE_TEST_SUITE_P(TransactionsAppendsAndAdds, RealSystemWorkload,
                         testing::Values(Served{"etcd", "list-append", 200}, Served{"etcd", "bank", 200},
                                         Served{"etcd", "counter", 200}, Served{"etcd", "kv", 200},
                                         Served{"zookeeper", "list-append", 200, {"--target-arg=--sync-reads"}},
                                         // ZooKeeper's bank txn is a sync, reads and a multi, each write fsynced:
                                         // about 600 ok alone on 2 cores, 153 once under CI load beside a browser test.
                                         Served{"zookeeper", "bank", 100},
                                         Served{"zookeeper", "register-delete", 200, {"--target-arg=--sync-reads"}},
                                         Served{"redis", "list-append", 200}, Served{"redis", "counter", 200},
                                         Served{"redis", "kv", 200}, Served{"redis", "bank", 200}),
                         [](const testing::TestParamInfo<Served>& info) {
                           std::string name = info.param.target + "_" + info.param.workload;
                           for (char& character : name) {
                             if (character == '-') character = '_';
                           }
                           return name;
                         });

TEST(RealSystemWorkload, ATargetWithoutAnOpTheWorkloadNeedsIsRefusedBeforeDeploying) {
  TemporaryDirectory directory("refused");
  const fs::path store = directory.path / "store";
  auto run = run_harness({"run", "--target", "quorum", "--workload", "list-append", "--store", store.string()},
                         std::chrono::seconds(30));
  EXPECT_EQ(run.status.exit_code, 3) << describe(run);
  EXPECT_NE(run.err.find("target quorum cannot serve workload list-append: it has no 'txn' op"), std::string::npos)
      << describe(run);
  EXPECT_FALSE(fs::exists(store)) << "nothing may be deployed or stored";
}

}  // namespace
