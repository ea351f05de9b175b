// Helpers shared by the tests that run the built `harness` binary as a child
// process: its path, running it, a temporary directory removed at scope exit,
// reading a whole file (as text or JSON), and a one-string description of a
// finished command; with `using namespace harness_process_support` also the
// aliases control, fs, json and the chrono literals.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

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

inline std::string describe(const chaosbench::harness::control::CommandResult& result) {
  return fmt::format("{}\nstdout:\n{}\nstderr:\n{}", result.status.describe(), result.out, result.err);
}

}  // namespace harness_process_support
