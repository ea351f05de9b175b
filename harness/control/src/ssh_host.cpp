#include "chaosbench/harness/control/ssh_host.h"

#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"

namespace chaosbench::harness::control {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Exit code the remote wrappers use for "could not start the command".
constexpr int kCannotStart = 127;

int signal_from_name(const std::string& name) {
  static const std::pair<const char*, int> names[] = {
      {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},   {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"HUP", SIGHUP},
      {"SEGV", SIGSEGV}, {"ABRT", SIGABRT}, {"QUIT", SIGQUIT}, {"PIPE", SIGPIPE}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
      {"BUS", SIGBUS},   {"FPE", SIGFPE},   {"ILL", SIGILL},   {"ALRM", SIGALRM}};
  for (const auto& [signal_name, number] : names)
    if (name == signal_name) return number;
  return SIGKILL;  // an exotic signal: still "killed by a signal"
}

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  static const unsigned seed = std::random_device{}();
  return fmt::format("{}-{:08x}-{}", ::getpid(), seed, counter++);
}

std::string timeout_argument(std::chrono::milliseconds timeout) {
  auto milliseconds = std::max<long long>(timeout.count(), 1);
  return fmt::format("{}.{:03}s", milliseconds / 1000, milliseconds % 1000);
}

// `exec env K=V argv...` (or `exec argv...`), after `cd dir ||` when given.
std::string exec_line(const std::vector<std::string>& argv, const std::map<std::string, std::string>& environment,
                      const std::filesystem::path& working_directory) {
  std::string line;
  if (!working_directory.empty()) line += "cd " + shell_quote(working_directory.string()) + " || exit 127; ";
  line += "exec";
  if (!environment.empty()) {
    line += " env";
    for (const auto& [key, value] : environment) line += " " + shell_quote(key + "=" + value);
  }
  for (const std::string& argument : argv) line += " " + shell_quote(argument);
  return line;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char character : text) {
    if (character == '\'')
      quoted += "'\\''";
    else
      quoted += character;
  }
  return quoted + "'";
}

// One authenticated libssh session (and its SFTP channel, opened on first use).
// Used by one thread at a time: the pool hands it out.
class SshHost::Session {
 public:
  Session(const SshHostOptions& options, const std::string& label) : label_(label) {
    session_ = ssh_new();
    if (session_ == nullptr) throw ControlError(label + ": cannot create an SSH session (out of memory)");
    try {
      connect(options);
    } catch (...) {
      ssh_free(session_);
      throw;
    }
  }
  ~Session() {
    if (sftp_ != nullptr) sftp_free(sftp_);
    ssh_disconnect(session_);
    ssh_free(session_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  bool broken() const { return broken_ || ssh_is_connected(session_) == 0; }

  // Runs a shell line; out/err collected until the channel closes or deadline.
  // Returns nullopt (and marks the session broken) if the deadline passed.
  std::optional<CommandResult> execute(const std::string& line, Clock::time_point deadline,
                                       const std::string& description) {
    ssh_channel channel = ssh_channel_new(session_);
    if (channel == nullptr) fail(fmt::format("cannot open a channel for `{}`", description));
    struct ChannelState {
      std::string exit_signal;
    } state;
    ssh_channel_callbacks_struct callbacks{};
    callbacks.userdata = &state;
    callbacks.channel_exit_signal_function = [](ssh_session, ssh_channel, const char* signal, int, const char*,
                                                const char*, void* userdata) {
      static_cast<ChannelState*>(userdata)->exit_signal = signal == nullptr ? "KILL" : signal;
    };
    ssh_callbacks_init(&callbacks);
    struct ChannelCloser {
      ssh_channel channel;
      ~ChannelCloser() {
        ssh_channel_close(channel);
        ssh_channel_free(channel);
      }
    } closer{channel};
    ssh_set_channel_callbacks(channel, &callbacks);
    if (ssh_channel_open_session(channel) != SSH_OK)
      fail(fmt::format("cannot open a session channel for `{}`: {}", description, ssh_get_error(session_)));
    if (ssh_channel_request_exec(channel, line.c_str()) != SSH_OK)
      fail(fmt::format("cannot execute `{}`: {}", description, ssh_get_error(session_)));
    ssh_channel_send_eof(channel);

    CommandResult result;
    char buffer[16384];
    auto drain = [&](int is_stderr, int timeout_ms) {
      int count = timeout_ms > 0 ? ssh_channel_read_timeout(channel, buffer, sizeof buffer, is_stderr, timeout_ms)
                                 : ssh_channel_read_nonblocking(channel, buffer, sizeof buffer, is_stderr);
      if (count == SSH_ERROR) fail(fmt::format("reading the output of `{}`: {}", description, ssh_get_error(session_)));
      if (count > 0) (is_stderr ? result.err : result.out).append(buffer, static_cast<std::size_t>(count));
      return count;
    };
    while (ssh_channel_is_eof(channel) == 0 && ssh_channel_is_closed(channel) == 0) {
      if (Clock::now() > deadline) {
        broken_ = true;
        return std::nullopt;
      }
      drain(0, 50);
      while (drain(1, 0) > 0) {
      }
    }
    while (drain(0, 0) > 0) {
    }
    while (drain(1, 0) > 0) {
    }
    int exit_code = ssh_channel_get_exit_status(channel);
    if (!state.exit_signal.empty()) {
      result.status.signal = signal_from_name(state.exit_signal);
    } else if (exit_code < 0) {
      fail(fmt::format("`{}` ended without an exit status (connection lost?)", description));
    } else {
      result.status.exit_code = exit_code;
    }
    return result;
  }

  void upload(const std::string& remote_path, std::string_view contents, int mode) {
    if (sftp_ == nullptr) {
      sftp_ = sftp_new(session_);
      if (sftp_ == nullptr) fail(fmt::format("cannot start SFTP: {}", ssh_get_error(session_)));
      if (sftp_init(sftp_) != SSH_OK) {
        int code = sftp_get_error(sftp_);
        sftp_free(sftp_);
        sftp_ = nullptr;
        fail(fmt::format("cannot start SFTP (error {}): {}", code, ssh_get_error(session_)));
      }
    }
    sftp_file file = sftp_open(sftp_, remote_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, static_cast<mode_t>(mode));
    if (file == nullptr)
      throw ControlError(
          fmt::format("{}: cannot create {} over SFTP: {}", label_, remote_path, ssh_get_error(session_)));
    std::size_t written = 0;
    while (written < contents.size()) {
      std::size_t chunk = std::min<std::size_t>(contents.size() - written, 32768);
      ssize_t count = sftp_write(file, contents.data() + written, chunk);
      if (count <= 0) {
        std::string error = ssh_get_error(session_);
        sftp_close(file);
        throw ControlError(fmt::format("{}: writing {} over SFTP failed: {}", label_, remote_path, error));
      }
      written += static_cast<std::size_t>(count);
    }
    if (sftp_close(file) != SSH_OK)
      throw ControlError(
          fmt::format("{}: closing {} over SFTP failed: {}", label_, remote_path, ssh_get_error(session_)));
  }

 private:
  [[noreturn]] void fail(const std::string& what) {
    broken_ = true;
    throw ControlError(label_ + ": " + what);
  }

  void connect(const SshHostOptions& options) {
    unsigned int port = static_cast<unsigned int>(options.port);
    long seconds = static_cast<long>(options.connect_timeout.count() / 1000);
    long microseconds = static_cast<long>(options.connect_timeout.count() % 1000) * 1000;
    bool process_config = false;
    int verbosity = SSH_LOG_NOLOG;
    ssh_options_set(session_, SSH_OPTIONS_HOST, options.address.c_str());
    ssh_options_set(session_, SSH_OPTIONS_PORT, &port);
    ssh_options_set(session_, SSH_OPTIONS_USER, options.user.c_str());
    ssh_options_set(session_, SSH_OPTIONS_TIMEOUT, &seconds);
    ssh_options_set(session_, SSH_OPTIONS_TIMEOUT_USEC, &microseconds);
    ssh_options_set(session_, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
    ssh_options_set(session_, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    if (!options.known_hosts.empty()) ssh_options_set(session_, SSH_OPTIONS_KNOWNHOSTS, options.known_hosts.c_str());
    if (ssh_connect(session_) != SSH_OK)
      throw ControlError(fmt::format("{}: cannot connect: {}", label_, ssh_get_error(session_)));
    check_host_key(options);

    std::vector<std::string> tried;
    if (!options.key_file.empty()) {
      tried.push_back("key " + options.key_file.string());
      ssh_key key = nullptr;
      if (ssh_pki_import_privkey_file(options.key_file.c_str(), nullptr, nullptr, nullptr, &key) != SSH_OK)
        throw ControlError(fmt::format("{}: cannot read private key file {}", label_, options.key_file.string()));
      int outcome = ssh_userauth_publickey(session_, nullptr, key);
      ssh_key_free(key);
      if (outcome == SSH_AUTH_SUCCESS) return;
      if (outcome == SSH_AUTH_ERROR)
        throw ControlError(fmt::format("{}: authentication error: {}", label_, ssh_get_error(session_)));
    }
    if (options.use_agent && std::getenv("SSH_AUTH_SOCK") != nullptr) {
      tried.push_back("agent");
      int outcome = ssh_userauth_agent(session_, nullptr);
      if (outcome == SSH_AUTH_SUCCESS) return;
    }
    if (!options.password.empty()) {
      tried.push_back("password");
      int outcome = ssh_userauth_password(session_, nullptr, options.password.c_str());
      if (outcome == SSH_AUTH_SUCCESS) return;
    }
    if (tried.empty())
      throw ControlError(fmt::format(
          "{}: no authentication method for user {}: give a key file, a password or an agent", label_, options.user));
    std::string methods;
    for (const std::string& method : tried) methods += (methods.empty() ? "" : ", ") + method;
    throw ControlError(fmt::format("{}: authentication failed for user {} with {}", label_, options.user, methods));
  }

  // Before authenticating: nothing is sent to a host whose key is wrong.
  void check_host_key(const SshHostOptions& options) {
    if (options.host_key == HostKeyPolicy::off) {
      host_key_outcome_ = "not verified";
      return;
    }
    const std::string file = options.known_hosts.empty() ? "~/.ssh/known_hosts" : options.known_hosts.string();
    switch (ssh_session_is_known_server(session_)) {
      case SSH_KNOWN_HOSTS_OK:
        host_key_outcome_ = "verified";
        return;
      case SSH_KNOWN_HOSTS_CHANGED:
      case SSH_KNOWN_HOSTS_OTHER:
        throw ControlError(fmt::format(
            "{}: host key changed: it does not match the one in {} (if the host was re-created, remove its line "
            "there)",
            label_, file));
      case SSH_KNOWN_HOSTS_NOT_FOUND:
      case SSH_KNOWN_HOSTS_UNKNOWN:
        if (options.host_key == HostKeyPolicy::accept_new) {
          if (ssh_session_update_known_hosts(session_) != SSH_OK)
            throw ControlError(
                fmt::format("{}: cannot record its host key in {}: {}", label_, file, ssh_get_error(session_)));
          host_key_outcome_ = "recorded";
          return;
        }
        throw ControlError(fmt::format(
            "{}: unknown host key: not in {} (add it, e.g. with ssh-keyscan, or set host_key = \"accept-new\")", label_,
            file));
      case SSH_KNOWN_HOSTS_ERROR:
        break;
    }
    throw ControlError(
        fmt::format("{}: cannot check its host key against {}: {}", label_, file, ssh_get_error(session_)));
  }

 public:
  const std::string& host_key_outcome() const { return host_key_outcome_; }

 private:
  std::string label_;
  ssh_session session_ = nullptr;
  sftp_session sftp_ = nullptr;
  bool broken_ = false;
  std::string host_key_outcome_;
};

SshHost::SshHost(SshHostOptions options)
    : options_(std::move(options)),
      label_(fmt::format("{} ({}:{})", options_.name, options_.address, options_.port)),
      sudo_(options_.sudo.value_or(options_.user != "root")) {
  if (options_.max_sessions < 1) options_.max_sessions = 1;
}

SshHost::~SshHost() = default;

std::string_view to_string(HostKeyPolicy policy) {
  switch (policy) {
    case HostKeyPolicy::strict:
      return "strict";
    case HostKeyPolicy::accept_new:
      return "accept-new";
    case HostKeyPolicy::off:
      return "off";
  }
  return "?";
}

std::string SshHost::host_key_outcome() const {
  std::lock_guard lock(mutex_);
  return host_key_outcome_;
}

void SshHost::connect() { release(acquire()); }

std::unique_ptr<SshHost::Session> SshHost::acquire() {
  std::unique_lock lock(mutex_);
  session_available_.wait(lock, [&] { return !idle_.empty() || open_sessions_ < options_.max_sessions; });
  if (!idle_.empty()) {
    auto session = std::move(idle_.back());
    idle_.pop_back();
    return session;
  }
  ++open_sessions_;
  lock.unlock();
  try {
    auto session = std::make_unique<Session>(options_, label_);
    lock.lock();
    if (host_key_outcome_.empty()) host_key_outcome_ = session->host_key_outcome();
    return session;
  } catch (...) {
    lock.lock();
    --open_sessions_;
    session_available_.notify_all();
    throw;
  }
}

void SshHost::release(std::unique_ptr<Session> session) {
  std::lock_guard lock(mutex_);
  if (session->broken())
    --open_sessions_;  // dropped: the next acquire reconnects
  else
    idle_.push_back(std::move(session));
  session_available_.notify_all();
}

CommandResult SshHost::run_shell(const std::string& shell_line, std::chrono::milliseconds timeout,
                                 const std::string& description) {
  std::string line = (sudo_ ? "sudo -n " : "") +
                     fmt::format("timeout -s KILL {} sh -c {}", timeout_argument(timeout), shell_quote(shell_line));
  auto started = Clock::now();
  auto session = acquire();
  std::optional<CommandResult> result;
  try {
    result = session->execute(line, started + timeout + 5s, description);
  } catch (...) {
    release(std::move(session));
    throw;
  }
  release(std::move(session));
  auto elapsed = Clock::now() - started;
  bool killed_by_timeout = result && result->status.exit_code == 128 + SIGKILL && elapsed >= timeout;
  if (!result || killed_by_timeout)
    throw CommandTimedOut(fmt::format("{}: `{}` timed out after {} ms (killed)", label_, description, timeout.count()));
  return *result;
}

CommandResult SshHost::run(const Command& command) {
  if (command.argv.empty()) throw ControlError(label_ + ": cannot run an empty command");
  std::string description = format_command(command.argv);
  CommandResult result =
      run_shell(exec_line(command.argv, command.environment, command.working_directory), command.timeout, description);
  if (result.status.signal == 0 && result.status.exit_code == kCannotStart)
    throw ControlError(fmt::format("{}: cannot start `{}`: {}", label_, description, one_line(result.err)));
  return result;
}

namespace {

// A daemon started by SshHost::start_daemon: a `sh` wrapper (the process group
// leader, pid) that runs the command and writes its exit code to status_file.
class SshDaemon : public Daemon {
 public:
  SshDaemon(SshHost& host, int pid, std::string description, std::string status_file)
      : host_(host), pid_(pid), description_(std::move(description)), status_file_(std::move(status_file)) {}
  ~SshDaemon() override {
    try {
      if (!detached_ && alive()) signal(Signal::kill);
    } catch (const std::exception& error) {
      std::cerr << "chaosbench: cannot kill " << describe() << ": " << error.what() << "\n";
    }
  }

  int pid() const override { return pid_; }
  const std::string& host_name() const override { return host_.name(); }
  std::string describe() const override { return fmt::format("{} pid {} ({})", host_.name(), pid_, description_); }

  bool signal(Signal signal) override {
    std::lock_guard lock(mutex_);
    if (!alive_locked()) return false;
    CommandResult result = host_.run_shell(
        fmt::format("kill -{} -{}", std::string(signal_name(signal)).substr(3), pid_), 10s, "kill " + describe());
    if (!result.succeeded()) {
      if (!alive_locked()) return false;
      throw ControlError(fmt::format("{}: cannot send {} to {}: {}", host_.label(), signal_name(signal), describe(),
                                     one_line(result.err)));
    }
    last_signal_ = signal_number(signal);
    return true;
  }

  bool alive() override {
    std::lock_guard lock(mutex_);
    return alive_locked();
  }

  bool detach() override {
    detached_ = true;
    return true;
  }

  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout) override {
    auto deadline = Clock::now() + timeout;
    while (true) {
      {
        std::lock_guard lock(mutex_);
        if (exit_status_) return exit_status_;
        if (!alive_locked()) {
          exit_status_ = read_exit_status();
          return exit_status_;
        }
      }
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(100ms);
    }
  }

 private:
  bool alive_locked() {
    if (exit_status_) return false;
    // The group, not the wrapper shell: a SIGTERM ends the shell at once while
    // the program may take seconds to shut down (etcd hands over leadership).
    return host_.run_shell(fmt::format("kill -0 -{}", pid_), 10s, "kill -0 " + describe()).succeeded();
  }

  // The wrapper's record, or (killed with its wrapper) the last signal we sent;
  // exit_code -1 when neither is known.
  ExitStatus read_exit_status() {
    CommandResult result = host_.run_shell("cat " + shell_quote(status_file_), 10s, "cat " + status_file_);
    ExitStatus status;
    int code = 0;
    std::istringstream text(result.out);
    if (result.succeeded() && (text >> code)) {
      if (code > 128)
        status.signal = code - 128;
      else
        status.exit_code = code;
    } else if (last_signal_ != 0) {
      status.signal = last_signal_;
    } else {
      status.exit_code = -1;
    }
    return status;
  }

  SshHost& host_;
  int pid_;
  std::string description_;
  std::string status_file_;
  std::mutex mutex_;
  int last_signal_ = 0;
  std::optional<ExitStatus> exit_status_;
  std::atomic<bool> detached_{false};
};

}  // namespace

std::unique_ptr<Daemon> SshHost::start_daemon(const DaemonSpec& spec) {
  if (spec.argv.empty()) throw ControlError(label_ + ": cannot start an empty daemon command");
  std::string description = format_command(spec.argv);
  std::string log_file =
      spec.log_file.empty() ? "/tmp/chaosbench-daemon-" + unique_suffix() + ".log" : spec.log_file.string();
  std::string status_file = log_file + ".exit";
  std::string pid_file = log_file + ".pid";

  std::string script = "set -e; mkdir -p " + shell_quote(std::filesystem::path(log_file).parent_path().string()) + "; ";
  script += "command -v " + shell_quote(spec.argv[0]) + " >/dev/null 2>&1 || { echo " +
            shell_quote(spec.argv[0] + ": command not found or not executable") + " >&2; exit 127; }; ";
  std::string environment;
  for (const auto& [key, value] : spec.environment) environment += " " + shell_quote(key + "=" + value);
  if (spec.faketime_file) {
    std::string offset_file = shell_quote(spec.faketime_file->string());
    script += "mkdir -p " + shell_quote(spec.faketime_file->parent_path().string()) + "; test -f " + offset_file +
              " || echo +0 > " + offset_file + "; ";
    script +=
        "lib=$(ls /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 2>/dev/null | head -n 1); ";
    script +=
        "test -n \"$lib\" || { echo 'libfaketime.so.1 not found (install the libfaketime package)' >&2; exit 127; }; ";
    environment += " \"LD_PRELOAD=$lib\" " + shell_quote("FAKETIME_TIMESTAMP_FILE=" + spec.faketime_file->string()) +
                   " FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1";
  }
  if (!spec.working_directory.empty())
    script += "cd " + shell_quote(spec.working_directory.string()) + " || exit 127; ";
  script += "rm -f " + shell_quote(status_file) + "; ";
  std::string wrapped = "\"$@\"; echo $? > " + shell_quote(status_file);
  script += "setsid nohup sh -c " + shell_quote(wrapped) + " daemon";
  if (!environment.empty()) script += " env" + environment;
  for (const std::string& argument : spec.argv) script += " " + shell_quote(argument);
  script += " >> " + shell_quote(log_file) + " 2>&1 < /dev/null & ";
  script += "echo $! > " + shell_quote(pid_file) + "; echo $!";

  CommandResult result = run_shell(script, 30s, description);
  if (!result.succeeded())
    throw ControlError(fmt::format("{}: cannot start `{}`: {}", label_, description,
                                   result.err.empty() ? result.status.describe() : one_line(result.err)));
  int pid = 0;
  std::istringstream text(result.out);
  if (!(text >> pid) || pid <= 0)
    throw ControlError(
        fmt::format("{}: started `{}` but got no pid (output: {})", label_, description, one_line(result.out)));
  return std::make_unique<SshDaemon>(*this, pid, description, status_file);
}

void SshHost::upload(const std::string& remote_path, std::string_view contents, int mode) {
  // Into /tmp as the login user over SFTP, then copied next to the target and
  // renamed over it (with sudo when needed): readers never see a partial file.
  std::string staging = "/tmp/.chaosbench-upload-" + unique_suffix();
  auto session = acquire();
  try {
    session->upload(staging, contents, 0600);
  } catch (...) {
    release(std::move(session));
    throw;
  }
  release(std::move(session));
  std::filesystem::path target(remote_path);
  std::string next_to_target =
      (target.parent_path() / ("." + target.filename().string() + ".chaosbench-" + unique_suffix())).string();
  std::string script = fmt::format(
      "set -e; mkdir -p {dir}; cp {staging} {temp}; chmod {mode:o} {temp}; "
      "mv -f {temp} {target}; rm -f {staging}",
      fmt::arg("dir", shell_quote(target.parent_path().string())), fmt::arg("staging", shell_quote(staging)),
      fmt::arg("temp", shell_quote(next_to_target)), fmt::arg("mode", mode),
      fmt::arg("target", shell_quote(remote_path)));
  CommandResult result = run_shell(script, 120s, "install " + remote_path);
  if (!result.succeeded()) {
    run_shell("rm -f " + shell_quote(staging), 10s, "rm " + staging);
    throw ControlError(fmt::format("{}: cannot write {}: {}", label_, remote_path, one_line(result.err)));
  }
}

void SshHost::copy_to(const std::filesystem::path& local_file, const std::filesystem::path& path) {
  std::ifstream input(local_file, std::ios::binary);
  if (!input)
    throw ControlError(fmt::format("{}: cannot copy {}: cannot open the local file", label_, local_file.string()));
  std::ostringstream contents;
  contents << input.rdbuf();
  if (input.bad()) throw ControlError(fmt::format("{}: cannot copy {}: read error", label_, local_file.string()));
  std::error_code error;
  auto permissions = std::filesystem::status(local_file, error).permissions();
  int mode = error ? 0644 : static_cast<int>(permissions & std::filesystem::perms::mask);
  upload(path.string(), contents.str(), mode);
}

void SshHost::write_file(const std::filesystem::path& path, std::string_view contents) {
  upload(path.string(), contents, 0644);
}

std::string SshHost::read_file(const std::filesystem::path& path) {
  CommandResult result = run_shell("cat " + shell_quote(path.string()), 60s, "cat " + path.string());
  if (!result.succeeded())
    throw ControlError(fmt::format("{}: cannot read {}: {}", label_, path.string(), one_line(result.err)));
  return result.out;
}

}  // namespace chaosbench::harness::control
