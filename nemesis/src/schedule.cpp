#include "chaosbench/nemesis/schedule.h"

#include <algorithm>
#include <random>

namespace chaosbench::nemesis {
namespace {

// A duration of `fraction_low`..`fraction_high` intervals, drawn with integer
// arithmetic so every standard library gives the same schedule.
std::chrono::milliseconds draw(std::mt19937_64& random, std::chrono::milliseconds interval, int percent_low,
                               int percent_high) {
  const auto percent =
      percent_low + static_cast<int>(random() % static_cast<std::uint64_t>(percent_high - percent_low + 1));
  return std::chrono::milliseconds(interval.count() * percent / 100);
}

}  // namespace

std::vector<NemesisEvent> build_schedule(const std::vector<FaultKind>& faults, std::chrono::milliseconds interval,
                                         std::chrono::milliseconds duration, std::uint64_t seed) {
  std::vector<NemesisEvent> events;
  if (interval.count() <= 0) return events;
  for (FaultKind kind : faults) {
    std::mt19937_64 random(seed * 1000003u + static_cast<std::uint64_t>(kind) * 7919u + 17u);
    auto at = draw(random, interval, 30, 100);
    while (at < duration) {
      events.push_back(NemesisEvent{at, kind, true, random()});
      at += draw(random, interval, 50, 100);
      if (at >= duration) break;
      events.push_back(NemesisEvent{at, kind, false, 0});
      at += draw(random, interval, 50, 150);
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const NemesisEvent& a, const NemesisEvent& b) { return a.at < b.at; });
  return events;
}

}  // namespace chaosbench::nemesis
