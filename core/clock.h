// Time is explicit: everything that reads the time or sleeps takes a Clock, so tests
// drive schedules and backoffs with a fake one.
#pragma once

#include <chrono>

namespace scimsync {

using SysTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for state rows, logs and Retry-After HTTP dates.
  virtual SysTime Now() const = 0;
  // Monotonic time, for durations and deadlines.
  virtual std::chrono::steady_clock::time_point Steady() const = 0;
  virtual void SleepFor(Millis d) = 0;
};

class SystemClock final : public Clock {
 public:
  SysTime Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::now();
  }
  void SleepFor(Millis d) override;
  static SystemClock& Instance();
};

}  // namespace scimsync
