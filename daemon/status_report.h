// What `scimsync status` prints (daemon/cli.cc gathers it from the state file): the
// text for people and the `--json` document for scripts. Pure rendering, no I/O.
//
// The cycle counters are rendered from their table (core/cycle_counters.h):
// - text: per cycle, the non-zero event counters grouped by noun ("users created 3,
//   updated 2; groups created 1; requests 12"), or "no changes"; then one line per
//   gauge ("unmanaged users: 3", or "unknown" while no cycle measured it) and the
//   cycle that measured them.
// - JSON: every counter of every cycle by its name, a number (an unmeasured gauge:
//   null); "last_reconcile" is the newest cycle that measured the gauges, or null.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/plan.h"
#include "state/state_store.h"

namespace scimsync {

struct StatusData {
  std::string state_path, target_url;
  std::vector<CycleRecord> cycles;        // newest first
  std::optional<CycleRecord> last_measured;  // StateStore::LastMeasuredCycle
  std::vector<AttentionItem> attention;
  long daemon_pid = 0;
  bool daemon_running = false;
  std::string next_cycle;
  // The target's objects that match no source object, as of the last reconciling
  // sync: UnmanagedJson's text (state meta "unmanaged"); empty when never read.
  std::string unmanaged_json;
};

// {"users":[{"id":..,"userName":..}],"groups":[{"id":..,"displayName":..}]}: what
// a reconciling cycle found on the target that scimsync does not manage; stored
// by the cycle, printed by `status --json`.
std::string UnmanagedJson(const Plan& plan);
inline constexpr const char* kUnmanagedMeta = "unmanaged";

std::string StatusText(const StatusData& d);
std::string StatusJson(const StatusData& d);

}  // namespace scimsync
