// The live progress line of `harness run` on a terminal: elapsed/limit, client operations
// ok/fail/info so far, ok/s over the last update, the faults active now and the time left,
// redrawn in place (carriage return, erase to the end of the line) twice a second and erased
// when the load ends. Disabled, it writes nothing at all (logs and pipes stay clean).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "chaosbench/harness/history_recorder.h"

namespace chaosbench::harness {

// Whether --progress auto shows the line: standard output is a terminal that is not "dumb".
bool standard_output_is_terminal();

// The terminal's width in columns (80 when it cannot be asked).
int terminal_columns();

class ProgressLine {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressLine(std::ostream& out, bool enabled, std::chrono::milliseconds time_limit,
               std::function<OperationCounts()> counts, int columns);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // A nemesis operation as recorded: the completion of "start-KIND" makes KIND active, the
  // invocation of "stop-KIND" ends it.
  void note_nemesis(bool completion, const std::string& function);
  // Starts redrawing from `start` (the workload's time 0); stop() erases the line. Idempotent.
  void start(Clock::time_point start);
  void stop();

  // The line at `elapsed` with `ok_per_second`, cut to `columns` (no newline, no escapes).
  std::string render(Clock::duration elapsed, const OperationCounts& counts, double ok_per_second) const;

 private:
  void draw_loop();
  std::ostream& out_;
  bool enabled_;
  std::chrono::milliseconds time_limit_;
  std::function<OperationCounts()> counts_;
  int columns_;
  mutable std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stopping_ = false;
  std::set<std::string> active_faults_;
  Clock::time_point start_;
  std::thread thread_;
};

}  // namespace chaosbench::harness
