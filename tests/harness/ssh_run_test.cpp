// harness run --hosts over real SSH: the test enters the sandbox, starts sshd on
// three sandbox nodes (sshd_fixture.h; user cbuser, `sudo -n` through
// sudo_broker, which runs commands as root in the node's namespaces), writes a
// hosts file and runs build/bin/harness in the sandbox's controller namespace,
// which reaches the nodes over the sandbox bridge. A raft run under partitions,
// kills and clock faults must be valid with history, results and node logs in the store;
// a wrong key, a closed port and an unreachable address must each end the run
// with exit 3 and one line naming the host, before anything is created.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/process.h"
#include "chaosbench/harness/control/sandbox.h"
#include "chaosbench/harness/control/sandbox_session.h"
#include "chaosbench/harness/control/ssh_host.h"
#include "chaosbench/targets/protocol/blocking_client.h"
#include "harness_process_support.h"
#include "sshd_fixture.h"

namespace control = chaosbench::harness::control;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using harness_process_support::describe;
using harness_process_support::kHarness;
using harness_process_support::processes_mentioning;
using harness_process_support::read_text;

namespace {

constexpr int kNodes = 3;

// The sandbox with sshd and a sudo broker on n1..n3, set up once per test process.
struct SshCluster {
  SshCluster() {
    session = control::SandboxSession::enter();
    // Removed when the test process exits (the cluster itself is never destroyed).
    static harness_process_support::TemporaryDirectory temporary("sshrun");
    directory = &temporary;
    ::chmod(directory->path.c_str(), 0755);
    sandbox = std::make_unique<control::Sandbox>(*session, control::SandboxOptions{.nodes = kNodes});
    sshd_fixture::write_sshd_files(directory->path);
    for (const auto& node : sandbox->hosts()) {
      const fs::path node_directory = directory->path / node->name();
      fs::create_directories(node_directory);
      const fs::path socket = node_directory / "sudo.sock";
      daemons.push_back(node->start_daemon(
          {{SUDO_BROKER_PATH, "serve", socket.string()}, {}, node_directory / "broker.log", {}, {}}));
      sshd_fixture::write_stand_in_sudo(node_directory / "bin", node_directory / "sudo.log",
                                        fmt::format("{} run {}", SUDO_BROKER_PATH, socket.string()));
      // Commands without sudo see sshd's mount namespace, where /usr/bin/etcd is an
      // empty file until the stand-in apt-get fills it (the installing test); with
      // sudo they run in the node's namespaces through the broker and see the real one.
      const bool has_etcd = fs::exists("/usr/bin/etcd");
      if (has_etcd) write_stand_in_apt_get(node_directory);
      daemons.push_back(sshd_fixture::start_sshd(
          *node, directory->path, node_directory / "bin", node_directory / "sshd.log",
          has_etcd ? fmt::format("mount --bind {} /usr/bin/etcd && ", (node_directory / "etcd-slot").string()) : ""));
      control::SshHost probe(host_options(node->name(), node->address(), directory->path / "user_key"));
      sshd_fixture::wait_for_sshd(probe, *daemons.back(), node_directory / "sshd.log");
      // Root through the broker, in the node's network namespace.
      auto identity = probe.run_checked({"sh", "-c", "id -u; ip -o -4 addr show"});
      if (identity.out.rfind("0\n", 0) != 0 || identity.out.find(node->address() + "/") == std::string::npos)
        throw std::runtime_error("sudo through the broker is not root in " + node->name() + ": " + identity.out);
    }
  }

  // node_directory/bin/apt-get: appends "DEBIAN_FRONTEND=... ARGS" to apt-get.log;
  // `update` succeeds; `install` fails as apt does for an unknown package while
  // node_directory/apt-fails exists, else installs etcd-server by copying the
  // real etcd (a copy in package/) into /usr/bin/etcd, that is into etcd-slot.
  void write_stand_in_apt_get(const fs::path& node_directory) const {
    const fs::path package = directory->path / "package";
    if (!fs::exists(package / "etcd")) {
      fs::create_directories(package);
      fs::copy_file("/usr/bin/etcd", package / "etcd");
    }
    sshd_fixture::write_text(node_directory / "etcd-slot", "");
    ::chmod((node_directory / "etcd-slot").c_str(), 0644);
    fs::create_directories(node_directory / "bin");
    sshd_fixture::write_text(node_directory / "bin" / "apt-get",
                             fmt::format(R"sh(#!/bin/sh
echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> {0}/apt-get.log
[ "$1" = update ] && exit 0
[ -e {0}/apt-fails ] && {{ echo 'E: Unable to locate package etcd-server' >&2; exit 100; }}
for package; do [ "$package" = etcd-server ] && cat {1}/etcd > /usr/bin/etcd && chmod 755 /usr/bin/etcd; done
exit 0
)sh",
                                         node_directory.string(), package.string()));
    ::chmod((node_directory / "bin" / "apt-get").c_str(), 0755);
  }

  static control::SshHostOptions host_options(const std::string& name, const std::string& address,
                                              const fs::path& key_file) {
    control::SshHostOptions options;
    options.name = name;
    options.address = address;
    options.user = sshd_fixture::kUser;
    options.key_file = key_file;
    options.use_agent = false;
    options.connect_timeout = 2000ms;
    options.host_key = control::HostKeyPolicy::off;  // the fixture's own probe
    return options;
  }

  // A hosts file for n1..n3; `changes` replaces or adds TOML lines of one host
  // ("*": of every host); `top_level` is TOML put before the hosts.
  fs::path write_hosts_file(const std::string& file_name, const std::string& changed_host = "",
                            const std::map<std::string, std::string>& changes = {},
                            const std::string& top_level = "") const {
    std::string text =
        "# written by ssh_run_test\nhost_key = \"accept-new\"\nknown_hosts = \"known_hosts\"\n" + top_level;
    for (const auto& node : sandbox->hosts()) {
      std::map<std::string, std::string> keys = {{"name", fmt::format("\"{}\"", node->name())},
                                                 {"address", fmt::format("\"{}\"", node->address())},
                                                 {"user", fmt::format("\"{}\"", sshd_fixture::kUser)},
                                                 {"key", "\"user_key\""},
                                                 {"agent", "false"},
                                                 {"connect_timeout_ms", "2000"}};
      if (node->name() == changed_host || changed_host == "*") {
        for (const auto& [key, value] : changes) keys[key] = value;
      }
      text += "[[host]]\n";
      for (const auto& [key, value] : keys) text += fmt::format("{} = {}\n", key, value);
    }
    const fs::path path = directory->path / file_name;
    sshd_fixture::write_text(path, text);
    return path;
  }

  std::string subnet_address(int last_octet) const {
    const std::string& address = sandbox->hosts().front()->address();
    return address.substr(0, address.rfind('.')) + "." + std::to_string(last_octet);
  }

  std::optional<control::SandboxSession> session;
  harness_process_support::TemporaryDirectory* directory = nullptr;
  std::unique_ptr<control::Sandbox> sandbox;
  std::vector<std::unique_ptr<control::Daemon>> daemons;
};

SshCluster* cluster_or_skip(std::string& skip_reason, std::string& failure) {
  static SshCluster* cluster = nullptr;
  static std::string unavailable, setup_failure;
  static bool attempted = false;
  if (!attempted) {
    attempted = true;
    if (!fs::exists("/usr/sbin/sshd")) {
      unavailable = "/usr/sbin/sshd is missing (Debian package openssh-server)";
      return nullptr;
    }
    try {
      // Lives until the process exits; the sandbox then takes every process with it.
      cluster = new SshCluster();
    } catch (const control::SandboxUnavailable& error) {
      unavailable = std::string("sandbox unavailable: ") + error.what();
    } catch (const std::exception& error) {
      setup_failure = error.what();
    }
  }
  skip_reason = unavailable;
  failure = setup_failure;
  return cluster;
}

#define SSH_CLUSTER(variable)                                         \
  std::string skip_reason, setup_failure;                             \
  SshCluster* variable = cluster_or_skip(skip_reason, setup_failure); \
  if (!setup_failure.empty()) FAIL() << setup_failure;                \
  if (variable == nullptr) GTEST_SKIP() << skip_reason

control::CommandResult run_harness(const std::vector<std::string>& arguments, std::chrono::seconds timeout = 150s) {
  std::vector<std::string> argv = {kHarness, "run"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return control::run_local({argv, {}, {}, {}}, timeout, "test");
}

// The nemesis's info ops (what each start and stop did) in a run's history.
std::vector<nlohmann::json> nemesis_infos(const fs::path& run) {
  std::vector<nlohmann::json> infos;
  std::istringstream history(read_text(run / "history.jsonl"));
  for (std::string line; std::getline(history, line);) {
    auto op = nlohmann::json::parse(line);
    if (op["process"] == "nemesis" && op["type"] == "info") infos.push_back(std::move(op));
  }
  return infos;
}

// The command lines (one per line) of the processes that mention `text`: what survived, for a message.
std::string commands_mentioning(const std::string& text) {
  std::string commands;
  for (int pid : processes_mentioning(text)) {
    std::string command = read_text(fmt::format("/proc/{}/cmdline", pid));
    std::replace(command.begin(), command.end(), '\0', ' ');
    commands += command + "\n";
  }
  return commands;
}

TEST(SshRun, RaftOverSshUnderPartitionsKillsAndClockIsValidAndLogsComeBack) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path store = cluster->directory->path / "store";
  const fs::path remote = cluster->directory->path / "remote";
  auto result = run_harness({"--hosts",
                             hosts.string(),
                             "--target",
                             "raft",
                             "--workload",
                             "register",
                             "--nemesis",
                             "partition,kill,clock",
                             "--nemesis-interval",
                             "3s",
                             "--time-limit",
                             "12s",
                             "--seed",
                             "7",
                             "--concurrency",
                             "4",
                             "--rate",
                             "60",
                             "--op-timeout",
                             "1s",
                             "--store",
                             store.string(),
                             "--remote-dir",
                             remote.string()});
  std::cout << result.out << result.err;
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  EXPECT_NE(result.out.find("verdict: valid"), std::string::npos) << result.out;
  // The three nodes share this machine's filesystem: uploaded once, then found identical.
  EXPECT_NE(result.out.find("uploaded to n1; identical copy already on n2, n3"), std::string::npos) << result.out;

  const fs::path run = fs::canonical(store / "latest");
  const auto results = nlohmann::json::parse(read_text(run / "results.json"));
  EXPECT_EQ(results["verdict"], "valid");
  EXPECT_GE(results["faults_started"].value("partition", 0), 1) << results.dump();
  EXPECT_GE(results["faults_started"].value("kill", 0), 1) << results.dump();
  EXPECT_GE(results["faults_started"].value("clock", 0), 1) << results.dump();
  // The run exercised the cluster: local runs see 225-314 ok ops; a CI run with a
  // JVM test beside it saw 69 (restarts over SSH are slower under load).
  EXPECT_GE(results["operations"].value("ok", 0), 40) << results.dump();

  // The nemesis's faults took effect: no nemesis op recorded an error, and the
  // partitions were iptables rules installed through sudo on the hosts.
  const std::string history = read_text(run / "history.jsonl");
  EXPECT_NE(history.find("\"start-partition\""), std::string::npos);
  EXPECT_NE(history.find("\"start-kill\""), std::string::npos);
  EXPECT_NE(history.find("\"start-clock\""), std::string::npos);
  std::string nemesis_errors;
  for (std::size_t begin = 0; begin < history.size();) {
    const std::size_t end = std::min(history.find('\n', begin), history.size());
    const std::string line = history.substr(begin, end - begin);
    const bool nemesis = line.find("\"process\":\"nemesis\"") != std::string::npos;
    if (nemesis && line.find("\"error\"") != std::string::npos) nemesis_errors += line + "\n";  // clients' have reasons
    begin = end + 1;
  }
  EXPECT_EQ(nemesis_errors, "") << "nemesis ops failed";
  std::string sudo_logs;
  for (int index = 1; index <= kNodes; ++index)
    sudo_logs += read_text(cluster->directory->path / fmt::format("n{}", index) / "sudo.log");
  EXPECT_NE(sudo_logs.find("iptables"), std::string::npos);
  EXPECT_NE(sudo_logs.find("kill -KILL -"), std::string::npos);
  // Clock faults: nodes started under the hosts' libfaketime, offsets written to their files.
  EXPECT_NE(sudo_logs.find("LD_PRELOAD=$lib"), std::string::npos);
  EXPECT_NE(sudo_logs.find("/clock-offset"), std::string::npos);

  // Node logs copied back; the remote node directories removed, refnode kept.
  for (int index = 1; index <= kNodes; ++index) {
    const fs::path log = run / "nodes" / fmt::format("n{}", index) / "log";
    ASSERT_TRUE(fs::exists(log)) << log;
    EXPECT_GT(fs::file_size(log), 0u) << log;
  }
  const auto test = nlohmann::json::parse(read_text(run / "test.json"));
  const std::string remote_run = (remote / "raft-register" / run.filename()).string();
  EXPECT_NE(test["nodes"].dump().find(remote_run), std::string::npos) << test["nodes"].dump();
  EXPECT_EQ(test["nodes"][0]["faketime"], true);
  EXPECT_FALSE(fs::exists(remote / "raft-register" / run.filename() / "n1"));
  EXPECT_TRUE(fs::exists(remote / "bin" / "refnode"));
}

TEST(SshRun, LeaveDbRunningKeepsTheNodesAndTheirDirectories) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path store = cluster->directory->path / "store-left";
  const fs::path remote = cluster->directory->path / "remote-left";
  auto result = run_harness({"--hosts", hosts.string(), "--target", "raft", "--nemesis", "none", "--time-limit", "2s",
                             "--seed", "3", "--concurrency", "2", "--rate", "50", "--store", store.string(),
                             "--remote-dir", remote.string(), "--leave-db-running"});
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  EXPECT_NE(result.out.find("nodes left running (--leave-db-running)"), std::string::npos) << result.out;
  const fs::path run = fs::canonical(store / "latest");
  const auto test = nlohmann::json::parse(read_text(run / "test.json"));
  const std::uint16_t client_port = test["nodes"][0]["client_port"];
  for (const auto& node : cluster->sandbox->hosts()) {
    SCOPED_TRACE(node->name());
    EXPECT_TRUE(fs::exists(remote / "raft-register" / run.filename() / node->name() / "data"));
    EXPECT_GT(fs::file_size(run / "nodes" / node->name() / "log"), 0u);
    // Still answering after the harness exited (the sandbox ends them with this test).
    auto status = chaosbench::targets::protocol::query_status(node->address(), client_port, 2000ms);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->value("node", ""), node->name());
  }
}

// A whole-cluster power loss over SSH: faultfs is installed beside refnode, runs
// on each host in a namespace of its own that the node joins, loses what was
// not fsynced, and is gone after the run. With fsync the set loses nothing;
// without, acknowledged adds are lost (the fault is real, not a kill).
TEST(SshRun, PowerLossOverSshLosesExactlyTheUnsyncedWritesAndLeavesNoFaultfs) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  for (const bool fsync : {true, false}) {
    SCOPED_TRACE(fsync ? "fsync on" : "fsync off");
    const std::string suffix = fsync ? "-fsync" : "-no-fsync";
    const fs::path store = cluster->directory->path / ("store-power" + suffix);
    const fs::path remote = cluster->directory->path / ("remote-power" + suffix);
    std::vector<std::string> arguments = {"--hosts",
                                          hosts.string(),
                                          "--target",
                                          "raft",
                                          "--workload",
                                          "set",
                                          "--nemesis",
                                          "power-loss",
                                          "--kill-targets",
                                          "all",
                                          "--nemesis-interval",
                                          "4s",
                                          "--time-limit",
                                          "14s",
                                          "--seed",
                                          "1",
                                          "--store",
                                          store.string(),
                                          "--remote-dir",
                                          remote.string()};
    if (!fsync) arguments.push_back("--target-arg=--fsync=off");
    auto result = run_harness(arguments);
    std::cout << result.out << result.err;
    ASSERT_EQ(result.status.exit_code, fsync ? 0 : 1) << describe(result);
    EXPECT_NE(result.out.find("harness: faultfs " + (remote / "bin" / "faultfs").string()), std::string::npos)
        << result.out;
    const fs::path run = fs::canonical(store / "latest");
    const auto set = nlohmann::json::parse(read_text(run / "results.json"))["checker"]["set"];
    if (fsync) {
      EXPECT_EQ(set["lost"], 0) << set.dump();
      EXPECT_GT(set["acknowledged"].get<int>(), 50) << set.dump();
    } else {
      EXPECT_GT(set["lost"].get<int>(), 0) << set.dump();
    }
    // Each power loss cut every node's WAL back to what was synced, and said so.
    int power_losses = 0;
    for (const auto& op : nemesis_infos(run)) {
      if (op["f"] != "start-power-loss") continue;
      ++power_losses;
      EXPECT_FALSE(op["value"].contains("error")) << op.dump();
      EXPECT_EQ(op["value"]["effects"].size(), 3u) << op.dump();
    }
    EXPECT_GE(power_losses, 2);
    std::string sudo_logs;
    for (int index = 1; index <= kNodes; ++index)
      sudo_logs += read_text(cluster->directory->path / fmt::format("n{}", index) / "sudo.log");
    EXPECT_NE(sudo_logs.find("unshare --user --map-root-user --mount"), std::string::npos);
    EXPECT_NE(sudo_logs.find("nsenter --target"), std::string::npos);
    // Nothing of the run is left on the hosts: no faultfs or node process, no node directory.
    EXPECT_TRUE(processes_mentioning(remote.string() + "/").empty()) << "a faultfs or refnode survived the run";
    EXPECT_FALSE(fs::exists(remote / "raft-set" / run.filename() / "n1"));
    EXPECT_TRUE(fs::exists(remote / "bin" / "faultfs"));
  }
}

// Link toxics over SSH: linkproxy is installed beside refnode, runs beside
// each node on its host, and the toxics reach it through its control socket.
TEST(SshRun, LinkToxicsOverSshGoThroughALinkProxyOnEachHost) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path store = cluster->directory->path / "store-links";
  const fs::path remote = cluster->directory->path / "remote-links";
  auto result = run_harness({"--hosts", hosts.string(), "--target", "raft", "--nemesis", "delay,blackhole",
                             "--nemesis-interval", "3s", "--time-limit", "10s", "--seed", "4", "--store",
                             store.string(), "--remote-dir", remote.string()});
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  EXPECT_NE(result.out.find("harness: linkproxy " + (remote / "bin" / "linkproxy").string() + ": uploaded to n1"),
            std::string::npos)
      << result.out;
  const fs::path run = fs::canonical(store / "latest");
  int windows = 0;
  for (const auto& op : nemesis_infos(run)) {
    EXPECT_FALSE(op["value"].contains("error")) << op.dump();
    if (op["f"] == "start-delay" || op["f"] == "start-blackhole") ++windows;
  }
  EXPECT_GE(windows, 2);
  EXPECT_TRUE(processes_mentioning(remote.string() + "/").empty()) << "a linkproxy or refnode survived the run";
}

// harness cleanup removes what a --leave-db-running run left (nodes, link
// proxies, the run directory, the nemesis's chains), keeps runs newer than
// --older-than, and a second pass finds nothing.
TEST(SshRun, CleanupRemovesWhatARunLeftAndIsIdempotent) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path store = cluster->directory->path / "store-cleanup";
  const fs::path remote = cluster->directory->path / "remote-cleanup";
  auto result = run_harness({"--hosts", hosts.string(), "--target", "raft", "--nemesis", "partition,delay",
                             "--nemesis-interval", "2s", "--time-limit", "5s", "--seed", "5", "--store", store.string(),
                             "--remote-dir", remote.string(), "--leave-db-running"});
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  const fs::path run = remote / "raft-register" / fs::canonical(store / "latest").filename();
  const auto left = processes_mentioning(run.string() + "/");
  EXPECT_GE(left.size(), 6u) << "three nodes and three link proxies left running";
  const auto cleanup = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {kHarness, "cleanup", "--hosts", hosts.string(), "--remote-dir", remote.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return control::run_local({argv, {}, {}, {}}, 60s, "test");
  };
  auto kept = cleanup({"--older-than", "1h"});
  ASSERT_EQ(kept.status.exit_code, 0) << describe(kept);
  for (const char* node : {"n1", "n2", "n3"}) {
    EXPECT_NE(kept.out.find(fmt::format("harness cleanup: {}: nothing to clean (1 newer run(s) kept)", node)),
              std::string::npos)
        << kept.out;
  }
  EXPECT_TRUE(fs::exists(run));
  auto cleaned = cleanup({});
  ASSERT_EQ(cleaned.status.exit_code, 0) << describe(cleaned);
  // The three hosts share this machine's filesystem: whichever comes first kills and removes.
  EXPECT_NE(cleaned.out.find("killed "), std::string::npos) << cleaned.out;
  // The run's own chains, named in its nodes' `chains` files.
  EXPECT_NE(cleaned.out.find("removed iptables chain(s) chaosbench-"), std::string::npos) << cleaned.out;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(commands_mentioning(run.string() + "/"), "") << cleaned.out;
  EXPECT_FALSE(fs::exists(run));
  EXPECT_TRUE(fs::exists(remote / "bin" / "refnode")) << "the installed programs stay";
  auto again = cleanup({});
  ASSERT_EQ(again.status.exit_code, 0) << describe(again);
  for (const char* node : {"n1", "n2", "n3"}) {
    EXPECT_NE(again.out.find(fmt::format("harness cleanup: {}: nothing to clean\n", node)), std::string::npos)
        << again.out;
  }
  auto bad = cleanup({"--older-than", "soon"});
  EXPECT_EQ(bad.status.exit_code, 3);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
}

// A SIGKILLed controller: the nodes, link proxies and faultfs it started on
// the hosts keep running (nothing on a host would end them) until its lease
// lapses; then each host's supervisor kills them, removes the run's own
// iptables chains and says so in the node's `lapsed` file. A run that ends
// normally leaves no chain either.
TEST(SshRun, ASigkilledControllerLeavesNoProcessChainOrMountAfterItsLease) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path store = cluster->directory->path / "store-lease";
  const fs::path remote = cluster->directory->path / "remote-lease";
  const fs::path log = cluster->directory->path / "lease-controller.log";
  const auto chain_lines = [&](control::Host& host) {
    std::string lines;
    std::istringstream rules(host.run_checked({"iptables", "-w", "5", "-S"}).out);
    for (std::string line; std::getline(rules, line);) {
      if (line.find("chaosbench") != std::string::npos) lines += line + "\n";
    }
    return lines;
  };
  auto controller = control::start_local_daemon({{kHarness,
                                                  "run",
                                                  "--hosts",
                                                  hosts.string(),
                                                  "--target",
                                                  "raft",
                                                  "--nemesis",
                                                  "partition,delay,power-loss",
                                                  "--nemesis-interval",
                                                  "1s",
                                                  "--time-limit",
                                                  "60s",
                                                  "--seed",
                                                  "4",
                                                  "--host-lease",
                                                  "2s",
                                                  "--store",
                                                  store.string(),
                                                  "--remote-dir",
                                                  remote.string()},
                                                 {},
                                                 {},
                                                 {}},
                                                log, "controller");
  // Up, with a partition's rules in some host's chain of this run.
  bool partitioned = false;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       !partitioned && std::chrono::steady_clock::now() < deadline && controller->alive();
       std::this_thread::sleep_for(200ms)) {
    if (read_text(log).find("cluster up") == std::string::npos) continue;
    for (const auto& node : cluster->sandbox->hosts()) {
      if (chain_lines(*node).find("-A chaosbench-") != std::string::npos) partitioned = true;
    }
  }
  ASSERT_TRUE(partitioned) << read_text(log);
  ASSERT_TRUE(controller->signal(control::Signal::kill));
  ASSERT_TRUE(controller->wait_for(10s).has_value());
  const fs::path run = remote / "raft-register" / fs::canonical(store / "latest").filename();
  // Left running, for now: nodes, their proxies and faultfs, and three supervisors.
  EXPECT_GE(processes_mentioning(run.string() + "/").size(), 9u) << commands_mentioning(run.string() + "/");
  const auto killed_at = std::chrono::steady_clock::now();
  while (!processes_mentioning(run.string() + "/").empty() && std::chrono::steady_clock::now() < killed_at + 20s)
    std::this_thread::sleep_for(100ms);
  const auto gone_after =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  std::cout << "everything the run started on the hosts ended " << gone_after.count()
            << " ms after the controller was killed (lease 2 s)\n";
  EXPECT_EQ(commands_mentioning(run.string() + "/"), "");
  EXPECT_GE(gone_after, 1500ms) << "ended before the lease could lapse";
  EXPECT_LT(gone_after, 8s);
  int hosts_with_chains_removed = 0;
  for (const auto& node : cluster->sandbox->hosts()) {
    SCOPED_TRACE(node->name());
    EXPECT_EQ(chain_lines(*node), "");
    const std::string lapsed = read_text(run / node->name() / "lapsed");
    EXPECT_NE(lapsed.find("killed "), std::string::npos) << lapsed;
    if (lapsed.find("removed chain(s) chaosbench-") != std::string::npos) ++hosts_with_chains_removed;
  }
  EXPECT_GE(hosts_with_chains_removed, 1) << "a partition's chain was in place when the controller died";
  EXPECT_EQ(read_text("/proc/self/mountinfo").find(remote.string()), std::string::npos);

  // A run that ends normally: no chain of it stays, and the supervisors are gone.
  const fs::path normal_store = cluster->directory->path / "store-lease-normal";
  auto result = run_harness({"--hosts", hosts.string(), "--target", "raft", "--nemesis", "partition",
                             "--nemesis-interval", "1s", "--time-limit", "4s", "--seed", "4", "--host-lease", "2s",
                             "--store", normal_store.string(), "--remote-dir", remote.string()});
  ASSERT_EQ(result.status.exit_code, 0) << describe(result);
  for (const auto& node : cluster->sandbox->hosts()) EXPECT_EQ(chain_lines(*node), "") << node->name();
  EXPECT_EQ(commands_mentioning(remote.string() + "/raft-register/"), "");
  auto bad = run_harness({"--hosts", hosts.string(), "--host-lease", "200ms", "--time-limit", "1s"});
  EXPECT_EQ(bad.status.exit_code, 3) << describe(bad);
  EXPECT_NE(bad.err.find("--host-lease: 200ms is less than 1s"), std::string::npos) << bad.err;
  auto cleaned = control::run_local(
      {{kHarness, "cleanup", "--hosts", hosts.string(), "--remote-dir", remote.string()}, {}, {}, {}}, 60s, "test");
  EXPECT_EQ(cleaned.status.exit_code, 0) << describe(cleaned);
  EXPECT_FALSE(fs::exists(run));
}

// A controller that stops renewing for longer than its lease (here: stopped
// with SIGSTOP for twice the lease) finds, once it goes on, that the hosts
// ended its run: one line per host and exit 3, not a verdict.
TEST(SshRun, AControllerWhoseLeaseLapsedSaysSoAndFailsTheRun) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path store = cluster->directory->path / "store-lapse";
  const fs::path remote = cluster->directory->path / "remote-lapse";
  const fs::path log = cluster->directory->path / "lapse-controller.log";
  auto controller = control::start_local_daemon(
      {{kHarness, "run", "--hosts", hosts.string(), "--target", "raft", "--nemesis", "none", "--time-limit", "6s",
        "--seed", "2", "--host-lease", "2s", "--store", store.string(), "--remote-dir", remote.string()},
       {},
       {},
       {}},
      log, "controller");
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       std::chrono::steady_clock::now() < deadline && read_text(log).find("cluster up") == std::string::npos;
       std::this_thread::sleep_for(100ms)) {
  }
  ASSERT_NE(read_text(log).find("cluster up"), std::string::npos) << read_text(log);
  ASSERT_TRUE(controller->signal(control::Signal::stop));
  std::this_thread::sleep_for(4s);
  ASSERT_TRUE(controller->signal(control::Signal::cont));
  const auto status = controller->wait_for(120s);
  ASSERT_TRUE(status.has_value()) << read_text(log);
  EXPECT_EQ(status->exit_code, 3) << read_text(log);
  const std::string output = read_text(log);
  for (const char* node : {"n1", "n2", "n3"}) {
    EXPECT_NE(output.find(fmt::format("harness: {}: the controller's lease lapsed and the host's supervisor ended the "
                                      "run there: no renewal for 10 ticks of 200 ms: killed ",
                                      node)),
              std::string::npos)
        << output;
  }
  EXPECT_EQ(commands_mentioning(remote.string() + "/"), "");
}

// The real systems over SSH, from the hosts' own Debian packages, under
// partitions and kills: the same verdicts as in the sandbox (docs/real-systems.md).
// etcd keeps linearizable registers; Redis with Sentinel is not safe under
// partitions (asynchronous replication: an isolated primary's acknowledged
// writes are lost at the failover), so it runs the suite's
// redis-failover-loses-writes entry: a Sentinel fails over, and where the
// set is invalid it is for lost acknowledged adds only, as in the sandbox
// (whether one seed loses any is timing; the rate over seeds is the gated
// suite test's below).
class SshRealSystem : public testing::TestWithParam<std::string> {};

TEST_P(SshRealSystem, RunsOverSshUnderPartitionsAndKillsWithTheSandboxVerdict) {
  SSH_CLUSTER(cluster);
  const std::string target = GetParam();
  const bool redis = target == "redis";
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path store = cluster->directory->path / ("store-" + target);
  const fs::path remote = cluster->directory->path / ("remote-" + target);
  std::vector<std::string> arguments = {"--hosts", hosts.string(), "--target",     target,         "--seed",
                                        "1",       "--store",      store.string(), "--remote-dir", remote.string()};
  const std::vector<std::string> schedule =
      redis
          ? std::vector<std::string>{"--workload",
                                     "set",
                                     "--nemesis",
                                     "partition",
                                     "--partition-shapes",
                                     "isolate-leader",
                                     "--nemesis-interval",
                                     "8s",
                                     "--time-limit",
                                     "20s",
                                     "--rate",
                                     "100",
                                     "--concurrency",
                                     "10",
                                     "--read-fraction",
                                     "0.2",
                                     "--recovery-time",
                                     "5s"}
          : std::vector<std::string>{"--nemesis", "partition,kill", "--nemesis-interval", "4s", "--time-limit", "16s"};
  arguments.insert(arguments.end(), schedule.begin(), schedule.end());
  auto result = run_harness(arguments, 240s);
  std::cout << result.out << result.err;
  const fs::path run = fs::canonical(store / "latest");
  const auto results = nlohmann::json::parse(read_text(run / "results.json"));
  if (redis) {
    ASSERT_TRUE(result.status.exit_code == 0 || result.status.exit_code == 1) << describe(result);
    const auto set = results["checker"]["set"];
    if (result.status.exit_code == 1) {
      EXPECT_GT(set.value("lost", 0), 0) << set.dump();
    }
    EXPECT_EQ(set.value("unexpected", 0), 0) << set.dump();
    EXPECT_EQ(set.value("duplicated", 0), 0) << set.dump();
    bool switched = false;
    for (int index = 1; index <= kNodes; ++index) {
      const std::string sentinel = read_text(run / "nodes" / fmt::format("n{}", index) / "sentinel.log");
      switched |= sentinel.find("+switch-master") != std::string::npos;
    }
    EXPECT_TRUE(switched) << "no Sentinel failed over";
  } else {
    ASSERT_EQ(result.status.exit_code, 0) << describe(result);
    EXPECT_EQ(results["verdict"], "valid");
    EXPECT_GE(results["faults_started"].value("kill", 0), 1) << results.dump();
  }
  EXPECT_GE(results["faults_started"].value("partition", 0), 1) << results.dump();
  EXPECT_GE(results["operations"].value("ok", 0), 40) << results.dump();
  for (int index = 1; index <= kNodes; ++index) {
    const fs::path node = run / "nodes" / fmt::format("n{}", index);
    EXPECT_GT(fs::file_size(node / "log"), 0u);
    // Companions come back with the node (Redis's Sentinels), and so do a listing of the data and the supervisor's log.
    if (redis) {
      EXPECT_NE(read_text(node / "sentinel.log").find("monitor master"), std::string::npos);
    }
    EXPECT_TRUE(fs::exists(node / "data-listing"));
    EXPECT_TRUE(fs::exists(node / "supervisor.log"));
  }
  EXPECT_EQ(commands_mentioning(remote.string() + "/"), "") << "a node survived the run";
}

// ZooKeeper (a JVM, the slowest to start) is left to the suite test below, for the CI's time.
INSTANTIATE_TEST_SUITE_P(RealSystems, SshRealSystem, testing::Values("etcd", "redis"),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

// A host without the system's package gets it from apt-get, in parallel on
// every host, once; a host that says install_packages = false, or whose
// apt-get fails, ends the run in one line naming it. Without sudo the hosts'
// commands see sshd's mount namespace, where /usr/bin/etcd is empty until the
// stand-in apt-get installs etcd-server (SshCluster::write_stand_in_apt_get).
TEST(SshRun, AMissingPackageIsInstalledWithAptGetUnlessTheHostSaysNo) {
  SSH_CLUSTER(cluster);
  if (!fs::exists("/usr/bin/etcd")) GTEST_SKIP() << "/usr/bin/etcd is missing (Debian package etcd-server)";
  const fs::path& directory = cluster->directory->path;
  const auto run_etcd = [&](const fs::path& hosts, const std::string& name) {
    // Kills only (the default adds partitions): without sudo the hosts' commands cannot run iptables.
    return run_harness(
        {"--hosts", hosts.string(), "--target", "etcd", "--nemesis", "kill", "--time-limit", "4s", "--store",
         (directory / ("store-" + name)).string(), "--remote-dir", (directory / ("remote-" + name)).string()},
        120s);
  };
  const std::map<std::string, std::string> without_sudo = {{"sudo", "false"}};

  auto refused = run_etcd(cluster->write_hosts_file("no-install.toml", "*", without_sudo, "install_packages = false\n"),
                          "no-install");
  EXPECT_EQ(refused.status.exit_code, 3) << describe(refused);
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_NE(refused.err.find("n1: /usr/bin/etcd is not installed there (Debian package etcd-server; "
                             "install_packages = false in the hosts file: install it, or give its path as "
                             "programs.etcd)"),
            std::string::npos)
      << refused.err;

  const fs::path hosts = cluster->write_hosts_file("install.toml", "*", without_sudo);
  for (int index = 1; index <= kNodes; ++index)
    sshd_fixture::write_text(directory / fmt::format("n{}", index) / "apt-fails", "");
  auto failed = run_etcd(hosts, "apt-fails");
  EXPECT_EQ(failed.status.exit_code, 3) << describe(failed);
  EXPECT_EQ(std::count(failed.err.begin(), failed.err.end(), '\n'), 1) << failed.err;
  EXPECT_NE(failed.err.find("n1: apt-get install etcd-server failed there: E: Unable to locate package etcd-server"),
            std::string::npos)
      << failed.err;
  EXPECT_NE(read_text(directory / "n1" / "apt-get.log").find("DEBIAN_FRONTEND=noninteractive update"),
            std::string::npos)
      << "no apt-get update before the second try";

  for (int index = 1; index <= kNodes; ++index) fs::remove(directory / fmt::format("n{}", index) / "apt-fails");
  auto installed = run_etcd(hosts, "installed");
  EXPECT_EQ(installed.status.exit_code, 0) << describe(installed);
  EXPECT_NE(
      installed.out.find("harness: installing with apt-get: n1 (etcd-server); n2 (etcd-server); n3 (etcd-server)"),
      std::string::npos)
      << installed.out;
  for (int index = 1; index <= kNodes; ++index) {
    EXPECT_NE(read_text(directory / fmt::format("n{}", index) / "apt-get.log")
                  .find("DEBIAN_FRONTEND=noninteractive install -y --no-install-recommends etcd-server"),
              std::string::npos);
  }

  auto again = run_etcd(hosts, "again");
  EXPECT_EQ(again.status.exit_code, 0) << describe(again);
  EXPECT_EQ(again.out.find("installing"), std::string::npos) << "installed twice: " << again.out;
}

// A program's path given in the hosts file is the one the nodes run; a wrong
// path or an unknown program's name ends the run in one line naming the host.
TEST(SshRun, AProgramPathFromTheHostsFileIsTheOneTheNodesRun) {
  SSH_CLUSTER(cluster);
  if (!fs::exists("/usr/bin/etcd")) GTEST_SKIP() << "/usr/bin/etcd is missing (Debian package etcd-server)";
  const fs::path& directory = cluster->directory->path;
  const fs::path wrapper = directory / "opt" / "etcd-wrapper.sh";
  const fs::path started = directory / "opt" / "started";
  fs::create_directories(wrapper.parent_path());
  sshd_fixture::write_text(wrapper,
                           fmt::format("#!/bin/sh\necho \"$*\" >> {}\nexec /usr/bin/etcd \"$@\"\n", started.string()));
  ::chmod(wrapper.c_str(), 0755);
  ::chmod(wrapper.parent_path().c_str(), 0755);
  const auto run_etcd = [&](const fs::path& hosts, const std::string& name) {
    return run_harness({"--hosts", hosts.string(), "--target", "etcd", "--nemesis", "kill", "--nemesis-interval", "3s",
                        "--time-limit", "8s", "--store", (directory / ("store-" + name)).string(), "--remote-dir",
                        (directory / ("remote-" + name)).string()},
                       120s);
  };

  auto result = run_etcd(
      cluster->write_hosts_file("programs.toml", "", {}, fmt::format("[programs]\netcd = \"{}\"\n", wrapper.string())),
      "programs");
  EXPECT_EQ(result.status.exit_code, 0) << describe(result);
  EXPECT_NE(result.out.find(fmt::format("harness: programs from the hosts file: n1 etcd={}", wrapper.string())),
            std::string::npos)
      << result.out;
  const std::string starts = read_text(started);
  const auto results =
      nlohmann::json::parse(read_text(fs::canonical(directory / "store-programs" / "latest") / "results.json"));
  const int kills = results["faults_started"].value("kill", 0);
  EXPECT_GE(kills, 1) << results.dump();
  EXPECT_GE(std::count(starts.begin(), starts.end(), '\n'), kNodes + 1) << "every start, restarts included: " << starts;
  for (int index = 1; index <= kNodes; ++index)
    EXPECT_NE(starts.find(fmt::format("--name n{}", index)), std::string::npos) << starts;

  auto wrong =
      run_etcd(cluster->write_hosts_file("wrong-path.toml", "n2", {{"programs", "{ etcd = \"/nonexistent/etcd\" }"}}),
               "wrong-path");
  EXPECT_EQ(wrong.status.exit_code, 3) << describe(wrong);
  EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1) << wrong.err;
  EXPECT_NE(wrong.err.find("n2: /nonexistent/etcd (programs.etcd in the hosts file) is not there or not executable"),
            std::string::npos)
      << wrong.err;

  auto unknown =
      run_etcd(cluster->write_hosts_file("unknown-program.toml", "", {}, "[programs]\netcdd = \"/opt/etcd\"\n"),
               "unknown-program");
  EXPECT_EQ(unknown.status.exit_code, 3) << describe(unknown);
  EXPECT_NE(unknown.err.find("n1: programs.etcdd in the hosts file is not a program of any target (they are: "),
            std::string::npos)
      << unknown.err;
}

// The real-systems suite's partition and kill entries, every seed, over SSH:
// each must meet its sandbox expectation (valid, or invalid where the system
// is known to lose writes or serve stale reads). Minutes long, so skipped
// unless CHAOSBENCH_SSH_SUITE=1 (figures in docs/ssh.md).
TEST(SshRun, TheRealSystemsSuiteGivesTheSandboxVerdictsOverSsh) {
  if (std::getenv("CHAOSBENCH_SSH_SUITE") == nullptr) GTEST_SKIP() << "set CHAOSBENCH_SSH_SUITE=1 (minutes long)";
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path suite = fs::path(CHAOSBENCH_SOURCE_DIR) / "suites" / "real-systems.toml";
  for (const char* entry : {"etcd-linearizable", "etcd-serializable-stale", "zookeeper-sync-reads",
                            "zookeeper-local-reads-stale", "redis-failover-loses-writes"}) {
    SCOPED_TRACE(entry);
    const fs::path store = cluster->directory->path / fmt::format("suite-{}", entry);
    auto result =
        control::run_local({{kHarness, "suite", suite.string(), "--filter", entry, "--store", store.string(),
                             "--run-arg=--hosts=" + hosts.string(),
                             "--run-arg=--remote-dir=" + (cluster->directory->path / "remote-suite").string()},
                            {},
                            {},
                            {}},
                           900s, "test");
    std::cout << result.out << result.err;
    EXPECT_EQ(result.status.exit_code, 0) << describe(result);
  }
}

// A host that cannot run faultfs fails the run before any node starts, in one line naming it.
TEST(SshRun, AHostThatCannotRunFaultfsFailsTheRunNamingIt) {
  SSH_CLUSTER(cluster);
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  const fs::path broken = cluster->directory->path / "broken-faultfs";
  sshd_fixture::write_text(broken,
                           "#!/bin/sh\necho 'error while loading shared libraries: libfuse3.so.3' >&2\nexit 127\n");
  fs::permissions(broken, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  const fs::path remote = cluster->directory->path / "remote-broken";
  auto result = run_harness({"--hosts", hosts.string(), "--target", "raft", "--nemesis", "power-loss", "--time-limit",
                             "5s", "--faultfs", broken.string(), "--store",
                             (cluster->directory->path / "store-broken").string(), "--remote-dir", remote.string()},
                            60s);
  EXPECT_EQ(result.status.exit_code, 3) << describe(result);
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find("n1: faultfs cannot run there (it needs the Debian package libfuse3-3): error while "
                            "loading shared libraries: libfuse3.so.3"),
            std::string::npos)
      << result.err;
  EXPECT_TRUE(processes_mentioning(remote.string() + "/").empty()) << "a node started";
}

TEST(SshRun, UnusableHostsFailBeforeAnythingStartsNamingTheHost) {
  SSH_CLUSTER(cluster);
  struct Case {
    std::string name;
    std::map<std::string, std::string> changes;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"wrong-key", {{"key", "\"wrong_key\""}}, "authentication failed"},
      {"closed-port", {{"port", "2222"}}, "Connection refused"},
      {"unreachable",
       {{"address", fmt::format("\"{}\"", cluster->subnet_address(99))}, {"connect_timeout_ms", "1000"}},
       "Timeout"},
  };
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.name);
    const fs::path hosts = cluster->write_hosts_file(bad.name + ".toml", "n2", bad.changes);
    const fs::path store = cluster->directory->path / ("store-" + bad.name);
    const fs::path remote = cluster->directory->path / ("remote-" + bad.name);
    const auto started = std::chrono::steady_clock::now();
    auto result = run_harness({"--hosts", hosts.string(), "--target", "raft", "--time-limit", "5s", "--store",
                               store.string(), "--remote-dir", remote.string()},
                              60s);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
    EXPECT_EQ(result.status.exit_code, 3) << describe(result);
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_NE(result.err.find("n2 ("), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(bad.reason), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("n1 ("), std::string::npos) << result.err;  // only the bad host is named
    EXPECT_FALSE(fs::exists(store)) << "store created";
    EXPECT_FALSE(fs::exists(remote)) << "remote directory created";
  }

  // --nodes must agree with the hosts file.
  const fs::path hosts = cluster->write_hosts_file("hosts.toml");
  auto result = run_harness(
      {"--hosts", hosts.string(), "--nodes", "5", "--store", (cluster->directory->path / "store-nodes").string()}, 30s);
  EXPECT_EQ(result.status.exit_code, 3) << describe(result);
  EXPECT_NE(result.err.find("--nodes: 5 does not match the 3 hosts"), std::string::npos) << result.err;
}

}  // namespace
