// A child command run under supervision: output goes to a log file, and past its
// timeout it is SIGKILLed together with every process it had started (a sandbox's
// init and nodes included); run_supervised returns only once all of them have exited.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace chaosbench::harness::control {

struct SupervisedOutcome {
  int exit_code = -1;  // the child's exit code; -1 when it was killed for its timeout
  bool timed_out = false;
  double wall_seconds = 0;
  std::vector<pid_t> survivors;  // processes of the child that outlived even a direct SIGKILL (normally none)
};

// Runs executable with arguments, stdout and stderr to log_path (created or truncated).
// Throws std::runtime_error when the log cannot be written or the program cannot start.
SupervisedOutcome run_supervised(const std::filesystem::path& executable, const std::vector<std::string>& arguments,
                                 const std::filesystem::path& log_path, std::chrono::milliseconds timeout);

// Every live descendant of root, as /proc shows them now (root itself excluded).
std::vector<pid_t> descendants_of(pid_t root);

}  // namespace chaosbench::harness::control
