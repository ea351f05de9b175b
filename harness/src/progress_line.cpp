#include "chaosbench/harness/progress_line.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ostream>

#include <fmt/format.h>

namespace chaosbench::harness {

bool standard_output_is_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) == 1 && !(term && std::strcmp(term, "dumb") == 0);
}

int terminal_columns() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

ProgressLine::ProgressLine(std::ostream& out, bool enabled, std::chrono::milliseconds time_limit,
                           std::function<OperationCounts()> counts, int columns)
    : out_(out), enabled_(enabled), time_limit_(time_limit), counts_(std::move(counts)), columns_(columns) {}

ProgressLine::~ProgressLine() { stop(); }

void ProgressLine::note_nemesis(bool completion, const std::string& function) {
  std::lock_guard lock(mutex_);
  if (completion && function.rfind("start-", 0) == 0) active_faults_.insert(function.substr(6));
  if (!completion && function.rfind("stop-", 0) == 0) active_faults_.erase(function.substr(5));
}

void ProgressLine::start(Clock::time_point start) {
  if (!enabled_ || thread_.joinable()) return;
  start_ = start;
  thread_ = std::thread([this] { draw_loop(); });
}

void ProgressLine::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_changed_.notify_all();
  thread_.join();
  out_ << "\r\033[K" << std::flush;
}

std::string ProgressLine::render(Clock::duration elapsed, const OperationCounts& counts, double ok_per_second) const {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const double limit = std::chrono::duration<double>(time_limit_).count();
  std::string faults;
  {
    std::lock_guard lock(mutex_);
    for (const std::string& fault : active_faults_) faults += (faults.empty() ? "" : ",") + fault;
  }
  std::string line =
      fmt::format("{:.0f}/{:.0f} s  {} ops: {} ok {} fail {} info  {:.0f} ok/s  faults: {}  {:.0f} s left", seconds,
                  limit, counts.invoked, counts.ok, counts.fail, counts.info, ok_per_second,
                  faults.empty() ? "none" : faults, std::max(0.0, limit - seconds));
  // One column short of the width: a line that fills it would wrap on some terminals.
  const std::size_t width = static_cast<std::size_t>(std::max(columns_ - 1, 10));
  if (line.size() > width) line.resize(width);
  return line;
}

void ProgressLine::draw_loop() {
  constexpr auto kInterval = std::chrono::milliseconds(500);
  OperationCounts previous;
  Clock::time_point previous_at = start_;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const Clock::time_point now = Clock::now();
    const OperationCounts counts = counts_();
    const double interval = std::chrono::duration<double>(now - previous_at).count();
    const double ok_per_second = interval > 0 ? static_cast<double>(counts.ok - previous.ok) / interval : 0;
    previous = counts;
    previous_at = now;
    out_ << "\r\033[K" << render(now - start_, counts, ok_per_second) << std::flush;
    lock.lock();
    stop_changed_.wait_for(lock, kInterval, [this] { return stopping_; });
  }
}

}  // namespace chaosbench::harness
