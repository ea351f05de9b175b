// quorum_cluster_bench: starts a 3-node refnode quorum cluster (N=3) on
// loopback (fsync on by default), drives N concurrent closed-loop clients
// spread over the three coordinators and reports acknowledged writes/s,
// reads/s and p50/p99/p999 latency for R=W=2 and R=W=1; then measures
// anti-entropy in process (two QuorumNode cores, no sockets): CPU time, bytes
// and messages to repair a given divergence of a 100,000-key store. A program,
// not a timed test: run it by hand or through scripts/bench-quorum.sh.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "quorum/quorum_node.h"
#include "runtime/clock.h"

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
                                       "quorum",
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

// Waits until every node answers status and sees all three up.
void wait_until_ready(Cluster& cluster, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    std::size_t ready = 0;
    for (std::size_t node = 0; node < cluster.pids.size(); ++node) {
      auto reply =
          request_once(cluster.client_ports[node], {{"id", 0}, {"op", "status"}}, std::chrono::milliseconds(200));
      if (reply && reply->value("ok", false) && (*reply)["value"]["up"].size() == cluster.pids.size()) ++ready;
    }
    if (ready == cluster.pids.size()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("quorum cluster not ready");
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

PhaseResult run_phase(const std::vector<pid_t>& node_pids, const std::vector<std::uint16_t>& ports,
                      const std::string& op, int clients, std::chrono::seconds duration) {
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
    client->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ports[number % ports.size()]));
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

double process_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct AntiEntropyResult {
  std::size_t keys = 0, divergent_keys = 0;
  double cpu_milliseconds = 0;
  std::uint64_t bytes = 0, messages = 0, keys_repaired = 0;
  std::map<std::string, std::uint64_t> bytes_by_type;
  std::uint64_t full_copy_bytes = 0;  // shipping every key's versions, for comparison
  bool converged = false;
};

// Two replicas of `keys` keys (members n1..n3, N=3, so both replicate every
// key); `divergence` of the keys get a newer version on one side only (half
// on each side). One anti-entropy session n1 -> n2, messages shuttled in process.
AntiEntropyResult measure_anti_entropy(std::size_t keys, double divergence, int merkle_depth) {
  using namespace chaosbench;
  targets::ManualClock monotonic, wall;
  monotonic.set(1);
  wall.set(1'700'000'000'000'000'000);
  auto config_for = [&](const std::string& id) {
    quorum::QuorumConfig config;
    config.id = id;
    config.members = {"n1", "n2", "n3"};
    config.merkle_depth = merkle_depth;
    config.anti_entropy_interval_nanoseconds = 0;
    return config;
  };
  quorum::QuorumNode first(config_for("n1"), monotonic, wall, {});
  quorum::QuorumNode second(config_for("n2"), monotonic, wall, {});
  AntiEntropyResult result;
  result.keys = keys;
  const std::size_t stride = divergence > 0 ? static_cast<std::size_t>(1.0 / divergence) : 0;
  for (std::size_t key = 0; key < keys; ++key) {
    const std::string name = fmt::format("key-{:06}", key);
    quorum::Version version;
    version.value = static_cast<std::int64_t>(key);
    version.clock.set("n1", key + 1);
    version.timestamp = wall.now_nanoseconds();
    version.writer = "n1";
    first.store_locally(name, {version});
    second.store_locally(name, {version});
    if (stride != 0 && key % stride == 0) {
      ++result.divergent_keys;
      version.value = static_cast<std::int64_t>(key) + 1000000;
      const bool on_first = (key / stride) % 2 == 0;
      version.clock.set(on_first ? "n1" : "n2", keys + key + 1);
      (on_first ? first : second).store_locally(name, {version});
    }
  }
  first.take_ready();  // the records a real node would write while loading
  second.take_ready();
  for (const auto& [name, versions] : first.store()) {
    result.full_copy_bytes += name.size() + nlohmann::json::to_cbor(quorum::to_json(versions)).size();
  }
  const std::uint64_t repaired_before =
      first.statistics().anti_entropy_keys_repaired + second.statistics().anti_entropy_keys_repaired;
  const double cpu_before = process_cpu_seconds();
  first.start_anti_entropy("n2");
  bool moved = true;
  while (moved) {
    moved = false;
    for (auto* sender : {&first, &second}) {
      auto* receiver = sender == &first ? &second : &first;
      quorum::Ready ready = sender->take_ready();
      for (const auto& message : ready.messages) {
        const std::string bytes = quorum::encode_message(message);
        result.bytes += bytes.size();
        result.bytes_by_type[quorum::message_type_name(message.type)] += bytes.size();
        ++result.messages;
        receiver->receive(quorum::decode_message(bytes));
        moved = true;
      }
    }
  }
  result.cpu_milliseconds = (process_cpu_seconds() - cpu_before) * 1000;
  result.keys_repaired =
      first.statistics().anti_entropy_keys_repaired + second.statistics().anti_entropy_keys_repaired - repaired_before;
  result.converged = first.store().size() == second.store().size();
  for (const auto& [name, versions] : first.store()) {
    auto other = second.store().find(name);
    if (other == second.store().end() || quorum::digest(other->second) != quorum::digest(versions)) {
      result.converged = false;
    }
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "quorum_cluster_bench: throughput and latency of a 3-node refnode quorum cluster, and anti-entropy cost"};
  int clients = 64;
  int seconds = 10;
  std::string fsync = "on";
  std::string data_root = "/tmp";
  std::size_t anti_entropy_keys = 100000;
  std::vector<double> divergences{0.0, 0.01, 0.1};
  int merkle_depth = 14;
  bool skip_cluster = false;
  app.add_option("--clients", clients, "concurrent closed-loop clients (default 64)");
  app.add_option("--seconds", seconds, "measured seconds per phase (default 10)");
  app.add_option("--fsync", fsync, "on | off (default on)");
  app.add_option("--data-root", data_root, "where the nodes' data dirs go (default /tmp)");
  app.add_option("--anti-entropy-keys", anti_entropy_keys, "keys in the anti-entropy store (default 100000)");
  app.add_option("--divergence", divergences, "fractions of keys that differ (default 0 0.01 0.1)");
  app.add_option("--merkle-depth", merkle_depth, "Merkle tree depth (default 14: 16384 leaves)");
  app.add_flag("--skip-cluster", skip_cluster, "only the in-process anti-entropy measurement");
  CLI11_PARSE(app, argc, argv);

  if (!skip_cluster) {
    std::printf("3 nodes, N=3, fsync %s, %d clients spread over the 3 coordinators, %d s per phase, 1000 keys\n",
                fsync.c_str(), clients, seconds);
    std::printf(
        "| R=W | phase | ops/s | p50 ms | p99 ms | p999 ms | errors | node CPU us/op (3 nodes) | client CPU us/op |\n"
        "|---|---|---|---|---|---|---|---|---|\n");
    for (int quorum_size : {2, 1}) {
      Cluster cluster;
      char pattern[4096];
      std::snprintf(pattern, sizeof pattern, "%s/chaosbench-quorum-bench-XXXXXX", data_root.c_str());
      if (::mkdtemp(pattern) == nullptr) {
        std::fprintf(stderr, "mkdtemp under %s failed\n", data_root.c_str());
        return 3;
      }
      cluster.root = pattern;
      cluster.binary = std::filesystem::canonical("/proc/self/exe").parent_path() / "refnode";
      cluster.extra = {
          "--fsync", fsync, "--n", "3", "--r", std::to_string(quorum_size), "--w", std::to_string(quorum_size)};
      for (int node = 0; node < 3; ++node) {
        cluster.peer_ports.push_back(free_port());
        cluster.client_ports.push_back(free_port());
        cluster.pids.push_back(-1);
      }
      for (int node = 0; node < 3; ++node) cluster.start(node);
      wait_until_ready(cluster, std::chrono::seconds(10));
      PhaseResult writes =
          run_phase(cluster.pids, cluster.client_ports, "write", clients, std::chrono::seconds(seconds));
      PhaseResult reads = run_phase(cluster.pids, cluster.client_ports, "read", clients, std::chrono::seconds(seconds));
      for (const auto& [name, result] : {std::pair<std::string, const PhaseResult&>{"write", writes},
                                         std::pair<std::string, const PhaseResult&>{"read", reads}}) {
        std::printf("| %d | %s | %.0f | %.2f | %.2f | %.2f | %llu | %.1f | %.1f |\n", quorum_size, name.c_str(),
                    result.operations_per_second, result.p50_ms, result.p99_ms, result.p999_ms,
                    static_cast<unsigned long long>(result.errors), result.node_cpu_microseconds_per_operation,
                    result.client_cpu_microseconds_per_operation);
      }
      std::fflush(stdout);
    }
  }

  std::printf("\nanti-entropy, in process: %zu keys on two replicas, Merkle depth %d, one session\n", anti_entropy_keys,
              merkle_depth);
  std::printf(
      "| divergent keys | CPU ms (both sides) | bytes exchanged | messages | keys repaired | converged | full copy "
      "bytes |\n"
      "|---|---|---|---|---|---|---|\n");
  for (double divergence : divergences) {
    const AntiEntropyResult result = measure_anti_entropy(anti_entropy_keys, divergence, merkle_depth);
    std::printf("| %zu (%.1f%%) | %.1f | %llu | %llu | %llu | %s | %llu |\n", result.divergent_keys, divergence * 100,
                result.cpu_milliseconds, static_cast<unsigned long long>(result.bytes),
                static_cast<unsigned long long>(result.messages), static_cast<unsigned long long>(result.keys_repaired),
                result.converged ? "yes" : "NO", static_cast<unsigned long long>(result.full_copy_bytes));
    std::string by_type;
    for (const auto& [type, bytes] : result.bytes_by_type) by_type += fmt::format(" {}={}", type, bytes);
    std::printf("  bytes by message type:%s\n", by_type.c_str());
    if (!result.converged) return 1;
  }
  return 0;
}
