// What the executor and its parts (daemon/executor.h) count: one per object, not per
// request, in the counters of core/cycle_counters.h (kCounters). Written by several
// worker threads. The executor counts events only: the cycle adds what only it knows
// (deferred, requests, duration, the gauges of a reconciling read).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "core/cycle_counters.h"

namespace scimsync {

class ExecutorCounters {
 public:
  void Add(Counter c, std::int64_t n = 1) { v_[Index(c)].fetch_add(n, std::memory_order_relaxed); }
  std::int64_t Get(Counter c) const { return v_[Index(c)].load(std::memory_order_relaxed); }

  // Adds every count to `counts` (a gauge is never counted here and stays as it is).
  void AddTo(CycleCounts& counts) const {
    for (const CounterInfo& c : kCounters) {
      if (c.kind == CounterKind::kEvent) counts[c.counter] += Get(c.counter);
    }
  }

 private:
  static std::size_t Index(Counter c) { return static_cast<std::size_t>(c); }
  std::array<std::atomic<std::int64_t>, kCounterCount> v_{};
};

// Set by UserOps/GroupOps when the operation running on this worker thread reached
// its goal (an operation runs start to end on one thread); the executor resets it
// before each operation and reads it after, to log and count a repaired drift.
inline thread_local bool t_op_succeeded = false;

}  // namespace scimsync
