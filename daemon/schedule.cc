#include "daemon/schedule.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

namespace scimsync {

RandomSource MakeRandomSource(std::uint64_t seed) {
  // shared_ptr: std::function needs a copyable callable.
  auto engine = std::make_shared<std::mt19937_64>(seed);
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

RandomSource MakeRandomSource() {
  std::random_device rd;
  return MakeRandomSource((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
}

Schedule::Schedule(const ScheduleOptions& options, RandomSource random)
    : options_(options), random_(std::move(random)) {
  Reconfigure(options);
}

void Schedule::Reconfigure(const ScheduleOptions& options) {
  options_ = options;
  options_.jitter = std::clamp(options_.jitter, 0.0, 0.5);
  if (options_.interval <= Millis(0)) options_.interval = Millis(1);
  if (options_.first_backoff <= Millis(0)) options_.first_backoff = Millis(1);
  Compute();
}

const char* TriggerName(Trigger t) {
  switch (t) {
    case Trigger::kStart: return "start";
    case Trigger::kInterval: return "interval";
    case Trigger::kWatch: return "watch";
    case Trigger::kSignal: return "signal";
  }
  return "interval";
}

void Schedule::CycleFinished(SteadyTime start, SteadyTime end, CycleResult result) {
  if (end < start) end = start;
  last_ = LastCycle{start, end, result};
  run_now_ = false;
  // The cycle's read saw every change made before it started.
  if (burst_) {
    if (burst_->last < start) {
      burst_.reset();
    } else {
      burst_->first = std::max(burst_->first, end);
    }
  }
  if (result == CycleResult::kStopped) {
    ++consecutive_stops_;
  } else {
    consecutive_stops_ = 0;
  }
  Compute();
}

void Schedule::SourceChanged(SteadyTime now) {
  if (!burst_) {
    burst_ = Burst{now, now};
  } else {
    burst_->last = std::max(burst_->last, now);
  }
}

std::optional<SteadyTime> Schedule::WatchDue() const {
  if (!burst_) return std::nullopt;
  SteadyTime due = std::min(burst_->last + options_.watch_quiet,
                            burst_->first + options_.watch_max_delay);
  if (last_) due = std::max(due, last_->end);
  // After a stopped cycle the backoff rules: next_ is its end + backoff.
  if (consecutive_stops_ > 0 && !run_now_) due = std::max(due, next_);
  return due;
}

SteadyTime Schedule::NextStart() const {
  std::optional<SteadyTime> w = WatchDue();
  return w ? std::min(next_, *w) : next_;
}

Trigger Schedule::NextTrigger() const {
  std::optional<SteadyTime> w = WatchDue();
  if (run_now_ && (!w || next_ <= *w)) return Trigger::kSignal;
  if (!last_) return Trigger::kStart;
  if (w && *w < next_) return Trigger::kWatch;
  return Trigger::kInterval;
}

void Schedule::RunNow(SteadyTime now) {
  run_now_ = true;
  next_ = now;
}

Millis Schedule::Jittered(Millis base) {
  if (options_.jitter <= 0.0) return base;
  double u = random_ ? random_() : 0.5;
  u = std::clamp(u, 0.0, 1.0);
  // Uniform in [-jitter, +jitter] * base.
  double offset = (2.0 * u - 1.0) * options_.jitter * static_cast<double>(base.count());
  return base + Millis(std::llround(offset));
}

void Schedule::Compute() {
  // Backoff step from the number of stopped cycles in a row: 1m, 2m, 4m, ...
  // capped at the interval. The doubling stops once the cap is reached, so a
  // long outage never overflows the shift.
  backoff_ = Millis(0);
  if (consecutive_stops_ > 0) {
    Millis b = options_.first_backoff;
    for (int i = 1; i < consecutive_stops_ && b < options_.interval; ++i) b *= 2;
    backoff_ = std::min(b, options_.interval);
  }
  if (run_now_) return;  // keeps the time RunNow() set
  if (!last_) {
    next_ = SteadyTime{};  // never ran: due at once
    return;
  }
  SteadyTime next = consecutive_stops_ > 0 ? last_->end + Jittered(backoff_)
                                           : last_->start + Jittered(options_.interval);
  next_ = std::max(next, last_->end);  // overrun: at once, never overlapping
}

}  // namespace scimsync
