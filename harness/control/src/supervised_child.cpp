#include "chaosbench/harness/control/supervised_child.h"

#define BOOST_PROCESS_V2_HEADER_ONLY 1
#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace chaosbench::harness::control {

namespace fs = std::filesystem;

namespace {

struct ProcessStat {
  pid_t parent = 0;
  char state = '?';
  unsigned long long start_time = 0;  // clock ticks after boot: tells a reused PID apart
};

// Fields of /proc/PID/stat after the command name (which may contain spaces and parentheses).
std::optional<ProcessStat> read_stat(pid_t pid) {
  std::ifstream file(fmt::format("/proc/{}/stat", pid));
  std::string text;
  if (!file || !std::getline(file, text)) return std::nullopt;
  const auto name_end = text.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(name_end + 1));
  ProcessStat stat;
  std::string skipped;
  fields >> stat.state >> stat.parent;
  for (int field = 5; field < 22; ++field) fields >> skipped;  // fields 5..21
  fields >> stat.start_time;                                   // field 22
  if (!fields) return std::nullopt;
  return stat;
}

std::map<pid_t, ProcessStat> all_processes() {
  std::map<pid_t, ProcessStat> processes;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (auto stat = read_stat(pid)) processes.emplace(pid, *stat);
  }
  return processes;
}

bool has_exited(pid_t pid, unsigned long long start_time) {
  const auto stat = read_stat(pid);
  return !stat || stat->start_time != start_time || stat->state == 'Z' || stat->state == 'X';
}

// Waits until every process in tracked has exited (gone, reaped or a zombie); returns those still running at limit.
std::map<pid_t, unsigned long long> wait_until_exited(std::map<pid_t, unsigned long long> tracked,
                                                      std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    std::erase_if(tracked, [](const auto& process) { return has_exited(process.first, process.second); });
    if (tracked.empty() || std::chrono::steady_clock::now() >= deadline) return tracked;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::vector<pid_t> descendants_of(pid_t root) {
  const auto processes = all_processes();
  std::multimap<pid_t, pid_t> children;
  for (const auto& [pid, stat] : processes) children.emplace(stat.parent, pid);
  std::vector<pid_t> found;
  std::vector<pid_t> frontier{root};
  while (!frontier.empty()) {
    const pid_t parent = frontier.back();
    frontier.pop_back();
    const auto [first, last] = children.equal_range(parent);
    for (auto child = first; child != last; ++child) {
      found.push_back(child->second);
      frontier.push_back(child->second);
    }
  }
  return found;
}

SupervisedOutcome run_supervised(const fs::path& executable, const std::vector<std::string>& arguments,
                                 const fs::path& log_path, std::chrono::milliseconds timeout) {
  std::unique_ptr<FILE, int (*)(FILE*)> log(std::fopen(log_path.c_str(), "w"), &std::fclose);
  if (!log) throw std::runtime_error(fmt::format("cannot write {}", log_path.string()));
  SupervisedOutcome outcome;
  const auto start = std::chrono::steady_clock::now();
  boost::asio::io_context context;
  namespace process_v2 = boost::process::v2;
  process_v2::process child(context, executable.string(), arguments,
                            process_v2::process_stdio{nullptr, log.get(), log.get()});
  while (child.running()) {
    if (std::chrono::steady_clock::now() - start <= timeout) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    // Freeze the whole tree first (SIGSTOP until a scan finds nothing new, so a process
    // forked meanwhile is caught too): once the child is gone its orphans are reparented
    // and no longer findable from it. Then kill them all by PID (outside a sandbox nothing
    // else would) and wait: the kernel tears a PID namespace down asynchronously.
    ::kill(child.id(), SIGSTOP);
    std::map<pid_t, unsigned long long> tree;
    for (bool found_new = true; found_new;) {
      found_new = false;
      for (const pid_t pid : descendants_of(child.id())) {
        const auto stat = read_stat(pid);
        if (!stat || tree.count(pid)) continue;
        tree.emplace(pid, stat->start_time);
        ::kill(pid, SIGSTOP);
        found_new = true;
      }
    }
    child.terminate();  // SIGKILL, and reaps it
    outcome.timed_out = true;
    for (const auto& [pid, start_time] : tree) {
      if (!has_exited(pid, start_time)) ::kill(pid, SIGKILL);
    }
    const auto running = wait_until_exited(std::move(tree), std::chrono::seconds(10));
    for (const auto& process : running) outcome.survivors.push_back(process.first);
    break;
  }
  if (!outcome.timed_out) outcome.exit_code = child.exit_code();
  outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

}  // namespace chaosbench::harness::control
