#include "refnode_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace chaosbench::testing {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::filesystem::path refnode_binary() { return std::filesystem::path(CHAOSBENCH_BINARY_DIR) / "bin" / "refnode"; }

namespace {

// The lowest port the kernel hands out as an ephemeral (source) port.
std::uint16_t lowest_ephemeral_port() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768, high = 60999;
  range >> low >> high;
  return static_cast<std::uint16_t>(low);
}

bool can_bind(std::uint16_t port) {
  int descriptor = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (descriptor < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  bool bound = ::bind(descriptor, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(descriptor);
  return bound;
}

}  // namespace

// A port below the ephemeral range: a port the kernel picked for us (bind to 0)
// can be handed out again as another connection's source port before the node
// binds it, which made node starts fail at random under parallel tests.
std::uint16_t pick_free_port() {
  static std::mt19937 random(static_cast<unsigned>(::getpid()) ^
                             static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  const std::uint16_t low = 10000, high = lowest_ephemeral_port();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto port = static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(low, high - 1u)(random));
    if (can_bind(port)) return port;
  }
  throw std::runtime_error(fmt::format("no free port in [{}, {})", low, high));
}

RefnodeCluster::RefnodeCluster(int size, std::vector<std::string> extra_arguments, std::string protocol,
                               std::filesystem::path binary, const std::filesystem::path& data_parent)
    : extra_arguments_(std::move(extra_arguments)), protocol_(std::move(protocol)), binary_(std::move(binary)) {
  std::string pattern = (data_parent / "chaosbench-refnode-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(fmt::format("mkdtemp under {}: {}", data_parent.string(), std::strerror(errno)));
  }
  root_ = pattern;
  for (int node = 0; node < size; ++node) {
    Node entry;
    entry.peer_port = pick_free_port();
    entry.client_port = pick_free_port();
    nodes_.push_back(entry);
  }
}

RefnodeCluster::~RefnodeCluster() {
  for (int node = 0; node < size(); ++node) {
    if (nodes_[node].pid > 0) {
      ::kill(nodes_[node].pid, SIGCONT);
      kill(node);
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

std::vector<std::string> RefnodeCluster::arguments_for(int node) const {
  std::string peers;
  for (int other = 0; other < size(); ++other) {
    if (!peers.empty()) peers += ",";
    const std::uint16_t port = other != node && nodes_[other].advertised_peer_port != 0
                                   ? nodes_[other].advertised_peer_port
                                   : nodes_[other].peer_port;
    peers += fmt::format("{}=127.0.0.1:{}", id(other), port);
  }
  std::vector<std::string> arguments{binary_.string(),
                                     "--protocol",
                                     protocol_,
                                     "--id",
                                     id(node),
                                     "--peers",
                                     peers,
                                     "--client-host",
                                     "127.0.0.1",
                                     "--client-port",
                                     std::to_string(nodes_[node].client_port),
                                     "--data-dir",
                                     (root_ / id(node)).string()};
  arguments.insert(arguments.end(), extra_arguments_.begin(), extra_arguments_.end());
  return arguments;
}

std::filesystem::path RefnodeCluster::log_path(int node) const { return root_ / (id(node) + ".log"); }

std::string RefnodeCluster::log_text(int node) const {
  std::ifstream input(log_path(node));
  std::stringstream text;
  text << input.rdbuf();
  return text.str();
}

void RefnodeCluster::start(int node) {
  if (nodes_[node].pid > 0) throw std::runtime_error(id(node) + " already running");
  auto arguments = arguments_for(node);
  const std::string log = log_path(node).string();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int log_descriptor = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log_descriptor >= 0) {
      ::dup2(log_descriptor, STDERR_FILENO);
      ::dup2(log_descriptor, STDOUT_FILENO);
    }
    std::vector<char*> argv;
    for (auto& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  nodes_[node].pid = pid;
}

void RefnodeCluster::restart_retrying(int node) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    start(node);
    try {
      const int code = wait_for_exit(node, std::chrono::milliseconds(300));
      std::fprintf(stderr, "%s exited with %d on restart, retrying\n", id(node).c_str(), code);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } catch (const std::runtime_error&) {
      return;  // still running
    }
  }
  throw std::runtime_error(id(node) + " keeps exiting on restart:\n" + log_text(node));
}

void RefnodeCluster::start_all() {
  for (int node = 0; node < size(); ++node) start(node);
}

void RefnodeCluster::signal(int node, int signal_number) {
  if (nodes_[node].pid <= 0) throw std::runtime_error(id(node) + " is not running");
  ::kill(nodes_[node].pid, signal_number);
}

void RefnodeCluster::kill(int node) {
  if (nodes_[node].pid <= 0) return;
  ::kill(nodes_[node].pid, SIGKILL);
  int status = 0;
  ::waitpid(nodes_[node].pid, &status, 0);
  nodes_[node].pid = -1;
}

int RefnodeCluster::wait_for_exit(int node, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(nodes_[node].pid, &status, WNOHANG) == nodes_[node].pid) {
      nodes_[node].pid = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(id(node) + " did not exit");
}

void RefnodeCluster::wipe_data(int node) { std::filesystem::remove_all(root_ / id(node)); }

std::optional<json> RefnodeCluster::status(int node) {
  if (nodes_[node].pid <= 0) return std::nullopt;
  return targets::protocol::query_status("127.0.0.1", nodes_[node].client_port, std::chrono::milliseconds(800));
}

int RefnodeCluster::wait_for_leader(std::chrono::milliseconds timeout, std::optional<int> excluding) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    for (int node = 0; node < size(); ++node) {
      if (excluding && *excluding == node) continue;
      auto current = status(node);
      if (!current) continue;
      const auto& role = (*current)["role"];
      if (role == "leader" || (role == "leading" && current->value("serving", false))) return node;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(fmt::format("no leader within {} ms", timeout.count()));
}

json RefnodeCluster::request_leader(json request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int target = 0;
  json last_reply;
  while (Clock::now() < deadline) {
    if (nodes_[target].pid > 0) {
      try {
        LineClient client(nodes_[target].client_port, std::chrono::milliseconds(300));
        last_reply = client.call(request, std::chrono::seconds(6));
        if (last_reply.value("ok", false)) return last_reply;
        if (last_reply.value("error", "") == "precondition_failed") return last_reply;
        if (last_reply.value("error", "") == "not_leader" && last_reply["leader"].is_string()) {
          target = index_of(last_reply["leader"].get<std::string>());
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
      } catch (const std::exception&) {
      }
    }
    target = (target + 1) % size();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(fmt::format("{} not acknowledged within {} ms; last reply {}", request.dump(),
                                       timeout.count(), last_reply.dump()));
}

json RefnodeCluster::write(const std::string& key, const json& value, std::chrono::milliseconds timeout) {
  return request_leader({{"id", 1}, {"op", "write"}, {"key", key}, {"value", value}}, timeout);
}

}  // namespace chaosbench::testing
