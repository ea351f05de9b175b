// The live progress line: its text (counts, rate, active faults, time left, cut to the
// terminal's width), and `harness run` for real under a pseudo-terminal (the line is redrawn
// in place, then erased before the summary) and into a pipe (not one byte of it); the
// closing hint names the report and the command that reruns the same seed.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <sstream>

#include "chaosbench/harness/progress_line.h"
#include "chaosbench/harness/run_command.h"
#include "harness_process_support.h"

namespace {

using namespace harness_process_support;
namespace harness = chaosbench::harness;

struct TerminalRun {
  int exit_code = -1;
  std::string output;
};

// Runs argv with a pseudo-terminal as its standard input, output and error; everything it
// wrote, and its exit code. Killed (by PID) after `deadline`.
TerminalRun run_in_terminal(const std::vector<std::string>& argv, std::chrono::seconds deadline) {
  int master = -1;
  winsize size{};
  size.ws_col = 160;
  size.ws_row = 40;
  const pid_t child = ::forkpty(&master, nullptr, nullptr, &size);
  if (child < 0) throw std::runtime_error("forkpty failed");
  if (child == 0) {
    ::setenv("TERM", "xterm", 1);
    std::vector<char*> arguments;
    for (const std::string& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
    arguments.push_back(nullptr);
    ::execv(arguments[0], arguments.data());
    ::_exit(127);
  }
  TerminalRun run;
  const auto until = std::chrono::steady_clock::now() + deadline;
  char buffer[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(child, SIGKILL);
      break;
    }
    pollfd descriptor{master, POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(std::min<long>(left.count(), 1000))) <= 0) continue;
    const ssize_t got = ::read(master, buffer, sizeof buffer);
    if (got <= 0) break;  // EIO: the child closed its side (it exited)
    run.output.append(buffer, static_cast<std::size_t>(got));
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(master);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::vector<std::string> short_run(const fs::path& store) {
  return {kHarness,
          "run",
          "--nodes=3",
          "--time-limit=5s",
          "--nemesis=partition",
          "--nemesis-interval=2s",
          "--rate=50",
          "--recovery-time=1s",
          "--seed=7",
          "--store=" + store.string()};
}

}  // namespace

TEST(ProgressLine, TextHasCountsRateActiveFaultsAndTimeLeftCutToTheWidth) {
  std::ostringstream out;
  harness::ProgressLine line(
      out, true, std::chrono::seconds(60), [] { return harness::OperationCounts{}; }, 200);
  line.note_nemesis(false, "start-partition");  // the invocation alone: not active yet
  line.note_nemesis(true, "start-partition");
  line.note_nemesis(true, "start-kill");
  line.note_nemesis(false, "stop-kill");
  const harness::OperationCounts counts{120, 100, 15, 3};
  EXPECT_EQ(line.render(std::chrono::milliseconds(12'400), counts, 41.6),
            "12/60 s  120 ops: 100 ok 15 fail 3 info  42 ok/s  faults: partition  48 s left");
  line.note_nemesis(false, "stop-partition");
  EXPECT_NE(line.render(std::chrono::seconds(70), counts, 0).find("faults: none  0 s left"), std::string::npos);
  harness::ProgressLine narrow(
      out, true, std::chrono::seconds(60), [] { return harness::OperationCounts{}; }, 30);
  EXPECT_EQ(narrow.render(std::chrono::seconds(1), counts, 0).size(), 29u);
  // Disabled: start and stop write nothing.
  std::ostringstream quiet;
  harness::ProgressLine disabled(
      quiet, false, std::chrono::seconds(1), [] { return harness::OperationCounts{}; }, 80);
  disabled.start(std::chrono::steady_clock::now());
  disabled.stop();
  EXPECT_TRUE(quiet.str().empty());
}

TEST(ProgressLine, RerunCommandReplacesTheSeedAndQuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(harness::rerun_command({"build/bin/harness", "run", "--seed", "5", "--time-limit=20s"}, 9),
            "build/bin/harness run --time-limit=20s --seed 9");
  EXPECT_EQ(harness::rerun_command({"harness", "run", "--seed=5", "--target-arg=--bug=x y", "--name=it's"}, 5),
            "harness run '--target-arg=--bug=x y' '--name=it'\\''s' --seed 5");
}

TEST(ProgressLine, HarnessRunRedrawsItOnATerminalAndNeverIntoAPipe) {
  TemporaryDirectory directory("progress");
  const TerminalRun terminal = run_in_terminal(short_run(directory.path / "terminal"), 120s);
  ASSERT_EQ(terminal.exit_code, 0) << terminal.output;
  // Redrawn in place several times: carriage return, erase line, the text.
  const std::regex redraw(
      "\r\x1b\\[K[0-9]+/5 s  [0-9]+ ops: [0-9]+ ok [0-9]+ fail [0-9]+ info  [0-9]+ ok/s  "
      "faults: [a-z,]+  [0-9]+ s left");
  const auto lines = std::distance(std::sregex_iterator(terminal.output.begin(), terminal.output.end(), redraw),
                                   std::sregex_iterator());
  EXPECT_GE(lines, 5) << terminal.output;
  EXPECT_NE(terminal.output.find("faults: partition"), std::string::npos) << terminal.output;
  // Erased before the summary, which starts on a clean line.
  EXPECT_NE(terminal.output.find("\r\x1b[K\r\n"), std::string::npos) << terminal.output;
  EXPECT_NE(terminal.output.find("verdict: valid"), std::string::npos) << terminal.output;
  EXPECT_NE(terminal.output.find("open the report: xdg-open "), std::string::npos);
  EXPECT_NE(terminal.output.find("rerun this test: " + kHarness + " run --nodes=3"), std::string::npos);
  EXPECT_NE(terminal.output.find("--seed 7\r\n"), std::string::npos) << terminal.output;

  control::LocalProcessSpec spec;
  spec.argv = short_run(directory.path / "pipe");
  const auto piped = control::run_local(spec, 120s, "localhost");
  ASSERT_EQ(piped.status.exit_code, 0) << describe(piped);
  EXPECT_EQ(piped.out.find('\r'), std::string::npos) << piped.out;
  EXPECT_EQ(piped.out.find("\x1b"), std::string::npos) << piped.out;
  EXPECT_EQ(piped.out.find(" s left"), std::string::npos) << piped.out;
  EXPECT_EQ(piped.out.find("open the report"), std::string::npos) << piped.out;
  EXPECT_NE(piped.out.find("rerun this test: "), std::string::npos) << piped.out;
}
