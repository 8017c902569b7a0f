#include "core/progress.h"

#include <cmath>
#include <cstdio>

namespace scimsync {
namespace {

std::string Duration(double seconds) {
  long s = std::lround(std::ceil(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", s);
  }
  return buf;
}

}  // namespace

std::string ProgressMeter::Line(const Progress& p, Time now) {
  if (p.phase != phase_) {
    phase_ = p.phase;
    phase_start_ = now;
    requests_at_start_ = p.requests;
    done_at_start_ = p.done;
  }
  std::string line = p.phase;
  if (p.total > 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %ld/%ld (%ld%%)", p.done, p.total, p.done * 100 / p.total);
    line += buf;
  }
  double elapsed = std::chrono::duration<double>(now - phase_start_).count();
  if (elapsed >= 1.0) {
    double rps = static_cast<double>(p.requests - requests_at_start_) / elapsed;
    char buf[48];
    std::snprintf(buf, sizeof buf, ", %.0f req/s", rps);
    line += buf;
    double per_second = static_cast<double>(p.done - done_at_start_) / elapsed;
    if (p.total > 0 && p.done < p.total && per_second > 0) {
      line += ", about " + Duration(static_cast<double>(p.total - p.done) / per_second) + " left";
    }
  }
  return line;
}

}  // namespace scimsync
