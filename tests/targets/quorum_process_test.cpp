// Process tests of `refnode --protocol quorum`: real 3-node clusters on
// 127.0.0.1 (kernel-chosen ports). Every op over the client protocol, a
// SIGKILLed replica that restarts from its WAL and catches up by anti-entropy,
// a TCP proxy that cuts a replica's inbound peer traffic until healed, LWW
// losing an acknowledged write of a node whose clock libfaketime sets 10 s
// behind, and bad quorum flags rejected with exit code 3.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "chaosbench/harness/control/faketime.h"
#include "refnode_cluster.h"
#include "tcp_proxy.h"

namespace chaosbench::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

void wait_until_all_up(RefnodeCluster& cluster, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    bool all = true;
    for (int node = 0; node < cluster.size() && all; ++node) {
      auto status = cluster.status(node);
      all = status && (*status)["role"] == "replica" &&
            (*status)["up"].size() == static_cast<std::size_t>(cluster.size());
    }
    if (all) return;
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("quorum nodes do not all see each other up in time");
}

json call(RefnodeCluster& cluster, int node, json request) {
  LineClient client(cluster.client_port(node));
  request["id"] = 1;
  return client.call(request, 10s);
}

std::size_t keys_at(RefnodeCluster& cluster, int node) {
  auto status = cluster.status(node);
  if (!status) throw std::runtime_error(cluster.id(node) + " does not answer status");
  return (*status)["keys"].get<std::size_t>();
}

// Waits until `node` holds `expected` keys locally.
void wait_for_keys(RefnodeCluster& cluster, int node, std::size_t expected, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (keys_at(cluster, node) == expected) return;
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error(cluster.id(node) + " holds " + std::to_string(keys_at(cluster, node)) + " keys, not " +
                           std::to_string(expected));
}

TEST(QuorumProcess, EveryNodeCoordinatesEveryOp) {
  RefnodeCluster cluster(3, {}, "quorum");
  cluster.start_all();
  wait_until_all_up(cluster, 10s);
  EXPECT_EQ(call(cluster, 0, {{"op", "write"}, {"key", "x"}, {"value", 1}})["ok"], true);
  json read = call(cluster, 1, {{"op", "read"}, {"key", "x"}});
  EXPECT_EQ(read["value"], 1);
  EXPECT_TRUE(read["context"].is_object());
  EXPECT_EQ(call(cluster, 2, {{"op", "append"}, {"key", "l"}, {"value", 5}})["ok"], true);
  EXPECT_EQ(call(cluster, 0, {{"op", "append"}, {"key", "l"}, {"value", 6}})["ok"], true);
  EXPECT_EQ(call(cluster, 1, {{"op", "read"}, {"key", "l"}})["value"], json::array({5, 6}));
  EXPECT_EQ(call(cluster, 1, {{"op", "add"}, {"key", "c"}, {"value", 3}})["ok"], true);
  EXPECT_EQ(call(cluster, 2, {{"op", "read"}, {"key", "c"}})["value"], 3);
  const json cas = call(cluster, 0, {{"op", "cas"}, {"key", "x"}, {"from", 1}, {"to", 2}});
  EXPECT_EQ(cas["error"], "unsupported");
  EXPECT_EQ(cas["definite"], true);
  EXPECT_EQ(call(cluster, 2, {{"op", "delete"}, {"key", "x"}})["ok"], true);
  EXPECT_EQ(call(cluster, 0, {{"op", "read"}, {"key", "x"}})["value"], nullptr);
  const json status = call(cluster, 1, {{"op", "status"}})["value"];
  EXPECT_EQ(status["role"], "replica");
  EXPECT_EQ(status["leader"], nullptr);
  EXPECT_EQ(status["membership"]["n1"]["up"], true);
}

TEST(QuorumProcess, FailpointErrorAtAckSendFailsWritesUntilDisarmed) {
  RefnodeCluster cluster(3, {}, "quorum");
  cluster.start_all();
  wait_until_all_up(cluster, 10s);
  for (int node = 0; node < 3; ++node) {
    EXPECT_EQ(call(cluster, node, {{"op", "failpoint"}, {"name", "before-ack-send"}, {"action", "error"}})["ok"], true);
  }
  // The coordinator's own copy is one of W=2; no replica's write_ack arrives.
  const json failed = call(cluster, 0, {{"op", "write"}, {"key", "x"}, {"value", 1}});
  EXPECT_FALSE(failed.value("ok", false)) << failed.dump();
  int fired = 0;
  for (int node = 0; node < 3; ++node) {
    fired +=
        call(cluster, node, {{"op", "failpoint"}, {"name", "before-ack-send"}, {"action", "off"}})["value"]["fired"]
            .value("before-ack-send", 0);
  }
  EXPECT_GT(fired, 0);
  EXPECT_EQ(call(cluster, 0, {{"op", "write"}, {"key", "x"}, {"value", 2}})["ok"], true);
  EXPECT_EQ(call(cluster, 1, {{"op", "read"}, {"key", "x"}})["value"], 2);
}

TEST(QuorumProcess, KilledReplicaRecoversFromItsWalAndCatchesUpByAntiEntropy) {
  RefnodeCluster cluster(3, {"--anti-entropy-interval", "300ms"}, "quorum");
  cluster.start_all();
  wait_until_all_up(cluster, 10s);
  for (int key = 0; key < 20; ++key) {
    ASSERT_EQ(call(cluster, key % 3, {{"op", "write"}, {"key", "a" + std::to_string(key)}, {"value", key}})["ok"],
              true);
  }
  wait_for_keys(cluster, 2, 20, 5s);
  cluster.kill(2);
  // W=2 of N=3: writes go on with one replica down.
  for (int key = 0; key < 20; ++key) {
    ASSERT_EQ(call(cluster, key % 2, {{"op", "write"}, {"key", "b" + std::to_string(key)}, {"value", key}})["ok"],
              true);
  }
  cluster.restart_retrying(2);
  // It comes back with what its WAL held, then anti-entropy (no reads) brings the rest.
  EXPECT_GE(keys_at(cluster, 2), 20u);
  wait_for_keys(cluster, 2, 40, 15s);
  EXPECT_EQ(call(cluster, 2, {{"op", "read"}, {"key", "b7"}})["value"], 7);
}

TEST(QuorumProcess, ReplicaCutOffByAProxyConvergesAfterTheCutHeals) {
  RefnodeCluster cluster(3, {"--anti-entropy-interval", "300ms"}, "quorum");
  TcpProxy proxy(cluster.peer_port(2));
  cluster.advertise_peer_port(2, proxy.port());
  cluster.start_all();
  wait_until_all_up(cluster, 10s);
  proxy.set_blocked(true);
  std::this_thread::sleep_for(200ms);  // the proxy thread notices within one 20 ms poll
  for (int key = 0; key < 30; ++key) {
    ASSERT_EQ(call(cluster, key % 2, {{"op", "write"}, {"key", "k" + std::to_string(key)}, {"value", key}})["ok"],
              true);
  }
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(keys_at(cluster, 2), 0u);  // nothing reached n3
  proxy.set_blocked(false);
  wait_for_keys(cluster, 2, 30, 15s);
}

// n1 runs under libfaketime with its wall clock 10 s behind. "first" is
// written through n2, then "second" through n1, each acknowledged by W=2; a
// read afterwards returns what the conflict mode kept.
json overwrite_through_a_slow_clock(const std::string& conflict) {
  const auto library = harness::control::find_libfaketime();
  RefnodeCluster cluster(3, {"--conflict", conflict}, "quorum");
  const auto offset_file = std::filesystem::temp_directory_path() /
                           ("chaosbench-quorum-offset-" + std::to_string(::getpid()) + "-" + conflict);
  std::ofstream(offset_file) << harness::control::format_clock_offset(-10) << "\n";
  const auto environment = harness::control::faketime_environment(library, offset_file);
  for (const auto& [name, value] : environment) ::setenv(name.c_str(), value.c_str(), 1);
  cluster.start(0);  // inherits the faketime environment
  for (const auto& [name, value] : environment) ::unsetenv(name.c_str());
  cluster.start(1);
  cluster.start(2);
  wait_until_all_up(cluster, 10s);
  EXPECT_EQ(call(cluster, 1, {{"op", "write"}, {"key", "x"}, {"value", "first"}})["ok"], true);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(call(cluster, 0, {{"op", "write"}, {"key", "x"}, {"value", "second"}})["ok"], true);
  std::this_thread::sleep_for(200ms);
  const json value = call(cluster, 2, {{"op", "read"}, {"key", "x"}})["value"];
  std::filesystem::remove(offset_file);
  return value;
}

TEST(QuorumProcess, LastWriteWinsLosesAnAcknowledgedWriteOfANodeWhoseClockIsBehind) {
  try {
    harness::control::find_libfaketime();
  } catch (const std::exception& error) {
    GTEST_SKIP() << "libfaketime not installed: " << error.what();
  }
  EXPECT_EQ(overwrite_through_a_slow_clock("lww"), "first");  // "second" was acknowledged, then lost
  EXPECT_EQ(overwrite_through_a_slow_clock("vector-clocks"), "second");
}

TEST(QuorumProcess, BadQuorumFlagsExitWithCodeThree) {
  for (std::vector<std::string> flags : {std::vector<std::string>{"--n", "4"},
                                         {"--r", "3", "--n", "2"},
                                         {"--conflict", "newest"},
                                         {"--bug", "skip-truncate"},
                                         {"--anti-entropy-interval", "soon"}}) {
    RefnodeCluster cluster(3, flags, "quorum");
    cluster.start(0);
    EXPECT_EQ(cluster.wait_for_exit(0, 5s), 3) << flags[0] << "\n" << cluster.log_text(0);
  }
}

}  // namespace
}  // namespace chaosbench::testing
