#include "core/clock.h"

#include <thread>

namespace scimsync {

void SystemClock::SleepFor(Millis d) { std::this_thread::sleep_for(d); }

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace scimsync
