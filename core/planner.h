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
//
// Decisions taken where DESIGN leaves room (each one has a golden test):
// - A user who is inactive in the source and not yet on the target is created
//   with active=false: the target mirrors the source.
// - A user who left the source but was never created on the target (no target id)
//   has nothing to deprovision; the plan notes how many there are.
// - Desired membership is what counts: a leaver's memberships are removed in
//   disable mode (the group's desired member list no longer holds them). In delete
//   mode no remove-members is planned for users deleted in this plan: the target
//   drops their memberships with the DELETE and the executor updates the state.
// - add-members only lists users that will exist after phase 2 (a target id, or a
//   create in this plan); the executor maps keys to ids at run time and skips
//   users whose create failed. Members who are uncertain are left out of add and
//   remove until they are resolved.
// - The guard counts as destructive: disable-user, delete-user, delete-group of a
//   group on the target, and an update that turns a user's `active` from true to
//   false (the source marked them inactive; a broken source read can do that to
//   everyone just as well as drop them). The percentage is taken of the known
//   objects that are live on the target (users not disabled or deleted, groups not
//   deleted). The percent rule applies only above `deletion_percent_floor`
//   operations, so one leaver in a five-person company is not blocked forever;
//   max_deletions applies always.
// - When the guard holds, the held-back users also keep their memberships (no
//   remove-members for them), and a held-back deactivation keeps the user's other
//   attribute changes. Creates and updates go on.
// - Failed/conflicting objects that left the source and whose deprovisioning failed
//   (failed_hash 0) wait for next_retry too.
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
  // The percentage rule of the deletion guard applies only when more than this many
  // destructive operations are planned (max_deletions applies always).
  int deletion_percent_floor = 5;
  SysTime now{};
};

Plan MakePlan(const Directory& desired, const KnownState& known, const PlanOptions& options);

// The attribute-level diff used by MakePlan and by the executor after it re-read
// an object: changes that turn `have` into `want`.
std::vector<AttrChange> DiffUser(const AttrValues& have, const AttrValues& want,
                                 const std::array<bool, kAttrCount>& keep);

}  // namespace scimsync
