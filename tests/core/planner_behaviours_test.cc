// Golden tests of the planner's target behaviours (core/planner.h, "Target
// behaviours"): unique_group_names, delete_locks and role_prefix. Each is off by
// default; planner_test.cc proves the default plans.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/planner.h"

namespace scimsync {
namespace {

constexpr std::size_t kActive = static_cast<std::size_t>(Attr::kActive);

User Person(const std::string& key, const std::string& mail) {
  User u;
  u.key = key;
  u.Set(Attr::kUserName, mail);
  u.Set(Attr::kActive, "true");
  return u;
}

Group Team(const std::string& key, const std::string& name, std::vector<std::string> members) {
  Group g;
  g.key = key;
  g.display_name = name;
  g.members = std::move(members);
  return g;
}

// Ann and Bob, in Staff (both) and Admins (Ann).
Directory Source() {
  Directory d;
  d.users = {Person("E1", "ann@x.com"), Person("E2", "bob@x.com")};
  d.groups = {Team("G1", "Admins", {"E1"}), Team("G2", "Staff", {"E1", "E2"})};
  return d;
}

// The state after a perfect sync of `d`.
KnownState Synced(const Directory& d) {
  KnownState k;
  for (const auto& u : d.users) {
    KnownUser r;
    r.key = u.key;
    r.target_id = "id-" + u.key;
    r.values = u.values;
    r.status = ObjectStatus::kSynced;
    k.users.push_back(r);
  }
  for (const auto& g : d.groups) {
    KnownGroup r;
    r.key = g.key;
    r.target_id = "gid-" + g.key;
    r.display_name = g.display_name;
    r.members = g.members;
    r.status = ObjectStatus::kSynced;
    k.groups.push_back(r);
  }
  return k;
}

// What the target holds after that sync.
TargetSnapshot Held(const Directory& d) {
  TargetSnapshot t;
  for (const auto& u : d.users) t.users.push_back({"id-" + u.key, u.key, u.values});
  for (const auto& g : d.groups) {
    RemoteGroup r{"gid-" + g.key, g.key, g.display_name, {}};
    for (const auto& m : g.members) r.member_ids.push_back("id-" + m);
    t.groups.push_back(r);
  }
  return t;
}

PlanOptions Keeper() {
  PlanOptions o;
  o.deprovision = DeprovisionMode::kDelete;
  o.unique_group_names = false;
  o.delete_locks = true;
  o.role_prefix = "ROLE_";
  return o;
}

std::string Plain(const Directory& d, const KnownState& k, const PlanOptions& o) {
  return Describe(MakePlan(d, k, o));
}

// ---- unique_group_names -------------------------------------------------------

TEST_CASE("unique_group_names = false: a displayName match is no identity, externalId is") {
  Directory d = Source();
  TargetSnapshot t;
  t.groups.push_back({"gid-x", "", "Staff", {}});  // a Staff team someone else made
  PlanOptions o;
  o.snapshot = &t;
  d.users.clear();
  d.groups = {Team("G2", "Staff", {})};
  // Names unique (default): adopted by displayName.
  CHECK(Plain(d, {}, o) ==
        "adopt-group    G2 Staff gid-x (by displayName) externalId: (none) -> \"G2\"\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, adopt 1)\n");
  // Not unique: created; the other team stays unmanaged.
  o.unique_group_names = false;
  CHECK(Plain(d, {}, o) ==
        "create-group   G2 Staff\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +1 ~0 -0, members +0 -0, "
        "unmanaged users 0 groups 1)\n");
  // Ours by externalId (a lost state file): bound, whatever its name.
  t.groups[0].external_id = "G2";
  t.groups[0].display_name = "Staff (old)";
  CHECK(Plain(d, {}, o) ==
        "adopt-group    G2 Staff gid-x (by externalId) displayName: \"Staff (old)\" -> \"Staff\"\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, adopt 1)\n");
}

// ---- delete_locks ---------------------------------------------------------------

TEST_CASE("delete_locks: a leaver's memberships are removed, then DELETE locks it") {
  Directory d = Source();
  KnownState k = Synced(d);
  d.users.erase(d.users.begin() + 1);
  d.groups[1].members = {"E1"};
  PlanOptions o = Keeper();
  CHECK(Plain(d, k, o) ==
        "remove-members G2 Staff -1 members (E2)\n"
        "delete-user    E2 bob@x.com\n"
        "# plan: 2 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -1)\n");
  // Without delete_locks (plain delete mode) the target drops the memberships itself.
  o.delete_locks = false;
  CHECK(Plain(d, k, o) ==
        "delete-user    E2 bob@x.com\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("delete_locks: a locked leaver is not deleted again; a re-hire is unlocked in place") {
  Directory d = Source();
  KnownState k = Synced(d);
  // What the executor records after the DELETE: disabled, same target id, no membership.
  k.users[1].status = ObjectStatus::kDisabled;
  k.users[1].values.Set(kActive, "false");
  k.groups[1].members = {"E1"};
  Directory left = d;
  left.users.erase(left.users.begin() + 1);
  left.groups[1].members = {"E1"};
  CHECK(MakePlan(left, k, Keeper()).empty());
  // The same from a reconciling read: the locked user is still there, inactive.
  TargetSnapshot t = Held(left);
  t.users.push_back({"id-E2", "E2", k.users[1].values});
  PlanOptions o = Keeper();
  o.snapshot = &t;
  CHECK(MakePlan(left, k, o).empty());
  // Unlocked by hand on the target: locked again.
  t.users.back().values.Set(kActive, "true");
  CHECK(Plain(left, k, o) ==
        "delete-user    E2 bob@x.com [drift: active set to true on the target]\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0, drift 1)\n");
  // Back in the source: PATCH active=true on the same id, never a create.
  CHECK(Plain(d, k, Keeper()) ==
        "update-user    E2 bob@x.com active: \"false\" -> \"true\"\n"
        "add-members    G2 Staff +1 members (E2)\n"
        "# plan: 2 operations (users +0 ~1 -0, groups +0 ~0 -0, members +1 -0)\n");
  Plan p = MakePlan(d, k, Keeper());
  CHECK(p.ops[0].target_id == "id-E2");
}

// ---- role_prefix: a group that crosses the prefix changes type -------------------

TEST_CASE("role_prefix: a team that becomes a role is created anew and the team deleted") {
  Directory d = Source();
  KnownState k = Synced(d);
  d.groups[0].display_name = "ROLE_Admins";  // Admins added to target.roles
  Plan p = MakePlan(d, k, Keeper());
  CHECK(Describe(p) ==
        "create-group   G1 ROLE_Admins (changes type: now a role; replaces gid-G1)\n"
        "add-members    G1 ROLE_Admins +1 members (E1)\n"
        "delete-group   G1 Admins (changes type: now a role; replaced by ROLE_Admins)\n"
        "# plan: 3 operations (users +0 ~0 -0, groups +1 ~0 -1, members +1 -0)\n");
  CHECK(p.ops[0].replaced_id == "gid-G1");
  CHECK(p.ops[0].target_id.empty());
  CHECK(p.ops[2].target_id == "gid-G1");
  CHECK(p.ops[2].replaced_id == "gid-G1");

  // And back (the name removed from roles); from a snapshot the target's name counts.
  KnownState role = k;
  role.groups[0].display_name = "ROLE_Admins";
  TargetSnapshot t = Held(d);
  PlanOptions o = Keeper();
  o.snapshot = &t;
  Directory team = Source();
  CHECK(Plain(team, role, o) ==
        "create-group   G1 Admins (changes type: no longer a role; replaces gid-G1)\n"
        "add-members    G1 Admins +1 members (E1)\n"
        "delete-group   G1 ROLE_Admins (changes type: no longer a role; replaced by Admins)\n"
        "# plan: 3 operations (users +0 ~0 -0, groups +1 ~0 -1, members +1 -0)\n");

  // A rename on the same side of the prefix stays a rename.
  Directory renamed = d;
  renamed.groups[0].display_name = "ROLE_Administrators";
  CHECK(Plain(renamed, role, Keeper()) ==
        "update-group   G1 ROLE_Administrators displayName: \"ROLE_Admins\" -> "
        "\"ROLE_Administrators\"\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~1 -0, members +0 -0)\n");
  // No prefix (generic): a plain rename.
  PlanOptions generic;
  CHECK(Plain(d, k, generic) ==
        "update-group   G1 ROLE_Admins displayName: \"Admins\" -> \"ROLE_Admins\"\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~1 -0, members +0 -0)\n");
}

TEST_CASE("role_prefix: the deletion guard holds the type change back whole") {
  Directory d = Source();
  KnownState k = Synced(d);
  d.groups[0].display_name = "ROLE_Admins";
  PlanOptions o = Keeper();
  o.max_deletions = 0;
  Plan p = MakePlan(d, k, o);
  CHECK(p.deletions_blocked);
  CHECK(p.ops.empty());
  o.allow_deletions = true;
  CHECK(MakePlan(d, k, o).ops.size() == 3);
}

}  // namespace
}  // namespace scimsync
