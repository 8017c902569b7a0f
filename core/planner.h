// MakePlan: the pure diff from (desired directory, known target state, options) to a
// Plan. No I/O, no clock reads: `now` comes in the options.
//
// Rules (DESIGN §3-§7):
// - A user or group is identified by its source key only; renames are updates.
// - Uncertain objects get a resolve operation (phase 1) and nothing else this plan:
//   the cycle executes phase 1, reloads state and plans again.
// - Only changed attributes are sent; an attribute that disappeared is removed
//   unless `keep` is set for it.
// - A disabled user who is back in the source is re-activated by an update with
//   active=true; a deleted one is created again.
// - Failed or conflicting objects whose source did not change are deferred until
//   their next_retry; a changed source retries at once.
// - Deletion guard: if disables + user deletes + group deletes exceed max_deletions
//   or max_deletion_percent of the known objects, destructive operations are left
//   out and the plan says so, unless allow_deletions.
#pragma once

#include <array>
#include <cstddef>

#include "core/clock.h"
#include "core/known_state.h"
#include "core/model.h"
#include "core/plan.h"

namespace scimsync {

enum class DeprovisionMode { kDisable, kDelete };

struct PlanOptions {
  DeprovisionMode deprovision = DeprovisionMode::kDisable;
  std::array<bool, kAttrCount> keep{};  // attributes never removed from the target
  int max_deletions = 500;
  double max_deletion_percent = 10.0;
  bool allow_deletions = false;
  SysTime now{};
};

Plan MakePlan(const Directory& desired, const KnownState& known, const PlanOptions& options);

// The attribute-level diff used by MakePlan and by the executor after it re-read
// an object: changes that turn `have` into `want`.
std::vector<AttrChange> DiffUser(const AttrValues& have, const AttrValues& want,
                                 const std::array<bool, kAttrCount>& keep);

}  // namespace scimsync
