// A Clock whose time only moves when someone sleeps or the test advances it, so
// backoffs and schedules run instantly and deterministically. Thread-safe.
#pragma once

#include <mutex>

#include "core/clock.h"

namespace scimsync {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(SysTime start = SysTime(std::chrono::hours(24 * 365 * 50)))
      : wall_(start) {}
  SysTime Now() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point Steady() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }
  void SleepFor(Millis d) override { Advance(d); }
  void Advance(Millis d) {
    std::lock_guard lock(mu_);
    wall_ += d;
    steady_ += d;
    slept_ += d;
  }
  Millis Slept() const {
    std::lock_guard lock(mu_);
    return slept_;
  }

 private:
  mutable std::mutex mu_;
  SysTime wall_;
  std::chrono::steady_clock::time_point steady_{};
  Millis slept_{0};
};

}  // namespace scimsync
