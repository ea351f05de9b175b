// sandbox_probe: test helper for harness/control. `scenario <name> <workdir>`
// enters the sandbox (SandboxSession) and exercises it, printing one JSON object
// of observations on stdout for sandbox_test.cpp to judge; exit 77 when the
// kernel forbids the namespaces. The other subcommands are the tiny programs
// the scenarios run on the nodes (TCP echo server/client, clock sampler, sleeper).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/faketime.h"
#include "chaosbench/harness/control/network_faults.h"
#include "chaosbench/harness/control/process.h"
#include "chaosbench/harness/control/sandbox.h"
#include "chaosbench/harness/control/sandbox_session.h"

namespace control = chaosbench::harness::control;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int kUnavailableExit = 77;
constexpr const char* kEchoPort = "7000";

std::string self_path() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

sockaddr_in socket_address(const std::string& address, const std::string& port) {
  sockaddr_in result{};
  result.sin_family = AF_INET;
  result.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
  if (::inet_pton(AF_INET, address.c_str(), &result.sin_addr) != 1)
    throw std::runtime_error("bad IPv4 address " + address);
  return result;
}

// listen ADDR PORT: echoes one line back per connection, forever.
int run_listen(const std::string& address, const std::string& port) {
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in bind_address = socket_address(address, port);
  if (::bind(server, reinterpret_cast<sockaddr*>(&bind_address), sizeof bind_address) != 0 ||
      ::listen(server, 16) != 0) {
    std::fprintf(stderr, "listen %s:%s: %s\n", address.c_str(), port.c_str(), std::strerror(errno));
    return 1;
  }
  std::printf("listening on %s:%s\n", address.c_str(), port.c_str());
  std::fflush(stdout);
  while (true) {
    int connection = ::accept(server, nullptr, nullptr);
    if (connection < 0) continue;
    char buffer[256];
    ssize_t got = ::read(connection, buffer, sizeof buffer);
    if (got > 0) {
      ssize_t written = ::write(connection, buffer, static_cast<size_t>(got));
      (void)written;
    }
    ::close(connection);
  }
}

// connect ADDR PORT TIMEOUT_MS: exit 0 iff a line sent comes back in time.
int run_connect(const std::string& address, const std::string& port, int timeout_ms) {
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in target = socket_address(address, port);
  if (::connect(client, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0 && errno != EINPROGRESS) {
    std::fprintf(stderr, "connect %s:%s: %s\n", address.c_str(), port.c_str(), std::strerror(errno));
    return 1;
  }
  pollfd entry{client, POLLOUT, 0};
  if (::poll(&entry, 1, timeout_ms) != 1) {
    std::fprintf(stderr, "connect %s:%s: timed out\n", address.c_str(), port.c_str());
    return 1;
  }
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(client, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    std::fprintf(stderr, "connect %s:%s: %s\n", address.c_str(), port.c_str(), std::strerror(error));
    return 1;
  }
  const char message[] = "ping\n";
  if (::write(client, message, sizeof message - 1) != static_cast<ssize_t>(sizeof message - 1)) return 1;
  entry = {client, POLLIN, 0};
  if (::poll(&entry, 1, timeout_ms) != 1) {
    std::fprintf(stderr, "echo from %s:%s: timed out\n", address.c_str(), port.c_str());
    return 1;
  }
  char buffer[16] = {};
  ssize_t got = ::read(client, buffer, sizeof buffer - 1);
  return got == 5 && std::string(buffer) == message ? 0 : 1;
}

long long clock_ns(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<long long>(now.tv_sec) * 1'000'000'000LL + now.tv_nsec;
}

// clocks COUNT INTERVAL_MS: prints "realtime_ns monotonic_ns" lines.
int run_clocks(int count, int interval_ms) {
  for (int index = 0; index < count; ++index) {
    std::printf("%lld %lld\n", clock_ns(CLOCK_REALTIME), clock_ns(CLOCK_MONOTONIC));
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
  return 0;
}

bool reachable(control::Host& from, const control::Host& to) {
  return from.run({self_path(), "connect", to.address(), kEchoPort, "700"}).succeeded();
}

// Waits until every listener answers (they start asynchronously).
void wait_for_listeners(control::Sandbox& sandbox) {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  for (const auto& host : sandbox.hosts()) {
    while (!reachable(*sandbox.hosts().front(), *host)) {
      if (std::chrono::steady_clock::now() > deadline)
        throw control::ControlError("listener on " + host->name() + " never answered");
      std::this_thread::sleep_for(50ms);
    }
  }
}

json reach_matrix(control::Sandbox& sandbox) {
  json matrix = json::object();
  for (const auto& from : sandbox.hosts())
    for (const auto& to : sandbox.hosts())
      if (from != to) matrix[from->name() + "->" + to->name()] = reachable(*from, *to);
  return matrix;
}

std::vector<std::unique_ptr<control::Daemon>> start_listeners(control::Sandbox& sandbox,
                                                              const std::filesystem::path& workdir) {
  std::vector<std::unique_ptr<control::Daemon>> daemons;
  for (const auto& host : sandbox.hosts()) {
    control::DaemonSpec spec;
    spec.argv = {self_path(), "listen", host->address(), kEchoPort};
    spec.log_file = workdir / host->name() / "listen.log";
    daemons.push_back(host->start_daemon(spec));
  }
  return daemons;
}

json scenario_network(const control::SandboxSession& session, const std::filesystem::path& workdir) {
  control::Sandbox sandbox(session, {.nodes = 3});
  auto listeners = start_listeners(sandbox, workdir);
  wait_for_listeners(sandbox);
  auto& n1 = *sandbox.host("n1");
  auto& n2 = *sandbox.host("n2");
  auto& n3 = *sandbox.host("n3");
  json result;
  result["uid_inside"] = ::getuid();
  result["outer_uid"] = session.outer_uid();
  result["controller_pid"] = ::getpid();
  result["controller_address"] = sandbox.controller_address();
  for (const auto& host : sandbox.hosts()) result["addresses"][host->name()] = host->address();
  result["initial"] = reach_matrix(sandbox);
  {
    control::LocalProcessSpec from_controller{{self_path(), "connect", n2.address(), kEchoPort, "700"}, {}, {}, {}};
    result["controller->n2"] = control::run_local(from_controller, 5s, "controller").succeeded();
  }
  result["n1_routes"] = n1.run_checked({"ip", "-4", "route", "show"}).out;
  result["n1_resolves_n2"] = n1.run_checked({"getent", "hosts", "n2"}).out;

  control::drop_traffic_from(n2, {n1.address()});
  result["partition_rules_n2"] = control::firewall_rules(n2);
  result["partitioned"] = reach_matrix(sandbox);
  control::heal_network(n2);
  result["healed_rules_n2"] = control::firewall_rules(n2);
  result["healed"] = reach_matrix(sandbox);

  // One-way: n2 drops what n1 opens; what n2 opens to n1 still works both ways.
  control::track_connections(n2);
  control::track_connections(n2);  // idempotent
  control::drop_connections_opened_by(n2, {n1.address()});
  result["one_way_rules_n2"] = control::firewall_rules(n2);
  result["one_way"] = {{"n1->n2", reachable(n1, n2)}, {"n2->n1", reachable(n2, n1)}, {"n3->n2", reachable(n3, n2)}};
  control::heal_network(n2);
  result["one_way_healed"] = {{"n1->n2", reachable(n1, n2)}};
  result["tracking_rules_n2"] = n2.run_checked({"iptables", "-S", control::tracking_chain(n2)}).out;

  control::drop_random_traffic(n3, 1.0);
  result["loss_rules_n3"] = control::firewall_rules(n3);
  result["lossy"] = {{"n1->n3", reachable(n1, n3)}, {"n2->n3", reachable(n2, n3)}, {"n1->n2", reachable(n1, n2)}};
  control::heal_network(n3);
  result["loss_healed"] = {{"n1->n3", reachable(n1, n3)}, {"n2->n3", reachable(n2, n3)}};
  control::drop_random_traffic(n3, 0.25);
  result["loss_quarter_rules_n3"] = control::firewall_rules(n3);
  control::heal_network(n3);
  try {
    control::delay_traffic(n1, 100ms);
    result["delay"] = "applied";
    result["delay_qdisc"] = n1.run_checked({"tc", "qdisc", "show", "dev", "eth0", "root"}).out;
    control::clear_delay(n1);
  } catch (const control::FaultUnsupported& error) {
    result["delay"] = "unsupported";
    result["delay_error"] = error.what();
  }
  control::clear_delay(n1);  // nothing to remove: must not fail
  result["qdisc_after_clear"] = n1.run_checked({"tc", "qdisc", "show", "dev", "eth0", "root"}).out;
  for (auto& listener : listeners) result["listeners_alive_before_teardown"].push_back(listener->alive());
  listeners.clear();
  sandbox.teardown();
  return result;
}

// Starts sleepers (and a firewall rule), reports, then waits to be killed.
json scenario_hold(const control::SandboxSession& session, const std::filesystem::path& workdir,
                   const std::string& token) {
  control::Sandbox sandbox(session, {.nodes = 2});
  std::vector<std::unique_ptr<control::Daemon>> sleepers;
  for (const auto& host : sandbox.hosts()) {
    for (int copy = 0; copy < 2; ++copy) {
      control::DaemonSpec spec;
      spec.argv = {self_path(), "sleeper", token};
      spec.log_file = workdir / host->name() / "sleeper.log";
      sleepers.push_back(host->start_daemon(spec));
    }
  }
  control::drop_traffic_from(*sandbox.host("n1"), {sandbox.host("n2")->address()});
  json ready;
  ready["ready"] = true;
  for (auto& sleeper : sleepers) ready["pids_inside"].push_back(sleeper->pid());
  std::cout << ready.dump() << std::endl;
  while (true) ::pause();
}

json scenario_faketime(const control::SandboxSession& session, const std::filesystem::path& workdir) {
  control::Sandbox sandbox(session, {.nodes = 1});
  auto& n1 = *sandbox.host("n1");
  std::filesystem::path offset_file = workdir / "n1" / "faketime";
  json result;
  result["library"] = control::find_libfaketime().string();

  control::set_clock_offset(n1, offset_file, 86400);
  control::DaemonSpec date_spec{{"date", "+%s"}, {}, workdir / "n1" / "date.log", {}, offset_file};
  auto date_daemon = n1.start_daemon(date_spec);
  auto date_status = date_daemon->wait_for(10s);
  result["date_exit"] = date_status ? date_status->describe() : "still running";
  result["date_output"] = n1.read_file(date_spec.log_file);
  result["real_seconds_after_date"] = clock_ns(CLOCK_REALTIME) / 1'000'000'000LL;

  control::set_clock_offset(n1, offset_file, 0);
  control::DaemonSpec clocks_spec{
      {self_path(), "clocks", "45", "50"}, {}, workdir / "n1" / "clocks.log", {}, offset_file};
  result["controller_delta_ns"] = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
  auto sampler = n1.start_daemon(clocks_spec);
  std::this_thread::sleep_for(700ms);
  control::set_clock_offset(n1, offset_file, 3600);
  std::this_thread::sleep_for(700ms);
  control::set_clock_offset(n1, offset_file, -7200.5);
  auto sampler_status = sampler->wait_for(15s);
  result["sampler_exit"] = sampler_status ? sampler_status->describe() : "still running";
  json samples = json::array();
  std::istringstream lines(n1.read_file(clocks_spec.log_file));
  long long realtime = 0, monotonic = 0;
  while (lines >> realtime >> monotonic) samples.push_back({realtime, monotonic});
  result["samples"] = samples;
  return result;
}

template <typename Action>
std::string error_of(Action action) {
  try {
    action();
  } catch (const control::ControlError& error) {
    return error.what();
  }
  return "no error";
}

json scenario_errors(const control::SandboxSession& session, const std::filesystem::path& workdir) {
  control::Sandbox sandbox(session, {.nodes = 2});
  auto& n1 = *sandbox.host("n1");
  json result;
  result["unknown_host"] = error_of([&] { sandbox.host("n9"); });
  result["missing_binary_run"] = error_of([&] { n1.run({"cb-no-such-binary", "--flag"}); });
  result["missing_binary_daemon"] = error_of([&] {
    n1.start_daemon({{"/nonexistent/cb-daemon", "--id", "n1"}, {}, workdir / "n1" / "missing.log", {}, {}});
  });
  result["bad_working_directory"] = error_of([&] {
    n1.start_daemon({{"true"}, {}, workdir / "n1" / "cwd.log", "/nonexistent-directory", {}});
  });
  auto started = std::chrono::steady_clock::now();
  result["timeout"] = error_of([&] { n1.run(control::Command{"sleep", "5"}.with_timeout(300ms)); });
  result["timeout_elapsed_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  result["command_failed"] = error_of([&] { n1.run_checked({"sh", "-c", "echo first >&2; echo second >&2; exit 4"}); });
  result["bad_loss_probability"] = error_of([&] { control::drop_random_traffic(n1, 2.0); });
  result["read_missing_file"] = error_of([&] { n1.read_file(workdir / "n1" / "absent"); });
  auto quick = n1.start_daemon({{"true"}, {}, workdir / "n1" / "quick.log", {}, {}});
  auto quick_status = quick->wait_for(5s);
  result["quick_exit"] = quick_status ? quick_status->describe() : "still running";
  result["signal_after_exit_delivered"] = quick->signal(control::Signal::kill);
  auto sleeper = n1.start_daemon({{"sleep", "30"}, {}, workdir / "n1" / "sleep.log", {}, {}});
  result["stop_delivered"] = sleeper->signal(control::Signal::stop);
  result["alive_while_stopped"] = sleeper->alive();
  result["cont_delivered"] = sleeper->signal(control::Signal::cont);
  sleeper->signal(control::Signal::term);
  auto sleeper_status = sleeper->wait_for(5s);
  result["term_exit"] = sleeper_status ? sleeper_status->describe() : "still running";
  return result;
}

int run_scenario(const std::string& name, const std::filesystem::path& workdir, const std::string& token) {
  std::optional<control::SandboxSession> session;
  try {
    session.emplace(control::SandboxSession::enter());
  } catch (const control::SandboxUnavailable& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return kUnavailableExit;
  }
  json result;
  if (name == "network")
    result = scenario_network(*session, workdir);
  else if (name == "hold")
    result = scenario_hold(*session, workdir, token);
  else if (name == "faketime")
    result = scenario_faketime(*session, workdir);
  else if (name == "errors")
    result = scenario_errors(*session, workdir);
  else
    throw std::runtime_error("unknown scenario " + name);
  std::cout << result.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() >= 2 && args[0] == "scenario")
      return run_scenario(args[1], args.size() > 2 ? args[2] : "/tmp", args.size() > 3 ? args[3] : "");
    if (args.size() == 3 && args[0] == "listen") return run_listen(args[1], args[2]);
    if (args.size() == 4 && args[0] == "connect") return run_connect(args[1], args[2], std::stoi(args[3]));
    if (args.size() == 3 && args[0] == "clocks") return run_clocks(std::stoi(args[1]), std::stoi(args[2]));
    if (args.size() == 2 && args[0] == "sleeper") {
      while (true) ::pause();
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "sandbox_probe: %s\n", error.what());
    return 3;
  }
  std::fprintf(stderr,
               "usage: sandbox_probe scenario network|hold|faketime|errors WORKDIR [TOKEN] | listen ADDR PORT | "
               "connect ADDR PORT TIMEOUT_MS | clocks COUNT INTERVAL_MS | sleeper TOKEN\n");
  return 2;
}
