// Unit tests of harness/control that need no namespaces: command formatting,
// local processes and daemons, supervised children, libfaketime discovery and offsets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "chaosbench/harness/control/control_error.h"
#include "chaosbench/harness/control/faketime.h"
#include "chaosbench/harness/control/host.h"
#include "chaosbench/harness/control/process.h"
#include "chaosbench/harness/control/supervised_child.h"

namespace control = chaosbench::harness::control;
using namespace std::chrono_literals;

namespace {

std::filesystem::path make_temp_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cb-control-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

TEST(FormatCommand, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(control::format_command({"iptables", "-A", "INPUT", "-s", "10.77.0.1"}), "iptables -A INPUT -s 10.77.0.1");
  EXPECT_EQ(control::format_command({"sh", "-c", "echo it's"}), "sh -c 'echo it'\\''s'");
  EXPECT_EQ(control::format_command({"x", ""}), "x ''");
}

TEST(OneLine, JoinsLinesAndShortens) {
  EXPECT_EQ(control::one_line("a\nb\r\n\nc\n"), "a | b | c");
  EXPECT_EQ(control::one_line(std::string(300, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(ClockOffset, UsesLibfaketimeRelativeSyntax) {
  EXPECT_EQ(control::format_clock_offset(100), "+100");
  EXPECT_EQ(control::format_clock_offset(-2.5), "-2.5");
  EXPECT_EQ(control::format_clock_offset(0), "+0");
  EXPECT_EQ(control::format_clock_offset(-0.0), "+0");
  EXPECT_EQ(control::format_clock_offset(1e6), "+1000000");
  EXPECT_THROW(control::format_clock_offset(std::nan("")), control::ControlError);
}

TEST(Faketime, LibraryIsFoundForThisArchitecture) {
  std::filesystem::path library = control::find_libfaketime();
  EXPECT_TRUE(std::filesystem::exists(library)) << library;
  EXPECT_EQ(library.filename(), "libfaketime.so.1");
  auto environment = control::faketime_environment(library, "/tmp/offset", "other.so");
  EXPECT_EQ(environment.at("LD_PRELOAD"), library.string() + " other.so");
  EXPECT_EQ(environment.at("FAKETIME_TIMESTAMP_FILE"), "/tmp/offset");
  EXPECT_EQ(environment.at("FAKETIME_NO_CACHE"), "1");
  EXPECT_EQ(environment.at("DONT_FAKE_MONOTONIC"), "1");
}

TEST(Faketime, DynamicExecutablesHonourPreload) {
  auto sh = control::resolve_executable("sh", "/usr/bin:/bin");
  ASSERT_TRUE(sh);
  EXPECT_TRUE(control::honours_ld_preload(*sh));
  EXPECT_TRUE(control::honours_ld_preload(std::filesystem::read_symlink("/proc/self/exe")));
  EXPECT_THROW(control::honours_ld_preload("/nonexistent/binary"), control::ControlError);
}

TEST(ResolveExecutable, SearchesPathLikeExecvp) {
  EXPECT_TRUE(control::resolve_executable("true", "/nonexistent:/usr/bin:/bin"));
  EXPECT_FALSE(control::resolve_executable("cb-no-such-binary", "/usr/bin:/bin"));
  std::filesystem::path directory = make_temp_directory();
  std::ofstream(directory / "data.txt") << "not a program\n";
  std::filesystem::permissions(directory / "data.txt", std::filesystem::perms::owner_read);
  EXPECT_FALSE(control::resolve_executable((directory / "data.txt").string(), "/usr/bin"));  // not executable
  EXPECT_FALSE(control::resolve_executable("data.txt", directory.string()));
  std::filesystem::remove_all(directory);
  EXPECT_TRUE(control::resolve_executable("/bin/sh", ""));
}

TEST(RunLocal, CapturesOutputAndExitCode) {
  control::LocalProcessSpec spec{
      {"sh", "-c", "echo out; echo err >&2; echo $CB_VALUE; exit 3"}, {{"CB_VALUE", "v1"}}, {}, {}};
  control::CommandResult result = control::run_local(spec, 10s, "local");
  EXPECT_EQ(result.out, "out\nv1\n");
  EXPECT_EQ(result.err, "err\n");
  EXPECT_EQ(result.status.exit_code, 3);
  EXPECT_FALSE(result.succeeded());
  EXPECT_EQ(result.status.describe(), "exited with 3");
}

TEST(RunLocal, TimeoutKillsTheProcessGroup) {
  auto started = std::chrono::steady_clock::now();
  control::LocalProcessSpec spec{{"sh", "-c", "sleep 20 & sleep 20"}, {}, {}, {}};
  try {
    control::run_local(spec, 300ms, "local");
    FAIL() << "expected a timeout";
  } catch (const control::CommandTimedOut& error) {
    EXPECT_STREQ(error.what(), "local: `sh -c 'sleep 20 & sleep 20'` timed out after 300 ms (killed)");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(RunLocal, MissingBinaryIsAOneLineError) {
  control::LocalProcessSpec spec{{"cb-no-such-binary", "-x"}, {}, {}, {}};
  try {
    control::run_local(spec, 1s, "n7");
    FAIL() << "expected an error";
  } catch (const control::ControlError& error) {
    EXPECT_STREQ(error.what(), "n7: cannot start `cb-no-such-binary -x`: cb-no-such-binary: command not found in PATH");
  }
}

TEST(LocalDaemon, SignalsWaitsAndLogs) {
  std::filesystem::path directory = make_temp_directory();
  control::LocalProcessSpec spec{{"sh", "-c", "echo started; exec sleep 30"}, {}, directory, {}};
  auto daemon = control::start_local_daemon(spec, directory / "logs" / "daemon.log", "local");
  EXPECT_GT(daemon->pid(), 0);
  auto first_log_line = [&] {
    std::ifstream log(directory / "logs" / "daemon.log");
    std::string line;
    std::getline(log, line);
    return line;
  };
  for (int attempt = 0; attempt < 500 && first_log_line().empty(); ++attempt) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(first_log_line(), "started");
  EXPECT_TRUE(daemon->alive());
  EXPECT_TRUE(daemon->signal(control::Signal::stop));
  EXPECT_TRUE(daemon->alive());
  EXPECT_FALSE(daemon->wait_for(100ms));
  EXPECT_TRUE(daemon->signal(control::Signal::cont));
  EXPECT_TRUE(daemon->signal(control::Signal::kill));
  auto status = daemon->wait_for(5s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->describe(), "killed by SIGKILL");
  EXPECT_FALSE(daemon->alive());
  EXPECT_FALSE(daemon->signal(control::Signal::term));  // already gone: nothing sent
  std::filesystem::remove_all(directory);
}

TEST(LocalDaemon, DestroyingTheHandleKillsTheDaemon) {
  std::filesystem::path directory = make_temp_directory();
  pid_t pid;
  {
    auto daemon = control::start_local_daemon({{"sleep", "30"}, {}, {}, {}}, directory / "sleep.log", "local");
    pid = daemon->pid();
    ASSERT_EQ(::kill(pid, 0), 0);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // killed and reaped
  std::filesystem::remove_all(directory);
}

bool running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  const char state = text[text.rfind(')') + 2];
  return state != 'Z' && state != 'X';
}

TEST(RunSupervised, ReturnsTheExitCodeAndLogsBothStreams) {
  const auto directory = make_temp_directory();
  const auto outcome =
      control::run_supervised("/bin/sh", {"-c", "echo out; echo err >&2; exit 4"}, directory / "log", 10s);
  EXPECT_EQ(outcome.exit_code, 4);
  EXPECT_FALSE(outcome.timed_out);
  std::ifstream log(directory / "log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "out\nerr\n");
  std::filesystem::remove_all(directory);
}

TEST(RunSupervised, TimeoutKillsTheWholeTreeBeforeReturning) {
  // The grandchild is in its own session, so nothing but the supervisor's tree walk
  // reaches it once its parent is gone.
  const auto directory = make_temp_directory();
  const auto pid_file = directory / "grandchild.pid";
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = control::run_supervised(
      "/bin/sh", {"-c", "setsid sleep 60 & echo $! > " + pid_file.string() + "; sleep 60"}, directory / "log", 500ms);
  EXPECT_TRUE(outcome.timed_out);
  EXPECT_EQ(outcome.exit_code, -1);
  EXPECT_TRUE(outcome.survivors.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  std::ifstream pid_text(pid_file);
  pid_t grandchild = 0;
  ASSERT_TRUE(pid_text >> grandchild);
  EXPECT_FALSE(running(grandchild)) << "the grandchild " << grandchild << " outlived the supervised run";
  std::filesystem::remove_all(directory);
}

TEST(RunSupervised, MissingProgramThrows) {
  const auto directory = make_temp_directory();
  EXPECT_THROW(control::run_supervised(directory / "no-such-program", {}, directory / "log", 1s), std::exception);
  EXPECT_THROW(control::run_supervised("/bin/true", {}, directory / "missing" / "log", 1s), std::runtime_error);
  std::filesystem::remove_all(directory);
}

}  // namespace
