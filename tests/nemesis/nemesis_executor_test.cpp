// The nemesis executor (nemesis.h) against a fake cluster: NemesisTarget and
// Host implementations that record what they are asked to do, no processes.
// A schedule's starts and stops are recorded as invoke/info pairs and act on
// the cluster (iptables rules through Host::run, kills and restarts through the
// target); heal_all undoes whatever is still active after a stop; a fault
// that fails is recorded with its error and the run goes on; storage faults
// ask a real faultfs core (on a plain directory) what it accepts.
#include "chaosbench/nemesis/nemesis.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/nemesis/faultfs/control_protocol.h"
#include "chaosbench/nemesis/linkproxy/link_proxy.h"
#include "runtime/failpoints.h"

namespace chaosbench::nemesis {
namespace {

namespace control = harness::control;
using namespace std::chrono_literals;

class FakeHost : public control::Host {
 public:
  FakeHost(std::string name, std::string address) : name_(std::move(name)), address_(std::move(address)) {}
  const std::string& name() const override { return name_; }
  const std::string& address() const override { return address_; }
  control::CommandResult run(const control::Command& command) override {
    std::string line;
    for (const auto& argument : command.argv) line += (line.empty() ? "" : " ") + argument;
    std::lock_guard lock(mutex_);
    commands_.push_back(line);
    control::CommandResult result;
    if (failing_) result.status.exit_code = 1;
    result.err = failing_ ? "iptables: Permission denied" : "";
    return result;
  }
  std::unique_ptr<control::Daemon> start_daemon(const control::DaemonSpec&) override {
    throw control::ControlError("not used");
  }
  void copy_to(const std::filesystem::path&, const std::filesystem::path&) override {}
  void write_file(const std::filesystem::path&, std::string_view) override {}
  std::string read_file(const std::filesystem::path&) override { return ""; }

  std::vector<std::string> commands() const {
    std::lock_guard lock(mutex_);
    return commands_;
  }
  // Whether the last rule-changing command left a DROP in place.
  bool dropping() const {
    std::lock_guard lock(mutex_);
    bool dropping = false;
    for (const auto& command : commands_) {
      if (command.find("DROP") != std::string::npos) dropping = true;
      if (command.find(" -F") != std::string::npos) dropping = false;
    }
    return dropping;
  }
  void set_failing(bool failing) { failing_ = failing; }

 private:
  std::string name_, address_;
  mutable std::mutex mutex_;
  std::vector<std::string> commands_;
  bool failing_ = false;
};

class FakeCluster : public NemesisTarget {
 public:
  FakeCluster() {
    for (int index = 1; index <= 3; ++index) {
      const std::string name = "n" + std::to_string(index);
      hosts_.emplace(name, std::make_unique<FakeHost>(name, "10.0.0." + std::to_string(index)));
      running_.insert(name);
    }
  }
  std::vector<std::string> node_names() const override { return {"n1", "n2", "n3"}; }
  control::Host& host(const std::string& node) override { return *hosts_.at(node); }
  FakeHost& fake_host(const std::string& node) { return *hosts_.at(node); }
  void kill(const std::string& node) override {
    std::lock_guard lock(mutex_);
    running_.erase(node);
    log_.push_back("kill " + node);
  }
  void restart(const std::string& node) override {
    std::lock_guard lock(mutex_);
    running_.insert(node);
    log_.push_back("restart " + node);
  }
  void pause(const std::string& node) override {
    std::lock_guard lock(mutex_);
    paused_.insert(node);
  }
  void resume(const std::string& node) override {
    std::lock_guard lock(mutex_);
    paused_.erase(node);
  }
  std::optional<std::string> leader() override { return "n1"; }
  std::optional<std::filesystem::path> clock_file(const std::string&) const override { return std::nullopt; }
  // A node armed with crash dies at once (as under load); a dead node does not answer.
  void set_failpoint(const std::string& node, const std::string& point, const std::string& action) override {
    std::lock_guard lock(mutex_);
    if (!running_.count(node)) throw control::ControlError(node + ": connection refused");
    log_.push_back("failpoint " + node + " " + point + "=" + action);
    if (action == "crash") running_.erase(node);
  }
  // Storage faults go to a real faultfs core per node (a plain directory with
  // one file), so every request the nemesis draws is one faultfs accepts.
  nlohmann::json storage_fault(const std::string& node, const nlohmann::json& request) override {
    std::lock_guard lock(mutex_);
    auto& filesystem = filesystems_[node];
    if (!filesystem) {
      const auto root = std::filesystem::temp_directory_path() /
                        fmt::format("nemesis-executor-{}-{}-{}", ::getpid(), static_cast<void*>(this), node);
      std::filesystem::remove_all(root);
      std::filesystem::create_directories(root / "data");
      std::ofstream(root / "data" / "wal.log") << std::string(4096, 'w');
      directories_.push_back(root);
      filesystem = std::make_unique<chaosbench::nemesis::faultfs::FaultFilesystem>(root / "data", root, 1);
    }
    log_.push_back("storage " + node + " " + request.value("op", ""));
    const auto reply = chaosbench::nemesis::faultfs::handle_control_request(*filesystem, request.dump());
    if (!reply["ok"].get<bool>()) throw control::ControlError(node + ": faultfs: " + reply["error"].get<std::string>());
    return reply["value"];
  }
  // Link toxics go to a real linkproxy core per node (routes to each peer,
  // never connected to), so every request the nemesis sends is one it accepts.
  bool has_link_proxies() const override { return link_proxies_; }
  void enable_link_proxies() { link_proxies_ = true; }
  nlohmann::json link_toxics(const std::string& node, const nlohmann::json& request) override {
    std::lock_guard lock(mutex_);
    auto& proxy = proxies_[node];
    if (!proxy) {
      const auto loopback = boost::asio::ip::make_address("127.0.0.1");
      std::vector<linkproxy::Route> routes;
      for (const auto& peer : node_names()) {
        if (peer != node) routes.push_back({peer, {loopback, 0}, {loopback, 9}});
      }
      proxy = std::make_unique<linkproxy::LinkProxy>(io_, routes, 1);
    }
    log_.push_back("link " + node + " " + request.dump());
    const auto reply = proxy->handle_request(request.dump());
    if (!reply["ok"].get<bool>())
      throw control::ControlError(node + ": linkproxy: " + reply["error"].get<std::string>());
    return reply["value"];
  }
  // The toxics of node's proxy on its link to peer (both ways are set alike).
  nlohmann::json link_state(const std::string& node, const std::string& peer) {
    std::lock_guard lock(mutex_);
    if (!proxies_.count(node)) return nlohmann::json::object();
    const auto upstream = proxies_.at(node)->toxics(peer, linkproxy::Direction::upstream).to_json();
    EXPECT_EQ(upstream, proxies_.at(node)->toxics(peer, linkproxy::Direction::downstream).to_json());
    return upstream;
  }
  nlohmann::json storage_status(const std::string& node) {
    std::lock_guard lock(mutex_);
    return filesystems_.at(node)->status();
  }
  ~FakeCluster() override {
    filesystems_.clear();
    for (const auto& directory : directories_) std::filesystem::remove_all(directory);
  }
  std::vector<std::string> log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }

  std::set<std::string> running() const {
    std::lock_guard lock(mutex_);
    return running_;
  }
  std::set<std::string> paused() const {
    std::lock_guard lock(mutex_);
    return paused_;
  }

 private:
  std::map<std::string, std::unique_ptr<FakeHost>> hosts_;
  mutable std::mutex mutex_;
  std::set<std::string> running_, paused_;
  std::vector<std::string> log_;
  std::map<std::string, std::unique_ptr<chaosbench::nemesis::faultfs::FaultFilesystem>> filesystems_;
  std::vector<std::filesystem::path> directories_;
  bool link_proxies_ = false;
  boost::asio::io_context io_;  // never run: the proxies only answer requests
  std::map<std::string, std::unique_ptr<linkproxy::LinkProxy>> proxies_;
};

struct Recorded {
  bool completion;
  std::string function;
  nlohmann::json value;
};

struct Harness {
  FakeCluster cluster;
  std::vector<Recorded> recorded;
  std::mutex mutex;
  std::ostringstream warnings;
  Nemesis nemesis{cluster, NemesisOptions{},
                  [this](bool completion, const std::string& function, const nlohmann::json& value) {
                    std::lock_guard lock(mutex);
                    recorded.push_back({completion, function, value});
                  },
                  warnings};
  std::vector<std::string> functions(bool completion) {
    std::lock_guard lock(mutex);
    std::vector<std::string> names;
    for (const auto& entry : recorded) {
      if (entry.completion == completion) names.push_back(entry.function);
    }
    return names;
  }
};

// A nemesis with its own options on any target, recording what it does.
struct RecordingNemesis {
  RecordingNemesis(NemesisTarget& target, const NemesisOptions& options)
      : nemesis(
            target, options,
            [this](bool completion, const std::string& function, const nlohmann::json& value) {
              recorded.push_back({completion, function, value});
            },
            warnings) {}
  std::ostringstream warnings;
  std::vector<Recorded> recorded;
  Nemesis nemesis;
};

bool any_dropping(FakeCluster& cluster) {
  for (const auto& node : cluster.node_names()) {
    if (cluster.fake_host(node).dropping()) return true;
  }
  return false;
}

TEST(NemesisExecutor, StartsAndStopsAreRecordedInPairsAndActOnTheCluster) {
  Harness harness;
  const std::vector<NemesisEvent> schedule{{0ms, FaultKind::partition, true, 1},
                                           {0ms, FaultKind::kill, true, 2},
                                           {100ms, FaultKind::partition, false, 0},
                                           {100ms, FaultKind::kill, false, 0}};
  harness.nemesis.run(schedule, Nemesis::Clock::now());
  const auto invokes = harness.functions(false), infos = harness.functions(true);
  EXPECT_EQ(invokes, infos) << "every invoke has its info, in the same order";
  EXPECT_EQ(std::set<std::string>(invokes.begin(), invokes.end()),
            (std::set<std::string>{"start-partition", "start-kill", "stop-partition", "stop-kill"}));
  EXPECT_EQ(harness.nemesis.starts().at(FaultKind::partition), 1);
  EXPECT_EQ(harness.nemesis.starts().at(FaultKind::kill), 1);
  EXPECT_EQ(harness.cluster.running().size(), 3u) << "stop-kill restarted what was killed";
  EXPECT_FALSE(any_dropping(harness.cluster)) << "stop-partition flushed the rules";
  bool dropped_somewhere = false;
  for (const auto& node : harness.cluster.node_names()) {
    for (const auto& command : harness.cluster.fake_host(node).commands()) {
      dropped_somewhere = dropped_somewhere || command.find("DROP") != std::string::npos;
    }
  }
  EXPECT_TRUE(dropped_somewhere) << "the partition installed DROP rules";
}

// Corruption is permanent (a node refuses to start on corrupted synced data),
// so over many windows the damaged nodes never grow past a minority (1 of 3)
// with --disk-targets mixed; a window that would add another hits only them.
TEST(NemesisExecutor, CorruptionNeverReachesMoreThanAMinorityOverTheRun) {
  Harness harness;
  std::vector<NemesisEvent> schedule;
  for (int window = 0; window < 12; ++window) {
    schedule.push_back({std::chrono::milliseconds(window * 10), FaultKind::corrupt, true, std::uint64_t(window + 1)});
    schedule.push_back({std::chrono::milliseconds(window * 10 + 5), FaultKind::corrupt, false, 0});
  }
  harness.nemesis.run(schedule, Nemesis::Clock::now());
  std::set<std::string> damaged;
  int kept = 0;
  for (const auto& entry : harness.recorded) {
    if (entry.completion || entry.function != "start-corrupt") continue;
    for (const auto& node : entry.value["nodes"]) damaged.insert(node.get<std::string>());
    kept += entry.value.value("only_already_damaged", false);
  }
  EXPECT_EQ(damaged.size(), 1u);
  EXPECT_GT(kept, 0) << "some window drew another node and was kept to the damaged one";
}

// An interrupt (Ctrl-C) cuts leader-last's wait for a new leader short; a
// plain request_stop (the run's normal end, before its final heal) does not.
TEST(NemesisExecutor, AnInterruptEndsTheLeaderLastWait) {
  FakeCluster cluster;  // n1 leads for ever: nobody else will
  NemesisOptions options;
  options.kill_targets = KillTargets::all;
  options.power_loss_restart = PowerLossRestart::leader_last;
  options.leader_wait = std::chrono::seconds(20);
  RecordingNemesis recording(cluster, options);
  const auto began = Nemesis::Clock::now();
  std::jthread interrupter([&] {
    std::this_thread::sleep_for(300ms);
    recording.nemesis.request_interrupt();
  });
  recording.nemesis.run({{0ms, FaultKind::power_loss, true, 1}, {0ms, FaultKind::power_loss, false, 0}}, began);
  EXPECT_LT(Nemesis::Clock::now() - began, std::chrono::seconds(10));
  ASSERT_EQ(recording.recorded.size(), 4u);
  const nlohmann::json& done = recording.recorded[3].value;
  EXPECT_EQ(done["restarted_last"], "n1") << done.dump();
  EXPECT_GE(done["waited_ms"].get<std::int64_t>(), 250);
  EXPECT_LT(done["waited_ms"].get<std::int64_t>(), 10000);
  EXPECT_EQ(cluster.running().size(), 3u) << "the old leader still came back";
}

// one-way-to-leader with n1 leading: n1 drops what n2 and n3 open and keeps
// what it opened itself (conntrack's reply direction); n2 and n3 drop nothing.
TEST(NemesisExecutor, AOneWayPartitionDropsOnlyOnTheDeafSide) {
  FakeCluster cluster;
  NemesisOptions options;
  options.partition_shapes = {PartitionShape::one_way_to_leader};
  RecordingNemesis recording(cluster, options);
  auto& recorded = recording.recorded;
  Nemesis& nemesis = recording.nemesis;
  nemesis.run({{0ms, FaultKind::partition, true, 1}}, Nemesis::Clock::now());
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[1].value["shape"], "one-way-to-leader");
  EXPECT_EQ(recorded[1].value["leader"], "n1");
  EXPECT_TRUE(recorded[1].value["one_way"].get<bool>());
  EXPECT_EQ(recorded[1].value["grudge"], nlohmann::json::parse(R"({"n1": ["n2", "n3"]})"));
  std::vector<std::string> n1_rules;
  for (const auto& command : cluster.fake_host("n1").commands()) {
    if (command.find(" -A chaosbench ") != std::string::npos) n1_rules.push_back(command);
  }
  const std::string n2 = cluster.fake_host("n2").address(), n3 = cluster.fake_host("n3").address();
  EXPECT_EQ(n1_rules,
            (std::vector<std::string>{"iptables -w 5 -A chaosbench -s " + n2 + " -m conntrack --ctdir REPLY -j RETURN",
                                      "iptables -w 5 -A chaosbench -s " + n2 + " -j DROP",
                                      "iptables -w 5 -A chaosbench -s " + n3 + " -m conntrack --ctdir REPLY -j RETURN",
                                      "iptables -w 5 -A chaosbench -s " + n3 + " -j DROP"}));
  EXPECT_FALSE(cluster.fake_host("n2").dropping());
  EXPECT_FALSE(cluster.fake_host("n3").dropping());
  nemesis.heal_all();
  EXPECT_FALSE(any_dropping(cluster));
}

TEST(NemesisExecutor, HealAllUndoesWhatAStoppedRunLeftActive) {
  Harness harness;
  const std::vector<NemesisEvent> schedule{{0ms, FaultKind::partition, true, 3},
                                           {0ms, FaultKind::kill, true, 4},
                                           {0ms, FaultKind::pause, true, 5},
                                           {60s, FaultKind::partition, false, 0}};
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    harness.nemesis.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  harness.nemesis.run(schedule, started);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s) << "request_stop ends the run";
  EXPECT_LT(harness.cluster.running().size(), 3u);
  EXPECT_TRUE(any_dropping(harness.cluster));
  harness.nemesis.heal_all();
  EXPECT_EQ(harness.cluster.running().size(), 3u);
  EXPECT_TRUE(harness.cluster.paused().empty());
  EXPECT_FALSE(any_dropping(harness.cluster));
  const auto infos = harness.functions(true);
  for (const char* stop : {"stop-partition", "stop-kill", "stop-pause"}) {
    EXPECT_NE(std::find(infos.begin(), infos.end(), stop), infos.end()) << stop << " recorded by heal_all";
  }
}

TEST(NemesisExecutor, AFailingFaultIsRecordedWithItsErrorAndTheRunGoesOn) {
  Harness harness;
  for (const auto& node : harness.cluster.node_names()) harness.cluster.fake_host(node).set_failing(true);
  const std::vector<NemesisEvent> schedule{
      {0ms, FaultKind::partition, true, 6}, {0ms, FaultKind::kill, true, 7}, {50ms, FaultKind::kill, false, 0}};
  harness.nemesis.run(schedule, Nemesis::Clock::now());
  bool partition_error = false;
  {
    std::lock_guard lock(harness.mutex);
    for (const auto& entry : harness.recorded) {
      if (entry.completion && entry.function == "start-partition") {
        partition_error = entry.value.contains("error");
      }
    }
  }
  EXPECT_TRUE(partition_error) << "the failed partition's info carries the error";
  EXPECT_NE(harness.warnings.str().find("partition"), std::string::npos) << harness.warnings.str();
  EXPECT_EQ(harness.cluster.running().size(), 3u) << "the kill still ran and was undone";
}

TEST(NemesisExecutor, AFailpointWindowArmsOnePointAndItsStopDisarmsAndRestartsTheCrashed) {
  // Over many seeds: every plan names a known point and a drawn action; the
  // stop disarms what answers and restarts what the failpoint crashed.
  std::set<std::string> actions_seen;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    Harness harness;
    harness.nemesis.run({{0ms, FaultKind::failpoint, true, seed}, {0ms, FaultKind::failpoint, false, 0}},
                        Nemesis::Clock::now());
    ASSERT_EQ(harness.functions(false), (std::vector<std::string>{"start-failpoint", "stop-failpoint"}));
    const nlohmann::json plan = harness.recorded.front().value;
    const std::string point = plan["point"], action = plan["action"];
    const auto points = default_failpoint_points();
    EXPECT_NE(std::find(points.begin(), points.end(), point), points.end()) << point;
    actions_seen.insert(action.substr(0, action.find('(')));
    const nlohmann::json stop = harness.recorded.back().value;
    ASSERT_TRUE(stop.contains("disarmed")) << stop.dump();
    const bool crashed = action == "crash";
    EXPECT_EQ(stop["unanswered"].size(), crashed ? plan["nodes"].size() : 0u) << stop.dump();
    EXPECT_EQ(stop["disarmed"].size(), crashed ? 0u : plan["nodes"].size()) << stop.dump();
    EXPECT_EQ(harness.cluster.running().size(), 3u) << "the stop restarted the crashed nodes";
    if (!crashed) {
      const auto log = harness.cluster.log();
      EXPECT_NE(
          std::find(log.begin(), log.end(), "failpoint " + plan["nodes"][0].get<std::string>() + " " + point + "=off"),
          log.end());
    }
  }
  EXPECT_TRUE(actions_seen.count("crash"));
  EXPECT_TRUE(actions_seen.count("sleep"));
}

TEST(NemesisExecutor, StorageFaultsAskFaultfsWhatItAcceptsAndTheirStopsUndoThem) {
  for (FaultKind kind :
       {FaultKind::power_loss, FaultKind::corrupt, FaultKind::disk_full, FaultKind::disk_error, FaultKind::disk_slow}) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      Harness harness;
      harness.nemesis.run({{0ms, kind, true, seed}, {0ms, kind, false, 0}}, Nemesis::Clock::now());
      const std::string name(to_string(kind));
      ASSERT_EQ(harness.functions(true), (std::vector<std::string>{"start-" + name, "stop-" + name})) << name;
      const nlohmann::json done = harness.recorded[1].value;
      ASSERT_FALSE(done.contains("error")) << name << " seed " << seed << ": " << done.dump();
      const auto nodes = done["nodes"];
      ASSERT_FALSE(nodes.empty());
      EXPECT_LE(nodes.size(), 1u) << name << ": with 3 nodes a minority is one node (kill targets: mixed)";
      for (const auto& node : nodes) EXPECT_TRUE(done["effects"].contains(node.get<std::string>())) << done.dump();
      const auto log = harness.cluster.log();
      const std::string first = nodes[0].get<std::string>();
      const bool stops_node = kind == FaultKind::power_loss || kind == FaultKind::corrupt;
      EXPECT_EQ(std::find(log.begin(), log.end(), "kill " + first) != log.end(), stops_node) << name;
      EXPECT_NE(std::find(log.begin(), log.end(), "restart " + first), log.end()) << name;
      if (!stops_node) {
        EXPECT_TRUE(harness.cluster.storage_status(first)["faults"].empty()) << name << ": the stop clears it";
      }
      if (kind == FaultKind::corrupt) {
        EXPECT_EQ(done["effects"][first]["file"], "wal.log");
      }
      EXPECT_EQ(harness.cluster.running().size(), 3u);
    }
  }
}

// Every link toxic's request is one linkproxy accepts; a window covers every
// link to and from its nodes (both ways); overlapping windows add up per link,
// and stopping one leaves the other's toxics in place.
TEST(NemesisExecutor, LinkToxicsAddUpPerLinkAndAStopKeepsTheOtherWindow) {
  const std::vector<std::string> nodes = {"n1", "n2", "n3"};
  const auto touches = [](const nlohmann::json& window_nodes, const std::string& a, const std::string& b) {
    for (const auto& node : window_nodes) {
      if (node == a || node == b) return true;
    }
    return false;
  };
  for (FaultKind kind : {FaultKind::delay, FaultKind::bandwidth, FaultKind::slicer, FaultKind::reset_peer,
                         FaultKind::blackhole, FaultKind::slow_close, FaultKind::limit_data}) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      Harness harness;
      harness.cluster.enable_link_proxies();
      harness.nemesis.run({{0ms, kind, true, seed}}, Nemesis::Clock::now());
      const std::string name(to_string(kind));
      ASSERT_EQ(harness.functions(true), std::vector<std::string>{"start-" + name});
      const nlohmann::json done = harness.recorded[1].value;
      ASSERT_FALSE(done.contains("error")) << name << ": " << done.dump();
      ASSERT_EQ(done["nodes"].size(), 1u) << "the leader or a random minority of 3: " << done.dump();
      for (const auto& proxy : nodes) {
        for (const auto& peer : nodes) {
          if (peer == proxy) continue;
          const auto state = harness.cluster.link_state(proxy, peer);
          EXPECT_EQ(state.empty(), !touches(done["nodes"], proxy, peer)) << name << " " << proxy << "->" << peer;
          if (!state.empty()) {
            EXPECT_EQ(state, done["toxics"]) << name;
          }
        }
      }
      harness.nemesis.run({{0ms, kind, false, 0}}, Nemesis::Clock::now());
      for (const auto& proxy : nodes) {
        for (const auto& peer : nodes) {
          if (peer != proxy) {
            EXPECT_TRUE(harness.cluster.link_state(proxy, peer).empty()) << name << ": stop clears";
          }
        }
      }
    }
  }
  // Overlapping windows: the leader's links slowed and capped, then only slowed.
  Harness harness;
  harness.cluster.enable_link_proxies();
  harness.nemesis.run({{0ms, FaultKind::delay, true, 1}, {0ms, FaultKind::bandwidth, true, 2}}, Nemesis::Clock::now());
  const nlohmann::json delay_nodes = harness.recorded[1].value["nodes"];
  const nlohmann::json bandwidth_nodes = harness.recorded[3].value["nodes"];
  for (const auto& proxy : nodes) {
    for (const auto& peer : nodes) {
      if (peer == proxy) continue;
      const auto state = harness.cluster.link_state(proxy, peer);
      EXPECT_EQ(state.contains("latency_ms"), touches(delay_nodes, proxy, peer)) << state.dump();
      EXPECT_EQ(state.contains("bytes_per_second"), touches(bandwidth_nodes, proxy, peer)) << state.dump();
    }
  }
  harness.nemesis.run({{0ms, FaultKind::bandwidth, false, 0}}, Nemesis::Clock::now());
  for (const auto& proxy : nodes) {
    for (const auto& peer : nodes) {
      if (peer == proxy) continue;
      const auto state = harness.cluster.link_state(proxy, peer);
      EXPECT_FALSE(state.contains("bytes_per_second")) << state.dump();
      EXPECT_EQ(state.contains("latency_ms"), touches(delay_nodes, proxy, peer)) << "delay outlives bandwidth";
    }
  }
  harness.nemesis.heal_all();
  for (const auto& proxy : nodes) {
    for (const auto& peer : nodes) {
      if (peer != proxy) {
        EXPECT_TRUE(harness.cluster.link_state(proxy, peer).empty());
      }
    }
  }
}

// --power-loss-restart leader-last: a power loss of every node brings the
// followers back first and the old leader only once one of them leads; when
// none comes to lead, the old leader comes back after the wait.
TEST(NemesisExecutor, PowerLossLeaderLastRestartsTheOldLeaderAfterAnotherLeads) {
  // n1 leads while it runs; without it, the lowest running node once two run (a majority of 3).
  class ElectingCluster : public FakeCluster {
   public:
    explicit ElectingCluster(bool elects) : elects_(elects) {}
    std::optional<std::string> leader() override {
      const std::set<std::string> up = running();
      if (up.count("n1")) return "n1";
      if (elects_ && up.size() >= 2) return *up.begin();
      return std::nullopt;
    }

   private:
    bool elects_;
  };
  for (const bool elects : {true, false}) {
    ElectingCluster cluster(elects);
    NemesisOptions options;
    options.kill_targets = KillTargets::all;
    options.power_loss_restart = PowerLossRestart::leader_last;
    options.leader_wait = std::chrono::milliseconds(300);
    RecordingNemesis recording(cluster, options);
    auto& recorded = recording.recorded;
    Nemesis& nemesis = recording.nemesis;
    const auto began = Nemesis::Clock::now();
    nemesis.run({{0ms, FaultKind::power_loss, true, 1}, {0ms, FaultKind::power_loss, false, 0}}, began);
    ASSERT_EQ(recorded.size(), 4u);
    EXPECT_EQ(recorded[0].value["restart_last"], "n1") << recorded[0].value.dump();
    const nlohmann::json& done = recorded[3].value;
    ASSERT_FALSE(done.contains("error")) << done.dump();
    EXPECT_EQ(done["restarted_last"], "n1");
    const std::vector<std::string> log = cluster.log();
    std::vector<std::string> restarts;
    for (const auto& line : log) {
      if (line.starts_with("restart ")) restarts.push_back(line);
    }
    EXPECT_EQ(restarts, (std::vector<std::string>{"restart n2", "restart n3", "restart n1"}));
    if (elects) {
      EXPECT_EQ(done["leader_before_it"], "n2");
      EXPECT_LT(done["waited_ms"].get<std::int64_t>(), 300);
    } else {
      EXPECT_TRUE(done["leader_before_it"].is_null());
      EXPECT_GE(done["waited_ms"].get<std::int64_t>(), 300) << "no leader: the old one comes back after the wait";
    }
    EXPECT_EQ(cluster.running().size(), 3u);
  }
  // together (the default) and a power loss that did not take the leader restart nothing last.
  Harness harness;
  harness.nemesis.run({{0ms, FaultKind::power_loss, true, 3}, {0ms, FaultKind::power_loss, false, 0}},
                      Nemesis::Clock::now());
  ASSERT_EQ(harness.recorded.size(), 4u);
  EXPECT_FALSE(harness.recorded[0].value.contains("restart_last"));
  EXPECT_FALSE(harness.recorded[3].value.contains("restarted_last"));
}

TEST(NemesisExecutor, FailpointActionsAreTheOnesRefnodeAcceptsAtThatPoint) {
  std::mt19937_64 random(7);
  for (const auto& point : default_failpoint_points()) {
    for (int draw = 0; draw < 50; ++draw) {
      const std::string action = draw_failpoint_action(point, random);
      if (action.ends_with("error")) {
        EXPECT_TRUE(point.ends_with("-send")) << point << "=" << action << ": error is a drop only at a send point";
      }
      EXPECT_NO_THROW(targets::parse_failpoint_action(point, action)) << point << "=" << action;
    }
  }
}

TEST(NemesisExecutor, AFailpointOnATargetWithoutThemIsAnErrorInTheHistoryAndTheRunGoesOn) {
  // NemesisTarget's default set_failpoint: a real system has none.
  class NoFailpoints : public FakeCluster {
   public:
    void set_failpoint(const std::string& node, const std::string& point, const std::string& action) override {
      NemesisTarget::set_failpoint(node, point, action);
    }
  };
  NoFailpoints cluster;
  std::vector<Recorded> recorded;
  std::ostringstream warnings;
  Nemesis nemesis(
      cluster, NemesisOptions{},
      [&](bool completion, const std::string& function, const nlohmann::json& value) {
        recorded.push_back({completion, function, value});
      },
      warnings);
  nemesis.run({{0ms, FaultKind::failpoint, true, 1}, {0ms, FaultKind::failpoint, false, 0}}, Nemesis::Clock::now());
  ASSERT_GE(recorded.size(), 2u);
  EXPECT_TRUE(recorded[1].value.contains("error")) << recorded[1].value.dump();
  EXPECT_NE(warnings.str().find("has no failpoints"), std::string::npos) << warnings.str();
}

}  // namespace
}  // namespace chaosbench::nemesis
