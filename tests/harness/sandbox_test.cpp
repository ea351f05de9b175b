// The local sandbox for real: sandbox_probe enters fresh namespaces (as root and
// as uid 65534), builds a 3-node network, partitions it with iptables, fakes a
// daemon's clock, and gets SIGKILLed to show that nothing is left behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/process.h"

namespace control = chaosbench::harness::control;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int kUnavailableExit = 77;
constexpr uid_t kNobody = 65534;

struct TempDirectory {
  TempDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cb-sandbox-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempDirectory() {
    std::error_code ignored_because_best_effort;
    std::filesystem::remove_all(path, ignored_because_best_effort);
  }
  std::filesystem::path path;
};

// The probe command line, run as `user` (via setpriv when we are root).
std::vector<std::string> probe_command(bool unprivileged, const std::vector<std::string>& arguments,
                                       const std::filesystem::path& workdir) {
  std::vector<std::string> argv;
  if (unprivileged && ::geteuid() == 0) {
    if (::chown(workdir.c_str(), kNobody, kNobody) != 0) throw std::runtime_error("chown of the work directory failed");
    argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  }
  argv.push_back(SANDBOX_PROBE_PATH);
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return argv;
}

// Runs a scenario to completion; skips the test if the kernel forbids it.
json run_scenario(const std::string& name, bool unprivileged) {
  TempDirectory workdir;
  auto argv = probe_command(unprivileged, {"scenario", name, workdir.path.string()}, workdir.path);
  control::CommandResult result = control::run_local({argv, {}, {}, {}}, 60s, "test");
  if (result.status.exit_code == kUnavailableExit) {
    throw std::runtime_error("SKIP:" + result.err);
  }
  if (!result.succeeded())
    throw std::runtime_error("sandbox_probe " + name + " " + result.status.describe() + ": " + result.err);
  return json::parse(result.out);
}

#define RUN_SCENARIO_OR_SKIP(variable, name, unprivileged)                                       \
  json variable;                                                                                 \
  try {                                                                                          \
    variable = run_scenario(name, unprivileged);                                                 \
  } catch (const std::runtime_error& error) {                                                    \
    std::string message = error.what();                                                          \
    if (message.rfind("SKIP:", 0) == 0) GTEST_SKIP() << "kernel forbids: " << message.substr(5); \
    FAIL() << message;                                                                           \
  }

void expect_full_mesh(const json& matrix, bool expected, const std::string& phase) {
  ASSERT_EQ(matrix.size(), 6u) << phase;
  for (auto& [pair, reachable] : matrix.items()) EXPECT_EQ(reachable.get<bool>(), expected) << phase << " " << pair;
}

void check_network_scenario(const json& result) {
  SCOPED_TRACE(result.dump());
  EXPECT_EQ(result["uid_inside"], 0);
  EXPECT_EQ(result["controller_pid"], 2);  // PID 1 is the sandbox's init
  EXPECT_EQ(result["addresses"]["n1"], "10.77.0.1");
  EXPECT_EQ(result["addresses"]["n3"], "10.77.0.3");
  EXPECT_EQ(result["controller_address"], "10.77.0.254");
  expect_full_mesh(result["initial"], true, "before the partition");
  EXPECT_TRUE(result["controller->n2"].get<bool>());
  // No default route: traffic cannot leave the namespaces.
  EXPECT_EQ(result["n1_routes"].get<std::string>().find("default"), std::string::npos);
  EXPECT_NE(result["n1_routes"].get<std::string>().find("10.77.0.0/24"), std::string::npos);
  EXPECT_NE(result["n1_resolves_n2"].get<std::string>().find("10.77.0.2"), std::string::npos);

  EXPECT_EQ(result["partition_rules_n2"], json::array({"-A chaosbench -s 10.77.0.1/32 -j DROP"}));
  const json& partitioned = result["partitioned"];
  EXPECT_FALSE(partitioned["n1->n2"].get<bool>());
  EXPECT_FALSE(partitioned["n2->n1"].get<bool>());  // replies are dropped too
  EXPECT_TRUE(partitioned["n3->n2"].get<bool>());
  EXPECT_TRUE(partitioned["n2->n3"].get<bool>());
  EXPECT_TRUE(partitioned["n1->n3"].get<bool>());
  EXPECT_EQ(result["healed_rules_n2"], json::array());
  expect_full_mesh(result["healed"], true, "after healing");

  EXPECT_FALSE(result["one_way"]["n1->n2"].get<bool>()) << result["one_way_rules_n2"].dump();
  EXPECT_TRUE(result["one_way"]["n2->n1"].get<bool>()) << "a connection n2 opened still answers";
  EXPECT_TRUE(result["one_way"]["n3->n2"].get<bool>());
  EXPECT_TRUE(result["one_way_healed"]["n1->n2"].get<bool>());
  EXPECT_EQ(result["tracking_rules_n2"].get<std::string>(),
            "-N chaosbench-tracking\n-A chaosbench-tracking -m conntrack --ctdir ORIGINAL\n")
      << "heal leaves the tracking chain, with one rule however often it is asked";

  EXPECT_FALSE(result["lossy"]["n1->n3"].get<bool>());
  EXPECT_FALSE(result["lossy"]["n2->n3"].get<bool>());
  EXPECT_TRUE(result["lossy"]["n1->n2"].get<bool>());
  EXPECT_NE(result["loss_rules_n3"][0].get<std::string>().find("-m statistic --mode random --probability 1"),
            std::string::npos);
  EXPECT_NE(result["loss_quarter_rules_n3"][0].get<std::string>().find("--probability 0.25"), std::string::npos);
  EXPECT_TRUE(result["loss_healed"]["n1->n3"].get<bool>());
  EXPECT_TRUE(result["loss_healed"]["n2->n3"].get<bool>());
  if (result["delay"] == "unsupported") {
    EXPECT_NE(result["delay_error"].get<std::string>().find("n1: packet delay is unsupported on this kernel"),
              std::string::npos);
  } else {
    EXPECT_EQ(result["delay"], "applied");
    EXPECT_NE(result["delay_qdisc"].get<std::string>().find("netem"), std::string::npos);
  }
  EXPECT_EQ(result["qdisc_after_clear"].get<std::string>().find("netem"), std::string::npos);
  EXPECT_EQ(result["listeners_alive_before_teardown"], json::array({true, true, true}));
}

TEST(Sandbox, NodesReachEachOtherAndIptablesPartitionsAndHeals) {
  RUN_SCENARIO_OR_SKIP(result, "network", false);
  EXPECT_EQ(result["outer_uid"], ::geteuid());
  check_network_scenario(result);
}

TEST(Sandbox, WorksAsAnUnprivilegedUser) {
  RUN_SCENARIO_OR_SKIP(result, "network", true);
  EXPECT_NE(result["outer_uid"], 0) << "ran as root; the unprivileged path was not exercised";
  check_network_scenario(result);
}

TEST(Sandbox, LibfaketimeMovesTheWallClockButNotTheMonotonicClock) {
  RUN_SCENARIO_OR_SKIP(result, "faketime", false);
  SCOPED_TRACE(result.dump().substr(0, 600));
  EXPECT_EQ(result["date_exit"], "exited with 0");
  long long faked = std::stoll(result["date_output"].get<std::string>());
  long long real = result["real_seconds_after_date"];
  EXPECT_NEAR(static_cast<double>(faked - real), 86400.0, 5.0) << "date +%s under libfaketime with +86400";

  EXPECT_EQ(result["sampler_exit"], "exited with 0");
  const json& samples = result["samples"];
  ASSERT_GE(samples.size(), 40u);
  long long controller_delta = result["controller_delta_ns"];
  std::set<long long> offsets_seen;  // wall-clock offset against the controller, in seconds, rounded
  long long previous_monotonic = 0;
  for (const json& sample : samples) {
    long long realtime = sample[0], monotonic = sample[1];
    offsets_seen.insert(std::llround(static_cast<double>(realtime - monotonic - controller_delta) / 1e9));
    if (previous_monotonic != 0) {
      EXPECT_GT(monotonic, previous_monotonic);
      EXPECT_LT(monotonic - previous_monotonic, 1'000'000'000LL) << "the monotonic clock jumped";
    }
    previous_monotonic = monotonic;
  }
  // Rounding of -7200.5 may go either way.
  std::set<long long> expected_a{0, 3600, -7200}, expected_b{0, 3600, -7201};
  EXPECT_TRUE(offsets_seen == expected_a || offsets_seen == expected_b)
      << "offsets seen: " << json(offsets_seen).dump();
}

TEST(Sandbox, ErrorsAreOneLineAndNameHostAndCommand) {
  RUN_SCENARIO_OR_SKIP(result, "errors", false);
  for (auto& [name, message] : result.items()) {
    if (message.is_string()) {
      EXPECT_EQ(message.get<std::string>().find('\n'), std::string::npos) << name;
    }
  }
  EXPECT_EQ(result["unknown_host"], "unknown host 'n9': the sandbox has n1..n2");
  EXPECT_EQ(result["missing_binary_run"],
            "n1: cannot start `cb-no-such-binary --flag`: cb-no-such-binary: command not found in PATH");
  EXPECT_EQ(result["missing_binary_daemon"],
            "n1: cannot start `/nonexistent/cb-daemon --id n1`: /nonexistent/cb-daemon: no such executable file");
  EXPECT_EQ(result["bad_working_directory"],
            "n1: cannot start `true`: working directory /nonexistent-directory: No such file or directory");
  EXPECT_EQ(result["timeout"], "n1: `sleep 5` timed out after 300 ms (killed)");
  EXPECT_LT(result["timeout_elapsed_ms"].get<int>(), 3000);
  EXPECT_EQ(result["command_failed"],
            "n1: `sh -c 'echo first >&2; echo second >&2; exit 4'` exited with 4: first | second");
  EXPECT_EQ(result["bad_loss_probability"], "n1: packet loss probability 2 is outside (0, 1]");
  EXPECT_NE(result["read_missing_file"].get<std::string>().find("n1: cannot read "), std::string::npos);
  EXPECT_NE(result["read_missing_file"].get<std::string>().find("No such file or directory"), std::string::npos);
  EXPECT_EQ(result["quick_exit"], "exited with 0");
  EXPECT_EQ(result["signal_after_exit_delivered"], false);
  EXPECT_EQ(result["stop_delivered"], true);
  EXPECT_EQ(result["alive_while_stopped"], true);
  EXPECT_EQ(result["cont_delivered"], true);
  EXPECT_EQ(result["term_exit"], "killed by SIGTERM");
}

// ---- SIGKILL leaves nothing behind --------------------------------------------

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Host pids of live (non-zombie) processes whose command line contains token.
std::set<pid_t> processes_with(const std::string& token) {
  std::set<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(token) == std::string::npos) continue;
    std::string stat = read_text(entry.path() / "stat");
    auto close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') continue;
    found.insert(std::stoi(name));
  }
  return found;
}

pid_t only_child_of(pid_t parent) {
  std::string children = read_text(fmt::format("/proc/{}/task/{}/children", parent, parent));
  std::istringstream in(children);
  pid_t child = 0, extra = 0;
  in >> child;
  if (in >> extra) throw std::runtime_error(fmt::format("pid {} has several children", parent));
  return child;
}

std::set<std::string> interface_names() {
  control::CommandResult result = control::run_local({{"ip", "-o", "link", "show"}, {}, {}, {}}, 10s, "test");
  std::set<std::string> names;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto first = line.find(": ");
    auto second = line.find(": ", first + 2);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string name = line.substr(first + 2, second - first - 2);
    names.insert(name.substr(0, name.find('@')));
  }
  return names;
}

std::string host_iptables_rules() {
  if (::geteuid() != 0) return "(not root: host rules unreadable)";
  return control::run_local({{"iptables", "-S"}, {}, {}, {}}, 10s, "test").out;
}

enum class Victim { outer_process, sandbox_init, controller };

// Sends signal to the victim; expected_exit is how the outer process ends.
void kill_and_check(Victim victim, bool unprivileged, int signal = SIGKILL) {
  TempDirectory workdir;
  std::string token = fmt::format("cb-token-{}-{}", ::getpid(), static_cast<int>(victim));
  auto interfaces_before = interface_names();
  auto rules_before = host_iptables_rules();
  auto argv = probe_command(unprivileged, {"scenario", "hold", workdir.path.string(), token}, workdir.path);
  auto probe = control::start_local_daemon({argv, {}, {}, {}}, workdir.path / "probe.log", "test");

  json ready;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (ready.is_null()) {
    std::string log = read_text(workdir.path / "probe.log");
    if (auto marker = log.find("\"ready\":true"); marker != std::string::npos) {
      auto line_start = log.rfind('\n', marker);
      ready = json::parse(log.substr(line_start == std::string::npos ? 0 : line_start + 1));
    } else if (auto status = probe->wait_for(0ms)) {
      if (status->exit_code == kUnavailableExit) GTEST_SKIP() << "kernel forbids: " << log;
      FAIL() << "sandbox_probe hold " << status->describe() << ": " << log;
    } else if (std::chrono::steady_clock::now() > deadline) {
      FAIL() << "sandbox_probe hold never became ready: " << log;
    } else {
      std::this_thread::sleep_for(20ms);
    }
  }
  std::set<pid_t> sleepers = processes_with("sleeper " + token);
  ASSERT_EQ(sleepers.size(), 4u) << "sleepers started in the node namespaces";
  EXPECT_EQ(interface_names(), interfaces_before) << "the sandbox's interfaces are invisible outside it";

  pid_t outer = probe->pid();
  pid_t init = only_child_of(outer);
  ASSERT_GT(init, 0);
  EXPECT_EQ(read_text(fmt::format("/proc/{}/comm", init)), "sandbox-init\n");
  pid_t controller = only_child_of(init);
  ASSERT_GT(controller, 0);
  pid_t target = victim == Victim::outer_process ? outer : victim == Victim::sandbox_init ? init : controller;
  ASSERT_EQ(::kill(target, signal), 0);

  auto status = probe->wait_for(10s);
  ASSERT_TRUE(status) << "the outer process did not exit after signal " << signal << " to pid " << target;
  if (signal == SIGKILL) {
    EXPECT_EQ(status->describe(), victim == Victim::outer_process ? "killed by SIGKILL" : "exited with 137");
  } else {
    // Forwarded to the controller (which dies of it here); the exit status says so.
    EXPECT_EQ(status->describe(), fmt::format("exited with {}", 128 + signal));
  }
  // The kernel tears the PID namespace down asynchronously (the dying init
  // waits for its members), so allow it a moment.
  auto survivors = [&] {
    std::set<pid_t> left = processes_with("sleeper " + token);
    for (pid_t pid : {init, controller}) {
      std::string stat = read_text(fmt::format("/proc/{}/stat", pid));
      if (!stat.empty() && stat.find(") Z") == std::string::npos) left.insert(pid);
    }
    return left;
  };
  auto gone_deadline = std::chrono::steady_clock::now() + 5s;
  std::set<pid_t> left = survivors();
  while (!left.empty() && std::chrono::steady_clock::now() < gone_deadline) {
    std::this_thread::sleep_for(20ms);
    left = survivors();
  }
  EXPECT_TRUE(left.empty()) << json(left).dump() << " survived (sleepers " << json(sleepers).dump() << ", init " << init
                            << ", controller " << controller << ")";
  EXPECT_EQ(interface_names(), interfaces_before);
  EXPECT_EQ(host_iptables_rules(), rules_before);
}

TEST(SandboxTeardown, KillingTheSandboxInitLeavesNothing) { kill_and_check(Victim::sandbox_init, false); }
TEST(SandboxTeardown, KillingTheOuterProcessLeavesNothing) { kill_and_check(Victim::outer_process, false); }
TEST(SandboxTeardown, KillingTheControllerLeavesNothing) { kill_and_check(Victim::controller, false); }
TEST(SandboxTeardown, SigtermToTheOuterProcessReachesTheController) {
  kill_and_check(Victim::outer_process, false, SIGTERM);
}
TEST(SandboxTeardown, KillingTheSandboxInitLeavesNothingUnprivileged) { kill_and_check(Victim::sandbox_init, true); }

}  // namespace
