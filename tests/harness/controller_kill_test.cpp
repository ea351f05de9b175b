// The history is never lost and nothing leaks when the controller dies: runs
// of `harness run` are SIGKILLed at random points (the process we started, P0,
// or the controller itself, P2, inside the sandbox); afterwards every process
// the run had started is gone and history.jsonl (if the run got that far)
// parses and checks. CONTROLLER_KILL_ITERATIONS (default 4) and
// CONTROLLER_KILL_SEED (default: random, printed) make longer loops
// reproducible; scripts/kill-controller-loop.sh runs many iterations.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/process.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;

// Field 22 of /proc/PID/stat: the start time, so a recycled PID is not mistaken for a survivor.
std::string start_time_of(int pid) {
  const std::string stat = read_text(fmt::format("/proc/{}/stat", pid));
  const std::size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return {};
  std::istringstream fields(stat.substr(end_of_name + 2));
  std::string field;
  for (int index = 3; index <= 22 && fields >> field; ++index) {
  }
  return field;
}

// Every descendant of pid (pid -> start time), walked through /proc/PID/task/PID/children.
void collect_descendants(int pid, std::map<int, std::string>& found) {
  for (int child : children_of(pid)) {
    if (found.emplace(child, start_time_of(child)).second) collect_descendants(child, found);
  }
}

std::uint64_t environment_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::stoull(text) : fallback;
}

}  // namespace

TEST(ControllerKill, RandomSigkillsLeaveACheckableHistoryAndNoSurvivingProcess) {
  const std::uint64_t iterations = environment_number("CONTROLLER_KILL_ITERATIONS", 4);
  const std::uint64_t seed = environment_number("CONTROLLER_KILL_SEED", std::random_device{}());
  std::mt19937_64 random(seed);
  std::cout << "CONTROLLER_KILL_SEED=" << seed << " iterations " << iterations << "\n";
  int histories_checked = 0, descendants_seen = 0;
  for (std::uint64_t iteration = 0; iteration < iterations; ++iteration) {
    TemporaryDirectory directory("kill");
    const fs::path store = directory.path / "store";
    const auto kill_after = std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 9000)(random));
    const bool kill_controller = std::uniform_int_distribution<int>(0, 1)(random) == 1;
    const std::string run_seed = std::to_string(std::uniform_int_distribution<int>(1, 1000)(random));
    SCOPED_TRACE(fmt::format("iteration {}: SIGKILL of {} after {} ms, run seed {}", iteration,
                             kill_controller ? "the controller (P2)" : "the harness process (P0)", kill_after.count(),
                             run_seed));
    control::LocalProcessSpec spec;
    spec.argv = {kHarness,
                 "run",
                 "--store",
                 store.string(),
                 "--nodes",
                 "3",
                 "--nemesis",
                 "partition,kill",
                 "--nemesis-interval",
                 "2s",
                 "--time-limit",
                 "6s",
                 "--recovery-time",
                 "1s",
                 "--rate",
                 "100",
                 "--seed",
                 run_seed};
    auto harness = control::start_local_daemon(spec, directory.path / "harness.log", "localhost");

    // Keep a list of every process the run starts, up to the kill.
    std::map<int, std::string> descendants;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < kill_after && harness->alive()) {
      collect_descendants(harness->pid(), descendants);
      std::this_thread::sleep_for(20ms);
    }
    collect_descendants(harness->pid(), descendants);
    int victim = harness->pid();
    if (kill_controller) {
      const auto init = children_of(harness->pid());
      const auto controller = init.empty() ? std::vector<int>{} : children_of(init.front());
      if (!controller.empty()) victim = controller.front();  // else still starting: P0 it is
    }
    const bool finished_first = !harness->alive();
    if (!finished_first) {
      ASSERT_EQ(::kill(victim, SIGKILL), 0);
    }
    const auto status = harness->wait_for(20s);
    ASSERT_TRUE(status.has_value()) << "the harness process outlived its controller by 20 s";
    descendants_seen += static_cast<int>(descendants.size());

    // Every process of the run is gone (a recycled PID has another start time).
    std::this_thread::sleep_for(300ms);
    for (const auto& [pid, started] : descendants) {
      if (!fs::exists(fmt::format("/proc/{}", pid))) continue;
      const std::string state = read_text(fmt::format("/proc/{}/stat", pid));
      // A zombie is dead (it holds nothing but its PID until the machine's init reaps it).
      if (const std::size_t name_end = state.rfind(')');
          name_end != std::string::npos && state.substr(name_end + 2, 1) == "Z") {
        continue;
      }
      EXPECT_NE(start_time_of(pid), started)
          << "process " << pid << " survived: " << state << " " << read_text(fmt::format("/proc/{}/cmdline", pid));
    }

    std::error_code no_history;
    const fs::path history = fs::canonical(store / "latest" / "history.jsonl", no_history);
    if (no_history) {
      EXPECT_FALSE(finished_first) << read_text(directory.path / "harness.log");
      continue;  // killed before the run had a history: nothing to check
    }
    control::LocalProcessSpec check;
    check.argv = {kHarness, "check", "-q", "--time-limit", "60s", history.string()};
    const auto result = control::run_local(check, 120s, "localhost");
    // A correct Raft cluster: the prefix is linearizable (unknown only at the checker's limit).
    EXPECT_TRUE(result.status.exit_code == 0 || result.status.exit_code == 2) << result.status.describe() << "\n"
                                                                              << result.out << result.err;
    ++histories_checked;
  }
  std::cout << fmt::format("{} histories checked, {} run processes tracked and gone\n", histories_checked,
                           descendants_seen);
  EXPECT_GT(descendants_seen, 0);
}
