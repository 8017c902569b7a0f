// When the daemon runs its next cycle: every rule of the schedule in one place.
//
// Rules (issue 4; DESIGN §8 `interval`, `interval_jitter`):
// - The first cycle runs at start: NextStart() is "now" until a cycle is recorded.
// - After a cycle that ran to its end (result ok or partial), the next one starts
//   `interval` after the START of that cycle, plus a jitter drawn uniformly from
//   [-jitter, +jitter] * interval. The jitter is symmetric so the mean period stays
//   exactly `interval` while instances that were started together drift apart; it
//   is drawn anew for every cycle and relative to the actual start, so it never
//   accumulates into a bias. `jitter` is clamped to [0, 0.5].
// - Overrun: if that time is not after the end of the cycle, the next cycle is due
//   at the end, i.e. at once. Cycles never overlap: the next start is never before
//   the previous end (the daemon runs them one at a time; this keeps the schedule
//   honest about it too).
// - After a stopped cycle (source unreadable, target down, credentials refused,
//   deletion guard, circuit breaker) the next attempt is `backoff` after the END of
//   that cycle (a target that times out slowly is not retried back to back). The
//   backoff is 1 min after the first stopped cycle and doubles after each further
//   one: 1m, 2m, 4m, ... capped at `interval`. The same jitter fraction is applied
//   to it. Any completed cycle resets the backoff.
// - "Sync now" (SIGUSR1) makes the next cycle due at once; the backoff is kept.
// - Watch (DESIGN §8 `[source] watch`): SourceChanged(now) opens or extends a burst
//   of changes. The burst's cycle is due `watch_quiet` after its last change (a
//   burst of edits is one cycle) but no later than `watch_max_delay` after its
//   first (a source that never stops changing still gets cycles), and never
//   earlier than the backoff after a stopped cycle allows (a change does not
//   hammer a target that is down). A cycle clears the changes that came before it
//   started (its read saw them); a change during a cycle makes the next cycle due
//   right after it ends (after the quiet time), which keeps one cycle at a time.
//   NextTrigger() says which rule made NextStart(): start, interval (also the
//   backoff retry), watch or signal.
// - Reconfigure (SIGHUP with a new interval/jitter) recomputes the next start from
//   the last recorded cycle with the new values; the backoff step is kept and
//   re-capped.
//
// Times are steady_clock points: the schedule must not jump with the wall clock
// (NTP steps, DST). The daemon converts to wall-clock time only for display.
// Pure arithmetic: no I/O, no sleeping; the random source is injected.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "core/clock.h"
#include "daemon/cycle.h"

namespace scimsync {

using SteadyTime = std::chrono::steady_clock::time_point;

// Returns a uniformly distributed value in [0, 1).
using RandomSource = std::function<double()>;
// A Mersenne twister seeded from std::random_device (production).
RandomSource MakeRandomSource();
// Deterministic, for tests and reproducible runs.
RandomSource MakeRandomSource(std::uint64_t seed);

struct ScheduleOptions {
  Millis interval{std::chrono::minutes(40)};  // > 0
  double jitter = 0.05;                       // fraction of the interval, clamped to [0, 0.5]
  Millis first_backoff{std::chrono::minutes(1)};
  Millis watch_quiet{500};       // a burst ends after this long without a change
  Millis watch_max_delay{5000};  // a burst's cycle starts at most this long after its first change
};

// What made a cycle start (`event=cycle_start trigger=...`).
enum class Trigger { kStart, kInterval, kWatch, kSignal };
const char* TriggerName(Trigger t);

class Schedule {
 public:
  Schedule(const ScheduleOptions& options, RandomSource random);

  // When the next cycle is due. Before any cycle was recorded: the steady clock's
  // epoch, which is in the past, so the first cycle runs at once.
  SteadyTime NextStart() const;
  // Which rule NextStart() comes from.
  Trigger NextTrigger() const;

  // The watch saw a change at `now` (rules above).
  void SourceChanged(SteadyTime now);
  bool change_pending() const { return burst_.has_value(); }

  // Records a finished cycle (start and end on the steady clock) and computes the
  // next start by the rules above. `end` before `start` is treated as `start`.
  void CycleFinished(SteadyTime start, SteadyTime end, CycleResult result);

  // "Sync now": the next cycle is due at `now`.
  void RunNow(SteadyTime now);

  // New interval and jitter; recomputes the next start from the last cycle.
  void Reconfigure(const ScheduleOptions& options);

  // The delay the current backoff step stands for (before jitter); zero when the
  // last cycle completed.
  Millis backoff() const { return backoff_; }
  int consecutive_stops() const { return consecutive_stops_; }
  const ScheduleOptions& options() const { return options_; }

 private:
  struct LastCycle {
    SteadyTime start, end;
    CycleResult result;
  };
  struct Burst {
    SteadyTime first, last;
  };
  void Compute();
  Millis Jittered(Millis base);
  std::optional<SteadyTime> WatchDue() const;

  ScheduleOptions options_;
  RandomSource random_;
  std::optional<LastCycle> last_;
  SteadyTime next_{};
  Millis backoff_{0};
  int consecutive_stops_ = 0;
  bool run_now_ = false;  // RunNow() until the next CycleFinished()
  std::optional<Burst> burst_;  // changes not yet seen by a cycle
};

}  // namespace scimsync
