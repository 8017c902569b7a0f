// The plan is a value: the ordered list of operations one sync cycle will perform.
// MakePlan (planner.h) builds it without I/O; Describe renders it one line per
// operation (what `plan` prints and golden tests compare); the executor runs it.
#pragma once

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
  kCreateGroup,
  kUpdateGroup,    // displayName change
  kAddMembers,
  kRemoveMembers,
  kDisableUser,    // PATCH active=false
  kDeleteUser,     // DELETE
  kDeleteGroup,
};
std::string_view OpKindName(OpKind k);
Phase PhaseOf(OpKind k);

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
};

struct PlanSummary {
  int users_create = 0, users_update = 0, users_disable = 0, users_delete = 0;
  int groups_create = 0, groups_update = 0, groups_delete = 0;
  int members_add = 0, members_remove = 0;
  int resolve = 0;
  int deferred = 0;  // failed/conflict objects still in their backoff window
};

struct Plan {
  std::vector<Operation> ops;  // sorted by phase, then kind, then key
  PlanSummary summary;
  // Set when the deletion guard held back destructive operations (not in ops).
  bool deletions_blocked = false;
  int deletions_wanted = 0;  // destructive operations the guard held back
  std::vector<std::string> notes;  // human-readable remarks (guard, deferrals)

  bool empty() const { return ops.empty(); }
};

// One line per operation, e.g.
//   create-user    k123 alice@example.com
//   update-user    k123 alice@example.com emails.work: "a@x" -> "b@x", title: "CTO" -> (none)
//   add-members    g7 Sales +2 members (k123 k124)
//   resolve-user   k9 bob@example.com by id 2819c223
// then the notes, each prefixed with "# ", then one summary line:
//   # plan: 4 operations (users +1 ~1 -0, groups +0 ~0 -0, members +2 -0, resolve 1)
// (", resolve N" and ", deferred N" only when non-zero). Values are quoted with
// JSON escaping (control characters as \u00XX), so an operation is always one line.
std::string Describe(const Plan& plan);
// The same as a JSON document (hand-written: core links no JSON library):
// {"operations":[{"phase","op","key","label","target_id","changes":[{"attr","old","new"}],
// "members":[...]}],"summary":{...},"deletions_blocked","deletions_wanted","notes":[...]};
// absent values (target_id, old, new) are null.
std::string DescribeJson(const Plan& plan);

}  // namespace scimsync
