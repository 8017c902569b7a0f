// MakePlan: the pure diff from (desired directory, known target state, options) to a
// Plan. No I/O, no clock reads: `now` and the target snapshot come in the options.
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
//
// Three-sided planning (issue 10; options.snapshot set: what the target holds, read
// whole). Without a snapshot everything below is off and the plan is made from the
// state alone, except the case-only group rename, which needs no snapshot.
// - Binding: a source object whose state row has a target id the snapshot holds is
//   diffed against the TARGET's values, not the state's. Differences the state does
//   not explain are hand edits; the op that repairs them carries `drift` ("department
//   changed on the target", "active set to false on the target", "displayName changed
//   on the target", "2 members removed on the target", ...). A target that leaves
//   `active` out of a user says nothing: the state's value is used.
// - A bound object whose externalId on the target is another non-empty value gets it
//   back (drift "externalId changed"); an empty one is left alone, since some targets
//   do not store externalId and the repair would never stick.
// - A state row whose target id is not in the snapshot was deleted on the target: it
//   is looked for like a new object (below) and otherwise created again (drift
//   "deleted on the target"); its memberships are restored by add-members. A leaver
//   deleted on the target is only recorded (bind-user / bind-group without a target
//   id: no request, not counted by the guard).
// - A leaver that scimsync disabled and someone enabled again on the target is
//   disabled again (drift "active set to true"); one disabled by hand only records it.
// - When the target already equals the source but the state row differs (stale
//   values or members, a failed status), a bind op records what the target holds, so
//   the next cycle planned from the state alone sends nothing.
// - Adoption (no row, or a row without a target id, e.g. a lost state file): the
//   rules of core/target_match.h: externalId == key first (for all objects before
//   any name match), then userName / displayName compared case-insensitively. Only an
//   object whose externalId is empty or the key and that no other key holds (state
//   or this plan) is adopted; ties go to the byte-equal name, then the lowest key, so
//   the result does not depend on input order. Adopting writes the key as externalId:
//   adopt-user / adopt-group carry `external_id` and the attribute diff; an object
//   that already equals the source and has the right externalId gets bind-* (no
//   request). So a sync after a lost state file with no source change sends no write
//   request. Everything else is a conflict-user / conflict-group op whose `detail`
//   names both keys or the ids, plus one plan note; nothing is written to either
//   object. With a snapshot a conflict row is checked again at once (no backoff:
//   checking costs no request).
// - Groups: a name already held by another key is not a conflict but a create: two
//   source groups with one displayName are two target groups. A target that refuses
//   the second (409) is reported by the executor as a conflict, never merged.
// - Case-only rename: a known group whose key left the source and one new source
//   group with the same displayName regardless of case (one of each) are the same
//   target group: one adopt-group with `previous_key` (PATCH displayName and
//   externalId, same id; the state row moves to the new key). Memberships are diffed
//   against the old row (or the target), so no membership is lost at any point.
// - Managed groups mirror the source. Target members bound to no source key, or not
//   members in the source, are foreign: removed (ids without a key in `member_ids`)
//   when foreign_members is kRemove; kept when kKeep, which still removes members that
//   scimsync itself put there (the state row's members). Removing foreign members
//   of a group scimsync had bound before is drift ("added on the target"); of a group
//   adopted in this plan it is not.
// - Unmanaged: target objects no source key is bound to (also those in conflict) are
//   never modified or deleted; Plan::unmanaged_users / unmanaged_groups list them
//   and the summary counts them.
// - Uncertain objects and objects in backoff behave as without a snapshot.
// - The deletion guard counts the same kinds as before, plus an adopt-user that
//   deactivates; repairs that deprovision (disable-user of a user enabled by hand,
//   an update that sets active=false again) count like any other. The percentage
//   base adds the live objects bound in this plan. A held-back adopt-user keeps its
//   binding (bind-user when nothing else is left to send).
//
// Groups left to the target (options.push_groups = false; Keepnet grouping users by
// department, or any profile told so): no group or membership op of any kind is
// planned. Source groups are ignored, and known groups (rows from a time groups were
// pushed) are neither updated nor planned as leavers: they stay on the target as
// they are, and their rows stay in the state. The deletion guard counts users only
// (known groups are not in its percentage base), and the plan notes how many known
// groups were left alone. A snapshot's groups, if any, are ignored (not listed as
// unmanaged).
// Target behaviours (PlanOptions, from the profile; each off by default, and the plan
// is unchanged when it is off; golden tests in tests/core/planner_test.cc):
// - unique_group_names = false (Keeper: duplicate team names): a group is matched to a
//   snapshot group by externalId only; a displayName match is never an identity, so a
//   seeking group without an externalId match is created.
// - delete_locks (with deprovision = delete; Keeper): DELETE locks the user, who stays
//   on the target. A leaver gets delete-user as in delete mode, but its memberships
//   are removed first as in disable mode (the locked user is still a member there),
//   and the executor records the row as disabled with its target id. A disabled
//   (locked) leaver gets nothing more, unless the snapshot shows it active again
//   (delete-user once more, drift "active set to true on the target"). A returning
//   user is re-activated (update-user active=true on the same id), never created.
// - role_prefix: a group whose displayName starts with it is a role on the target,
//   any other a team (core/roles.h puts the prefix on the configured role groups).
//   A group whose displayName would cross the prefix (the target's name, or the
//   state's without a snapshot, has it and the desired one not, or the other way)
//   changes type: not a rename but delete-and-create. The plan holds create-group
//   (its members added as for any new group) and delete-group of the old target id,
//   both with `replaced_id` = that id and a detail "changes type: ...". The delete is
//   guarded like any deletion; when the guard holds it back, the create is left out
//   as well (and the group's membership changes), and the group stays as it is.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "core/clock.h"
#include "core/known_state.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/target_snapshot.h"

namespace scimsync {

enum class DeprovisionMode { kDisable, kDelete };

// What happens to members of a managed group that the source does not have.
enum class ForeignMembers { kRemove, kKeep };

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
  // What the target holds (a reconciling cycle); null: plan from the state alone.
  // Not owned; must outlive the call.
  const TargetSnapshot* snapshot = nullptr;
  ForeignMembers foreign_members = ForeignMembers::kRemove;
  // false: groups and memberships are left to the target (see "Groups left to the
  // target" above).
  bool push_groups = true;
  // Target behaviours (core/target_profile.h; "Target behaviours" above).
  bool unique_group_names = true;  // false: a displayName match never adopts a group
  bool delete_locks = false;       // DELETE locks a user (deprovision = delete)
  std::string role_prefix;         // a displayName with it is a role, without a team ("" none)
};

Plan MakePlan(const Directory& desired, const KnownState& known, const PlanOptions& options);

// The attribute-level diff used by MakePlan and by the executor after it re-read
// an object: changes that turn `have` into `want`. Values compare by their
// AttrKind (SameAttrValue): exact, except that an email address ignores ASCII case
// and an absent `active` is true.
std::vector<AttrChange> DiffUser(const AttrValues& have, const AttrValues& want,
                                 const std::array<bool, kAttrCount>& keep);

}  // namespace scimsync

// What the executor does for each kind and field added by three-sided planning
// (the other kinds are unchanged). "Record" means: write the state row in one
// transaction after the 2xx (or at once when there is no request).
//
// Every op with `drift` set: after it succeeded, log
//   event=drift_repaired key=<op.key> what=<op.drift>
// and count it in the cycle report (drift=N in cycle_end, status, metrics). The
// plan's summary.drift is the number of such ops planned.
//
// `target_values` (user ops planned from a snapshot): the row's values become
//   Applied(*target_values, changes), not Applied(row.values, changes); the status
//   is disabled when that `active` is "false", else synced.
// `target_members` (group ops of phase 3 step 1 planned from a snapshot, and every
//   adopt-group): the row's member list becomes exactly this before the add-members
//   of step 2 run (state memberships = what the target holds).
// `external_id` non-empty (adopt-*, update-user, update-group): the PATCH also sets
//   externalId to it (users: replace "externalId"; groups: the same, beside any
//   displayName change). update-group may carry only external_id and no changes.
//
// adopt-user: PATCH op.target_id with external_id and `changes` (op.user is the
//   desired user); on 2xx record: key -> target_id, values as above, uncertain
//   cleared, attempts reset; log event=user_adopted with op.detail. 404: the object
//   vanished since the read: mark the row pending without a target id (the next
//   cycle creates it). 400/409 on the PATCH: a conflict row (as conflict-user, with
//   the response in last_error). Transient: as update-user.
// bind-user with a target_id: no request; record key -> target_id with
//   target_values (status from `active`); log event=user_bound. Without a target id
//   (detail "not on the target"): the leaver is gone from the target: row status
//   deleted, target id cleared, its membership rows dropped; no request.
// conflict-user: no request. Row status conflict, last_error = op.detail, target
//   id cleared, attempts + 1, next_retry by the failed backoff, failed_hash =
//   SourceHash(op.user); log event=user_conflict key=... error=<detail>; count it.
// adopt-group: PATCH op.target_id: displayName from `changes` (if any) and
//   external_id (if set); no request when neither is set. On 2xx record: key ->
//   target_id, display_name = op.group.display_name, members = target_members.
//   With previous_key: in the same transaction the row of previous_key (and its
//   membership rows) is removed; log event=group_rekeyed old_key=... key=....
//   404: pending without a target id. Transient: the row of previous_key stays
//   as it was (the next plan pairs them again).
// bind-group with a target_id: no request; record key -> target_id,
//   display_name = op.group.display_name, members = target_members. Without a
//   target id: forget the row (as delete-group of a row without a target id).
// conflict-group: as conflict-user (SourceHash(op.group)); no request.
// create-group: a 409 is adopted only under the same rules as the planner
//   (core/target_match.h: externalId empty or the key, and no other row holds the
//   id); anything else is a conflict row, never a merge of two source groups.
// create-user / create-group with drift "deleted on the target": the row's old
//   target id is stale; clear it (groups: and the member list) before the POST.
// remove-members: `member_ids` are target ids of members with no source key;
//   remove them by id (value path members[value eq "id"]) alongside the keys'
//   ids; no membership row exists for them.
// update-group planned from a snapshot may carry no displayName change (only
//   external_id); with neither it is not planned.
// WritesTarget(kind) is false for resolve, bind and conflict kinds: a cycle whose
// plan holds only those sends no write request.
