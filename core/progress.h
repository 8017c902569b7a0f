// Progress of a cycle, for people: the live line of `sync` on a terminal and the
// STATUS= text under systemd. Never logged (logs carry the cycle_end counters).
#pragma once

#include <chrono>
#include <string>

namespace scimsync {

struct Progress {
  std::string phase;   // "reading source", "reading target", "resolving", "syncing"
  long done = 0;       // operations done in this phase (0/0 when not counted)
  long total = 0;
  long requests = 0;   // requests sent to the target so far in this cycle
  long long cycle = 0; // the cycle's id (0: a dry run)
};

// Turns Progress reports into one line: "syncing 1200/5000 (24%) 310 req/s, about
// 12s left". Rates are measured from the first report of the phase.
class ProgressMeter {
 public:
  using Time = std::chrono::steady_clock::time_point;
  std::string Line(const Progress& p, Time now);

 private:
  std::string phase_;
  Time phase_start_{};
  long requests_at_start_ = 0;
  long done_at_start_ = 0;
};

}  // namespace scimsync
