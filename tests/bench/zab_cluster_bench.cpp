// zab_cluster_bench: starts a 3-node refnode ZAB cluster on loopback (fsync on
// by default), drives N concurrent closed-loop clients and reports
// acknowledged writes/s (at the leader and forwarded from a follower), local
// reads/s (leader and follower), sync/s, sync reads/s (the cluster restarted
// with --read-mode sync), p50/p99/p999 latency and leader failover time. The same harness as raft_cluster_bench, for
// side-by-side numbers. A program, not a timed test: run it by hand or through scripts/bench-zab.sh.
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
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::uint16_t free_port() {
  asio::io_context io_context;
  tcp::acceptor acceptor(io_context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

struct Cluster {
  std::filesystem::path root;
  std::filesystem::path binary;
  std::vector<std::uint16_t> peer_ports, client_ports;
  std::vector<pid_t> pids;
  std::vector<std::string> extra;

  std::string id(int node) const { return fmt::format("n{}", node + 1); }

  void start(int node) {
    std::string peers;
    for (std::size_t other = 0; other < peer_ports.size(); ++other) {
      peers += fmt::format("{}{}=127.0.0.1:{}", other ? "," : "", id(static_cast<int>(other)), peer_ports[other]);
    }
    std::vector<std::string> arguments{binary.string(),
                                       "--protocol",
                                       "zab",
                                       "--id",
                                       id(node),
                                       "--peers",
                                       peers,
                                       "--client-host",
                                       "127.0.0.1",
                                       "--client-port",
                                       std::to_string(client_ports[node]),
                                       "--data-dir",
                                       (root / id(node)).string()};
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    const std::string log = (root / (id(node) + ".log")).string();
    pid_t pid = ::fork();
    if (pid == 0) {
      if (!::freopen(log.c_str(), "a", stderr)) ::_exit(126);
      std::vector<char*> argv;
      for (auto& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pids[node] = pid;
  }

  void kill(int node) {
    if (pids[node] <= 0) return;
    ::kill(pids[node], SIGKILL);
    ::waitpid(pids[node], nullptr, 0);
    pids[node] = -1;
  }

  ~Cluster() {
    for (std::size_t node = 0; node < pids.size(); ++node) kill(static_cast<int>(node));
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
};

// Blocking request on a fresh connection; nullopt if the node does not answer.
std::optional<json> request_once(std::uint16_t port, const json& request, std::chrono::milliseconds timeout) {
  asio::io_context io_context;
  tcp::socket socket(io_context);
  std::optional<json> result;
  asio::streambuf buffer;
  std::string line = request.dump() + "\n";
  socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](boost::system::error_code error) {
    if (error) return;
    asio::async_write(socket, asio::buffer(line), [&](boost::system::error_code write_error, std::size_t) {
      if (write_error) return;
      asio::async_read_until(socket, buffer, '\n', [&](boost::system::error_code read_error, std::size_t) {
        if (read_error) return;
        std::istream input(&buffer);
        std::string reply;
        std::getline(input, reply);
        result = json::parse(reply, nullptr, false);
      });
    });
  });
  io_context.run_for(timeout);
  return result;
}

int find_leader(Cluster& cluster, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    for (std::size_t node = 0; node < cluster.pids.size(); ++node) {
      if (cluster.pids[node] <= 0) continue;
      auto reply =
          request_once(cluster.client_ports[node], {{"id", 0}, {"op", "status"}}, std::chrono::milliseconds(200));
      if (reply && reply->value("ok", false) && (*reply)["value"]["role"] == "leading" &&
          (*reply)["value"]["serving"] == true) {
        return static_cast<int>(node);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("no leader");
}

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

PhaseResult run_phase(const std::vector<pid_t>& node_pids, std::uint16_t port, const std::string& op, int clients,
                      std::chrono::seconds duration) {
  auto node_cpu = [&] {
    double total = 0;
    for (pid_t pid : node_pids) total += pid > 0 ? cpu_seconds(pid) : 0;
    return total;
  };
  asio::io_context io_context;
  std::vector<std::shared_ptr<LoadClient>> load;
  std::vector<std::vector<std::int64_t>> latencies(clients);
  for (int number = 0; number < clients; ++number) {
    auto client = std::make_shared<LoadClient>(io_context, op, number);
    client->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    client->socket.set_option(tcp::no_delay(true));
    client->latencies = &latencies[number];
    latencies[number].reserve(1 << 20);
    load.push_back(client);
  }
  // Warm-up second, then measure.
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

// Writes continuously at the leader, SIGKILLs it, and returns the time from the
// kill to the first write acknowledged by any node.
double measure_failover(Cluster& cluster) {
  const int leader = find_leader(cluster, std::chrono::seconds(10));
  cluster.kill(leader);
  const auto killed_at = SteadyClock::now();
  std::uint64_t attempt = 0;
  while (SteadyClock::now() - killed_at < std::chrono::seconds(20)) {
    for (std::size_t node = 0; node < cluster.pids.size(); ++node) {
      if (cluster.pids[node] <= 0) continue;
      auto reply = request_once(cluster.client_ports[node],
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zab_cluster_bench: throughput, latency and failover of a 3-node refnode ZAB cluster"};
  int clients = 64;
  int seconds = 10;
  int failovers = 5;
  std::string fsync = "on";
  std::string data_root = "/tmp";
  app.add_option("--clients", clients, "concurrent closed-loop clients (default 64)");
  app.add_option("--seconds", seconds, "measured seconds per phase (default 10)");
  app.add_option("--failovers", failovers, "leader kills to time (default 5)");
  app.add_option("--fsync", fsync, "on | off (default on)");
  app.add_option("--data-root", data_root, "where the nodes' data dirs go (default /tmp)");
  CLI11_PARSE(app, argc, argv);

  Cluster cluster;
  char pattern[4096];
  std::snprintf(pattern, sizeof pattern, "%s/chaosbench-zab-bench-XXXXXX", data_root.c_str());
  if (::mkdtemp(pattern) == nullptr) {
    std::fprintf(stderr, "mkdtemp under %s failed\n", data_root.c_str());
    return 3;
  }
  cluster.root = pattern;
  cluster.binary = std::filesystem::canonical("/proc/self/exe").parent_path() / "refnode";
  cluster.extra = {"--fsync", fsync};
  for (int node = 0; node < 3; ++node) {
    cluster.peer_ports.push_back(free_port());
    cluster.client_ports.push_back(free_port());
    cluster.pids.push_back(-1);
  }
  for (int node = 0; node < 3; ++node) cluster.start(node);
  const int leader = find_leader(cluster, std::chrono::seconds(10));
  const int follower = (leader + 1) % 3;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the followers finish synchronising
  std::printf("3 nodes, fsync %s, %d clients, %d s per phase\n", fsync.c_str(), clients, seconds);
  const auto duration = std::chrono::seconds(seconds);
  std::vector<std::pair<std::string, PhaseResult>> results;
  results.emplace_back("write at leader",
                       run_phase(cluster.pids, cluster.client_ports[leader], "write", clients, duration));
  results.emplace_back("write at follower (forwarded)",
                       run_phase(cluster.pids, cluster.client_ports[follower], "write", clients, duration));
  results.emplace_back("local read at leader",
                       run_phase(cluster.pids, cluster.client_ports[leader], "read", clients, duration));
  results.emplace_back("local read at follower",
                       run_phase(cluster.pids, cluster.client_ports[follower], "read", clients, duration));
  results.emplace_back("sync at follower",
                       run_phase(cluster.pids, cluster.client_ports[follower], "sync", clients, duration));
  auto status = request_once(cluster.client_ports[leader], {{"id", 0}, {"op", "status"}}, std::chrono::seconds(1));
  // The same cluster restarted with --read-mode sync: every read is a sync
  // through the leader (confirmed by a quorum ping round), then a local read.
  for (int node = 0; node < 3; ++node) cluster.kill(node);
  cluster.extra.insert(cluster.extra.end(), {"--read-mode", "sync"});
  for (int node = 0; node < 3; ++node) cluster.start(node);
  const int sync_leader = find_leader(cluster, std::chrono::seconds(10));
  const int sync_follower = (sync_leader + 1) % 3;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  results.emplace_back("sync read at leader (--read-mode sync)",
                       run_phase(cluster.pids, cluster.client_ports[sync_leader], "read", clients, duration));
  results.emplace_back("sync read at follower (--read-mode sync)",
                       run_phase(cluster.pids, cluster.client_ports[sync_follower], "read", clients, duration));
  std::printf(
      "| phase | ops/s | p50 ms | p99 ms | p999 ms | errors | node CPU us/op (3 nodes) | client CPU us/op |\n"
      "|---|---|---|---|---|---|---|---|\n");
  for (const auto& [name, result] : results) {
    std::printf("| %s | %.0f | %.2f | %.2f | %.2f | %llu | %.1f | %.1f |\n", name.c_str(), result.operations_per_second,
                result.p50_ms, result.p99_ms, result.p999_ms, static_cast<unsigned long long>(result.errors),
                result.node_cpu_microseconds_per_operation, result.client_cpu_microseconds_per_operation);
  }
  if (status) std::printf("leader status after load: %s\n", (*status)["value"].dump().c_str());
  std::vector<double> failover_times;
  for (int round = 0; round < failovers; ++round) {
    failover_times.push_back(measure_failover(cluster));
    std::printf("failover %d: %.3f s\n", round + 1, failover_times.back());
    std::this_thread::sleep_for(std::chrono::seconds(2));  // let the restarted node rejoin
  }
  if (!failover_times.empty()) {
    std::sort(failover_times.begin(), failover_times.end());
    std::printf("failover (kill to first acknowledged write): min %.3f s, median %.3f s, max %.3f s\n",
                failover_times.front(), failover_times[failover_times.size() / 2], failover_times.back());
  }
  return 0;
}
