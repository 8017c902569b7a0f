// The optional `metrics_file`: Prometheus text exposition format (version 0.0.4),
// written after every daemon cycle for node_exporter's textfile collector.
//
// The file is replaced atomically (a temporary file in the same directory, then
// rename(2)), so the collector never reads half a file. It holds no secret and is
// made world-readable (0644) on purpose: the collector runs as another user.
//
// Metric names are a contract (docs/monitoring.md lists them):
//   scimsync_last_cycle_result{result="ok|partial|stopped"}  1 for the last result, 0 else
//   scimsync_last_cycle_timestamp_seconds                     end of the last cycle (unix)
//   scimsync_last_cycle_start_timestamp_seconds
//   scimsync_last_cycle_<counter>                             every event counter of kCounters
//                                                             (core/cycle_counters.h): users_created,
//                                                             ..., requests; duration_ms as
//                                                             scimsync_last_cycle_duration_seconds
//   scimsync_unmanaged_users, scimsync_unmanaged_groups       the gauges of kCounters, from the
//                                                             newest cycle that measured them;
//                                                             absent until one did
//   scimsync_last_success_timestamp_seconds                  end of the newest cycle that ran
//                                                             to its end (ok or partial)
//   scimsync_cycles_total{result}                             counter, since the daemon started
//   scimsync_objects_needing_attention{status}               failed, conflict, seat-blocked, uncertain
//   scimsync_consecutive_stopped_cycles
//   scimsync_next_cycle_timestamp_seconds
//   scimsync_daemon_start_timestamp_seconds
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "state/state_store.h"

namespace scimsync {

struct MetricsSnapshot {
  CycleRecord last;                       // the cycle just finished
  // The newest cycle that measured the gauges (a reconciling read), when `last` did
  // not: StateStore::LastMeasuredCycle.
  std::optional<CycleRecord> last_measured;
  SysTime last_success{};                 // zero: none known
  std::map<std::string, long> cycles_total;     // by result, since the daemon started
  std::map<std::string, long> attention;        // by status
  int consecutive_stops = 0;
  SysTime next_cycle{};
  SysTime daemon_start{};
};

// Renders the snapshot; every metric has # HELP and # TYPE lines; label values
// are escaped per the exposition format. The three result labels and the four
// attention statuses are always present (0 when none) so alert rules never see a
// series disappear.
std::string RenderMetrics(const MetricsSnapshot& snapshot);

// Writes `text` to `path` atomically (temp file in the same directory + fsync +
// rename). On error the old file is left as it was and the temp file removed.
Status WriteFileAtomically(const std::string& path, const std::string& text, int mode = 0644);

}  // namespace scimsync
