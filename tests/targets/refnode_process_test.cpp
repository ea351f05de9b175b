// Process tests: real refnode clusters on 127.0.0.1, faults by signal to the
// PIDs these tests started, and hostile input on both ports.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "refnode_cluster.h"

namespace chaosbench::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json read_at_leader(RefnodeCluster& cluster, const std::string& key) {
  return cluster.request_leader({{"id", 2}, {"op", "read"}, {"key", key}});
}

void expect_all_readable(RefnodeCluster& cluster, const std::map<std::string, int>& acknowledged) {
  for (const auto& [key, value] : acknowledged) {
    json reply = read_at_leader(cluster, key);
    ASSERT_EQ(reply["value"], value) << "acknowledged write " << key << "=" << value << " lost";
  }
}

void wait_until_caught_up(RefnodeCluster& cluster, int node, int leader, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint64_t target = 0;
  if (auto leader_status = cluster.status(leader)) target = (*leader_status)["commit"].get<std::uint64_t>();
  while (std::chrono::steady_clock::now() < deadline) {
    auto current = cluster.status(node);
    if (current && (*current)["applied"].get<std::uint64_t>() >= target && target > 0) return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL() << cluster.id(node) << " did not catch up to commit " << target;
}

void check_cluster_basics(RefnodeCluster& cluster) {
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  LineClient client(cluster.client_port(leader));
  for (int value = 0; value < 50; ++value) {
    json reply = client.call({{"id", value}, {"op", "write"}, {"key", "x"}, {"value", value}});
    ASSERT_EQ(reply["ok"], true) << reply.dump();
    ASSERT_EQ(reply["id"], value);
  }
  json read = client.call({{"id", "r"}, {"op", "read"}, {"key", "x"}});
  EXPECT_EQ(read["value"], 49);
  EXPECT_EQ(client.call({{"id", 1}, {"op", "read"}, {"key", "missing"}})["value"], nullptr);
  EXPECT_EQ(client.call({{"id", 2}, {"op", "cas"}, {"key", "x"}, {"from", 49}, {"to", 50}})["ok"], true);
  json failed_cas = client.call({{"id", 3}, {"op", "cas"}, {"key", "x"}, {"from", 49}, {"to", 51}});
  EXPECT_EQ(failed_cas["error"], "precondition_failed");
  EXPECT_EQ(failed_cas["definite"], true);
  EXPECT_EQ(client.call({{"id", 4}, {"op", "append"}, {"key", "l"}, {"value", 1}})["ok"], true);
  EXPECT_EQ(client.call({{"id", 5}, {"op", "add"}, {"key", "c"}, {"value", 2}})["ok"], true);
  json txn = client.call({{"id", 6},
                          {"op", "txn"},
                          {"value", json::array({json::array({"append", "l", 2}), json::array({"r", "l", nullptr})})}});
  EXPECT_EQ(txn["value"][1][2], json::array({1, 2}));
  EXPECT_EQ(client.call({{"id", 7}, {"op", "sync"}})["ok"], true);
  // Followers refuse with a hint instead of forwarding.
  const int follower = (leader + 1) % cluster.size();
  LineClient follower_client(cluster.client_port(follower));
  json refused = follower_client.call({{"id", 8}, {"op", "write"}, {"key", "x"}, {"value", 0}});
  EXPECT_EQ(refused["error"], "not_leader");
  EXPECT_EQ(refused["definite"], true);
  EXPECT_EQ(refused["leader"], cluster.id(leader));
  EXPECT_EQ(follower_client.call({{"id", 9}, {"op", "read"}, {"key", "x"}})["error"], "not_leader");
  // Pipelined requests on one connection all come back, matched by id.
  std::string batch;
  for (int request = 0; request < 20; ++request) {
    batch += json{{"id", 100 + request}, {"op", "add"}, {"key", "p"}, {"value", 1}}.dump() + "\n";
  }
  client.send_raw(batch);
  std::set<int> ids;
  for (int request = 0; request < 20; ++request) {
    auto line = client.read_line();
    ASSERT_TRUE(line.has_value());
    ids.insert(json::parse(*line)["id"].get<int>());
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(client.call({{"id", 10}, {"op", "read"}, {"key", "p"}})["value"], 20);
}

TEST(RefnodeProcess, ThreeNodesServeWritesAndReads) {
  RefnodeCluster cluster(3);
  check_cluster_basics(cluster);
}

TEST(RefnodeProcess, FiveNodesServeWritesAndReads) {
  RefnodeCluster cluster(5);
  check_cluster_basics(cluster);
}

void kill_leader_keeps_acknowledged_writes(int size) {
  RefnodeCluster cluster(size);
  cluster.start_all();
  const int old_leader = cluster.wait_for_leader(10s);
  std::map<std::string, int> acknowledged;
  for (int value = 0; value < 100; ++value) {
    const std::string key = fmt::format("k{}", value % 17);
    ASSERT_EQ(cluster.write(key, value)["ok"], true);
    acknowledged[key] = value;
  }
  cluster.kill(old_leader);
  const auto killed_at = std::chrono::steady_clock::now();
  const int new_leader = cluster.wait_for_leader(10s, old_leader);
  EXPECT_NE(new_leader, old_leader);
  ASSERT_EQ(cluster.write("after", 1)["ok"], true);
  const auto failover = std::chrono::steady_clock::now() - killed_at;
  std::printf("%d nodes: failover (kill to first acknowledged write) %lld ms\n", size,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(failover).count()));
  acknowledged["after"] = 1;
  expect_all_readable(cluster, acknowledged);
  // The old leader restarts from its WAL and catches up.
  cluster.start(old_leader);
  wait_until_caught_up(cluster, old_leader, cluster.wait_for_leader(10s), 10s);
  auto status = cluster.status(old_leader);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ((*status)["role"], "follower");
  // Kill another majority member's worth: the restarted node's log must carry the data.
  cluster.kill(cluster.wait_for_leader(10s));
  cluster.wait_for_leader(10s);
  expect_all_readable(cluster, acknowledged);
}

TEST(RefnodeProcess, ThreeNodesSurviveLeaderKill) { kill_leader_keeps_acknowledged_writes(3); }

TEST(RefnodeProcess, FiveNodesSurviveLeaderKill) { kill_leader_keeps_acknowledged_writes(5); }

TEST(RefnodeProcess, KillDuringConcurrentWritesLosesNoAcknowledgedWrite) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  const int victim = cluster.wait_for_leader(10s);
  constexpr int kWriters = 8;
  std::vector<std::vector<int>> acknowledged(kWriters);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int writer = 0; writer < kWriters; ++writer) {
    writers.emplace_back([&, writer] {
      int target = victim;
      for (int sequence = 0; !stop; ++sequence) {
        try {
          LineClient client(cluster.client_port(target), 300ms);
          json reply = client.call({{"id", sequence},
                                    {"op", "write"},
                                    {"key", fmt::format("w{}-{}", writer, sequence)},
                                    {"value", sequence}},
                                   3s);
          if (reply.value("ok", false)) {
            acknowledged[writer].push_back(sequence);
          } else if (reply.value("error", "") == "not_leader" && reply["leader"].is_string()) {
            target = cluster.index_of(reply["leader"].get<std::string>());
          } else {
            target = (target + 1) % 3;
          }
        } catch (const std::exception&) {
          target = (target + 1) % 3;  // refused or timed out: outcome unknown, not counted
        }
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  cluster.kill(victim);
  std::this_thread::sleep_for(2500ms);
  cluster.start(victim);
  std::this_thread::sleep_for(1000ms);
  stop = true;
  for (auto& writer : writers) writer.join();
  std::size_t total = 0;
  for (const auto& list : acknowledged) total += list.size();
  ASSERT_GT(total, 100u) << "too few writes acknowledged to mean anything";
  // Every acknowledged write must be readable, even with the old leader back.
  LineClient reader(cluster.client_port(cluster.wait_for_leader(10s)));
  for (int writer = 0; writer < kWriters; ++writer) {
    std::string batch;  // pipelined: replies come back matched by id
    for (int sequence : acknowledged[writer]) {
      batch += json{{"id", sequence}, {"op", "read"}, {"key", fmt::format("w{}-{}", writer, sequence)}}.dump() + "\n";
    }
    reader.send_raw(batch);
    for (std::size_t count = 0; count < acknowledged[writer].size(); ++count) {
      auto line = reader.read_line();
      ASSERT_TRUE(line.has_value()) << "reader connection closed";
      json reply = json::parse(*line);
      ASSERT_EQ(reply["ok"], true) << reply.dump();
      ASSERT_EQ(reply["value"], reply["id"]) << "acknowledged write w" << writer << "-" << reply["id"] << " was lost";
    }
  }
  std::printf("%zu acknowledged writes across a leader SIGKILL, none lost\n", total);
}

TEST(RefnodeProcess, LeaseReadsServeFromTheLeader) {
  RefnodeCluster cluster(3, {"--read-mode", "lease"});
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  LineClient client(cluster.client_port(leader));
  ASSERT_EQ(client.call({{"id", 1}, {"op", "write"}, {"key", "x"}, {"value", 7}})["ok"], true);
  for (int read = 0; read < 20; ++read) {
    EXPECT_EQ(client.call({{"id", 2 + read}, {"op", "read"}, {"key", "x"}})["value"], 7);
  }
  LineClient follower(cluster.client_port((leader + 1) % 3));
  EXPECT_EQ(follower.call({{"id", 1}, {"op", "read"}, {"key", "x"}})["error"], "not_leader");
}

// Followers answer reads themselves with --bug stale-follower-read and with
// --read-mode local (stale by design); the correct default refuses (see
// check_cluster_basics). Staleness itself is for the harness's partitions to show.
void expect_follower_serves_reads(const std::vector<std::string>& flags) {
  RefnodeCluster cluster(3, flags);
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  ASSERT_EQ(cluster.write("x", 1)["ok"], true);
  LineClient follower(cluster.client_port((leader + 1) % 3));
  json reply = follower.call({{"id", 1}, {"op", "read"}, {"key", "x"}});
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_TRUE(reply["value"] == 1 || reply["value"] == nullptr) << reply.dump();
  // Updates still go to the leader only.
  EXPECT_EQ(follower.call({{"id", 2}, {"op", "write"}, {"key", "x"}, {"value", 2}})["error"], "not_leader");
}

TEST(RefnodeProcess, StaleFollowerReadBugServesReadsOnFollowers) {
  expect_follower_serves_reads({"--bug", "stale-follower-read"});
}

TEST(RefnodeProcess, LocalReadModeServesReadsOnFollowers) { expect_follower_serves_reads({"--read-mode", "local"}); }

TEST(RefnodeProcess, PausedLeaderIsReplacedAndStepsDownAfterResume) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  const int paused = cluster.wait_for_leader(10s);
  ASSERT_EQ(cluster.write("x", 1)["ok"], true);
  cluster.signal(paused, SIGSTOP);
  const int replacement = cluster.wait_for_leader(10s, paused);
  EXPECT_NE(replacement, paused);
  ASSERT_EQ(cluster.write("x", 2)["ok"], true);
  cluster.signal(paused, SIGCONT);
  // The resumed node learns the newer term and follows.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool follows = false;
  while (!follows && std::chrono::steady_clock::now() < deadline) {
    auto status = cluster.status(paused);
    follows = status && (*status)["role"] == "follower" && (*status)["applied"].get<int>() >= 3;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(follows) << "resumed leader did not step down and catch up";
  EXPECT_EQ(read_at_leader(cluster, "x")["value"], 2);
}

TEST(RefnodeProcess, EmptyDataDirCatchesUpBySnapshot) {
  RefnodeCluster cluster(3, {"--snapshot-every", "50"});
  cluster.start_all();
  int leader = cluster.wait_for_leader(10s);
  const int wiped = (leader + 1) % 3;
  for (int value = 0; value < 300; ++value) ASSERT_EQ(cluster.write(fmt::format("k{}", value % 7), value)["ok"], true);
  cluster.kill(wiped);
  cluster.wipe_data(wiped);
  for (int value = 300; value < 400; ++value)
    ASSERT_EQ(cluster.write(fmt::format("k{}", value % 7), value)["ok"], true);
  cluster.start(wiped);
  leader = cluster.wait_for_leader(10s);
  wait_until_caught_up(cluster, wiped, leader, 15s);
  EXPECT_NE(cluster.log_text(wiped).find("installed snapshot"), std::string::npos)
      << "the wiped node caught up without an InstallSnapshot";
  // Prove its state is complete: make it necessary for a majority.
  const int other = 3 - leader - wiped;
  cluster.kill(other);
  ASSERT_EQ(cluster.write("final", 1)["ok"], true);
  for (int key = 0; key < 7; ++key) {
    const int expected = 399 - ((399 - key) % 7);
    EXPECT_EQ(read_at_leader(cluster, fmt::format("k{}", key))["value"], expected);
  }
}

TEST(RefnodeProcess, HostileInputGetsErrorsNotCrashes) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  LineClient client(cluster.client_port(leader));
  client.send_raw("this is not json\n");
  json malformed = json::parse(client.read_line().value());
  EXPECT_EQ(malformed["error"], "malformed");
  EXPECT_EQ(malformed["definite"], true);
  client.send_raw("[1,2,3]\n");
  EXPECT_EQ(json::parse(client.read_line().value())["error"], "malformed");
  EXPECT_EQ(client.call({{"id", 1}, {"op", "teleport"}, {"key", "x"}})["error"], "unknown_op");
  EXPECT_EQ(client.call({{"id", 2}, {"op", "write"}, {"key", 5}})["error"], "malformed");
  EXPECT_EQ(client.call({{"id", 3}, {"op", "add"}, {"key", "c"}, {"value", "NaN"}})["definite"], true);
  EXPECT_EQ(client.call({{"id", 4}})["error"], "malformed");
  // The connection is still usable after all of that.
  EXPECT_EQ(client.call({{"id", 5}, {"op", "write"}, {"key", "x"}, {"value", 1}})["ok"], true);

  // Oversize line: an error, then the server closes that connection.
  LineClient oversize(cluster.client_port(leader));
  oversize.send_raw(std::string(2u << 20, 'a') + "\n");
  auto reply = oversize.read_line();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(json::parse(*reply)["error"], "line_too_long");
  EXPECT_FALSE(oversize.read_line(2s).has_value());

  // Garbage on every peer port: an absurd frame length, and a small frame of non-CBOR.
  for (int node = 0; node < 3; ++node) {
    LineClient absurd(cluster.peer_port(node));
    absurd.send_raw(std::string("\xff\xff\xff\xff garbage", 12));
    LineClient junk(cluster.peer_port(node));
    junk.send_raw(std::string("\x00\x00\x00\x05hello", 9));
    LineClient wrong_shape(cluster.peer_port(node));
    wrong_shape.send_raw(std::string("\x00\x00\x00\x01\xa0", 5));  // CBOR {} is not a message
  }
  std::this_thread::sleep_for(300ms);
  for (int node = 0; node < 3; ++node) {
    ASSERT_TRUE(cluster.status(node).has_value()) << cluster.id(node) << " stopped answering";
  }
  EXPECT_EQ(cluster.write("x", 2)["ok"], true);
  EXPECT_EQ(read_at_leader(cluster, "x")["value"], 2);
  bool logged = false;
  for (int node = 0; node < 3; ++node) logged = logged || cluster.log_text(node).find("garbage") != std::string::npos;
  EXPECT_TRUE(logged) << "garbage on the peer port was not logged";
}

TEST(RefnodeProcess, CorruptedWalIsRefusedLoudly) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  cluster.wait_for_leader(10s);
  for (int value = 0; value < 20; ++value) ASSERT_EQ(cluster.write("x", value)["ok"], true);
  cluster.kill(0);
  const auto wal = cluster.data_dir(0) / "wal.log";
  ASSERT_GT(std::filesystem::file_size(wal), 64u);
  {
    std::fstream file(wal, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(20 + 12);  // past the file header, inside the first record's payload, with records after it
    file.put('\x7f');
  }
  cluster.start(0);
  const int exit_code = cluster.wait_for_exit(0, 10s);
  EXPECT_EQ(exit_code, 1);
  const std::string log = cluster.log_text(0);
  EXPECT_NE(log.find("fatal"), std::string::npos) << log;
  EXPECT_NE(log.find("checksum mismatch"), std::string::npos) << log;
}

// Synced bytes cut off the end of the log look like a torn write; the WAL's
// header (bytes 8-15: how much the previous fdatasync made durable) says otherwise.
TEST(RefnodeProcess, SyncedBytesCutOffTheWalAreRefused) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  cluster.wait_for_leader(10s);
  for (int value = 0; value < 20; ++value) ASSERT_EQ(cluster.write("x", value)["ok"], true);
  cluster.kill(0);
  const auto wal = cluster.data_dir(0) / "wal.log";
  std::uint64_t claimed = 0;
  {
    std::ifstream file(wal, std::ios::binary);
    unsigned char bytes[16] = {};
    file.read(reinterpret_cast<char*>(bytes), sizeof bytes);
    for (int position = 15; position >= 8; --position) claimed = (claimed << 8) | bytes[position];
  }
  ASSERT_GT(claimed, 20u) << "the header claims synced records";
  ASSERT_LE(claimed, std::filesystem::file_size(wal));
  std::filesystem::resize_file(wal, claimed - 1);
  cluster.start(0);
  EXPECT_EQ(cluster.wait_for_exit(0, 10s), 1);
  const std::string log = cluster.log_text(0);
  EXPECT_NE(log.find(fmt::format("the header says {} bytes were synced", claimed)), std::string::npos) << log;
}

// The line of `log` that starts the fatal exit ("" when none).
std::string fatal_line(const std::string& log) {
  const auto start = log.find("fatal: ");
  if (start == std::string::npos) return "";
  return log.substr(start, log.find('\n', start) - start);
}

void flip_bit(const std::filesystem::path& path, std::uint64_t offset, int bit) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.get(byte);
  file.seekp(static_cast<std::streamoff>(offset));
  file.put(static_cast<char>(byte ^ (1 << bit)));
}

// One flipped bit in the last record of a stopped node's WAL: synced data
// (the records were acknowledged), so the node refuses to start (fail-stop)
// with one line naming the file and the record's offset, exit 1. The old
// rule took it for a torn write and dropped it silently.
TEST(RefnodeProcess, AFlippedBitInTheLastWalRecordStopsTheNodeNamingFileAndOffset) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  for (int value = 0; value < 10; ++value) ASSERT_EQ(cluster.write("x", value)["ok"], true);
  const int node = (leader + 1) % 3;
  wait_until_caught_up(cluster, node, leader, 10s);
  cluster.kill(node);
  const auto wal = cluster.data_dir(node) / "wal.log";
  flip_bit(wal, std::filesystem::file_size(wal) - 1, 3);
  cluster.start(node);
  EXPECT_EQ(cluster.wait_for_exit(node, 10s), 1);
  const std::string line = fatal_line(cluster.log_text(node));
  EXPECT_NE(line.find(wal.string() + ": corrupt record at offset "), std::string::npos) << cluster.log_text(node);
  EXPECT_NE(line.find("refusing to start on corrupted synced data"), std::string::npos) << line;
  std::printf("%s\n", line.c_str());
  // The other two still commit.
  EXPECT_EQ(cluster.write("x", 99)["ok"], true);
}

// The same for a flipped bit in snapshot.bin.
TEST(RefnodeProcess, AFlippedBitInTheSnapshotStopsTheNodeNamingTheFile) {
  RefnodeCluster cluster(3, {"--snapshot-every", "5"});
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  for (int value = 0; value < 20; ++value) ASSERT_EQ(cluster.write("x", value)["ok"], true);
  const int node = (leader + 1) % 3;
  wait_until_caught_up(cluster, node, leader, 10s);
  cluster.kill(node);
  const auto snapshot = cluster.data_dir(node) / "snapshot.bin";
  ASSERT_TRUE(std::filesystem::exists(snapshot));
  flip_bit(snapshot, std::filesystem::file_size(snapshot) / 2, 0);
  cluster.start(node);
  EXPECT_EQ(cluster.wait_for_exit(node, 10s), 1);
  const std::string line = fatal_line(cluster.log_text(node));
  EXPECT_NE(line.find(snapshot.string() + ": corrupt record at offset 0"), std::string::npos) << cluster.log_text(node);
}

TEST(RefnodeProcess, TornWalTailIsTruncatedAndTheNodeRejoins) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  cluster.wait_for_leader(10s);
  for (int value = 0; value < 20; ++value) ASSERT_EQ(cluster.write("x", value)["ok"], true);
  const int node = (cluster.wait_for_leader(10s) + 1) % 3;
  cluster.kill(node);
  const auto wal = cluster.data_dir(node) / "wal.log";
  {
    std::ofstream file(wal, std::ios::binary | std::ios::app);
    file << std::string("\x40\x00\x00\x00\x12\x34", 6);  // half a header of a record that never finished
  }
  cluster.start(node);
  const int leader = cluster.wait_for_leader(10s);
  wait_until_caught_up(cluster, node, leader, 10s);
  EXPECT_NE(cluster.log_text(node).find("torn tail"), std::string::npos);
}

int run_refnode(const std::vector<std::string>& arguments) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<std::string> full{refnode_binary().string()};
    full.insert(full.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& argument : full) argv.push_back(argument.data());
    argv.push_back(nullptr);
    if (!::freopen("/dev/null", "w", stderr) || !::freopen("/dev/null", "w", stdout)) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

json arm_failpoint(RefnodeCluster& cluster, int node, const std::string& point, const std::string& action) {
  LineClient client(cluster.client_port(node));
  json reply = client.call({{"id", 1}, {"op", "failpoint"}, {"name", point}, {"action", action}});
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  return reply;
}

TEST(RefnodeProcess, FailpointCrashArmedAtRunTimeKillsTheFollowerAtThatPointAndItRecovers) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  const int follower = (leader + 1) % 3;
  ASSERT_EQ(cluster.write("k", 1)["ok"], true);
  LineClient client(cluster.client_port(follower));
  json listing = client.call({{"id", 1}, {"op", "failpoint"}});
  ASSERT_EQ(listing["ok"], true);
  EXPECT_GE(listing["value"]["points"].size(), 10u);
  json refused = client.call({{"id", 2}, {"op", "failpoint"}, {"name", "before-apply"}, {"action", "error"}});
  EXPECT_EQ(refused["error"], "malformed");
  EXPECT_EQ(refused["definite"], true);
  // The follower dies the next time it is about to fsync appended entries.
  arm_failpoint(cluster, follower, "before-fsync", "crash");
  ASSERT_EQ(cluster.write("k", 2)["ok"], true);         // the leader and the other follower are a majority
  EXPECT_EQ(cluster.wait_for_exit(follower, 10s), -1);  // killed by a signal, not an exit
  EXPECT_NE(cluster.log_text(follower).find("failpoint before-fsync: crash (SIGKILL)"), std::string::npos);
  // Armed at run time only: the restarted node runs clean, recovers and catches up.
  cluster.restart_retrying(follower);
  wait_until_caught_up(cluster, follower, cluster.wait_for_leader(10s), 10s);
  ASSERT_EQ(cluster.write("k", 3)["ok"], true);
  expect_all_readable(cluster, {{"k", 3}});
}

TEST(RefnodeProcess, FailpointErrorAtAStoragePointStopsTheNodeLikeAnIoError) {
  RefnodeCluster cluster(1, {"--failpoint", "before-wal-append=error"});
  cluster.start_all();
  // A single node elects itself and writes its term: the injected I/O error is fatal (exit 1).
  EXPECT_EQ(cluster.wait_for_exit(0, 10s), 1);
  EXPECT_NE(cluster.log_text(0).find("fatal: failpoint before-wal-append: injected I/O error"), std::string::npos)
      << cluster.log_text(0);
}

TEST(RefnodeProcess, FailpointErrorAtAckSendDropsAcksUntilDisarmed) {
  RefnodeCluster cluster(3);
  cluster.start_all();
  const int leader = cluster.wait_for_leader(10s);
  ASSERT_EQ(cluster.write("k", 1)["ok"], true);
  // On every node: the leader steps down when no follower answers (check quorum)
  // and whoever leads next must not be acknowledged either.
  for (int node = 0; node < 3; ++node) arm_failpoint(cluster, node, "before-ack-send", "error");
  // Followers append but never say so: no leader can commit, the write does not succeed.
  LineClient client(cluster.client_port(leader));
  json stuck = client.call({{"id", 7}, {"op", "write"}, {"key", "k"}, {"value", 2}}, 10s);
  EXPECT_NE(stuck["ok"], true) << stuck.dump();
  int fired = 0;
  for (int node = 0; node < 3; ++node) {
    fired += arm_failpoint(cluster, node, "before-ack-send", "off")["value"]["fired"].value("before-ack-send", 0);
  }
  EXPECT_GT(fired, 0);
  ASSERT_EQ(cluster.write("k", 3)["ok"], true);
  expect_all_readable(cluster, {{"k", 3}});
}

TEST(RefnodeProcess, BadFlagsExitWithCodeThree) {
  EXPECT_EQ(run_refnode({"--bogus"}), 3);
  EXPECT_EQ(run_refnode({"--protocol", "raft"}), 3);
  EXPECT_EQ(run_refnode({"--protocol", "paxos", "--id", "n1", "--peers", "n1=127.0.0.1:1", "--client-port", "2",
                         "--data-dir", "/tmp/x"}),
            3);
  EXPECT_EQ(run_refnode({"--protocol", "raft", "--id", "n9", "--peers", "n1=127.0.0.1:1", "--client-port", "2",
                         "--data-dir", "/tmp/x"}),
            3);
  EXPECT_EQ(run_refnode({"--protocol", "raft", "--id", "n1", "--peers", "n1=127.0.0.1:1", "--client-port", "2",
                         "--data-dir", "/tmp/x", "--bug", "everything"}),
            3);
  EXPECT_EQ(run_refnode({"--config", "/nonexistent/config.json"}), 3);
  EXPECT_EQ(run_refnode({"--help"}), 0);
}

TEST(RefnodeProcess, StartsFromJsonConfigFile) {
  char pattern[] = "/tmp/chaosbench-config-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::filesystem::path directory = pattern;
  const std::uint16_t peer_port = pick_free_port();
  const std::uint16_t client_port = pick_free_port();
  {
    std::ofstream config(directory / "node.json");
    config << json{{"protocol", "raft"},
                   {"id", "n1"},
                   {"peers", {{"n1", fmt::format("127.0.0.1:{}", peer_port)}}},
                   {"client_port", client_port},
                   {"data_dir", (directory / "data").string()}}
                  .dump();
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string binary = refnode_binary().string();
    std::string flag = "--config";
    std::string path = (directory / "node.json").string();
    char* argv[] = {binary.data(), flag.data(), path.data(), nullptr};
    if (!::freopen("/dev/null", "w", stderr)) ::_exit(126);
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  bool served = false;
  try {
    LineClient client(client_port);
    for (int attempt = 0; attempt < 100 && !served; ++attempt) {
      served = client.call({{"id", 1}, {"op", "write"}, {"key", "x"}, {"value", 1}}).value("ok", false);
      if (!served) std::this_thread::sleep_for(50ms);
    }
  } catch (const std::exception& error) {
    ADD_FAILURE() << error.what();
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::filesystem::remove_all(directory);
  EXPECT_TRUE(served) << "single node started from a config file did not accept a write";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "SIGTERM should shut down cleanly";
}

}  // namespace
}  // namespace chaosbench::testing
