// cluster_bench: starts a 3-node refnode cluster of one protocol (--protocol
// raft | zab | quorum) on loopback, fsync on by default, drives N concurrent
// closed-loop clients through that protocol's phases and prints, per phase,
// acknowledged ops/s, p50/p99/p999 latency and node and client CPU per op;
// raft and zab then time leader failover (SIGKILL to the first acknowledged
// write). With --faultfs, each node's data directory is under faultfs (the
// storage-fault file system; mounting needs root or a user and mount namespace:
// scripts/bench-storage.sh compares both side by side). A program, not a timed
// test: run it through scripts/bench-cluster.sh.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "refnode_cluster.h"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using chaosbench::testing::RefnodeCluster;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// A closed-loop client: one request in flight, the next sent when it returns.
struct LoadClient : std::enable_shared_from_this<LoadClient> {
  LoadClient(asio::io_context& io_context, std::string op, int number)
      : socket(io_context), op(std::move(op)), number(number) {}
  tcp::socket socket;
  std::string op;
  int number;
  std::uint64_t sequence = 0;
  asio::streambuf buffer;
  std::string line;
  SteadyClock::time_point sent_at;
  bool stopping = false;
  std::vector<std::int64_t>* latencies = nullptr;
  std::uint64_t errors = 0;

  void next() {
    if (stopping) return;
    ++sequence;
    json request{{"id", sequence}, {"op", op}, {"key", fmt::format("k{}", (number * 7919 + sequence) % 1000)}};
    if (op == "write") request["value"] = sequence;
    line = request.dump() + "\n";
    sent_at = SteadyClock::now();
    asio::async_write(
        socket, asio::buffer(line), [self = shared_from_this()](boost::system::error_code error, std::size_t) {
          if (error) return;
          asio::async_read_until(
              self->socket, self->buffer, '\n', [self](boost::system::error_code read_error, std::size_t) {
                if (read_error) return;
                std::istream input(&self->buffer);
                std::string reply;
                std::getline(input, reply);
                const auto latency = SteadyClock::now() - self->sent_at;
                if (reply.find("\"ok\":true") != std::string::npos) {
                  self->latencies->push_back(std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
                } else {
                  ++self->errors;
                }
                self->next();
              });
        });
  }
};

// CPU seconds (user + system) a process has used so far, from /proc.
double cpu_seconds(pid_t pid) {
  std::FILE* file = std::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "r");
  if (file == nullptr) return 0;
  char buffer[4096];
  const std::size_t length = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  buffer[length] = '\0';
  const char* after_name = std::strrchr(buffer, ')');
  if (after_name == nullptr) return 0;
  unsigned long user = 0, system = 0;
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  if (std::sscanf(after_name + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &system) != 2) return 0;
  return static_cast<double>(user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct PhaseResult {
  double operations_per_second = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0;
  std::uint64_t errors = 0;
  std::uint64_t operations = 0;
  double node_cpu_microseconds_per_operation = 0;
  double client_cpu_microseconds_per_operation = 0;
};

// `clients` closed-loop clients of `op`, spread round-robin over `nodes`: one
// warm-up second, then `duration` measured.
PhaseResult run_phase(const RefnodeCluster& cluster, const std::vector<int>& nodes, const std::string& op, int clients,
                      std::chrono::seconds duration) {
  auto node_cpu = [&] {
    double total = 0;
    for (int node = 0; node < cluster.size(); ++node)
      total += cluster.running(node) ? cpu_seconds(cluster.pid(node)) : 0;
    return total;
  };
  asio::io_context io_context;
  std::vector<std::shared_ptr<LoadClient>> load;
  std::vector<std::vector<std::int64_t>> latencies(clients);
  for (int number = 0; number < clients; ++number) {
    auto client = std::make_shared<LoadClient>(io_context, op, number);
    const auto port = cluster.client_port(nodes[static_cast<std::size_t>(number) % nodes.size()]);
    client->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    client->socket.set_option(tcp::no_delay(true));
    client->latencies = &latencies[number];
    latencies[number].reserve(1 << 20);
    load.push_back(client);
  }
  for (auto& client : load) client->next();
  io_context.run_for(std::chrono::seconds(1));
  for (auto& series : latencies) series.clear();
  for (auto& client : load) client->errors = 0;
  const auto started = SteadyClock::now();
  const double node_cpu_before = node_cpu();
  const double client_cpu_before = cpu_seconds(::getpid());
  io_context.run_for(duration);
  const double node_cpu_used = node_cpu() - node_cpu_before;
  const double client_cpu_used = cpu_seconds(::getpid()) - client_cpu_before;
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - started).count();
  for (auto& client : load) {
    client->stopping = true;
    boost::system::error_code ignored;
    client->socket.close(ignored);
  }
  std::vector<std::int64_t> all;
  PhaseResult result;
  for (auto& series : latencies) all.insert(all.end(), series.begin(), series.end());
  for (auto& client : load) result.errors += client->errors;
  std::sort(all.begin(), all.end());
  auto percentile = [&](double fraction) {
    if (all.empty()) return 0.0;
    return all[std::min(all.size() - 1, static_cast<std::size_t>(fraction * all.size()))] / 1000.0;
  };
  result.operations = all.size();
  if (!all.empty()) {
    result.node_cpu_microseconds_per_operation = node_cpu_used * 1e6 / static_cast<double>(all.size());
    result.client_cpu_microseconds_per_operation = client_cpu_used * 1e6 / static_cast<double>(all.size());
  }
  result.operations_per_second = all.size() / elapsed;
  result.p50_ms = percentile(0.50);
  result.p99_ms = percentile(0.99);
  result.p999_ms = percentile(0.999);
  return result;
}

// One reply on a fresh connection, or nullopt if the node does not answer in time.
std::optional<json> request_once(std::uint16_t port, const json& request, std::chrono::milliseconds timeout) {
  try {
    chaosbench::testing::LineClient client(port, timeout);
    return client.call(request, timeout);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// SIGKILLs the leader, returns the time from the kill to the first write
// acknowledged by any node, and restarts the killed node.
double measure_failover(RefnodeCluster& cluster) {
  const int leader = cluster.wait_for_leader(std::chrono::seconds(10));
  cluster.kill(leader);
  const auto killed_at = SteadyClock::now();
  std::uint64_t attempt = 0;
  while (SteadyClock::now() - killed_at < std::chrono::seconds(20)) {
    for (int node = 0; node < cluster.size(); ++node) {
      if (!cluster.running(node)) continue;
      auto reply = request_once(cluster.client_port(node),
                                {{"id", ++attempt}, {"op", "write"}, {"key", "failover"}, {"value", attempt}},
                                std::chrono::milliseconds(500));
      if (reply && reply->value("ok", false)) {
        const double seconds = std::chrono::duration<double>(SteadyClock::now() - killed_at).count();
        cluster.start(leader);
        return seconds;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  throw std::runtime_error("no write acknowledged within 20 s of killing the leader");
}

// Waits until every node answers status and (quorum) sees all members up.
void wait_until_all_up(RefnodeCluster& cluster, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    int ready = 0;
    for (int node = 0; node < cluster.size(); ++node) {
      auto status = cluster.status(node);
      if (status && (*status)["up"].size() == static_cast<std::size_t>(cluster.size())) ++ready;
    }
    if (ready == cluster.size()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("quorum cluster not ready");
}

struct Settings {
  std::string protocol = "raft";
  int clients = 64;
  int seconds = 10;
  int failovers = 5;
  std::string fsync = "on";
  std::string read_mode;
  std::filesystem::path data_root = "/tmp";
  std::filesystem::path refnode;
  std::filesystem::path faultfs;  // non-empty: mount it over each node's data directory
};

// faultfs mounted over every node's data directory of a cluster, for its life.
class FaultfsMounts {
 public:
  FaultfsMounts(const std::filesystem::path& faultfs, RefnodeCluster& cluster) {
    if (faultfs.empty()) return;
    for (int node = 0; node < cluster.size(); ++node) {
      const auto data = cluster.data_dir(node);
      std::filesystem::create_directories(data);
      const auto state = data.string() + "-faultfs";
      const auto socket = state + ".sock";
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::execl(faultfs.c_str(), faultfs.c_str(), "mount", data.c_str(), "--state", state.c_str(), "--control",
                socket.c_str(), static_cast<char*>(nullptr));
        std::_Exit(127);
      }
      pids_.push_back(pid);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!std::filesystem::exists(socket)) {
        if (std::chrono::steady_clock::now() > deadline)
          throw std::runtime_error("faultfs did not mount over " + data.string());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  // Call after the nodes are gone: faultfs unmounts on SIGTERM.
  void unmount() {
    for (pid_t pid : pids_) ::kill(pid, SIGTERM);
    for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
    pids_.clear();
  }
  ~FaultfsMounts() { unmount(); }

 private:
  std::vector<pid_t> pids_;
};

struct Row {
  std::string configuration, phase;
  PhaseResult result;
};

// Starts a 3-node cluster with `extra` arguments, runs `phases` (name, which
// nodes, op) against it, and leaves it running for the caller.
using Phase = std::function<std::vector<int>(RefnodeCluster&)>;
struct PhaseSpec {
  std::string name, op;
  Phase nodes;
};

void run_configuration(const Settings& settings, const std::string& configuration, std::vector<std::string> extra,
                       const std::vector<PhaseSpec>& phases, std::vector<Row>& rows, int failovers) {
  extra.insert(extra.begin(), {"--fsync", settings.fsync});
  RefnodeCluster cluster(3, extra, settings.protocol, settings.refnode, settings.data_root);
  FaultfsMounts mounts(settings.faultfs, cluster);
  // The nodes end before their file systems do, whichever way this returns.
  struct StopNodesFirst {
    RefnodeCluster& cluster;
    FaultfsMounts& mounts;
    ~StopNodesFirst() {
      for (int node = 0; node < cluster.size(); ++node) {
        if (cluster.running(node)) cluster.kill(node);
      }
      mounts.unmount();
    }
  } stop_nodes_first{cluster, mounts};
  cluster.start_all();
  if (settings.protocol == "quorum") {
    wait_until_all_up(cluster, std::chrono::seconds(10));
  } else {
    cluster.wait_for_leader(std::chrono::seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the followers finish synchronising
  }
  const auto duration = std::chrono::seconds(settings.seconds);
  for (const auto& phase : phases) {
    rows.push_back(
        {configuration, phase.name, run_phase(cluster, phase.nodes(cluster), phase.op, settings.clients, duration)});
  }
  if (failovers <= 0) return;
  std::vector<double> times;
  for (int round = 0; round < failovers; ++round) {
    times.push_back(measure_failover(cluster));
    std::printf("%s failover %d: %.3f s\n", configuration.c_str(), round + 1, times.back());
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let the restarted node rejoin
  }
  std::sort(times.begin(), times.end());
  std::printf("%s failover (kill to first acknowledged write): min %.3f s, median %.3f s, max %.3f s\n",
              configuration.c_str(), times.front(), times[times.size() / 2], times.back());
}

std::vector<int> leader_of(RefnodeCluster& cluster) { return {cluster.wait_for_leader(std::chrono::seconds(10))}; }
std::vector<int> follower_of(RefnodeCluster& cluster) {
  return {(cluster.wait_for_leader(std::chrono::seconds(10)) + 1) % cluster.size()};
}
std::vector<int> every_node(RefnodeCluster& cluster) {
  std::vector<int> nodes;
  for (int node = 0; node < cluster.size(); ++node) nodes.push_back(node);
  return nodes;
}

// The protocol's configurations and phases, as docs/performance-*.md report them.
void run_protocol(const Settings& settings, std::vector<Row>& rows) {
  if (settings.protocol == "raft") {
    const std::string read_mode = settings.read_mode.empty() ? "read-index" : settings.read_mode;
    run_configuration(settings, "read mode " + read_mode, {"--read-mode", read_mode},
                      {{"write", "write", leader_of}, {"read (" + read_mode + ")", "read", leader_of}}, rows,
                      settings.failovers);
  } else if (settings.protocol == "zab") {
    run_configuration(settings, "read mode local", {},
                      {{"write at leader", "write", leader_of},
                       {"write at follower (forwarded)", "write", follower_of},
                       {"local read at leader", "read", leader_of},
                       {"local read at follower", "read", follower_of},
                       {"sync at follower", "sync", follower_of}},
                      rows, settings.failovers);
    run_configuration(settings, "read mode sync", {"--read-mode", "sync"},
                      {{"sync read at leader", "read", leader_of}, {"sync read at follower", "read", follower_of}},
                      rows, 0);
  } else {
    for (int quorum_size : {2, 1}) {
      const std::string size = std::to_string(quorum_size);
      run_configuration(settings, "N=3 R=W=" + size, {"--n", "3", "--r", size, "--w", size},
                        {{"write (clients over all 3 coordinators)", "write", every_node},
                         {"read (clients over all 3 coordinators)", "read", every_node}},
                        rows, 0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cluster_bench: throughput, latency and failover of a 3-node refnode cluster"};
  Settings settings;
  app.add_option("--protocol", settings.protocol, "raft | zab | quorum (default raft)")
      ->check(CLI::IsMember({"raft", "zab", "quorum"}));
  app.add_option("--clients", settings.clients, "concurrent closed-loop clients (default 64)");
  app.add_option("--seconds", settings.seconds, "measured seconds per phase (default 10)");
  app.add_option("--failovers", settings.failovers, "leader kills to time, raft and zab (default 5)");
  app.add_option("--fsync", settings.fsync, "on | off (default on)")->check(CLI::IsMember({"on", "off"}));
  app.add_option("--read-mode", settings.read_mode, "raft only: read-index | lease (default read-index)")
      ->check(CLI::IsMember({"read-index", "lease"}));
  app.add_option("--data-root", settings.data_root, "where the nodes' data dirs go (default /tmp)");
  app.add_option("--refnode", settings.refnode, "the refnode binary (default: the one beside this program)");
  app.add_option("--faultfs", settings.faultfs,
                 "mount this faultfs over each node's data directory (needs root or a user+mount namespace)");
  CLI11_PARSE(app, argc, argv);
  if (!settings.read_mode.empty() && settings.protocol != "raft") {
    std::fprintf(stderr, "cluster_bench: --read-mode is a raft setting (zab runs both of its read modes)\n");
    return 3;
  }
  if (settings.refnode.empty()) {
    settings.refnode = std::filesystem::canonical("/proc/self/exe").parent_path() / "refnode";
  }
  if (!std::filesystem::exists(settings.refnode)) {
    std::fprintf(stderr, "cluster_bench: no refnode binary at %s\n", settings.refnode.c_str());
    return 3;
  }
  std::printf("%s, 3 nodes, fsync %s, %d clients, %d s per phase, 1000 keys%s\n", settings.protocol.c_str(),
              settings.fsync.c_str(), settings.clients, settings.seconds,
              settings.faultfs.empty() ? "" : ", data directories under faultfs");
  std::vector<Row> rows;
  try {
    run_protocol(settings, rows);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "cluster_bench: %s\n", error.what());
    return 3;
  }
  std::printf(
      "| configuration | phase | ops/s | p50 ms | p99 ms | p999 ms | errors | node CPU us/op (3 nodes) | client CPU "
      "us/op |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& row : rows) {
    const auto& result = row.result;
    std::printf("| %s | %s | %.0f | %.2f | %.2f | %.2f | %llu | %.1f | %.1f |\n", row.configuration.c_str(),
                row.phase.c_str(), result.operations_per_second, result.p50_ms, result.p99_ms, result.p999_ms,
                static_cast<unsigned long long>(result.errors), result.node_cpu_microseconds_per_operation,
                result.client_cpu_microseconds_per_operation);
  }
  return 0;
}
