#include "runtime/logger.h"

#include <unistd.h>

#include <chrono>
#include <ctime>

namespace chaosbench::targets {

void Logger::write(std::string_view text) {
  if (!enabled_) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto milliseconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm calendar{};
  gmtime_r(&seconds, &calendar);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &calendar);
  std::string line =
      fmt::format("{}.{:03d}Z {} {} term={} {}\n", stamp, static_cast<int>(milliseconds), node_id_, role_, term_, text);
  std::string_view remaining = line;
  while (!remaining.empty()) {
    ssize_t written = ::write(STDERR_FILENO, remaining.data(), remaining.size());
    if (written <= 0) return;  // stderr gone: nothing sensible left to report to
    remaining.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace chaosbench::targets
