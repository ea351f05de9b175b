// SshHost against a real sshd: the test enters the sandbox, starts
// /usr/sbin/sshd on node n1 (as uid 1000 of a nested user namespace, so sshd
// skips its privilege-separation setgroups, which user namespaces forbid), then
// runs commands, daemons and file transfers over SSH, and checks the errors for
// a wrong key, a closed port and an unreachable address. Plus the hosts file parser.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/hosts_file.h"
#include "chaosbench/harness/control/process.h"
#include "chaosbench/harness/control/sandbox.h"
#include "chaosbench/harness/control/sandbox_session.h"
#include "chaosbench/harness/control/ssh_host.h"
#include "sshd_fixture.h"

namespace control = chaosbench::harness::control;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using sshd_fixture::kUser;
using sshd_fixture::write_text;

// The sandbox with sshd on n1, created once per test process.
struct SshServer {
  SshServer() {
    session = control::SandboxSession::enter();
    std::string pattern = (fs::temp_directory_path() / "cb-ssh-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    directory = pattern;
    ::chmod(directory.c_str(), 0755);
    // Removed when the test process exits (the sandbox then ends sshd too).
    static struct DirectoryRemover {
      fs::path path;
      ~DirectoryRemover() {
        std::error_code error;
        fs::remove_all(path, error);
        if (error) std::cerr << "cannot remove " << path << ": " << error.message() << "\n";
      }
    } remover{directory};
    sandbox = std::make_unique<control::Sandbox>(*session, control::SandboxOptions{.nodes = 2});
    sshd_fixture::write_sshd_files(directory);
    // A stand-in `sudo` (first on sshd's PATH): demands -n, logs the command, runs it.
    sshd_fixture::write_stand_in_sudo(directory / "fake-bin", directory / "sudo.log");
    address = sandbox->host("n1")->address();
    sshd = sshd_fixture::start_sshd(*sandbox->host("n1"), directory, directory / "fake-bin", directory / "sshd.log");
    // Ready when a session authenticates.
    sshd_fixture::wait_for_sshd(*host(), *sshd, directory / "sshd.log");
  }

  control::SshHostOptions options(const std::string& name = "n1") const {
    control::SshHostOptions result;
    result.name = name;
    result.address = address;
    result.user = kUser;
    result.key_file = directory / "user_key";
    result.use_agent = false;
    result.sudo = false;
    result.connect_timeout = 1000ms;
    result.host_key = control::HostKeyPolicy::accept_new;
    result.known_hosts = directory / "known_hosts";
    return result;
  }

  std::shared_ptr<control::SshHost> host() {
    if (!shared_host) shared_host = std::make_shared<control::SshHost>(options());
    return shared_host;
  }

  std::optional<control::SandboxSession> session;
  fs::path directory;
  std::unique_ptr<control::Sandbox> sandbox;
  std::string address;
  std::unique_ptr<control::Daemon> sshd;
  std::shared_ptr<control::SshHost> shared_host;
};

// Entered on first use; lives until the controller exits (the sandbox then
// takes every process with it).
// Set up once: a failure is reported by every test, not retried.
SshServer* server_or_skip(std::string& skip_reason, std::string& failure) {
  static SshServer* server = nullptr;
  static std::string unavailable, setup_failure;
  static bool attempted = false;
  if (!attempted) {
    attempted = true;
    try {
      server = new SshServer();
    } catch (const control::SandboxUnavailable& error) {
      unavailable = error.what();
    } catch (const std::exception& error) {
      setup_failure = error.what();
    }
  }
  skip_reason = unavailable;
  failure = setup_failure;
  return server;
}

#define SSH_SERVER(variable)                                        \
  std::string skip_reason, setup_failure;                           \
  SshServer* variable = server_or_skip(skip_reason, setup_failure); \
  if (!setup_failure.empty()) FAIL() << setup_failure;              \
  if (variable == nullptr) GTEST_SKIP() << "sandbox unavailable: " << skip_reason

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const control::ControlError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(SshHost, RunsCommandsInTheNodeWithOutputExitCodeEnvironmentAndDirectory) {
  SSH_SERVER(server);
  auto host = server->host();
  EXPECT_EQ(host->label(), fmt::format("n1 ({}:22)", server->address));
  auto result = host->run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");
  EXPECT_EQ(result.status.exit_code, 3);
  EXPECT_FALSE(result.succeeded());

  control::Command command{"sh", "-c", "echo \"$GREETING\"; pwd; id -un"};
  command.environment["GREETING"] = "it's a test";
  command.working_directory = server->directory;
  result = host->run_checked(command);
  EXPECT_EQ(result.out, fmt::format("it's a test\n{}\n{}\n", server->directory.string(), kUser));

  // The command runs in n1's network namespace: it sees n1's address.
  result = host->run_checked({"ip", "-o", "-4", "addr", "show"});
  EXPECT_NE(result.out.find(server->address + "/24"), std::string::npos) << result.out;

  // Over SSH a command killed by signal N is seen through the remote shell: 128+N.
  auto killed = host->run({"sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(killed.status.describe(), "exited with 143");

  EXPECT_NE(error_of([&] { host->run_checked({"sh", "-c", "exit 4"}); }).find("exited with 4"), std::string::npos);
}

TEST(SshHost, TimeoutKillsTheCommandAndMissingBinaryCannotStart) {
  SSH_SERVER(server);
  auto host = server->host();
  auto started = Clock::now();
  EXPECT_EQ(error_of([&] {
              host->run(control::Command{"sleep", "5"}.with_timeout(300ms));
            }),
            fmt::format("n1 ({}:22): `sleep 5` timed out after 300 ms (killed)", server->address));
  EXPECT_LT(Clock::now() - started, 3s);
  std::string missing = error_of([&] { host->run({"cb-no-such-binary", "--flag"}); });
  EXPECT_EQ(missing.rfind(fmt::format("n1 ({}:22): cannot start `cb-no-such-binary --flag`: ", server->address), 0), 0u)
      << missing;
  EXPECT_NE(missing.find("cb-no-such-binary"), std::string::npos);
  // The host still works after a timeout.
  EXPECT_EQ(host->run_checked({"echo", "ok"}).out, "ok\n");
}

TEST(SshHost, ConcurrentCommandsShareAFewSessions) {
  SSH_SERVER(server);
  auto host = server->host();
  std::vector<std::string> outputs(8);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 8; ++i)
      threads.emplace_back([&, i] {
        for (int round = 0; round < 5; ++round)
          outputs[i] = host->run_checked({"sh", "-c", fmt::format("sleep 0.05; echo {}", i)}).out;
      });
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(outputs[i], fmt::format("{}\n", i));
}

TEST(SshHost, StartsSignalsAndWaitsForDaemons) {
  SSH_SERVER(server);
  auto host = server->host();
  fs::path log = server->directory / "daemons" / "sleeper.log";
  auto daemon = host->start_daemon({{"sh", "-c", "echo started; exec sleep 60"}, {}, log, {}, {}});
  EXPECT_GT(daemon->pid(), 1);
  EXPECT_EQ(daemon->host_name(), "n1");
  EXPECT_TRUE(daemon->alive());
  EXPECT_TRUE(daemon->signal(control::Signal::stop));
  EXPECT_TRUE(daemon->alive()) << "a stopped daemon is alive";
  auto state = host->run_checked({"ps", "-o", "stat=", "-p", std::to_string(daemon->pid())}).out;
  EXPECT_EQ(state.substr(0, 1), "T") << state;
  EXPECT_TRUE(daemon->signal(control::Signal::cont));
  EXPECT_FALSE(daemon->wait_for(200ms).has_value());
  EXPECT_TRUE(daemon->signal(control::Signal::term));
  auto status = daemon->wait_for(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->describe(), "killed by SIGTERM");
  EXPECT_FALSE(daemon->alive());
  EXPECT_FALSE(daemon->signal(control::Signal::kill)) << "signal after exit sends nothing";
  // Detached: its own session, and the pid file names it.
  EXPECT_EQ(host->read_file(log.string() + ".pid"), fmt::format("{}\n", daemon->pid()));
  EXPECT_NE(host->read_file(log).find("started"), std::string::npos);

  auto quick = host->start_daemon({{"sh", "-c", "exit 3"}, {}, server->directory / "daemons" / "quick.log", {}, {}});
  auto quick_status = quick->wait_for(5s);
  ASSERT_TRUE(quick_status.has_value());
  EXPECT_EQ(quick_status->describe(), "exited with 3");

  // Destroying the handle kills the daemon's whole process group.
  auto group = host->start_daemon({{"sh", "-c", "sleep 60 & echo $! > child.pid; wait"},
                                   {},
                                   server->directory / "daemons" / "group.log",
                                   server->directory,
                                   {}});
  std::this_thread::sleep_for(300ms);
  std::string child = host->read_file(server->directory / "child.pid");
  group.reset();
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(host->run({"kill", "-0", child.substr(0, child.find('\n'))}).succeeded()) << "child survived";

  std::string missing = error_of([&] {
    host->start_daemon({{"/nonexistent/cb-daemon", "--id", "n1"}, {}, server->directory / "x.log", {}, {}});
  });
  EXPECT_EQ(missing.rfind(fmt::format("n1 ({}:22): cannot start `/nonexistent/cb-daemon --id n1`", server->address), 0),
            0u)
      << missing;
}

TEST(SshHost, CopiesWritesAndReadsFiles) {
  SSH_SERVER(server);
  auto host = server->host();
  fs::path target = server->directory / "remote" / "deep" / "file.txt";
  host->write_file(target, "hello\nworld\n");
  EXPECT_EQ(host->read_file(target), "hello\nworld\n");
  host->write_file(target, "replaced");
  EXPECT_EQ(host->read_file(target), "replaced");
  std::string leftovers = host->run_checked({"sh", "-c", "ls -a " + target.parent_path().string()}).out;
  EXPECT_EQ(leftovers, ".\n..\nfile.txt\n") << "temporary files left behind";

  std::string big(300'000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>(i % 251);
  fs::path local_script = server->directory / "script.sh";
  write_text(local_script, "#!/bin/sh\necho script ran with $1\n");
  ::chmod(local_script.c_str(), 0755);
  host->copy_to(local_script, server->directory / "remote" / "bin" / "script.sh");
  EXPECT_EQ(host->run_checked({(server->directory / "remote" / "bin" / "script.sh").string(), "arg"}).out,
            "script ran with arg\n");
  fs::path local_big = server->directory / "big.bin";
  write_text(local_big, big);
  host->copy_to(local_big, server->directory / "remote" / "big.bin");
  EXPECT_EQ(host->read_file(server->directory / "remote" / "big.bin"), big);

  std::string missing = error_of([&] { host->read_file("/nonexistent/file"); });
  EXPECT_EQ(missing.rfind(fmt::format("n1 ({}:22): cannot read /nonexistent/file: ", server->address), 0), 0u)
      << missing;
  EXPECT_NE(missing.find("No such file or directory"), std::string::npos);
  std::string unwritable = error_of([&] { host->write_file("/proc/cb-no/file", "x"); });
  EXPECT_EQ(unwritable.rfind(fmt::format("n1 ({}:22): cannot write /proc/cb-no/file: ", server->address), 0), 0u)
      << unwritable;
}

TEST(SshHost, SudoPrefixesEveryRemoteCommandWhenAsked) {
  SSH_SERVER(server);
  auto options = server->options();
  options.sudo = true;
  control::SshHost host(options);
  EXPECT_TRUE(host.uses_sudo());
  EXPECT_EQ(host.run_checked({"echo", "via sudo"}).out, "via sudo\n");
  fs::path file = server->directory / "sudo" / "file.txt";
  host.write_file(file, "written with sudo");
  EXPECT_EQ(host.read_file(file), "written with sudo");
  auto daemon = host.start_daemon({{"sleep", "60"}, {}, server->directory / "sudo" / "sleep.log", {}, {}});
  EXPECT_TRUE(daemon->alive());
  EXPECT_TRUE(daemon->signal(control::Signal::kill));
  ASSERT_TRUE(daemon->wait_for(5s).has_value());
  std::ifstream input(server->directory / "sudo.log");
  std::vector<std::string> calls;
  for (std::string line; std::getline(input, line);) calls.push_back(line);
  ASSERT_GE(calls.size(), 6u);
  for (const std::string& call : calls) EXPECT_EQ(call.rfind("timeout -s KILL ", 0), 0u) << call;
  EXPECT_NE(calls[0].find("sh -c exec 'echo' 'via sudo'"), std::string::npos) << calls[0];
}

TEST(SshHost, FaketimeDaemonsSeeTheOffsetClock) {
  SSH_SERVER(server);
  auto host = server->host();
  fs::path offset_file = server->directory / "clock" / "offset";
  fs::path log = server->directory / "clock" / "date.log";
  auto daemon = host->start_daemon({{"date", "+%s"}, {}, log, {}, offset_file});
  ASSERT_TRUE(daemon->wait_for(5s).has_value());
  EXPECT_EQ(host->read_file(offset_file), "+0\n") << "created with +0";
  host->write_file(offset_file, "+86400");
  daemon = host->start_daemon({{"date", "+%s"}, {}, log, {}, offset_file});
  ASSERT_TRUE(daemon->wait_for(5s).has_value());
  std::istringstream lines(host->read_file(log));
  long long unfaked = 0, faked = 0;
  lines >> unfaked >> faked;
  long long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(unfaked - now), 0.0, 10.0);
  EXPECT_NEAR(static_cast<double>(faked - now), 86400.0, 10.0);
}

TEST(SshHost, WrongKeyIsAClearAuthenticationError) {
  SSH_SERVER(server);
  auto options = server->options();
  options.key_file = server->directory / "wrong_key";
  control::SshHost host(options);
  EXPECT_EQ(error_of([&] { host.connect(); }),
            fmt::format("n1 ({}:22): authentication failed for user {} with key {}", server->address, kUser,
                        (server->directory / "wrong_key").string()));
  options.key_file = server->directory / "no_such_key";
  control::SshHost missing_key(options);
  EXPECT_EQ(error_of([&] { missing_key.connect(); }),
            fmt::format("n1 ({}:22): cannot read private key file {}", server->address,
                        (server->directory / "no_such_key").string()));
}

TEST(SshHost, AuthenticatesWithPasswordAndWithAgent) {
  SSH_SERVER(server);
  auto options = server->options();
  options.key_file.clear();
  options.password = "secret";
  EXPECT_EQ(control::SshHost(options).run_checked({"id", "-un"}).out, fmt::format("{}\n", kUser));
  options.password = "wrong";
  EXPECT_EQ(error_of([&] { control::SshHost(options).connect(); }),
            fmt::format("n1 ({}:22): authentication failed for user {} with password", server->address, kUser));

  // An ssh-agent holding the user key (it exits with the sandbox).
  std::string socket = (server->directory / "agent.sock").string();
  auto agent = control::run_local({{"ssh-agent", "-a", socket}, {}, {}, {}}, 10s, "test");
  ASSERT_TRUE(agent.succeeded()) << agent.err;
  auto added = control::run_local(
      {{"ssh-add", (server->directory / "user_key").string()}, {{"SSH_AUTH_SOCK", socket}}, {}, {}}, 10s, "test");
  ASSERT_TRUE(added.succeeded()) << added.err;
  ::setenv("SSH_AUTH_SOCK", socket.c_str(), 1);
  options.password.clear();
  options.use_agent = true;
  EXPECT_EQ(control::SshHost(options).run_checked({"id", "-un"}).out, fmt::format("{}\n", kUser));
  options.use_agent = false;
  EXPECT_EQ(error_of([&] { control::SshHost(options).connect(); }),
            fmt::format("n1 ({}:22): no authentication method for user {}: give a key file, a password or an agent",
                        server->address, kUser));
  ::unsetenv("SSH_AUTH_SOCK");
}

// Host keys: strict refuses an unknown host before authenticating, accept-new
// records it once and then verifies it, a changed key is refused naming the
// host and the file, off connects without looking.
TEST(SshHost, HostKeysAreVerifiedRecordedOnFirstUseAndAChangedOneIsRefused) {
  SSH_SERVER(server);
  auto options = server->options();
  options.known_hosts = server->directory / "known_hosts-keys-test";
  fs::remove(options.known_hosts);
  options.host_key = control::HostKeyPolicy::strict;
  EXPECT_EQ(error_of([&] { control::SshHost(options).connect(); }),
            fmt::format("n1 ({}:22): unknown host key: not in {} (add it, e.g. with ssh-keyscan, or set host_key = "
                        "\"accept-new\")",
                        server->address, options.known_hosts.string()));
  options.host_key = control::HostKeyPolicy::accept_new;
  {
    control::SshHost first(options);
    first.connect();
    EXPECT_EQ(first.host_key_outcome(), "recorded");
  }
  const std::string recorded = sshd_fixture::read_text(options.known_hosts);
  EXPECT_NE(recorded.find(server->address), std::string::npos) << recorded;
  for (auto policy : {control::HostKeyPolicy::strict, control::HostKeyPolicy::accept_new}) {
    options.host_key = policy;
    control::SshHost again(options);
    again.connect();
    EXPECT_EQ(again.host_key_outcome(), "verified") << to_string(policy);
  }
  EXPECT_EQ(sshd_fixture::read_text(options.known_hosts), recorded) << "recorded once";

  // The host was re-created with a new key: its recorded line no longer matches.
  const auto generated = control::run_local(
      {{"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (server->directory / "other_host_key").string()},
       {},
       {},
       {}},
      10s, "test");
  ASSERT_TRUE(generated.succeeded()) << generated.err;
  std::istringstream public_key(sshd_fixture::read_text(server->directory / "other_host_key.pub"));
  std::string type, blob;
  public_key >> type >> blob;
  sshd_fixture::write_text(options.known_hosts, server->address + " " + type + " " + blob + "\n");
  for (auto policy : {control::HostKeyPolicy::strict, control::HostKeyPolicy::accept_new}) {
    options.host_key = policy;
    EXPECT_EQ(error_of([&] { control::SshHost(options).connect(); }),
              fmt::format("n1 ({}:22): host key changed: it does not match the one in {} (if the host was "
                          "re-created, remove its line there)",
                          server->address, options.known_hosts.string()))
        << to_string(policy);
  }
  options.host_key = control::HostKeyPolicy::off;
  control::SshHost unchecked(options);
  unchecked.connect();
  EXPECT_EQ(unchecked.host_key_outcome(), "not verified");
  EXPECT_EQ(control::describe_host_keys({std::make_shared<control::SshHost>(options)}), "not connected yet for n1");
  auto connected = control::connect_all({options});
  EXPECT_EQ(control::describe_host_keys(connected), "not verified for n1 (host_key = \"off\")");
  fs::remove(server->directory / "other_host_key");
  fs::remove(server->directory / "other_host_key.pub");
}

TEST(SshHost, ClosedPortIsConnectionRefused) {
  SSH_SERVER(server);
  auto options = server->options();
  options.port = 2;
  control::SshHost host(options);
  std::string message = error_of([&] { host.connect(); });
  EXPECT_EQ(message.rfind(fmt::format("n1 ({}:2): cannot connect: ", server->address), 0), 0u) << message;
  EXPECT_NE(message.find("onnection refused"), std::string::npos) << message;
}

TEST(SshHost, UnreachableAddressTimesOutWithinTheConnectTimeout) {
  SSH_SERVER(server);
  auto options = server->options("n9");
  options.address = server->address.substr(0, server->address.rfind('.')) + ".99";  // on the subnet, unused
  options.connect_timeout = 1000ms;
  control::SshHost host(options);
  auto started = Clock::now();
  std::string message = error_of([&] { host.connect(); });
  auto elapsed = Clock::now() - started;
  EXPECT_EQ(message.rfind(fmt::format("n9 ({}:22): cannot connect: ", options.address), 0), 0u) << message;
  EXPECT_NE(message.find("imeout"), std::string::npos) << message;
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 2500ms);

  // connect_all checks every host before anything starts, naming the bad one.
  auto good = server->options("n1");
  message = error_of([&] { control::connect_all({good, options}); });
  EXPECT_EQ(message.rfind(fmt::format("cannot reach 1 of 2 hosts: n9 ({}:22): cannot connect: ", options.address), 0),
            0u)
      << message;
  EXPECT_EQ(control::connect_all({good}).size(), 1u);
}

// ---- hosts files --------------------------------------------------------------

TEST(HostsFile, ParsesHostsWithDefaults) {
  auto hosts = control::parse_hosts_file(R"(
host_key = "accept-new"
known_hosts = "known"
[programs]
etcd = "/opt/etcd/etcd"
redis-server = "/opt/redis/redis-server"
[[host]]
name = "n1"
address = "10.0.0.1"
user = "admin"
key = "keys/id_ed25519"
programs = { etcd = "/srv/etcd-3.5/etcd" }

[[host]]
name = "n2"
address = "10.0.0.2"
port = 2222
password = "secret"
agent = false
sudo = false
connect_timeout_ms = 500
host_key = "off"
install_packages = false
)",
                                         "/etc/cb/hosts.toml");
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].name, "n1");
  EXPECT_EQ(hosts[0].port, 22);
  EXPECT_EQ(hosts[0].user, "admin");
  EXPECT_EQ(hosts[0].key_file, fs::path("/etc/cb/keys/id_ed25519"));
  EXPECT_TRUE(hosts[0].use_agent);
  EXPECT_FALSE(hosts[0].sudo.has_value());
  EXPECT_TRUE(control::SshHost(hosts[0]).uses_sudo());
  EXPECT_EQ(hosts[1].port, 2222);
  EXPECT_EQ(hosts[1].user, "root");
  EXPECT_EQ(hosts[1].password, "secret");
  EXPECT_FALSE(hosts[1].use_agent);
  EXPECT_EQ(hosts[1].sudo, false);
  EXPECT_EQ(hosts[1].connect_timeout, 500ms);
  EXPECT_FALSE(control::SshHost(hosts[1]).uses_sudo());
  EXPECT_EQ(hosts[0].host_key, control::HostKeyPolicy::accept_new) << "the top-level default";
  EXPECT_EQ(hosts[0].known_hosts, fs::path("/etc/cb/known"));
  EXPECT_EQ(hosts[1].host_key, control::HostKeyPolicy::off) << "a host's own key wins";
  // A host's programs are merged over the top level's; packages are installed unless a host says no.
  EXPECT_EQ(
      hosts[0].software.program_paths,
      (std::map<std::string, fs::path>{{"etcd", "/srv/etcd-3.5/etcd"}, {"redis-server", "/opt/redis/redis-server"}}));
  EXPECT_EQ(hosts[1].software.program_paths,
            (std::map<std::string, fs::path>{{"etcd", "/opt/etcd/etcd"}, {"redis-server", "/opt/redis/redis-server"}}));
  EXPECT_TRUE(hosts[0].software.install_packages);
  EXPECT_FALSE(hosts[1].software.install_packages);
  EXPECT_EQ(control::parse_hosts_file("[[host]]\nname = \"n1\"\naddress = \"a\"\n", "h.toml")[0].host_key,
            control::HostKeyPolicy::strict)
      << "host keys are verified unless a file says otherwise";
}

std::string parse_error(const std::string& text) {
  try {
    control::parse_hosts_file(text, "hosts.toml");
  } catch (const control::HostsFileError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(HostsFile, BadInputIsOneLineNamingFileLineAndKey) {
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\nport = 70000\n"),
            "hosts.toml:4: host[0].port: expected an integer in 1..65535");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\nport = \"22\"\n"),
            "hosts.toml:4: host[0].port: expected an integer in 1..65535");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\n[[host]]\naddress = \"b\"\n"),
            "hosts.toml:4: host[1].name: missing: every [[host]] needs a name");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\n"),
            "hosts.toml:1: host[0].address: missing: every [[host]] needs an address");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\nagent = \"yes\"\n"),
            "hosts.toml:4: host[0].agent: expected true or false");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\nusr = \"x\"\n"),
            "hosts.toml:4: host[0].usr: unknown key (name, address, port, user, key, password, agent, sudo, "
            "connect_timeout_ms, host_key, known_hosts, install_packages, programs)");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\nhost_key = \"yes\"\n"),
            "hosts.toml:4: host[0].host_key: expected \"strict\", \"accept-new\" or \"off\"");
  EXPECT_EQ(parse_error("host_key = \"tofu\"\n[[host]]\nname = \"n1\"\naddress = \"a\"\n"),
            "hosts.toml:1: host_key: expected \"strict\", \"accept-new\" or \"off\"");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\n[[host]]\nname = \"n1\"\naddress = \"b\"\n"),
            "hosts.toml:4: host[1].name: duplicate host name 'n1'");
  EXPECT_EQ(parse_error("nodes = 3\n"),
            "hosts.toml:1: key 'nodes': unknown top-level key (only host_key, known_hosts, install_packages, "
            "[programs] and [[host]] tables)");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\nprograms = { etcd = \"bin/etcd\" }\n"),
            "hosts.toml:4: host[0].programs.etcd: expected an absolute path on the host");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\nprograms = \"/opt\"\n"),
            "hosts.toml:4: host[0].programs: expected a table of program = \"/path/on/the/host\"");
  EXPECT_EQ(parse_error("[programs]\n\"bin/etcd\" = \"/opt/etcd\"\n[[host]]\nname = \"n1\"\naddress = \"a\"\n"),
            "hosts.toml:2: programs.bin/etcd: a program's name is its usual file name, without '/'");
  EXPECT_EQ(parse_error("[[host]]\nname = \"n1\"\naddress = \"a\"\ninstall_packages = 1\n"),
            "hosts.toml:4: host[0].install_packages: expected true or false");
  EXPECT_EQ(parse_error(""), "hosts.toml:1: key 'host': expected one or more [[host]] tables");
  std::string syntax = parse_error("[[host]\n");
  EXPECT_EQ(syntax.rfind("hosts.toml:1: ", 0), 0u) << syntax;
  try {
    control::read_hosts_file("/nonexistent/hosts.toml");
    FAIL() << "no error";
  } catch (const control::HostsFileError& error) {
    EXPECT_STREQ(error.what(), "/nonexistent/hosts.toml: cannot open the hosts file");
  }
}

}  // namespace
