// What the executor and its parts (daemon/executor.h) are told.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>

#include "core/clock.h"
#include "core/defaults.h"
#include "core/model.h"

namespace scimsync {

struct ExecutorOptions {
  int max_connections = defaults::kMaxConnections;  // worker threads; a 429 or 503 halves them,
                                    // quiet periods raise them again by one (AIMD)
  int members_per_request = defaults::kMembersPerRequest;  // membership PATCH chunk; halved on 413
  int max_retries = defaults::kMaxRetries;  // per request, on 5xx / timeout / reset / refused
                                    // connection; 429 and 503 get three times as many
  int max_failures_per_cycle = defaults::kMaxFailuresPerCycle;  // circuit breaker: objects in a row that failed
                                    // transiently (after their retries), all workers
  std::array<bool, kAttrCount> keep{};
  // Target behaviours (core/target_profile.h). false: a displayName never identifies
  // a group (lookups of groups are by externalId only).
  bool unique_group_names = true;
  // true: a 2xx DELETE locks the user on the target; the row stays with its target id,
  // disabled, and a re-hire is the re-activation PATCH (active: true).
  bool delete_locks = false;
  Millis retry_base{500};           // first retry wait; doubles, +-50% jitter
  Millis max_retry_wait{30000};     // longest single wait (Retry-After is capped here)
  // Outage breaker: when the target has given no usable answer (only 5xx, 429,
  // timeouts, resets) for this long, across all workers, the run stops. This bounds
  // the time spent on a target that is down whatever the number of objects.
  Millis max_outage{std::chrono::minutes(2)};
  // Concurrency recovery (additive increase): once no 429/503 has come for this
  // long, and as long since the last raise, one more worker, up to max_connections.
  Millis recover_after{std::chrono::seconds(10)};
  Millis failed_backoff{std::chrono::minutes(15)};  // after a reject: doubles per attempt
  Millis max_failed_backoff{std::chrono::hours(24)};
};

// When an object refused `attempts` times is tried again: failed_backoff doubling per
// attempt, at most max_failed_backoff.
inline SysTime FailedRetryAt(const ExecutorOptions& o, SysTime now, int attempts) {
  auto d = o.failed_backoff * (1L << std::min(std::max(attempts - 1, 0), 16));
  return now + std::min<Millis>(d, o.max_failed_backoff);
}

}  // namespace scimsync
