// The daemon's schedule rules (daemon/schedule.h), driven by a fake clock and a
// scripted random source.
#include "daemon/schedule.h"

#include <doctest/doctest.h>

#include <deque>

#include "tests/support/fake_clock.h"

namespace scimsync {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Returns the scripted values in order, then 0.5 (no jitter) forever.
RandomSource Scripted(std::deque<double> values) {
  auto q = std::make_shared<std::deque<double>>(std::move(values));
  return [q] {
    if (q->empty()) return 0.5;
    double v = q->front();
    q->pop_front();
    return v;
  };
}

ScheduleOptions Opts(Millis interval, double jitter = 0.0) {
  ScheduleOptions o;
  o.interval = interval;
  o.jitter = jitter;
  return o;
}

// One cycle on the fake clock: starts now, lasts `took`, ends as `result`.
void RunCycle(FakeClock& clock, Schedule& s, Millis took, CycleResult result) {
  SteadyTime start = clock.Steady();
  clock.Advance(took);
  s.CycleFinished(start, clock.Steady(), result);
}

// Sleeps the fake clock until the schedule says the next cycle is due.
void SleepUntilDue(FakeClock& clock, const Schedule& s) {
  if (s.NextStart() > clock.Steady()) {
    clock.Advance(std::chrono::duration_cast<Millis>(s.NextStart() - clock.Steady()));
  }
}

TEST_CASE("the first cycle is due at once") {
  FakeClock clock;
  Schedule s(Opts(minutes(40), 0.05), Scripted({}));
  CHECK(s.NextStart() <= clock.Steady());
  CHECK(s.consecutive_stops() == 0);
  CHECK(s.backoff() == Millis(0));
}

TEST_CASE("the next cycle starts one interval after the previous START") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  SteadyTime start = clock.Steady();
  RunCycle(clock, s, minutes(3), CycleResult::kOk);
  CHECK(s.NextStart() == start + minutes(40));  // not end + 40m
  // Over many cycles the period does not drift by the cycle duration.
  for (int i = 0; i < 10; ++i) {
    SleepUntilDue(clock, s);
    RunCycle(clock, s, minutes(7), CycleResult::kOk);
  }
  CHECK(s.NextStart() == start + 11 * minutes(40));
}

TEST_CASE("a partial cycle counts as completed, not as stopped") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  SteadyTime start = clock.Steady();
  RunCycle(clock, s, seconds(30), CycleResult::kPartial);
  CHECK(s.NextStart() == start + minutes(40));
  CHECK(s.consecutive_stops() == 0);
}

TEST_CASE("jitter: the extremes of the random source map to -j and +j of the interval") {
  FakeClock clock;
  Schedule s(Opts(minutes(40), 0.05), Scripted({0.0, 0.999999999, 0.5, 0.25}));
  SteadyTime start = clock.Steady();
  RunCycle(clock, s, seconds(10), CycleResult::kOk);
  CHECK(s.NextStart() == start + minutes(40) - minutes(2));  // u=0 -> -5% of 40m
  SleepUntilDue(clock, s);
  start = clock.Steady();
  RunCycle(clock, s, seconds(10), CycleResult::kOk);
  CHECK(s.NextStart() == start + minutes(42));  // u->1 -> +5% (rounded to the ms)
  SleepUntilDue(clock, s);
  start = clock.Steady();
  RunCycle(clock, s, seconds(10), CycleResult::kOk);
  CHECK(s.NextStart() == start + minutes(40));  // u=0.5 -> no offset
  SleepUntilDue(clock, s);
  start = clock.Steady();
  RunCycle(clock, s, seconds(10), CycleResult::kOk);
  CHECK(s.NextStart() == start + minutes(39));  // u=0.25 -> -2.5%
}

TEST_CASE("jitter stays within [-j, +j] of the interval over many draws and uses both sides") {
  FakeClock clock;
  const Millis interval = minutes(40);
  const double j = 0.05;
  Schedule s(Opts(interval, j), MakeRandomSource(42));
  const Millis bound = Millis(static_cast<long>(interval.count() * j));
  Millis lo = Millis::max(), hi = Millis::min();
  long below = 0, above = 0;
  double sum = 0;
  const int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    SteadyTime start = clock.Steady();
    RunCycle(clock, s, seconds(1), CycleResult::kOk);
    Millis offset = std::chrono::duration_cast<Millis>(s.NextStart() - start) - interval;
    lo = std::min(lo, offset);
    hi = std::max(hi, offset);
    if (offset < Millis(0)) ++below;
    if (offset > Millis(0)) ++above;
    sum += static_cast<double>(offset.count());
    SleepUntilDue(clock, s);
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  // Uniform: the draws reach close to both ends and the mean is close to 0.
  CHECK(lo < -bound * 9 / 10);
  CHECK(hi > bound * 9 / 10);
  CHECK(below > kDraws * 45 / 100);
  CHECK(above > kDraws * 45 / 100);
  CHECK(std::abs(sum / kDraws) < bound.count() * 0.03);
}

TEST_CASE("jitter is clamped to half the interval") {
  FakeClock clock;
  Schedule s(Opts(minutes(10), 3.0), Scripted({0.0}));
  CHECK(s.options().jitter == doctest::Approx(0.5));
  SteadyTime start = clock.Steady();
  RunCycle(clock, s, seconds(1), CycleResult::kOk);
  CHECK(s.NextStart() == start + minutes(5));
}

TEST_CASE("an overrun cycle is followed by the next one at once, never overlapping") {
  FakeClock clock;
  Schedule s(Opts(minutes(40), 0.05), Scripted({0.0}));
  RunCycle(clock, s, minutes(55), CycleResult::kOk);
  // start + 38m is in the past: due at the end of the cycle, not before it.
  CHECK(s.NextStart() == clock.Steady());
  // Exactly at the interval (jitter 0): due at the end as well.
  Schedule t(Opts(minutes(40)), Scripted({}));
  SteadyTime start = clock.Steady();
  RunCycle(clock, t, minutes(40), CycleResult::kOk);
  CHECK(t.NextStart() == start + minutes(40));
  CHECK(t.NextStart() == clock.Steady());
}

TEST_CASE("an end before the start is treated as the start") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  SteadyTime start = clock.Steady();
  s.CycleFinished(start, start - seconds(5), CycleResult::kOk);
  CHECK(s.NextStart() == start + minutes(40));
}

TEST_CASE("stopped cycles back off 1m, 2m, 4m ... from the END, capped at the interval") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  const Millis expected[] = {minutes(1), minutes(2),  minutes(4),  minutes(8),
                             minutes(16), minutes(32), minutes(40), minutes(40)};
  int n = 0;
  for (Millis want : expected) {
    RunCycle(clock, s, seconds(20), CycleResult::kStopped);
    ++n;
    CHECK(s.consecutive_stops() == n);
    CHECK(s.backoff() == want);
    CHECK(s.NextStart() == clock.Steady() + want);  // clock is at the end of the cycle
    SleepUntilDue(clock, s);
  }
}

TEST_CASE("a long outage keeps the backoff at the interval without overflow") {
  FakeClock clock;
  Schedule s(Opts(std::chrono::hours(2)), Scripted({}));
  for (int i = 0; i < 500; ++i) {
    RunCycle(clock, s, seconds(1), CycleResult::kStopped);
    SleepUntilDue(clock, s);
  }
  CHECK(s.consecutive_stops() == 500);
  CHECK(s.backoff() == std::chrono::hours(2));
}

TEST_CASE("a completed cycle resets the backoff") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  RunCycle(clock, s, seconds(5), CycleResult::kStopped);
  SleepUntilDue(clock, s);
  RunCycle(clock, s, seconds(5), CycleResult::kStopped);
  CHECK(s.backoff() == minutes(2));
  SleepUntilDue(clock, s);
  SteadyTime start = clock.Steady();
  RunCycle(clock, s, seconds(5), CycleResult::kOk);
  CHECK(s.consecutive_stops() == 0);
  CHECK(s.backoff() == Millis(0));
  CHECK(s.NextStart() == start + minutes(40));
  SleepUntilDue(clock, s);
  RunCycle(clock, s, seconds(5), CycleResult::kStopped);
  CHECK(s.backoff() == minutes(1));  // starts over at 1m
}

TEST_CASE("a short interval caps the backoff below one minute") {
  FakeClock clock;
  Schedule s(Opts(seconds(3)), Scripted({}));
  RunCycle(clock, s, Millis(200), CycleResult::kStopped);
  CHECK(s.backoff() == seconds(3));
  CHECK(s.NextStart() == clock.Steady() + seconds(3));
}

TEST_CASE("the backoff is jittered by the same fraction") {
  FakeClock clock;
  Schedule s(Opts(minutes(40), 0.1), Scripted({0.0, 1.0}));
  RunCycle(clock, s, seconds(1), CycleResult::kStopped);
  CHECK(s.NextStart() == clock.Steady() + seconds(54));  // 1m - 10%
  SleepUntilDue(clock, s);
  RunCycle(clock, s, seconds(1), CycleResult::kStopped);
  CHECK(s.NextStart() == clock.Steady() + seconds(132));  // 2m + 10%
}

TEST_CASE("sync now makes the next cycle due at once and keeps the backoff") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  RunCycle(clock, s, seconds(5), CycleResult::kStopped);
  clock.Advance(seconds(10));
  s.RunNow(clock.Steady());
  CHECK(s.NextStart() == clock.Steady());
  CHECK(s.consecutive_stops() == 1);
  RunCycle(clock, s, seconds(5), CycleResult::kStopped);
  CHECK(s.backoff() == minutes(2));
}

TEST_CASE("sync now survives a reconfigure before the cycle runs") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  RunCycle(clock, s, seconds(5), CycleResult::kOk);
  s.RunNow(clock.Steady());
  s.Reconfigure(Opts(minutes(20)));
  CHECK(s.NextStart() == clock.Steady());
}

TEST_CASE("reconfigure recomputes the next start from the last cycle") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  SteadyTime start = clock.Steady();
  RunCycle(clock, s, minutes(1), CycleResult::kOk);
  s.Reconfigure(Opts(minutes(10)));
  CHECK(s.NextStart() == start + minutes(10));
  // Shorter than the time already gone: due now (the end of the last cycle).
  s.Reconfigure(Opts(seconds(30)));
  CHECK(s.NextStart() == clock.Steady());
}

TEST_CASE("reconfigure keeps the backoff step and re-caps it") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  for (int i = 0; i < 4; ++i) {
    RunCycle(clock, s, seconds(1), CycleResult::kStopped);
    SleepUntilDue(clock, s);
  }
  CHECK(s.backoff() == minutes(8));
  s.Reconfigure(Opts(minutes(5)));
  CHECK(s.consecutive_stops() == 4);
  CHECK(s.backoff() == minutes(5));
}

TEST_CASE("a zero or negative interval is treated as the smallest one") {
  Schedule s(Opts(Millis(0)), Scripted({}));
  CHECK(s.options().interval == Millis(1));
}

TEST_CASE("seeded random sources are reproducible and within [0, 1)") {
  RandomSource a = MakeRandomSource(7), b = MakeRandomSource(7);
  for (int i = 0; i < 1000; ++i) {
    double x = a();
    CHECK(x == b());
    CHECK(x >= 0.0);
    CHECK(x < 1.0);
  }
}

TEST_CASE("triggers: start, then interval, signal") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  CHECK(s.NextTrigger() == Trigger::kStart);
  RunCycle(clock, s, seconds(1), CycleResult::kOk);
  CHECK(s.NextTrigger() == Trigger::kInterval);
  s.RunNow(clock.Steady());
  CHECK(s.NextTrigger() == Trigger::kSignal);
  CHECK(std::string(TriggerName(Trigger::kWatch)) == "watch");
}

TEST_CASE("watch: a burst of changes is one cycle, quiet time after the last change") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  RunCycle(clock, s, seconds(1), CycleResult::kOk);
  clock.Advance(minutes(5));
  SteadyTime first = clock.Steady();
  s.SourceChanged(clock.Steady());
  CHECK(s.NextStart() == first + Millis(500));
  CHECK(s.NextTrigger() == Trigger::kWatch);
  clock.Advance(Millis(300));
  s.SourceChanged(clock.Steady());  // same burst: moves the start
  CHECK(s.NextStart() == first + Millis(800));
  SleepUntilDue(clock, s);
  SteadyTime start = clock.Steady();
  RunCycle(clock, s, seconds(2), CycleResult::kOk);
  CHECK_FALSE(s.change_pending());
  CHECK(s.NextStart() == start + minutes(40));  // the interval counts from this cycle
  CHECK(s.NextTrigger() == Trigger::kInterval);
}

TEST_CASE("watch: a source that never stops changing still gets a cycle after watch_max_delay") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  RunCycle(clock, s, seconds(1), CycleResult::kOk);
  SteadyTime first = clock.Steady();
  for (int i = 0; i < 40; ++i) {
    s.SourceChanged(clock.Steady());
    clock.Advance(Millis(200));
  }
  CHECK(s.NextStart() == first + seconds(5));
}

TEST_CASE("watch: a change during a cycle makes one more cycle right after it, never overlapping") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  SteadyTime start = clock.Steady();
  clock.Advance(seconds(2));
  s.SourceChanged(clock.Steady());  // while the first cycle runs
  clock.Advance(seconds(1));
  s.SourceChanged(clock.Steady());
  clock.Advance(seconds(10));
  SteadyTime end = clock.Steady();
  s.CycleFinished(start, end, CycleResult::kOk);
  CHECK(s.change_pending());
  CHECK(s.NextStart() == end);  // quiet time long over; not before the end
  CHECK(s.NextTrigger() == Trigger::kWatch);
}

TEST_CASE("watch: changes before a cycle started are seen by it") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  s.SourceChanged(clock.Steady());
  clock.Advance(Millis(1));
  RunCycle(clock, s, seconds(3), CycleResult::kOk);
  CHECK_FALSE(s.change_pending());
}

TEST_CASE("watch: a change does not shorten the backoff after a stopped cycle") {
  FakeClock clock;
  Schedule s(Opts(minutes(40)), Scripted({}));
  RunCycle(clock, s, seconds(1), CycleResult::kStopped);
  SteadyTime retry = s.NextStart();
  s.SourceChanged(clock.Steady());
  CHECK(s.NextStart() == retry);
  CHECK(s.NextTrigger() == Trigger::kInterval);
}

}  // namespace
}  // namespace scimsync
