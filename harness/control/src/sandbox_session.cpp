#include "chaosbench/harness/control/sandbox_session.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"

namespace chaosbench::harness::control {
namespace {

// The pid the forwarding handler sends signals on to (P0: P1, P1: P2).
volatile sig_atomic_t forward_target = 0;

// Forwards signals someone sent explicitly (kill(2)); a terminal's Ctrl-C
// (SI_KERNEL) already reaches the controller, which is in the same process group.
void forward_signal(int signal, siginfo_t* info, void*) {
  if (forward_target > 0 && info != nullptr && info->si_code != SI_KERNEL) ::kill(forward_target, signal);
}

void install_forwarding(pid_t target) {
  forward_target = target;
  struct sigaction action {};
  action.sa_sigaction = forward_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(signal, &action, nullptr);
}

void restore_default_signals() {
  forward_target = 0;
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(signal, &action, nullptr);
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 3;
}

[[noreturn]] void exit_now(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(code);
}

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream content;
  content << in.rdbuf();
  std::string text = content.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return 1;
}

void write_proc_file(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    int error = errno;
    if (fd >= 0) ::close(fd);
    throw SandboxUnavailable(
        fmt::format("sandbox: cannot write {} ({}): {}", path, one_line(content), std::strerror(error)));
  }
  ::close(fd);
}

std::string userns_limits_hint() {
  std::string hint = fmt::format("user.max_user_namespaces={}", read_small_file("/proc/sys/user/max_user_namespaces"));
  std::string clone = read_small_file("/proc/sys/kernel/unprivileged_userns_clone");
  if (!clone.empty()) hint += fmt::format(", kernel.unprivileged_userns_clone={}", clone);
  std::string apparmor = read_small_file("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  if (!apparmor.empty()) hint += fmt::format(", kernel.apparmor_restrict_unprivileged_userns={}", apparmor);
  return hint;
}

// P1: the sandbox's init. Reaps every child; exits with the controller's status.
[[noreturn]] void run_init(pid_t controller) {
  install_forwarding(controller);
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid == controller) exit_now(exit_code_of(status));
    if (pid < 0 && errno != EINTR) exit_now(3);  // ECHILD cannot happen while the controller lives
  }
}

void mount_or_throw(const char* source, const char* target, const char* type, unsigned long flags, const char* data,
                    const char* what) {
  if (::mount(source, target, type, flags, data) != 0) {
    throw ControlError(fmt::format("sandbox: cannot {}: {}", what, std::strerror(errno)));
  }
}

}  // namespace

SandboxSession SandboxSession::enter() {
  if (int threads = thread_count(); threads != 1) {
    throw ControlError(
        fmt::format("sandbox: must be entered before any thread starts (this process has {} threads)", threads));
  }
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID) != 0) {
    int error = errno;
    throw SandboxUnavailable(
        fmt::format("sandbox: the kernel refuses new user/mount/network/PID namespaces for uid {} ({}); {}", uid,
                    std::strerror(error), userns_limits_hint()));
  }
  write_proc_file("/proc/self/setgroups", "deny");
  write_proc_file("/proc/self/uid_map", fmt::format("0 {} 1\n", uid));
  write_proc_file("/proc/self/gid_map", fmt::format("0 {} 1\n", gid));

  std::fflush(stdout);
  std::fflush(stderr);
  int parent_alive[2];
  if (::pipe2(parent_alive, O_CLOEXEC) != 0) throw ControlError(fmt::format("sandbox: pipe: {}", std::strerror(errno)));
  pid_t init = ::fork();
  if (init < 0) throw ControlError(fmt::format("sandbox: fork: {}", std::strerror(errno)));
  if (init > 0) {
    // P0: wait for the sandbox and pass its status on.
    ::close(parent_alive[0]);
    install_forwarding(init);
    int status = 0;
    while (::waitpid(init, &status, 0) < 0) {
      if (errno != EINTR) exit_now(3);
    }
    exit_now(exit_code_of(status));
  }

  // P1 (PID 1 of the new PID namespace).
  ::close(parent_alive[1]);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd check{parent_alive[0], POLLIN, 0};
  if (::poll(&check, 1, 0) > 0) exit_now(128 + SIGKILL);  // P0 died before PDEATHSIG was armed
  ::close(parent_alive[0]);
  ::prctl(PR_SET_NAME, "sandbox-init");
  pid_t controller = ::fork();
  if (controller < 0) exit_now(3);
  if (controller > 0) run_init(controller);

  // P2: the controller.
  restore_default_signals();
  mount_or_throw(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr, "make / private");
  mount_or_throw("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr, "mount /proc");
  mount_or_throw("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", "mount a tmpfs on /run");
  for (const char* directory : {"/run/netns", "/run/lock"}) {
    if (::mkdir(directory, 0755) != 0)
      throw ControlError(fmt::format("sandbox: mkdir {}: {}", directory, std::strerror(errno)));
  }
  return SandboxSession(uid, gid);
}

}  // namespace chaosbench::harness::control
