// Local processes: how the controller starts commands and daemons on its own
// machine, optionally inside a network namespace (setns in the forked child).
// Used by the sandbox hosts; safe to call from any thread (fork + exec only).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chaosbench/harness/control/host.h"

namespace chaosbench::harness::control {

struct LocalProcessSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> environment;  // added to the controller's environment
  std::filesystem::path working_directory;         // empty: the controller's
  std::filesystem::path network_namespace;         // e.g. /run/netns/n1; empty: the controller's
};

// Finds program the way execvp would (a name with '/' is taken as a path).
std::optional<std::filesystem::path> resolve_executable(const std::string& program, const std::string& search_path);

// Runs to completion with stdout/stderr captured. host_label names the host in
// error messages. Throws ControlError when it cannot start, CommandTimedOut
// (after SIGKILL of its process group) when it outlives timeout.
CommandResult run_local(const LocalProcessSpec& spec, std::chrono::milliseconds timeout, const std::string& host_label);

// Starts a daemon (own session, stdin /dev/null, stdout+stderr appended to
// log_file). Throws ControlError when it cannot start.
std::unique_ptr<Daemon> start_local_daemon(const LocalProcessSpec& spec, const std::filesystem::path& log_file,
                                           const std::string& host_label);

}  // namespace chaosbench::harness::control
