#include "chaosbench/harness/control/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"

extern char** environ;

namespace chaosbench::harness::control {
namespace {

using Clock = std::chrono::steady_clock;

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~FileDescriptor() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

std::string errno_text(int error) { return std::strerror(error); }

std::pair<FileDescriptor, FileDescriptor> make_pipe(const std::string& what) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw ControlError(fmt::format("{}: pipe: {}", what, errno_text(errno)));
  return {FileDescriptor(fds[0]), FileDescriptor(fds[1])};
}

ExitStatus decode_wait_status(int status) {
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
    result.exit_code = 128 + result.signal;
  }
  return result;
}

ExitStatus reap_blocking(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw ControlError(fmt::format("waitpid {}: {}", pid, errno_text(errno)));
  }
  return decode_wait_status(status);
}

int open_pidfd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Everything the child needs, prepared before fork so that the child only makes
// async-signal-safe system calls.
struct PreparedExec {
  std::string executable;
  std::vector<std::string> argument_storage;
  std::vector<std::string> environment_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  FileDescriptor network_namespace;
  std::string working_directory;
};

// Where in the child a step failed, reported to the parent over a CLOEXEC pipe.
enum class ChildStep : int { setns, chdir, redirect, exec };

struct ChildFailure {
  ChildStep step;
  int error;
};

const char* child_step_name(ChildStep step) {
  switch (step) {
    case ChildStep::setns:
      return "entering the network namespace";
    case ChildStep::chdir:
      return "changing to the working directory";
    case ChildStep::redirect:
      return "redirecting output";
    case ChildStep::exec:
      return "exec";
  }
  return "starting";
}

PreparedExec prepare_exec(const LocalProcessSpec& spec, const std::string& host_label) {
  if (spec.argv.empty()) throw ControlError(fmt::format("{}: cannot start an empty command", host_label));
  PreparedExec prepared;
  std::map<std::string, std::string> environment;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;  // not a variable; execve would not pass it meaningfully
    environment.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  for (const auto& [key, value] : spec.environment) environment[key] = value;

  std::string search_path = environment.count("PATH") ? environment["PATH"] : "/usr/local/bin:/usr/bin:/bin";
  auto executable = resolve_executable(spec.argv[0], search_path);
  if (!executable) {
    throw ControlError(fmt::format(
        "{}: cannot start `{}`: {}: {}", host_label, format_command(spec.argv), spec.argv[0],
        spec.argv[0].find('/') == std::string::npos ? "command not found in PATH" : "no such executable file"));
  }
  prepared.executable = executable->string();
  prepared.argument_storage = spec.argv;
  for (auto& [key, value] : environment) prepared.environment_storage.push_back(key + "=" + value);
  for (auto& argument : prepared.argument_storage) prepared.argv.push_back(argument.data());
  prepared.argv.push_back(nullptr);
  for (auto& entry : prepared.environment_storage) prepared.envp.push_back(entry.data());
  prepared.envp.push_back(nullptr);
  prepared.working_directory = spec.working_directory.string();
  if (!spec.network_namespace.empty()) {
    int fd = ::open(spec.network_namespace.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      throw ControlError(fmt::format("{}: cannot start `{}`: network namespace {}: {}", host_label,
                                     format_command(spec.argv), spec.network_namespace.string(), errno_text(errno)));
    }
    prepared.network_namespace.reset(fd);
  }
  return prepared;
}

// In the forked child: only async-signal-safe calls from here to execve.
[[noreturn]] void exec_child(const PreparedExec& prepared, bool new_session, int stdin_fd, int stdout_fd, int stderr_fd,
                             int failure_fd) {
  auto fail = [failure_fd](ChildStep step) {
    ChildFailure failure{step, errno};
    ssize_t ignored = ::write(failure_fd, &failure, sizeof failure);
    (void)ignored;  // the parent sees a short read as a failure too
  };
  if (new_session)
    ::setsid();
  else
    ::setpgid(0, 0);
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) ::sigaction(signal, &default_action, nullptr);
  }
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  ::sigprocmask(SIG_SETMASK, &empty_mask, nullptr);
  if (prepared.network_namespace.get() >= 0 && ::setns(prepared.network_namespace.get(), CLONE_NEWNET) != 0) {
    fail(ChildStep::setns);
    ::_exit(127);
  }
  if (!prepared.working_directory.empty() && ::chdir(prepared.working_directory.c_str()) != 0) {
    fail(ChildStep::chdir);
    ::_exit(127);
  }
  if (::dup2(stdin_fd, 0) < 0 || ::dup2(stdout_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) {
    fail(ChildStep::redirect);
    ::_exit(127);
  }
  // Nothing of the controller's (sockets, pipes, other daemons' logs) leaks into the process.
  ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
  ::execve(prepared.executable.c_str(), prepared.argv.data(), prepared.envp.data());
  fail(ChildStep::exec);
  ::_exit(127);
}

struct Spawned {
  pid_t pid;
  FileDescriptor pidfd;
};

// Forks and execs; throws (after reaping the child) if any step before exec failed.
Spawned spawn(const PreparedExec& prepared, const std::vector<std::string>& argv, bool new_session, int stdin_fd,
              int stdout_fd, int stderr_fd, const std::string& host_label) {
  auto [failure_read, failure_write] = make_pipe(host_label);
  pid_t pid = ::fork();
  if (pid < 0) {
    throw ControlError(
        fmt::format("{}: cannot start `{}`: fork: {}", host_label, format_command(argv), errno_text(errno)));
  }
  if (pid == 0) exec_child(prepared, new_session, stdin_fd, stdout_fd, stderr_fd, failure_write.get());
  failure_write.reset();
  ChildFailure failure{};
  ssize_t got;
  do {
    got = ::read(failure_read.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got != 0) {
    reap_blocking(pid);
    std::string reason = got == static_cast<ssize_t>(sizeof failure)
                             ? fmt::format("{}: {}", child_step_name(failure.step), errno_text(failure.error))
                             : "the child failed before exec";
    if (got == static_cast<ssize_t>(sizeof failure) && failure.step == ChildStep::chdir)
      reason = fmt::format("working directory {}: {}", prepared.working_directory, errno_text(failure.error));
    throw ControlError(fmt::format("{}: cannot start `{}`: {}", host_label, format_command(argv), reason));
  }
  int pidfd = open_pidfd(pid);
  if (pidfd < 0) {
    int error = errno;
    ::kill(-pid, SIGKILL);
    reap_blocking(pid);
    throw ControlError(fmt::format("{}: `{}`: pidfd_open: {}", host_label, format_command(argv), errno_text(error)));
  }
  return {pid, FileDescriptor(pidfd)};
}

FileDescriptor open_dev_null(const std::string& host_label) {
  int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0) throw ControlError(fmt::format("{}: open /dev/null: {}", host_label, errno_text(errno)));
  return FileDescriptor(fd);
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

class LocalDaemon final : public Daemon {
 public:
  LocalDaemon(Spawned spawned, std::string host_label, std::string command_text)
      : pid_(spawned.pid),
        pidfd_(std::move(spawned.pidfd)),
        host_label_(std::move(host_label)),
        command_text_(std::move(command_text)) {}

  ~LocalDaemon() override {
    std::lock_guard lock(mutex_);
    if (exit_status_) return;
    ::kill(-pid_, SIGKILL);  // the whole group; a stopped process dies from SIGKILL too
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

  int pid() const override { return pid_; }
  const std::string& host_name() const override { return host_label_; }
  std::string describe() const override { return fmt::format("{} pid {} ({})", host_label_, pid_, command_text_); }

  bool signal(Signal signal) override {
    std::lock_guard lock(mutex_);
    if (reap_if_exited_locked()) return false;
    if (::kill(-pid_, signal_number(signal)) != 0) {
      throw ControlError(
          fmt::format("{}: cannot send {} to {}: {}", host_label_, signal_name(signal), describe(), errno_text(errno)));
    }
    return true;
  }

  bool alive() override {
    std::lock_guard lock(mutex_);
    return !reap_if_exited_locked();
  }

  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout) override {
    auto deadline = Clock::now() + timeout;
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (reap_if_exited_locked()) return exit_status_;
      }
      int wait_ms = remaining_ms(deadline);
      if (wait_ms == 0) return std::nullopt;
      pollfd entry{pidfd_.get(), POLLIN, 0};
      if (::poll(&entry, 1, wait_ms) < 0 && errno != EINTR) {
        throw ControlError(fmt::format("{}: waiting for {}: poll: {}", host_label_, describe(), errno_text(errno)));
      }
    }
  }

 private:
  // True once the process has exited (and has been reaped, status recorded).
  bool reap_if_exited_locked() {
    if (exit_status_) return true;
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got < 0) {
      throw ControlError(fmt::format("{}: waitpid for {}: {}", host_label_, describe(), errno_text(errno)));
    }
    if (got == 0) return false;
    exit_status_ = decode_wait_status(status);
    return true;
  }

  pid_t pid_;
  FileDescriptor pidfd_;
  std::string host_label_;
  std::string command_text_;
  std::mutex mutex_;
  std::optional<ExitStatus> exit_status_;
};

}  // namespace

std::optional<std::filesystem::path> resolve_executable(const std::string& program, const std::string& search_path) {
  auto usable = [](const std::filesystem::path& candidate) {
    std::error_code error;
    return std::filesystem::is_regular_file(candidate, error) && ::access(candidate.c_str(), X_OK) == 0;
  };
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos) {
    if (usable(program)) return std::filesystem::path(program);
    return std::nullopt;
  }
  std::string_view remaining(search_path);
  while (true) {
    auto colon = remaining.find(':');
    std::string_view directory = remaining.substr(0, colon);
    std::filesystem::path candidate = std::filesystem::path(directory.empty() ? "." : std::string(directory)) / program;
    if (usable(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    remaining.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

CommandResult run_local(const LocalProcessSpec& spec, std::chrono::milliseconds timeout,
                        const std::string& host_label) {
  PreparedExec prepared = prepare_exec(spec, host_label);
  std::string command_text = format_command(spec.argv);
  FileDescriptor dev_null = open_dev_null(host_label);
  auto [out_read, out_write] = make_pipe(host_label);
  auto [err_read, err_write] = make_pipe(host_label);
  auto started = Clock::now();
  auto deadline = started + timeout;
  Spawned child = spawn(prepared, spec.argv, false, dev_null.get(), out_write.get(), err_write.get(), host_label);
  out_write.reset();
  err_write.reset();

  CommandResult result;
  std::optional<ExitStatus> status;
  // After the process exits, its own children may still hold the pipes; read
  // what they write for a short grace period, not forever.
  Clock::time_point drain_deadline = Clock::time_point::max();
  char buffer[8192];
  while (out_read.get() >= 0 || err_read.get() >= 0 || !status) {
    auto now = Clock::now();
    if (status && now >= drain_deadline) break;
    if (!status && now >= deadline) {
      ::kill(-child.pid, SIGKILL);
      reap_blocking(child.pid);
      throw CommandTimedOut(
          fmt::format("{}: `{}` timed out after {} ms (killed)", host_label, command_text, timeout.count()));
    }
    pollfd entries[3] = {
        {out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}, {status ? -1 : child.pidfd.get(), POLLIN, 0}};
    int wait_ms = remaining_ms(status ? drain_deadline : deadline);
    if (::poll(entries, 3, std::max(wait_ms, 1)) < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      ::kill(-child.pid, SIGKILL);
      reap_blocking(child.pid);
      throw ControlError(fmt::format("{}: `{}`: poll: {}", host_label, command_text, errno_text(error)));
    }
    FileDescriptor* streams[2] = {&out_read, &err_read};
    std::string* sinks[2] = {&result.out, &result.err};
    for (int index = 0; index < 2; ++index) {
      if (entries[index].revents == 0) continue;
      ssize_t got = ::read(streams[index]->get(), buffer, sizeof buffer);
      if (got > 0)
        sinks[index]->append(buffer, static_cast<std::size_t>(got));
      else if (got == 0 || (errno != EINTR && errno != EAGAIN))
        streams[index]->reset();
    }
    if (!status && entries[2].revents != 0) {
      status = reap_blocking(child.pid);
      drain_deadline = Clock::now() + std::chrono::milliseconds(500);
    }
  }
  result.status = *status;
  return result;
}

std::unique_ptr<Daemon> start_local_daemon(const LocalProcessSpec& spec, const std::filesystem::path& log_file,
                                           const std::string& host_label) {
  PreparedExec prepared = prepare_exec(spec, host_label);
  std::string command_text = format_command(spec.argv);
  if (log_file.empty())
    throw ControlError(fmt::format("{}: cannot start `{}`: no log file given", host_label, command_text));
  std::error_code error;
  if (log_file.has_parent_path()) std::filesystem::create_directories(log_file.parent_path(), error);
  if (error) {
    throw ControlError(fmt::format("{}: cannot start `{}`: creating {}: {}", host_label, command_text,
                                   log_file.parent_path().string(), error.message()));
  }
  FileDescriptor log(::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log.get() < 0) {
    throw ControlError(fmt::format("{}: cannot start `{}`: log file {}: {}", host_label, command_text,
                                   log_file.string(), errno_text(errno)));
  }
  FileDescriptor dev_null = open_dev_null(host_label);
  Spawned child = spawn(prepared, spec.argv, true, dev_null.get(), log.get(), log.get(), host_label);
  return std::make_unique<LocalDaemon>(std::move(child), host_label, command_text);
}

}  // namespace chaosbench::harness::control
