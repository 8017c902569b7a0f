// The counters of a sync cycle, described once in the kCounters table below. The
// table drives every place that shows them: the `cycle_end` and `plan_end` log lines
// (CounterLogFields), the state file's `cycles` columns and CycleRecord
// (state/state_store.h), `status` and `status --json` (daemon/status_report.h), the
// Prometheus metrics file (daemon/metrics.h) and the executor's counters
// (daemon/executor_counters.h). Nothing else lists them.
//
// Adding a counter: one row here (in the place it should appear), the code that
// counts it, and a migration step in state/state_store.cc adding its `cycles` column
// (a state test fails until the column exists). docs/monitoring.md describes each.
//
// Two kinds:
// - kEvent: what one cycle did or met (users created, requests sent). Starts at 0.
// - kGauge: a level that only a reconciling read of the whole target can measure
//   (unmanaged users). A cycle that did not read the target whole leaves it
//   kUnmeasured (-1); the log line leaves it out, the state file stores -1, and
//   `status` and the metrics show the value of the newest cycle that measured it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/log.h"
#include "core/plan.h"

namespace scimsync {

enum class Counter : int {
  kUsersCreated = 0,
  kUsersUpdated,    // attribute changes and re-activations; never an adoption
  kUsersAdopted,    // existed on the target already (409 or lookup): linked, not created
  kUsersDisabled,
  kUsersDeleted,
  kGroupsCreated,
  kGroupsUpdated,
  kGroupsAdopted,
  kGroupsDeleted,
  kMembersAdded,    // memberships, not requests
  kMembersRemoved,
  kDrift,           // differences a reconciling read found on the target and repaired
  kUnmanagedUsers,  // gauge: target users matching no source user
  kUnmanagedGroups, // gauge: target groups matching no source group
  kUsersOutOfScope,   // source users the [scope] left out (core/scope.h)
  kGroupsOutOfScope,  // source groups the [scope] does not push
  kFailed,
  kConflicts,
  kSeatBlocked,
  kDeferred,
  kRequests,
  kDurationMs,
  kCount,
};
inline constexpr std::size_t kCounterCount = static_cast<std::size_t>(Counter::kCount);

enum class CounterKind { kEvent, kGauge };

// A gauge this cycle did not measure.
inline constexpr std::int64_t kUnmeasured = -1;

struct CounterInfo {
  Counter counter;
  // The log field, `cycles` column, `status --json` key. A contract: never renamed.
  std::string_view name;
  CounterKind kind;
  // `status` text. Events: counters with the same noun share it, zeros are left out
  // ("users created 3, updated 2; groups created 1"); an empty verb is not listed
  // (duration, shown on its own). Gauges: "<noun> <verb>: N" on a line of their own.
  std::string_view noun;
  std::string_view verb;
  // Prometheus metric name, and the divisor of its value (1000: ms -> seconds).
  std::string_view metric;
  int metric_scale;
  // `plan_end`: the planned count from the plan's summary; nullptr: only a run
  // knows it (plan_end writes 0, or leaves a gauge out).
  int PlanSummary::*planned;
  // Metric HELP text, one sentence.
  std::string_view help;
};

// Indexed by Counter; the order is the order of the log line and of `status`.
inline constexpr std::array<CounterInfo, kCounterCount> kCounters = {{
    {Counter::kUsersCreated, "users_created", CounterKind::kEvent, "users", "created",
     "scimsync_last_cycle_users_created", 1, &PlanSummary::users_create,
     "Users created on the target by the last cycle."},
    {Counter::kUsersUpdated, "users_updated", CounterKind::kEvent, "users", "updated",
     "scimsync_last_cycle_users_updated", 1, &PlanSummary::users_update,
     "Users updated (attributes or re-activation) by the last cycle."},
    {Counter::kUsersAdopted, "users_adopted", CounterKind::kEvent, "users", "adopted",
     "scimsync_last_cycle_users_adopted", 1, nullptr,
     "Users found already on the target and adopted instead of created by the last cycle."},
    {Counter::kUsersDisabled, "users_disabled", CounterKind::kEvent, "users", "disabled",
     "scimsync_last_cycle_users_disabled", 1, &PlanSummary::users_disable,
     "Users deactivated by the last cycle."},
    {Counter::kUsersDeleted, "users_deleted", CounterKind::kEvent, "users", "deleted",
     "scimsync_last_cycle_users_deleted", 1, &PlanSummary::users_delete,
     "Users deleted by the last cycle."},
    {Counter::kGroupsCreated, "groups_created", CounterKind::kEvent, "groups", "created",
     "scimsync_last_cycle_groups_created", 1, &PlanSummary::groups_create,
     "Groups created by the last cycle."},
    {Counter::kGroupsUpdated, "groups_updated", CounterKind::kEvent, "groups", "updated",
     "scimsync_last_cycle_groups_updated", 1, &PlanSummary::groups_update,
     "Groups renamed by the last cycle."},
    {Counter::kGroupsAdopted, "groups_adopted", CounterKind::kEvent, "groups", "adopted",
     "scimsync_last_cycle_groups_adopted", 1, nullptr,
     "Groups found already on the target and adopted instead of created by the last cycle."},
    {Counter::kGroupsDeleted, "groups_deleted", CounterKind::kEvent, "groups", "deleted",
     "scimsync_last_cycle_groups_deleted", 1, &PlanSummary::groups_delete,
     "Groups deleted by the last cycle."},
    {Counter::kMembersAdded, "members_added", CounterKind::kEvent, "members", "added",
     "scimsync_last_cycle_members_added", 1, &PlanSummary::members_add,
     "Group memberships added by the last cycle."},
    {Counter::kMembersRemoved, "members_removed", CounterKind::kEvent, "members", "removed",
     "scimsync_last_cycle_members_removed", 1, &PlanSummary::members_remove,
     "Group memberships removed by the last cycle."},
    {Counter::kDrift, "drift", CounterKind::kEvent, "drift", "repaired",
     "scimsync_last_cycle_drift", 1, nullptr,
     "Differences found on the target by a reconciling read and repaired by the last cycle."},
    {Counter::kUnmanagedUsers, "unmanaged_users", CounterKind::kGauge, "unmanaged", "users",
     "scimsync_unmanaged_users", 1, nullptr,
     "Target users matching no source user, as of the last reconciling read."},
    {Counter::kUnmanagedGroups, "unmanaged_groups", CounterKind::kGauge, "unmanaged", "groups",
     "scimsync_unmanaged_groups", 1, nullptr,
     "Target groups matching no source group, as of the last reconciling read."},
    {Counter::kUsersOutOfScope, "users_out_of_scope", CounterKind::kEvent, "out of scope",
     "users", "scimsync_last_cycle_users_out_of_scope", 1, nullptr,
     "Source users the scope left out in the last cycle (not in any scope group)."},
    {Counter::kGroupsOutOfScope, "groups_out_of_scope", CounterKind::kEvent, "out of scope",
     "groups", "scimsync_last_cycle_groups_out_of_scope", 1, nullptr,
     "Source groups the scope did not push in the last cycle (include/exclude patterns)."},
    {Counter::kFailed, "failed", CounterKind::kEvent, "", "failed",
     "scimsync_last_cycle_failed", 1, nullptr, "Objects that failed in the last cycle."},
    {Counter::kConflicts, "conflicts", CounterKind::kEvent, "", "conflicts",
     "scimsync_last_cycle_conflicts", 1, nullptr, "Objects in conflict in the last cycle."},
    {Counter::kSeatBlocked, "seat_blocked", CounterKind::kEvent, "", "seat-blocked",
     "scimsync_last_cycle_seat_blocked", 1, nullptr,
     "Creates and re-activations held back for lack of licensed seats."},
    {Counter::kDeferred, "deferred", CounterKind::kEvent, "", "deferred",
     "scimsync_last_cycle_deferred", 1, &PlanSummary::deferred,
     "Objects deferred to a later cycle by their backoff."},
    {Counter::kRequests, "requests", CounterKind::kEvent, "", "requests",
     "scimsync_last_cycle_requests", 1, nullptr, "HTTP requests sent by the last cycle."},
    {Counter::kDurationMs, "duration_ms", CounterKind::kEvent, "", "",
     "scimsync_last_cycle_duration_seconds", 1000, nullptr, "How long the last cycle took."},
}};

inline const CounterInfo& Info(Counter c) { return kCounters[static_cast<std::size_t>(c)]; }

// One value per counter, indexed by Counter. Events start at 0, gauges at kUnmeasured.
class CycleCounts {
 public:
  CycleCounts();
  std::int64_t& operator[](Counter c) { return v_[static_cast<std::size_t>(c)]; }
  std::int64_t operator[](Counter c) const { return v_[static_cast<std::size_t>(c)]; }
  bool operator==(const CycleCounts&) const = default;

 private:
  std::array<std::int64_t, kCounterCount> v_;
};

// True if `c` holds a value: every event does; a gauge once measured.
bool Measured(Counter c, const CycleCounts& counts);

// What a plan would do, by counter (for `plan_end`): `base` with every row that has a
// `planned` field replaced by that field of the summary. The other rows keep what
// `base` holds: by default 0 (events) or kUnmeasured (gauges); a dry run passes what
// the cycle measured itself (the gauges of a reconciling read).
CycleCounts PlannedCounts(const PlanSummary& summary, CycleCounts base = CycleCounts());

// The counters as log fields, in table order, as numbers; unmeasured gauges left out.
LogFields CounterLogFields(const CycleCounts& counts);

}  // namespace scimsync
