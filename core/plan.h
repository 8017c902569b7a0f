// The plan is a value: the ordered list of operations one sync cycle will perform.
// MakePlan (planner.h) builds it without I/O; Describe renders it one line per
// operation (what `plan` prints and golden tests compare); the executor runs it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"

namespace scimsync {

// Phases run in this order (DESIGN §5); operations within a phase are independent
// and may run concurrently.
enum class Phase : int {
  kResolve = 1,        // re-read uncertain objects
  kUsers = 2,          // create / update / re-activate users
  kGroups = 3,         // create / rename groups, add memberships
  kRemoveMembers = 4,
  kDeprovision = 5,    // disable or delete users
  kDeleteGroups = 6,
};

enum class OpKind {
  kResolveUser,
  kResolveGroup,
  kCreateUser,
  kUpdateUser,     // includes re-activation (active false -> true)
  kAdoptUser,      // bind to an existing target user and PATCH it (externalId, diff)
  kBindUser,       // record what the target holds; no request
  kConflictUser,   // record a conflict; no request, never written to the target
  kCreateGroup,
  kUpdateGroup,    // displayName change
  kAdoptGroup,     // bind to an existing target group and PATCH it (externalId, name)
  kBindGroup,      // record what the target holds; no request
  kConflictGroup,  // record a conflict; no request
  kAddMembers,
  kRemoveMembers,
  kDisableUser,    // PATCH active=false
  kDeleteUser,     // DELETE
  kDeleteGroup,
};
// Adopt, bind and conflict kinds come from three-sided planning (issue 10; only
// with a target snapshot, except kAdoptGroup, which also carries a case-only group
// rename). What the executor does with them: the end of core/planner.h.
std::string_view OpKindName(OpKind k);
Phase PhaseOf(OpKind k);
// False for the kinds that never send a write request (resolve, bind, conflict).
bool WritesTarget(OpKind k);

struct AttrChange {
  Attr attr;
  std::string old_value;  // empty: attribute absent on the target (add)
  std::string new_value;  // empty: remove the attribute
};

struct Operation {
  OpKind kind;
  std::string key;         // source key of the user or group
  std::string target_id;   // known target id; empty for creates and id-less resolves
  std::string label;       // userName or group displayName, for logs and Describe
  User user;               // kCreateUser / kUpdateUser: the desired user
  Group group;             // kCreateGroup / kUpdateGroup: desired group (members not used)
  std::vector<AttrChange> changes;   // kUpdateUser: changed attributes only;
                                     // kUpdateGroup: displayName (for rendering);
                                     // kDisableUser: active -> "false"
  std::vector<std::string> members;  // kAddMembers / kRemoveMembers: user keys, sorted

  // ---- from three-sided planning (issue 10); empty unless stated ----
  // kRemoveMembers: target ids of members no source key is bound to (unmanaged
  // users added to a managed group on the target), removed by id; sorted.
  std::vector<std::string> member_ids;
  // The externalId this op writes (adopt ops; updates that repair an externalId
  // changed on the target); empty: externalId is not written.
  std::string external_id;
  std::string external_id_was;  // what the target held (rendering only); empty: none
  // kAdoptGroup of a case-only rename: the state row of this key moves to `key`.
  std::string previous_key;
  // kCreateGroup / kDeleteGroup of a group whose type changes on the target (its
  // displayName crosses the role prefix, core/planner.h): the id of the old target
  // group, which the create replaces and the delete removes.
  std::string replaced_id;
  // Non-empty: this op repairs a difference between the state and the target (a
  // hand edit on the target), e.g. "department changed on the target"; the
  // executor logs event=drift_repaired key=... what=<drift> and counts it.
  std::string drift;
  // Adopt/bind: how the object was matched ("by externalId", ...); conflict: why
  // nothing was adopted, naming both keys or ids.
  std::string detail;
  // What the target holds, when planned from a snapshot (users: its values before
  // this op; the state row records them with `changes` applied).
  std::optional<AttrValues> target_values;
  // Group ops in phase 3 step 1: the user keys the target group holds before this
  // plan's add/remove-members; the state row's member list is set to this.
  std::optional<std::vector<std::string>> target_members;
};

// A target object no source object is bound to: never modified or deleted.
struct UnmanagedObject {
  std::string id;
  std::string name;  // userName or displayName
};

struct PlanSummary {
  int users_create = 0, users_update = 0, users_disable = 0, users_delete = 0;
  int groups_create = 0, groups_update = 0, groups_delete = 0;
  int members_add = 0, members_remove = 0;
  int resolve = 0;
  int deferred = 0;  // failed/conflict objects still in their backoff window
  // Three-sided planning (zero without a snapshot):
  int adopt = 0;      // adopt-user + adopt-group
  int bind = 0;       // bind-user + bind-group (no request)
  int conflicts = 0;  // conflict-user + conflict-group
  int drift = 0;      // operations that repair a hand edit on the target (op.drift)
  int unmanaged_users = 0, unmanaged_groups = 0;
};

struct Plan {
  std::vector<Operation> ops;  // sorted by phase, then kind, then key
  PlanSummary summary;
  // Set when the deletion guard held back destructive operations (not in ops).
  bool deletions_blocked = false;
  int deletions_wanted = 0;  // destructive operations the guard held back
  std::vector<std::string> notes;  // human-readable remarks (guard, deferrals)
  // Target objects bound to no source object (with a snapshot), sorted by name, id.
  std::vector<UnmanagedObject> unmanaged_users, unmanaged_groups;

  bool empty() const { return ops.empty(); }
};

// One line per operation, e.g.
//   create-user    k123 alice@example.com
//   update-user    k123 alice@example.com emails.work: "a@x" -> "b@x", title: "CTO" -> (none)
//   add-members    g7 Sales +2 members (k123 k124)
//   resolve-user   k9 bob@example.com by id 2819c223
//   adopt-user     k5 carol@example.com u-17 (by userName) externalId: (none) -> "k5"
//   bind-user      k6 dan@example.com u-18 (by externalId)
//   conflict-user  k7 eve@example.com (target user u-19 ... has externalId "k9"; not adopted)
//   update-user    k8 fay@example.com department: "Ops" -> "IT" [drift: department changed
//                  on the target]                              (one line in the output)
//   remove-members g7 Sales -2 members (k123 id:u-44) [drift: 2 members added on the target]
// (adopt/bind: target id and how it was matched; externalId writes first among the
// changes; member ids without a source key as "id:<id>"; a repair ends with
// "[drift: ...]"), then the notes, each prefixed with "# ", then one summary line:
//   # plan: 4 operations (users +1 ~1 -0, groups +0 ~0 -0, members +2 -0, resolve 1)
// (", resolve N", ", deferred N", ", adopt N", ", bind N", ", conflicts N",
// ", drift N" and ", unmanaged users N groups M" only when non-zero). Values are
// quoted with JSON escaping (control characters as \u00XX), so an operation is
// always one line.
std::string Describe(const Plan& plan);
// The same as a JSON document (hand-written: core links no JSON library):
// {"operations":[{"phase","op","key","label","target_id","changes":[{"attr","old","new"}],
// "members":[...],"member_ids":[...],"previous_key","detail","drift"}],"summary":{...},
// "deletions_blocked","deletions_wanted","notes":[...],
// "unmanaged":{"users":[{"id","name"}],"groups":[...]}}; an externalId write is a
// change with attr "externalId"; absent values (target_id, old, new, previous_key,
// detail, drift) are null.
std::string DescribeJson(const Plan& plan);

}  // namespace scimsync
