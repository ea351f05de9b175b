// Clock: an injected source of time in nanoseconds. Protocol cores never read
// the system clock themselves; the runtime passes MonotonicClock (or, for the
// lease-wall-clock bug, WallClock) and the simulator passes a ManualClock.
#pragma once

#include <chrono>
#include <cstdint>

namespace chaosbench::targets {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_nanoseconds() const = 0;
};

// std::chrono::steady_clock: immune to wall-clock steps and libfaketime offsets.
class MonotonicClock final : public Clock {
 public:
  std::int64_t now_nanoseconds() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// std::chrono::system_clock: follows clock steps and skew (what libfaketime moves).
class WallClock final : public Clock {
 public:
  std::int64_t now_nanoseconds() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to: deterministic simulation time.
class ManualClock final : public Clock {
 public:
  std::int64_t now_nanoseconds() const override { return now_; }
  void set(std::int64_t nanoseconds) { now_ = nanoseconds; }
  void advance(std::int64_t nanoseconds) { now_ += nanoseconds; }

 private:
  std::int64_t now_ = 0;
};

}  // namespace chaosbench::targets
