// Process tests of `refnode --protocol zab`: real clusters on 127.0.0.1
// (kernel-chosen ports, so no collisions with the raft tests), faults by
// signal to the PIDs these tests started and by a TCP proxy that cuts a
// follower's inbound peer traffic.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "refnode_cluster.h"
#include "tcp_proxy.h"

namespace chaosbench::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

bool serving_as(RefnodeCluster& cluster, int node, const char* role) {
  if (!cluster.running(node)) return false;
  auto status = cluster.status(node);
  return status && (*status)["role"] == role && (*status)["serving"] == true;
}

int wait_for_zab_leader(RefnodeCluster& cluster, std::chrono::milliseconds timeout, int excluding = -1) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    for (int node = 0; node < cluster.size(); ++node) {
      if (node != excluding && serving_as(cluster, node, "leading")) return node;
    }
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("no serving ZAB leader in time");
}

void wait_until_following(RefnodeCluster& cluster, int node, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (serving_as(cluster, node, "following")) return;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error(cluster.id(node) + " is not a serving follower in time");
}

// An update at `node`, retried (also at other nodes) until acknowledged.
json update(RefnodeCluster& cluster, int node, json request, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = Clock::now() + timeout;
  json last;
  for (int target = node; Clock::now() < deadline; target = (target + 1) % cluster.size()) {
    if (!cluster.running(target)) continue;
    try {
      LineClient client(cluster.client_port(target), 300ms);
      last = client.call(request, 7s);
      if (last.value("ok", false) || last.value("error", "") == "precondition_failed") return last;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("update " + request.dump() + " not acknowledged; last reply " + last.dump());
}

// sync then read on one connection: the value at least as new as the
// leader's. A replica still (re)joining answers not_leader, to the sync or to
// the read (it may only notice it lost its leader after the sync): retry both
// for a while.
json synced_read(RefnodeCluster& cluster, int node, const std::string& key) {
  LineClient client(cluster.client_port(node));
  const auto deadline = Clock::now() + 10s;
  while (true) {
    json reply = client.call({{"id", "s"}, {"op", "sync"}});
    if (reply.value("ok", false)) {
      reply = client.call({{"id", "r"}, {"op", "read"}, {"key", key}});
      if (reply.value("ok", false)) return reply["value"];
    }
    if (reply.value("error", "") != "not_leader" || Clock::now() > deadline) {
      throw std::runtime_error("synced read failed at " + cluster.id(node) + ": " + reply.dump());
    }
    std::this_thread::sleep_for(50ms);
  }
}

json local_read(RefnodeCluster& cluster, int node, const std::string& key) {
  LineClient client(cluster.client_port(node));
  return client.call({{"id", "r"}, {"op", "read"}, {"key", key}})["value"];
}

json local_read_reply(RefnodeCluster& cluster, int node, const std::string& key) {
  LineClient client(cluster.client_port(node));
  return client.call({{"id", "r"}, {"op", "read"}, {"key", key}});
}

int some_follower(RefnodeCluster& cluster, int leader) {
  for (int node = 0; node < cluster.size(); ++node) {
    if (node != leader && cluster.running(node)) {
      wait_until_following(cluster, node, 10s);
      return node;
    }
  }
  throw std::runtime_error("no follower");
}

TEST(ZabProcess, ServesEveryOpAndForwardsWritesFromFollowers) {
  RefnodeCluster cluster(3, {}, "zab");
  cluster.start_all();
  const int leader = wait_for_zab_leader(cluster, 10s);
  const int follower = some_follower(cluster, leader);
  LineClient client(cluster.client_port(follower));
  // Updates at a follower are forwarded to the leader and answered on apply.
  for (int value = 0; value < 20; ++value) {
    json reply = client.call({{"id", value}, {"op", "write"}, {"key", "x"}, {"value", value}});
    ASSERT_EQ(reply["ok"], true) << reply.dump();
    ASSERT_EQ(reply["id"], value);
  }
  // The follower applied its own write before answering, so it reads it.
  EXPECT_EQ(client.call({{"id", "r"}, {"op", "read"}, {"key", "x"}})["value"], 19);
  EXPECT_EQ(client.call({{"id", 1}, {"op", "cas"}, {"key", "x"}, {"from", 19}, {"to", 20}})["ok"], true);
  EXPECT_EQ(client.call({{"id", 2}, {"op", "cas"}, {"key", "x"}, {"from", 19}, {"to", 21}})["error"],
            "precondition_failed");
  EXPECT_EQ(client.call({{"id", 3}, {"op", "append"}, {"key", "l"}, {"value", 1}})["ok"], true);
  json txn = client.call({{"id", 4},
                          {"op", "txn"},
                          {"value", json::array({json::array({"append", "l", 2}), json::array({"r", "l", nullptr})})}});
  EXPECT_EQ(txn["value"][1][2], json::array({1, 2})) << txn.dump();
  EXPECT_EQ(client.call({{"id", 5}, {"op", "read"}, {"key", "missing"}})["value"], nullptr);
  EXPECT_EQ(client.call({{"id", 6}, {"op", "frobnicate"}})["error"], "unknown_op");
  // Every replica converges; sync + read at the leader sees the follower's writes.
  EXPECT_EQ(synced_read(cluster, leader, "x"), 20);
  for (int node = 0; node < 3; ++node) EXPECT_EQ(synced_read(cluster, node, "l"), json::array({1, 2}));
  auto leader_status = cluster.status(leader);
  auto follower_status = cluster.status(follower);
  ASSERT_TRUE(leader_status && follower_status);
  EXPECT_GT((*leader_status)["term"].get<std::uint64_t>(), 0u);
  EXPECT_EQ((*follower_status)["term"], (*leader_status)["term"]);
  EXPECT_EQ((*follower_status)["leader"], cluster.id(leader));
}

void kill_leader_keeps_acknowledged_writes_in(RefnodeCluster& cluster, int size);

void kill_leader_keeps_acknowledged_writes(int size) {
  RefnodeCluster cluster(size, {}, "zab");
  try {
    kill_leader_keeps_acknowledged_writes_in(cluster, size);
  } catch (const std::exception& error) {
    std::string logs;
    for (int node = 0; node < size; ++node) logs += "--- " + cluster.id(node) + "\n" + cluster.log_text(node);
    FAIL() << error.what() << "\nnode logs:\n" << logs;
  }
}

void kill_leader_keeps_acknowledged_writes_in(RefnodeCluster& cluster, int size) {
  cluster.start_all();
  const int leader = wait_for_zab_leader(cluster, 10s);
  std::map<std::string, int> acknowledged;
  for (int value = 0; value < 30; ++value) {
    const std::string key = "k" + std::to_string(value);
    update(cluster, value % size, {{"id", value}, {"op", "write"}, {"key", key}, {"value", value}});
    acknowledged[key] = value;
  }
  cluster.kill(leader);
  const int successor = wait_for_zab_leader(cluster, 15s, leader);
  EXPECT_NE(successor, leader);
  // Writes keep working under the new epoch.
  update(cluster, successor, {{"id", 99}, {"op", "write"}, {"key", "after"}, {"value", 1}});
  acknowledged["after"] = 1;
  for (int node = 0; node < size; ++node) {
    if (!cluster.running(node)) continue;
    for (const auto& [key, value] : acknowledged) {
      ASSERT_EQ(synced_read(cluster, node, key), value) << "acknowledged " << key << " lost on " << cluster.id(node);
    }
  }
  // The old leader rejoins as a follower and catches up.
  cluster.restart_retrying(leader);
  wait_until_following(cluster, leader, 15s);
  for (const auto& [key, value] : acknowledged) EXPECT_EQ(synced_read(cluster, leader, key), value);
}

TEST(ZabProcess, ThreeNodesKillLeaderLosesNoAcknowledgedWrite) { kill_leader_keeps_acknowledged_writes(3); }
TEST(ZabProcess, FiveNodesKillLeaderLosesNoAcknowledgedWrite) { kill_leader_keeps_acknowledged_writes(5); }

TEST(ZabProcess, PartitionedFollowerReadsStaleThenRefusesUntilItRejoins) {
  RefnodeCluster cluster(3, {}, "zab");
  std::vector<std::unique_ptr<TcpProxy>> proxies;
  for (int node = 0; node < 3; ++node) {
    proxies.push_back(std::make_unique<TcpProxy>(cluster.peer_port(node)));
    cluster.advertise_peer_port(node, proxies.back()->port());
  }
  cluster.start_all();
  const int leader = wait_for_zab_leader(cluster, 10s);
  const int follower = some_follower(cluster, leader);
  update(cluster, leader, {{"id", 1}, {"op", "write"}, {"key", "x"}, {"value", 1}});
  ASSERT_EQ(synced_read(cluster, follower, "x"), 1);
  // Cut everything the follower receives from its peers.
  proxies[follower]->set_blocked(true);
  const json written = update(cluster, leader, {{"id", 2}, {"op", "write"}, {"key", "x"}, {"value", 2}});
  ASSERT_TRUE(written.contains("zxid")) << written.dump();
  ASSERT_EQ(local_read(cluster, follower, "x"), 1) << "a cut-off follower cannot know the new value";
  // A client that saw the write (ZooKeeper's session lastZxid) never gets the
  // older value here: the read waits, then fails once the replica stops serving.
  {
    LineClient client(cluster.client_port(follower));
    const json session_read =
        client.call({{"id", "m"}, {"op", "read"}, {"key", "x"}, {"min_zxid", written["zxid"]}}, 7s);
    EXPECT_FALSE(session_read.value("ok", false)) << "a read below the session's zxid: " << session_read.dump();
    EXPECT_TRUE(session_read.value("definite", false)) << session_read.dump();
  }
  // While it still follows (until its 300 ms session timeout) it answers the
  // old value; then, like a ZooKeeper server that lost its leader, it refuses.
  int stale_reads = 1;
  const auto deadline = Clock::now() + 5s;
  json reply;
  while (Clock::now() < deadline) {
    reply = local_read_reply(cluster, follower, "x");
    if (!reply.value("ok", false)) break;
    ASSERT_EQ(reply["value"], 1) << "a cut-off follower cannot know the new value";
    ++stale_reads;
    std::this_thread::sleep_for(20ms);
  }
  std::printf("the cut-off follower answered %d stale read(s) before refusing\n", stale_reads);
  EXPECT_EQ(reply.value("error", ""), "not_leader") << reply.dump();
  EXPECT_TRUE(reply.value("definite", false)) << reply.dump();
  EXPECT_FALSE(serving_as(cluster, follower, "following"));
  // Heal: it rejoins, and a synced read is fresh.
  proxies[follower]->set_blocked(false);
  wait_until_following(cluster, follower, 15s);
  EXPECT_EQ(synced_read(cluster, follower, "x"), 2);
  EXPECT_EQ(local_read(cluster, follower, "x"), 2);
}

// --read-mode sync: every read is a sync through the leader, then a local
// read, so a follower's read right after a write elsewhere sees it; replies
// carry the zxid they reflect.
TEST(ZabProcess, SyncReadModeReadsAreFreshAtFollowers) {
  RefnodeCluster cluster(3, {"--read-mode", "sync"}, "zab");
  cluster.start_all();
  const int leader = wait_for_zab_leader(cluster, 10s);
  const int follower = some_follower(cluster, leader);
  wait_until_following(cluster, follower, 10s);
  LineClient client(cluster.client_port(follower));
  for (int value = 1; value <= 20; ++value) {
    const json written = update(cluster, leader, {{"id", value}, {"op", "write"}, {"key", "z"}, {"value", value}});
    const json read = client.call({{"id", "r"}, {"op", "read"}, {"key", "z"}});
    ASSERT_TRUE(read.value("ok", false)) << read.dump();
    ASSERT_EQ(read["value"], value) << "a sync read must see a write acknowledged before it began";
    ASSERT_GE(read["zxid"].get<std::uint64_t>(), written["zxid"].get<std::uint64_t>());
  }
}

TEST(ZabProcess, FailpointErrorAtAckSendDropsAcksUntilDisarmed) {
  RefnodeCluster cluster(3, {}, "zab");
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  ASSERT_EQ(update(cluster, leader, {{"id", 1}, {"op", "write"}, {"key", "k"}, {"value", 1}})["ok"], true);
  auto set_everywhere = [&](const std::string& action) {
    int fired = 0;
    for (int node = 0; node < cluster.size(); ++node) {
      LineClient client(cluster.client_port(node));
      json reply = client.call({{"id", 2}, {"op", "failpoint"}, {"name", "before-ack-send"}, {"action", action}});
      EXPECT_EQ(reply["ok"], true) << reply.dump();
      fired += reply["value"]["fired"].value("before-ack-send", 0);
    }
    return fired;
  };
  set_everywhere("error");
  // No follower's ACK reaches the leader: the proposal is never committed.
  LineClient client(cluster.client_port(cluster.wait_for_leader(10s)));
  json stuck = client.call({{"id", 3}, {"op", "write"}, {"key", "k"}, {"value", 2}}, 10s);
  EXPECT_NE(stuck["ok"], true) << stuck.dump();
  EXPECT_GT(set_everywhere("off"), 0);
  ASSERT_EQ(update(cluster, leader, {{"id", 4}, {"op", "write"}, {"key", "k"}, {"value", 3}})["ok"], true);
  EXPECT_EQ(synced_read(cluster, leader, "k"), 3);
}

TEST(ZabProcess, StoppedFollowerCatchesUpAfterSigcont) {
  RefnodeCluster cluster(3, {}, "zab");
  cluster.start_all();
  const int leader = wait_for_zab_leader(cluster, 10s);
  const int follower = some_follower(cluster, leader);
  update(cluster, leader, {{"id", 1}, {"op", "write"}, {"key", "y"}, {"value", 1}});
  cluster.signal(follower, SIGSTOP);
  // The other two are a quorum: writes go on while it is stopped.
  for (int value = 2; value <= 5; ++value) {
    update(cluster, leader, {{"id", value}, {"op", "write"}, {"key", "y"}, {"value", value}});
  }
  std::this_thread::sleep_for(1s);  // well past the 300 ms session timeout
  EXPECT_TRUE(serving_as(cluster, leader, "leading")) << "two of three are still a quorum";
  cluster.signal(follower, SIGCONT);
  wait_until_following(cluster, follower, 15s);
  EXPECT_EQ(synced_read(cluster, follower, "y"), 5);
}

}  // namespace
}  // namespace chaosbench::testing
