#include "core/progress.h"

#include <doctest/doctest.h>

using namespace scimsync;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("progress line: counts, rate and time left from the start of the phase") {
  ProgressMeter m;
  ProgressMeter::Time t0{};
  CHECK(m.Line({"reading source", 0, 0, 0}, t0) == "reading source");
  CHECK(m.Line({"syncing", 0, 5000, 10}, t0 + seconds(1)) == "syncing 0/5000 (0%)");
  // 2 s into the phase: 1000 done, 600 requests since it began.
  CHECK(m.Line({"syncing", 1000, 5000, 610}, t0 + seconds(3)) ==
        "syncing 1000/5000 (20%), 300 req/s, about 8s left");
  CHECK(m.Line({"syncing", 1000, 50000, 610}, t0 + seconds(3)) ==
        "syncing 1000/50000 (2%), 300 req/s, about 1m38s left");
  CHECK(m.Line({"syncing", 5000, 5000, 3010}, t0 + seconds(11)) ==
        "syncing 5000/5000 (100%), 300 req/s");
  // A new phase starts its own clock.
  CHECK(m.Line({"reading target", 0, 0, 3010}, t0 + seconds(12)) == "reading target");
  CHECK(m.Line({"reading target", 0, 0, 3110}, t0 + milliseconds(14000)) ==
        "reading target, 50 req/s");
}
