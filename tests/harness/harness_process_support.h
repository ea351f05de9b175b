// Helpers shared by the tests that run the built `harness` binary as a child
// process: its path, running it, a temporary directory removed at scope exit,
// reading a whole file (as text or JSON), and a one-string description of a
// finished command; with `using namespace harness_process_support` also the
// aliases control, fs, json and the chrono literals.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include <chrono>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chaosbench/harness/control/host.h"
#include "chaosbench/harness/control/process.h"

namespace harness_process_support {

// The vocabulary every such test uses, brought in by `using namespace harness_process_support`.
namespace control = chaosbench::harness::control;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

inline const std::string kHarness = std::string(CHAOSBENCH_BINARY_DIR) + "/bin/harness";

// mkdtemp under the system temporary directory, named cb-<prefix>-XXXXXX;
// world_writable for tests whose unprivileged child writes there too.
struct TemporaryDirectory {
  explicit TemporaryDirectory(const std::string& prefix, bool world_writable = false) {
    std::string pattern = (std::filesystem::temp_directory_path() / ("cb-" + prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + pattern);
    path = pattern;
    if (world_writable) ::chmod(path.c_str(), 0777);
  }
  ~TemporaryDirectory() {
    std::error_code ignored_because_best_effort;
    std::filesystem::remove_all(path, ignored_because_best_effort);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  std::filesystem::path path;
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream input(path);
  std::stringstream buffer;
  buffer << input.rdbuf();
  return buffer.str();
}

inline nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(read_text(path)); }

// Runs `prefix... harness arguments...` and waits at most `timeout`.
inline chaosbench::harness::control::CommandResult run_harness(const std::vector<std::string>& arguments,
                                                               std::chrono::seconds timeout = std::chrono::seconds(180),
                                                               const std::vector<std::string>& prefix = {}) {
  chaosbench::harness::control::LocalProcessSpec spec;
  spec.argv = prefix;
  spec.argv.push_back(kHarness);
  spec.argv.insert(spec.argv.end(), arguments.begin(), arguments.end());
  return chaosbench::harness::control::run_local(spec, timeout, "localhost");
}

// `run` then each flag and its value, then `extra` as it is.
inline std::vector<std::string> run_arguments(const std::vector<std::pair<std::string, std::string>>& flags,
                                              const std::vector<std::string>& extra = {}) {
  std::vector<std::string> arguments{"run"};
  for (const auto& [flag, value] : flags) arguments.insert(arguments.end(), {flag, value});
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

// The newest run of a store (its `latest` link): history.jsonl's text, results.json.
inline std::string latest_history_text(const std::filesystem::path& store) {
  return read_text(std::filesystem::canonical(store / "latest" / "history.jsonl"));
}
inline nlohmann::json latest_results(const std::filesystem::path& store) {
  return read_json(std::filesystem::canonical(store / "latest" / "results.json"));
}

// Direct children of a process (needs CONFIG_PROC_CHILDREN, as on these machines).
inline std::vector<int> children_of(int pid) {
  std::vector<int> children;
  std::ifstream input(fmt::format("/proc/{}/task/{}/children", pid, pid));
  int child = 0;
  while (input >> child) children.push_back(child);
  return children;
}

// Processes on the machine (but this one) whose command line mentions `text`.
inline std::vector<int> processes_mentioning(const std::string& text) {
  std::vector<int> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string command_line = read_text(entry.path() / "cmdline");
    std::replace(command_line.begin(), command_line.end(), '\0', ' ');
    if (command_line.find(text) != std::string::npos && std::stoi(name) != ::getpid()) found.push_back(std::stoi(name));
  }
  return found;
}

inline std::string describe(const chaosbench::harness::control::CommandResult& result) {
  return fmt::format("{}\nstdout:\n{}\nstderr:\n{}", result.status.describe(), result.out, result.err);
}

}  // namespace harness_process_support
