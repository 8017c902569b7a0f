// RequestRunner's concurrency control: multiplicative decrease on 429/503, additive
// increase after quiet periods (issue 13), never above max_connections.
#include "daemon/request_runner.h"

#include <doctest/doctest.h>

#include <vector>

#include "core/log.h"
#include "tests/support/fake_clock.h"

using namespace scimsync;

namespace {

TargetResponse Status(int code) {
  TargetResponse r;
  r.status = code;
  return r;
}

struct RunnerRig {
  FakeClock clock;
  ExecutorOptions options;
  // The logger keeps the sink after the rig is gone: a static one.
  static inline std::vector<std::string> log;
  RunnerRig() {
    options.max_connections = 8;
    options.recover_after = std::chrono::seconds(10);
    log.clear();
    Log().CaptureForTest(&log);
  }
  // One request answered 429 once, then 200.
  void Throttled(RequestRunner& runner) {
    int n = 0;
    runner.Send(Verb::kGet, "get x", [&] { return Status(n++ == 0 ? 429 : 200); });
  }
  void Ok(RequestRunner& runner) {
    runner.Send(Verb::kGet, "get x", [] { return Status(200); });
  }
};

TEST_CASE("concurrency halves on a throttle and grows back by one per quiet period") {
  RunnerRig rig;
  RequestRunner runner(rig.clock, rig.options);
  CHECK(runner.workers() == 8);
  rig.Throttled(runner);
  CHECK(runner.workers() == 4);
  rig.Throttled(runner);
  CHECK(runner.workers() == 2);

  // Answers right after a throttle do not raise it.
  rig.Ok(runner);
  CHECK(runner.workers() == 2);

  // The retry waited; count quiet time from the last throttle.
  rig.clock.Advance(std::chrono::seconds(10));
  rig.Ok(runner);
  CHECK(runner.workers() == 3);
  rig.Ok(runner);  // not again until another quiet period has passed
  CHECK(runner.workers() == 3);
  for (int i = 0; i < 10; ++i) {
    rig.clock.Advance(std::chrono::seconds(10));
    rig.Ok(runner);
  }
  CHECK(runner.workers() == 8);  // never above max_connections

  // A new throttle halves again, and resets the quiet period.
  rig.Throttled(runner);
  CHECK(runner.workers() == 4);
  rig.clock.Advance(std::chrono::seconds(5));
  rig.Ok(runner);
  CHECK(runner.workers() == 4);
  bool raised_logged = false;
  for (const auto& l : rig.log) {
    if (l.find("event=concurrency_raised") != std::string::npos &&
        l.find("concurrency=3") != std::string::npos) {
      raised_logged = true;
    }
  }
  CHECK(raised_logged);
}

TEST_CASE("without throttling the worker count stays at max_connections") {
  RunnerRig rig;
  rig.options.max_connections = 3;
  RequestRunner runner(rig.clock, rig.options);
  for (int i = 0; i < 5; ++i) {
    rig.clock.Advance(std::chrono::seconds(30));
    rig.Ok(runner);
  }
  CHECK(runner.workers() == 3);
}

}  // namespace
