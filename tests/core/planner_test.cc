// Golden-text tests of the pure planner: each scenario of issue 2 that is a
// planning question, compared with the exact `scimsync plan` rendering.
#include "core/planner.h"
#include "core/text.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace scimsync {
namespace {

using std::chrono::hours;

User MakeUser(const std::string& key, const std::string& mail, const std::string& dept = "Sales",
              bool active = true) {
  User u;
  u.key = key;
  u.Set(Attr::kUserName, mail);
  u.Set(Attr::kEmail, mail);
  u.Set(Attr::kDisplayName, "Name " + key);
  u.Set(Attr::kDepartment, dept);
  u.Set(Attr::kActive, active ? "true" : "false");
  return u;
}

KnownUser Synced(const User& u, const std::string& id) {
  KnownUser k;
  k.key = u.key;
  k.target_id = id;
  k.values = u.values;
  k.status = ObjectStatus::kSynced;
  return k;
}

Group MakeGroup(const std::string& key, std::vector<std::string> members) {
  Group g;
  g.key = key;
  g.display_name = key;
  g.members = std::move(members);
  return g;
}

KnownGroup SyncedGroup(const Group& g, const std::string& id) {
  KnownGroup k;
  k.key = g.key;
  k.target_id = id;
  k.display_name = g.display_name;
  k.members = g.members;
  k.status = ObjectStatus::kSynced;
  return k;
}

// The known state after a perfect sync of `dir`.
KnownState AfterSync(const Directory& dir) {
  KnownState k;
  for (const auto& u : dir.users) k.users.push_back(Synced(u, "id-" + u.key));
  for (const auto& g : dir.groups) k.groups.push_back(SyncedGroup(g, "gid-" + g.key));
  return k;
}

Directory Base() {
  Directory d;
  d.users = {MakeUser("E1", "ann@x.com"), MakeUser("E2", "bob@x.com"),
             MakeUser("E3", "cy@x.com", "IT")};
  d.groups = {MakeGroup("Admins", {"E3"}), MakeGroup("Staff", {"E1", "E2", "E3"})};
  return d;
}

// `n` users U100.. in one group "All".
Directory Many(int n) {
  Directory d;
  Group all = MakeGroup("All", {});
  for (int i = 0; i < n; ++i) {
    std::string key = "U" + std::to_string(100 + i);
    d.users.push_back(MakeUser(key, "u" + std::to_string(100 + i) + "@x"));
    all.members.push_back(key);
  }
  d.groups = {all};
  return d;
}

PlanOptions DeleteMode() {
  PlanOptions o;
  o.deprovision = DeprovisionMode::kDelete;
  return o;
}

std::string Plain(const Directory& d, const KnownState& k, const PlanOptions& o = {}) {
  return Describe(MakePlan(d, k, o));
}

TEST_CASE("first sync creates users, then groups, then memberships") {
  Directory d = Base();
  d.users.push_back(MakeUser("E4", "dee@x.com", "Legal", /*active=*/false));
  Plan p = MakePlan(d, KnownState{}, PlanOptions{});
  CHECK(Describe(p) ==
        "create-user    E1 ann@x.com\n"
        "create-user    E2 bob@x.com\n"
        "create-user    E3 cy@x.com\n"
        "create-user    E4 dee@x.com\n"
        "create-group   Admins Admins\n"
        "create-group   Staff Staff\n"
        "add-members    Admins Admins +1 members (E3)\n"
        "add-members    Staff Staff +3 members (E1 E2 E3)\n"
        "# plan: 8 operations (users +4 ~0 -0, groups +2 ~0 -0, members +4 -0)\n");
  // The create carries the whole desired user; an inactive one is created inactive.
  CHECK(p.ops[0].user.Get(Attr::kEmail) == "ann@x.com");
  CHECK(p.ops[3].user.Get(Attr::kActive) == "false");
  CHECK(p.ops[4].group.display_name == "Admins");
  CHECK(p.ops[4].target_id.empty());
  CHECK(p.summary.users_create == 4);
  CHECK(p.summary.groups_create == 2);
  CHECK(p.summary.members_add == 4);
  CHECK_FALSE(p.deletions_blocked);
}

TEST_CASE("second plan with no change is empty") {
  Directory d = Base();
  Plan p = MakePlan(d, AfterSync(d), PlanOptions{});
  CHECK(p.empty());
  CHECK(p.notes.empty());
  CHECK(Describe(p) == "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
  // Also in delete mode, and when a target left `active` out of what it returned.
  CHECK(MakePlan(d, AfterSync(d), DeleteMode()).empty());
  KnownState no_active = AfterSync(d);
  for (auto& u : no_active.users) u.values.Set(static_cast<std::size_t>(Attr::kActive), "");
  CHECK(MakePlan(d, no_active, PlanOptions{}).empty());
}

TEST_CASE("rename is one update of the changed attributes, same target id") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[0].Set(Attr::kUserName, "ann.new@x.com");
  d.users[0].Set(Attr::kEmail, "ann.new@x.com");
  Plan p = MakePlan(d, k, PlanOptions{});
  CHECK(Describe(p) ==
        "update-user    E1 ann.new@x.com userName: \"ann@x.com\" -> \"ann.new@x.com\", "
        "emails.work: \"ann@x.com\" -> \"ann.new@x.com\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  REQUIRE(p.ops.size() == 1);
  CHECK(p.ops[0].target_id == "id-E1");
  CHECK(p.ops[0].user.Get(Attr::kUserName) == "ann.new@x.com");
}

TEST_CASE("a case-only change of userName is a change; of an email address, not") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[1].Set(Attr::kUserName, "Bob@x.com");
  CHECK(Plain(d, k) ==
        "update-user    E2 Bob@x.com userName: \"bob@x.com\" -> \"Bob@x.com\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  // Targets may store an address in another case (Better Auth lowercases it):
  // comparing with case would patch such a target on every reconciling cycle.
  d = Base();
  d.users[1].Set(Attr::kEmail, "Bob@X.com");
  CHECK(Plain(d, k) == "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("department move") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[1].Set(Attr::kDepartment, "Finance");
  CHECK(Plain(d, k) ==
        "update-user    E2 bob@x.com department: \"Sales\" -> \"Finance\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("a removed attribute is removed unless kept; an added one is added") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[2].Set(Attr::kDepartment, "");
  d.users[2].Set(Attr::kPhone, "+1 555 0100");
  CHECK(Plain(d, k) ==
        "update-user    E3 cy@x.com phoneNumbers.work: (none) -> \"+1 555 0100\", "
        "department: \"IT\" -> (none)\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  PlanOptions keep;
  keep.keep[static_cast<std::size_t>(Attr::kDepartment)] = true;
  CHECK(Plain(d, k, keep) ==
        "update-user    E3 cy@x.com phoneNumbers.work: (none) -> \"+1 555 0100\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  // keep only holds back removals, never a new value.
  d.users[2].Set(Attr::kDepartment, "Ops");
  d.users[2].Set(Attr::kPhone, "");
  CHECK(Plain(d, k, keep) ==
        "update-user    E3 cy@x.com department: \"IT\" -> \"Ops\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("leaver in disable mode: memberships removed, user disabled") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users.erase(d.users.begin() + 1);  // E2 leaves
  d.groups[1].members = {"E1", "E3"};
  Plan p = MakePlan(d, k, PlanOptions{});
  CHECK(Describe(p) ==
        "remove-members Staff Staff -1 members (E2)\n"
        "disable-user   E2 bob@x.com\n"
        "# plan: 2 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -1)\n");
  CHECK(p.ops[1].target_id == "id-E2");
  CHECK(p.summary.users_disable == 1);
  // Already disabled: nothing more to do.
  KnownState disabled = k;
  disabled.users[1].status = ObjectStatus::kDisabled;
  disabled.users[1].values.Set(static_cast<std::size_t>(Attr::kActive), "false");
  disabled.groups[1].members = {"E1", "E3"};
  CHECK(MakePlan(d, disabled, PlanOptions{}).empty());
}

TEST_CASE("leaver in delete mode: deleted, no membership removal (the target drops it)") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users.erase(d.users.begin() + 1);
  d.groups[1].members = {"E1", "E3"};
  Plan p = MakePlan(d, k, DeleteMode());
  CHECK(Describe(p) ==
        "delete-user    E2 bob@x.com\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(p.summary.users_delete == 1);
  // A user disabled earlier is deleted once the mode is delete.
  KnownState disabled = k;
  disabled.users[1].status = ObjectStatus::kDisabled;
  disabled.users[1].values.Set(static_cast<std::size_t>(Attr::kActive), "false");
  CHECK(Plain(d, disabled, DeleteMode()) ==
        "delete-user    E2 bob@x.com\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0)\n");
  // Already deleted: nothing.
  KnownState deleted = k;
  deleted.users[1].status = ObjectStatus::kDeleted;
  deleted.users[1].target_id.clear();
  deleted.groups[1].members = {"E1", "E3"};
  CHECK(MakePlan(d, deleted, DeleteMode()).empty());
}

TEST_CASE("a leaver that never reached the target has nothing to deprovision") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[1].target_id.clear();
  k.users[1].status = ObjectStatus::kSeatBlocked;
  k.groups[1].members = {"E1", "E3"};
  d.users.erase(d.users.begin() + 1);
  d.groups[1].members = {"E1", "E3"};
  CHECK(Plain(d, k) ==
        "# 1 user not in the source never reached the target; nothing to deprovision\n"
        "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("re-hire: a disabled user is re-activated in place, a deleted one created again") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  KnownState disabled = k;
  disabled.users[1].status = ObjectStatus::kDisabled;
  disabled.users[1].values.Set(static_cast<std::size_t>(Attr::kActive), "false");
  Plan back = MakePlan(d, disabled, PlanOptions{});
  CHECK(Describe(back) ==
        "update-user    E2 bob@x.com active: \"false\" -> \"true\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(back.ops[0].target_id == "id-E2");
  CHECK(back.ops[0].user.Active());

  // The status decides even if the stored values lost `active`.
  disabled.users[1].values.Set(static_cast<std::size_t>(Attr::kActive), "");
  CHECK(Plain(d, disabled) ==
        "update-user    E2 bob@x.com active: \"false\" -> \"true\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");

  // Comes back with a new department too: one update with both changes.
  d.users[1].Set(Attr::kDepartment, "Finance");
  CHECK(Plain(d, disabled) ==
        "update-user    E2 bob@x.com department: \"Sales\" -> \"Finance\", "
        "active: \"false\" -> \"true\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  d.users[1].Set(Attr::kDepartment, "Sales");

  KnownState deleted = k;
  deleted.users[1].status = ObjectStatus::kDeleted;
  deleted.users[1].target_id.clear();
  deleted.groups[1].members = {"E1", "E3"};  // the DELETE took the membership
  Plan again = MakePlan(d, deleted, PlanOptions{});
  CHECK(Describe(again) ==
        "create-user    E2 bob@x.com\n"
        "add-members    Staff Staff +1 members (E2)\n"
        "# plan: 2 operations (users +1 ~0 -0, groups +0 ~0 -0, members +1 -0)\n");
  CHECK(again.ops[0].target_id.empty());
}

TEST_CASE("a user marked inactive in the source is deactivated by an update") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[0].Set(Attr::kActive, "false");
  CHECK(Plain(d, k) ==
        "update-user    E1 ann@x.com active: \"true\" -> \"false\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("membership churn adds and removes only the difference") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.groups[0].members = {"E1", "E2"};  // Admins: -E3 +E1 +E2
  Plan p = MakePlan(d, k, PlanOptions{});
  CHECK(Describe(p) ==
        "add-members    Admins Admins +2 members (E1 E2)\n"
        "remove-members Admins Admins -1 members (E3)\n"
        "# plan: 2 operations (users +0 ~0 -0, groups +0 ~0 -0, members +2 -1)\n");
  CHECK(p.ops[0].target_id == "gid-Admins");
  CHECK(p.ops[0].members == std::vector<std::string>{"E1", "E2"});
}

TEST_CASE("more than five members are counted, not listed") {
  Directory d = Many(7);
  Plan p = MakePlan(d, KnownState{}, PlanOptions{});
  CHECK(Describe(p).find("add-members    All All +7 members\n") != std::string::npos);
  CHECK(p.ops.back().members.size() == 7);
}

TEST_CASE("group rename and group that left the source") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.groups[1].display_name = "Everyone";
  d.groups.erase(d.groups.begin());  // Admins gone
  Plan p = MakePlan(d, k, PlanOptions{});
  CHECK(Describe(p) ==
        "update-group   Staff Everyone displayName: \"Staff\" -> \"Everyone\"\n"
        "delete-group   Admins Admins\n"
        "# plan: 2 operations (users +0 ~0 -0, groups +0 ~1 -1, members +0 -0)\n");
  CHECK(p.ops[0].group.display_name == "Everyone");
  CHECK(p.ops[1].target_id == "gid-Admins");
}

TEST_CASE("uncertain objects: resolve only, the rest of the plan goes on, then normal") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  // E3's create had an unknown outcome: no id, no stored values.
  k.users[2].uncertain = true;
  k.users[2].target_id.clear();
  k.users[2].values = AttrValues{};
  k.users[2].status = ObjectStatus::kPending;
  k.groups[0].members.clear();
  k.groups[1].members = {"E1", "E2"};
  // And a group whose PATCH timed out.
  k.groups[1].uncertain = true;
  d.users[2].Set(Attr::kTitle, "Boss");
  d.users[0].Set(Attr::kTitle, "CEO");  // other objects plan normally
  Plan p = MakePlan(d, k, PlanOptions{});
  CHECK(Describe(p) ==
        "resolve-user   E3 cy@x.com by filter\n"
        "resolve-group  Staff Staff by id gid-Staff\n"
        "update-user    E1 ann@x.com title: (none) -> \"CEO\"\n"
        "# 2 uncertain objects are re-read from the target first; their other changes are "
        "planned after that\n"
        "# plan: 3 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0, resolve 2)\n");
  // The executor looks the user up by the desired userName when the row has none.
  CHECK(p.ops[0].user.Get(Attr::kUserName) == "cy@x.com");
  CHECK(p.summary.resolve == 2);

  // After resolving: E3 found on the target with its old values; Staff as it was.
  KnownState resolved = k;
  resolved.users[2] = Synced(Base().users[2], "id-E3");
  resolved.groups[1].uncertain = false;
  CHECK(Plain(d, resolved) ==
        "update-user    E1 ann@x.com title: (none) -> \"CEO\"\n"
        "update-user    E3 cy@x.com title: (none) -> \"Boss\"\n"
        "add-members    Admins Admins +1 members (E3)\n"
        "add-members    Staff Staff +1 members (E3)\n"
        "# plan: 4 operations (users +0 ~2 -0, groups +0 ~0 -0, members +2 -0)\n");
}

TEST_CASE("uncertain members are left out of add and remove until resolved") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[0].uncertain = true;
  d.groups[0].members = {"E1", "E3"};       // would add E1
  d.groups[1].members = {"E2", "E3"};       // would remove E1
  CHECK(Plain(d, k) ==
        "resolve-user   E1 ann@x.com by id id-E1\n"
        "# 1 uncertain object is re-read from the target first; their other changes are "
        "planned after that\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, resolve 1)\n");
}

TEST_CASE("an uncertain leaver is resolved, not deprovisioned") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[1].uncertain = true;
  d.users.erase(d.users.begin() + 1);
  d.groups[1].members = {"E1", "E3"};
  CHECK(Plain(d, k) ==
        "resolve-user   E2 bob@x.com by id id-E2\n"
        "# 1 uncertain object is re-read from the target first; their other changes are "
        "planned after that\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, resolve 1)\n");
}

TEST_CASE("failed objects wait for their retry time unless their source changed") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[0].Set(Attr::kTitle, "Bad");
  k.users[0].status = ObjectStatus::kFailed;
  k.users[0].failed_hash = SourceHash(d.users[0]);
  k.users[0].next_retry = SysTime(hours(24 * 365 * 56 + 11));
  PlanOptions o;
  o.now = SysTime(hours(24 * 365 * 56 + 10));
  Plan p = MakePlan(d, k, o);
  CHECK(p.empty());
  CHECK(p.summary.deferred == 1);
  CHECK(Describe(p) ==
        "# deferred: 1 object in backoff (next retry 2025-12-18T11:00:00Z)\n"
        "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, deferred 1)\n");

  // Backoff over: retried.
  o.now = SysTime(hours(24 * 365 * 56 + 12));
  CHECK(Plain(d, k, o) ==
        "update-user    E1 ann@x.com title: (none) -> \"Bad\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");

  // Source changed: retried at once.
  o.now = SysTime(hours(24 * 365 * 56 + 10));
  d.users[0].Set(Attr::kTitle, "Fixed");
  CHECK(Plain(d, k, o) ==
        "update-user    E1 ann@x.com title: (none) -> \"Fixed\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("a deferred create is left out of its groups; conflicts wait too") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[2].target_id.clear();
  k.users[2].status = ObjectStatus::kConflict;
  k.users[2].failed_hash = SourceHash(d.users[2]);
  k.users[2].next_retry = SysTime(hours(5));
  k.groups[0].members.clear();
  k.groups[1].members = {"E1", "E2"};
  k.groups[1].status = ObjectStatus::kFailed;  // its own source unchanged, backoff running
  k.groups[1].failed_hash = SourceHash(d.groups[1]);
  k.groups[1].next_retry = SysTime(hours(3));
  PlanOptions o;
  o.now = SysTime(hours(1));
  CHECK(Plain(d, k, o) ==
        "# deferred: 2 objects in backoff (next retry 1970-01-01T03:00:00Z)\n"
        "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, deferred 2)\n");
}

TEST_CASE("seat-blocked users are created again each cycle and added to their groups") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[1].target_id.clear();
  k.users[1].status = ObjectStatus::kSeatBlocked;
  k.users[1].last_error = "waiting for a free licence seat";
  k.groups[1].members = {"E1", "E3"};
  CHECK(Plain(d, k) ==
        "create-user    E2 bob@x.com\n"
        "add-members    Staff Staff +1 members (E2)\n"
        "# plan: 2 operations (users +1 ~0 -0, groups +0 ~0 -0, members +1 -0)\n");
  // Pending without an id (create never confirmed, not uncertain): created too.
  k.users[1].status = ObjectStatus::kPending;
  CHECK(MakePlan(d, k, PlanOptions{}).ops[0].kind == OpKind::kCreateUser);
}

TEST_CASE("deletion guard: percent of the live known objects") {
  Directory d = Many(100);  // 100 users + 1 group on the target
  KnownState k = AfterSync(d);
  Directory shrunk = d;
  shrunk.users.resize(80);  // 20 leave
  shrunk.groups[0].members.resize(80);
  shrunk.users.push_back(MakeUser("U900", "new@x"));  // a hire in the same run
  shrunk.users[0].Set(Attr::kTitle, "Lead");
  Plan p = MakePlan(shrunk, k, PlanOptions{});
  CHECK(p.deletions_blocked);
  CHECK(p.deletions_wanted == 20);
  // Creates and updates go on; the leavers keep their memberships and accounts.
  CHECK(Describe(p) ==
        "create-user    U900 new@x\n"
        "update-user    U100 u100@x title: (none) -> \"Lead\"\n"
        "# deletion guard: 20 of 101 known users and groups would be deprovisioned (limit 500 "
        "or 10%); nothing was deprovisioned; run `scimsync sync --allow-deletions` once if this "
        "is intended\n"
        "# plan: 2 operations (users +1 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");

  PlanOptions allow;
  allow.allow_deletions = true;
  Plan allowed = MakePlan(shrunk, k, allow);
  CHECK_FALSE(allowed.deletions_blocked);
  CHECK(allowed.summary.users_disable == 20);
  CHECK(allowed.summary.members_remove == 20);
  CHECK(allowed.summary.users_create == 1);

  PlanOptions loose;
  loose.max_deletion_percent = 25;
  CHECK_FALSE(MakePlan(shrunk, k, loose).deletions_blocked);
}

TEST_CASE("deletion guard: count limit applies even below the percentage") {
  Directory d = Many(100);
  KnownState k = AfterSync(d);
  Directory shrunk = d;
  shrunk.users.resize(92);
  shrunk.groups[0].members.resize(92);
  PlanOptions o;
  CHECK_FALSE(MakePlan(shrunk, k, o).deletions_blocked);  // 8 of 101 < 10 %
  o.max_deletions = 5;
  o.max_deletion_percent = 2.5;
  Plan p = MakePlan(shrunk, k, o);
  CHECK(p.deletions_blocked);
  CHECK(p.deletions_wanted == 8);
  CHECK(p.notes.at(0) ==
        "deletion guard: 8 of 101 known users and groups would be deprovisioned (limit 5 or "
        "2.5%); nothing was deprovisioned; run `scimsync sync --allow-deletions` once if this "
        "is intended");
  o.max_deletions = 8;  // exactly the limit is allowed
  o.max_deletion_percent = 100;
  CHECK_FALSE(MakePlan(shrunk, k, o).deletions_blocked);
}

TEST_CASE("deletion guard: small directories are not blocked by the percentage") {
  // One leaver of three users (20 % of 5 live objects): under the floor, allowed.
  Directory small = Base();
  KnownState ks = AfterSync(small);
  small.users.pop_back();
  small.groups[0].members.clear();
  small.groups[1].members = {"E1", "E2"};
  Plan p = MakePlan(small, ks, PlanOptions{});
  CHECK_FALSE(p.deletions_blocked);
  CHECK(p.summary.users_disable == 1);

  // Six of twelve is above the floor of five: blocked.
  Directory d = Many(12);
  KnownState k = AfterSync(d);
  d.users.resize(6);
  d.groups[0].members.resize(6);
  CHECK(MakePlan(d, k, PlanOptions{}).deletions_wanted == 6);
  // Exactly five is still under the floor (strictly more than the floor counts).
  Directory five = Many(12);
  five.users.resize(7);
  five.groups[0].members.resize(7);
  CHECK_FALSE(MakePlan(five, k, PlanOptions{}).deletions_blocked);
  PlanOptions strict;
  strict.deletion_percent_floor = 0;
  CHECK(MakePlan(five, k, strict).deletions_blocked);
}

TEST_CASE("deletion guard counts group deletes and source deactivations") {
  Directory d = Many(20);
  for (int g = 0; g < 10; ++g) d.groups.push_back(MakeGroup("G" + std::to_string(g), {}));
  KnownState k = AfterSync(d);
  Directory bad = d;
  bad.groups.resize(1);  // ten groups gone
  for (auto& u : bad.users) u.Set(Attr::kActive, "false");
  bad.users[0].Set(Attr::kTitle, "Still updated");
  Plan p = MakePlan(bad, k, PlanOptions{});
  CHECK(p.deletions_blocked);
  CHECK(p.deletions_wanted == 30);
  // The deactivations wait; the other change of U100 goes through, and op.user
  // keeps the user active so a re-read-and-patch cannot deactivate it either.
  CHECK(Describe(p) ==
        "update-user    U100 u100@x title: (none) -> \"Still updated\"\n"
        "# deletion guard: 30 of 31 known users and groups would be deprovisioned (limit 500 "
        "or 10%); nothing was deprovisioned; run `scimsync sync --allow-deletions` once if this "
        "is intended\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(p.ops[0].user.Active());
}

TEST_CASE("deletion guard in delete mode keeps memberships of held-back users") {
  Directory d = Many(30);
  KnownState k = AfterSync(d);
  Directory shrunk = d;
  shrunk.users.resize(10);
  shrunk.groups[0].members.resize(10);
  Plan p = MakePlan(shrunk, k, DeleteMode());
  CHECK(p.deletions_blocked);
  CHECK(p.empty());
  Plan allowed = MakePlan(shrunk, k, [] {
    PlanOptions o = DeleteMode();
    o.allow_deletions = true;
    return o;
  }());
  CHECK(allowed.summary.users_delete == 20);
  CHECK(allowed.summary.members_remove == 0);
}

TEST_CASE("deletion guard: leavers with nothing to deprovision keep their memberships too") {
  // 30 members of "All"; five were already inactive on the target (the source
  // marked them so earlier) and one is in backoff after a failed disable. The
  // source read loses 20 of them: the guard holds, and no membership of any
  // leaver is removed, whatever its state.
  Directory d = Many(30);
  for (int i = 10; i < 15; ++i) d.users[static_cast<std::size_t>(i)].Set(Attr::kActive, "false");
  KnownState k = AfterSync(d);
  k.users[15].status = ObjectStatus::kFailed;
  k.users[15].failed_hash = 0;
  k.users[15].next_retry = SysTime{} + hours(1);
  Directory shrunk = d;
  shrunk.users.resize(10);
  shrunk.groups[0].members.resize(10);
  Plan p = MakePlan(shrunk, k, PlanOptions{});
  CHECK(p.deletions_blocked);
  CHECK(p.summary.members_remove == 0);
  CHECK(p.summary.users_disable == 0);

  PlanOptions allow;
  allow.allow_deletions = true;
  Plan allowed = MakePlan(shrunk, k, allow);
  CHECK(allowed.summary.members_remove == 20);
}

TEST_CASE("a group without a target id is forgotten without counting as a deletion") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.groups[0].target_id.clear();
  k.groups[0].status = ObjectStatus::kFailed;
  d.groups.erase(d.groups.begin());
  PlanOptions o;
  o.max_deletions = 0;
  Plan p = MakePlan(d, k, o);
  CHECK_FALSE(p.deletions_blocked);
  CHECK(Describe(p) ==
        "delete-group   Admins Admins\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -1, members +0 -0)\n");
}

TEST_CASE("ordering is by phase, kind, key and does not depend on input order") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users.push_back(MakeUser("E0", "zed@x.com"));
  d.users[1].Set(Attr::kTitle, "T");
  d.groups.push_back(MakeGroup("Aardvarks", {"E0", "E1"}));
  d.groups[1].members = {"E1", "E2"};
  d.users.erase(d.users.begin() + 2);  // E3 leaves
  d.groups[0].members = {};
  std::sort(d.users.begin(), d.users.end(),
            [](const User& a, const User& b) { return a.key < b.key; });
  std::sort(d.groups.begin(), d.groups.end(),
            [](const Group& a, const Group& b) { return a.key < b.key; });
  PlanOptions allow;
  allow.allow_deletions = true;
  const std::string want =
      "create-user    E0 zed@x.com\n"
      "update-user    E2 bob@x.com title: (none) -> \"T\"\n"
      "create-group   Aardvarks Aardvarks\n"
      "add-members    Aardvarks Aardvarks +2 members (E0 E1)\n"
      "remove-members Admins Admins -1 members (E3)\n"
      "remove-members Staff Staff -1 members (E3)\n"
      "disable-user   E3 cy@x.com\n"
      "# plan: 7 operations (users +1 ~1 -1, groups +1 ~0 -0, members +2 -2)\n";
  Plan p = MakePlan(d, k, allow);
  CHECK(Describe(p) == want);

  // Same inputs in reverse order: the same plan, byte for byte.
  Directory rd = d;
  KnownState rk = k;
  std::reverse(rd.users.begin(), rd.users.end());
  std::reverse(rd.groups.begin(), rd.groups.end());
  std::reverse(rd.groups.back().members.begin(), rd.groups.back().members.end());
  std::reverse(rk.users.begin(), rk.users.end());
  std::reverse(rk.groups.begin(), rk.groups.end());
  Plan rp = MakePlan(rd, rk, allow);
  CHECK(Describe(rp) == want);
  CHECK(DescribeJson(rp) == DescribeJson(p));
  CHECK(Describe(MakePlan(d, k, allow)) == want);
}

TEST_CASE("DiffUser: exact comparison, keep, active defaults to true") {
  User have = MakeUser("K", "a@x");
  User want = have;
  std::array<bool, kAttrCount> keep{};
  CHECK(DiffUser(have.values, want.values, keep).empty());

  want.Set(Attr::kUserName, "A@x");
  want.Set(Attr::kTitle, "New");
  want.Set(Attr::kDepartment, "");
  auto c = DiffUser(have.values, want.values, keep);
  REQUIRE(c.size() == 3);
  CHECK(c[0].attr == Attr::kUserName);
  CHECK(c[0].old_value == "a@x");
  CHECK(c[0].new_value == "A@x");
  CHECK(c[1].attr == Attr::kTitle);
  CHECK(c[1].old_value.empty());
  CHECK(c[2].attr == Attr::kDepartment);
  CHECK(c[2].new_value.empty());

  keep[static_cast<std::size_t>(Attr::kDepartment)] = true;
  CHECK(DiffUser(have.values, want.values, keep).size() == 2);

  // Absent `active` means active on both sides; "false" is a real change.
  AttrValues a = have.values, b = have.values;
  a.Set(static_cast<std::size_t>(Attr::kActive), "");
  CHECK(DiffUser(a, b, {}).empty());
  b.Set(static_cast<std::size_t>(Attr::kActive), "false");
  auto d = DiffUser(a, b, {});
  REQUIRE(d.size() == 1);
  CHECK(d[0].attr == Attr::kActive);
  CHECK(d[0].new_value == "false");
}

TEST_CASE("DiffUser: an email address that differs only in ASCII case is no change") {
  User have = MakeUser("K", "Ann.Lee@Example.com");
  User want = have;
  have.Set(Attr::kEmail, "ann.lee@example.com");  // as Better Auth stores it
  CHECK(DiffUser(have.values, want.values, {}).empty());
  want.Set(Attr::kEmail, "ann.lee@example.org");
  auto c = DiffUser(have.values, want.values, {});
  REQUIRE(c.size() == 1);
  CHECK(c[0].attr == Attr::kEmail);
  CHECK(c[0].new_value == "ann.lee@example.org");
}


// ---- three-sided planning (issue 10) -------------------------------------------

RemoteUser RemoteOf(const User& u, const std::string& id, bool external_id = true) {
  RemoteUser r;
  r.id = id;
  if (external_id) r.external_id = u.key;
  r.values = u.values;
  return r;
}

// What the target holds after a perfect sync of `dir` (ids as in AfterSync).
TargetSnapshot TargetAfterSync(const Directory& dir) {
  TargetSnapshot t;
  for (const auto& u : dir.users) t.users.push_back(RemoteOf(u, "id-" + u.key));
  for (const auto& g : dir.groups) {
    RemoteGroup r;
    r.id = "gid-" + g.key;
    r.external_id = g.key;
    r.display_name = g.display_name;
    for (const auto& m : g.members) r.member_ids.push_back("id-" + m);
    t.groups.push_back(r);
  }
  return t;
}

PlanOptions Read(const TargetSnapshot& t) {
  PlanOptions o;
  o.snapshot = &t;
  return o;
}

RemoteUser* FindRemote(TargetSnapshot& t, const std::string& id) {
  for (auto& u : t.users) {
    if (u.id == id) return &u;
  }
  return nullptr;
}

RemoteGroup* FindRemoteGroup(TargetSnapshot& t, const std::string& id) {
  for (auto& g : t.groups) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

void Set(RemoteUser* u, Attr a, std::string v) {
  u->values.Set(static_cast<std::size_t>(a), std::move(v));
}

bool WritesNothing(const Plan& p) {
  return std::none_of(p.ops.begin(), p.ops.end(),
                      [](const Operation& op) { return WritesTarget(op.kind); });
}

TEST_CASE("snapshot: source, state and target agree: nothing to do") {
  Directory d = Base();
  TargetSnapshot t = TargetAfterSync(d);
  Plan p = MakePlan(d, AfterSync(d), Read(t));
  CHECK(p.empty());
  CHECK(Describe(p) == "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
  // A target that leaves `active` out says nothing about it.
  for (auto& u : t.users) Set(&u, Attr::kActive, "");
  CHECK(MakePlan(d, AfterSync(d), Read(t)).empty());
}

TEST_CASE("snapshot: a target that lowercases email addresses is no drift, and no state refresh") {
  Directory d = Base();
  for (auto& u : d.users) u.Set(Attr::kEmail, "Mixed." + std::string(u.Get(Attr::kEmail)));
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  for (auto& u : t.users) Set(&u, Attr::kEmail, FoldCase(u.values[static_cast<std::size_t>(Attr::kEmail)]));
  CHECK(MakePlan(d, k, Read(t)).empty());
  // A real change of address is still one.
  Set(FindRemote(t, "id-E1"), Attr::kEmail, "other@x.com");
  CHECK(Describe(MakePlan(d, k, Read(t))) ==
        "update-user    E1 ann@x.com emails.work: \"other@x.com\" -> \"Mixed.ann@x.com\" "
        "[drift: emails.work changed on the target]\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0, drift 1)\n");
}

TEST_CASE("snapshot: department changed and phone removed by hand are repaired") {
  Directory d = Base();
  d.users[0].Set(Attr::kPhone, "+1 555 0100");
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  Set(FindRemote(t, "id-E2"), Attr::kDepartment, "Ops");
  Set(FindRemote(t, "id-E1"), Attr::kPhone, "");
  d.users[2].Set(Attr::kTitle, "Boss");  // and a source change, not drift
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "update-user    E1 ann@x.com phoneNumbers.work: (none) -> \"+1 555 0100\" "
        "[drift: phoneNumbers.work removed on the target]\n"
        "update-user    E2 bob@x.com department: \"Ops\" -> \"Sales\" "
        "[drift: department changed on the target]\n"
        "update-user    E3 cy@x.com title: (none) -> \"Boss\"\n"
        "# plan: 3 operations (users +0 ~3 -0, groups +0 ~0 -0, members +0 -0, drift 2)\n");
  CHECK(p.summary.drift == 2);
  // The executor records the target's values with the changes applied.
  REQUIRE(p.ops[1].target_values);
  CHECK((*p.ops[1].target_values)[static_cast<std::size_t>(Attr::kDepartment)] == "Ops");
  CHECK(p.ops[1].target_id == "id-E2");
  // Without the snapshot the same state sees nothing but the source change.
  CHECK(Plain(d, k) ==
        "update-user    E3 cy@x.com title: (none) -> \"Boss\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("snapshot: active flipped by hand is flipped back") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  Set(FindRemote(t, "id-E1"), Attr::kActive, "false");
  CHECK(Describe(MakePlan(d, k, Read(t))) ==
        "update-user    E1 ann@x.com active: \"false\" -> \"true\" "
        "[drift: active set to false on the target]\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0, drift 1)\n");

  // A leaver scimsync disabled, enabled again by hand: disabled again.
  Directory left = Base();
  left.users.erase(left.users.begin() + 1);
  left.groups[1].members = {"E1", "E3"};
  KnownState disabled = AfterSync(left);
  KnownUser e2 = Synced(Base().users[1], "id-E2");
  e2.status = ObjectStatus::kDisabled;
  e2.values.Set(static_cast<std::size_t>(Attr::kActive), "false");
  disabled.users.insert(disabled.users.begin() + 1, e2);
  TargetSnapshot enabled = TargetAfterSync(left);
  enabled.users.push_back(RemoteOf(Base().users[1], "id-E2"));  // active "true"
  CHECK(Plain(left, disabled) ==
        "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(Describe(MakePlan(left, disabled, Read(enabled))) ==
        "disable-user   E2 bob@x.com [drift: active set to true on the target]\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0, drift 1)\n");

  // A leaver disabled by hand before scimsync got to it: only recorded.
  KnownState synced = disabled;
  synced.users[1] = Synced(Base().users[1], "id-E2");
  Set(&enabled.users.back(), Attr::kActive, "false");
  Plan p = MakePlan(left, synced, Read(enabled));
  CHECK(Describe(p) ==
        "bind-user      E2 bob@x.com id-E2 (state updated from the target)\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, bind 1)\n");
  CHECK(WritesNothing(p));
}

TEST_CASE("snapshot: a user deleted by hand is created again and its memberships restored") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  t.users.erase(t.users.begin() + 1);  // E2 gone, and with it its memberships
  FindRemoteGroup(t, "gid-Staff")->member_ids = {"id-E1", "id-E3"};
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "create-user    E2 bob@x.com [drift: deleted on the target]\n"
        "bind-group     Staff Staff gid-Staff (state updated from the target)\n"
        "add-members    Staff Staff +1 members (E2) [drift: 1 member removed on the target]\n"
        "# plan: 3 operations (users +1 ~0 -0, groups +0 ~0 -0, members +1 -0, bind 1, "
        "drift 2)\n");
  CHECK(p.ops[0].target_id.empty());
  // The state's member list becomes what the target holds; add-members then adds.
  REQUIRE(p.ops[1].target_members);
  CHECK(*p.ops[1].target_members == std::vector<std::string>{"E1", "E3"});
}

TEST_CASE("snapshot: a leaver deleted by hand is only recorded") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  t.users.erase(t.users.begin() + 1);
  FindRemoteGroup(t, "gid-Staff")->member_ids = {"id-E1", "id-E3"};
  d.users.erase(d.users.begin() + 1);
  d.groups[1].members = {"E1", "E3"};
  for (const auto& o : {Read(t), [&] {
                          PlanOptions del = DeleteMode();
                          del.snapshot = &t;
                          return del;
                        }()}) {
    Plan p = MakePlan(d, k, o);
    CHECK(Describe(p) ==
          "bind-user      E2 bob@x.com (not on the target)\n"
          "bind-group     Staff Staff gid-Staff (state updated from the target)\n"
          "# plan: 2 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, bind 2)\n");
    CHECK(WritesNothing(p));
  }
}

TEST_CASE("snapshot: member removed by hand is added back, members added by hand removed") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  FindRemoteGroup(t, "gid-Staff")->member_ids = {"id-E1", "id-E3"};       // E2 removed
  FindRemoteGroup(t, "gid-Admins")->member_ids = {"id-E3", "id-E1", "u-x"};  // E1, u-x added
  RemoteUser outsider;
  outsider.id = "u-x";
  outsider.values.Set(static_cast<std::size_t>(Attr::kUserName), "zed@x.com");
  t.users.push_back(outsider);
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "bind-group     Admins Admins gid-Admins (state updated from the target)\n"
        "bind-group     Staff Staff gid-Staff (state updated from the target)\n"
        "add-members    Staff Staff +1 members (E2) [drift: 1 member removed on the target]\n"
        "remove-members Admins Admins -2 members (E1 id:u-x) "
        "[drift: 2 members added on the target]\n"
        "# plan: 4 operations (users +0 ~0 -0, groups +0 ~0 -0, members +1 -2, bind 2, "
        "drift 2, unmanaged users 1 groups 0)\n");
  CHECK(p.ops[3].member_ids == std::vector<std::string>{"u-x"});
  // The outsider is reported, never touched itself.
  REQUIRE(p.unmanaged_users.size() == 1);
  CHECK(p.unmanaged_users[0].id == "u-x");
  CHECK(p.unmanaged_users[0].name == "zed@x.com");

  // foreign_members = keep: hand-added members stay; what scimsync put there and the
  // source removed still goes.
  PlanOptions keep = Read(t);
  keep.foreign_members = ForeignMembers::kKeep;
  d.groups[0].members = {};  // E3 leaves Admins in the source
  CHECK(Describe(MakePlan(d, k, keep)) ==
        "bind-group     Admins Admins gid-Admins (state updated from the target)\n"
        "bind-group     Staff Staff gid-Staff (state updated from the target)\n"
        "add-members    Staff Staff +1 members (E2) [drift: 1 member removed on the target]\n"
        "remove-members Admins Admins -1 members (E3)\n"
        "# plan: 4 operations (users +0 ~0 -0, groups +0 ~0 -0, members +1 -1, bind 2, "
        "drift 1, unmanaged users 1 groups 0)\n");
}

TEST_CASE("snapshot: a group deleted or renamed by hand is repaired") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  t.groups.erase(t.groups.begin());  // Admins deleted by hand
  FindRemoteGroup(t, "gid-Staff")->display_name = "Everyone";
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "create-group   Admins Admins [drift: deleted on the target]\n"
        "update-group   Staff Staff displayName: \"Everyone\" -> \"Staff\" "
        "[drift: displayName changed on the target]\n"
        "add-members    Admins Admins +1 members (E3)\n"
        "# plan: 3 operations (users +0 ~0 -0, groups +1 ~1 -0, members +1 -0, drift 2)\n");
  CHECK(p.ops[0].target_id.empty());
  REQUIRE(p.ops[1].target_members);
  CHECK(p.ops[1].target_members->size() == 3);

  // A group that left the source and was deleted by hand is only forgotten.
  d.groups.erase(d.groups.begin());
  CHECK(Describe(MakePlan(d, k, Read(t))) ==
        "update-group   Staff Staff displayName: \"Everyone\" -> \"Staff\" "
        "[drift: displayName changed on the target]\n"
        "bind-group     Admins Admins (not on the target)\n"
        "# plan: 2 operations (users +0 ~0 -0, groups +0 ~1 -0, members +0 -0, bind 1, "
        "drift 1)\n");
}

TEST_CASE("snapshot: an externalId changed by hand is written back, an empty one is not") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  FindRemote(t, "id-E1")->external_id = "someone-else";
  FindRemote(t, "id-E2")->external_id.clear();  // a target that does not store it
  FindRemoteGroup(t, "gid-Staff")->external_id = "x";
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "update-user    E1 ann@x.com externalId: \"someone-else\" -> \"E1\" "
        "[drift: externalId changed on the target]\n"
        "update-group   Staff Staff externalId: \"x\" -> \"Staff\" "
        "[drift: externalId changed on the target]\n"
        "# plan: 2 operations (users +0 ~1 -0, groups +0 ~1 -0, members +0 -0, drift 2)\n");
}

TEST_CASE("snapshot: lost state file and unchanged source: bind only, no write request") {
  Directory d = Base();
  TargetSnapshot t = TargetAfterSync(d);
  Plan p = MakePlan(d, KnownState{}, Read(t));
  CHECK(Describe(p) ==
        "bind-user      E1 ann@x.com id-E1 (by externalId)\n"
        "bind-user      E2 bob@x.com id-E2 (by externalId)\n"
        "bind-user      E3 cy@x.com id-E3 (by externalId)\n"
        "bind-group     Admins Admins gid-Admins (by externalId)\n"
        "bind-group     Staff Staff gid-Staff (by externalId)\n"
        "# plan: 5 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, bind 5)\n");
  CHECK(WritesNothing(p));
  REQUIRE(p.ops[4].target_members);
  CHECK(*p.ops[4].target_members == std::vector<std::string>{"E1", "E2", "E3"});
  REQUIRE(p.ops[0].target_values);
  CHECK(*p.ops[0].target_values == d.users[0].values);
  // The same from a state file whose rows lost their target ids.
  KnownState no_ids = AfterSync(d);
  for (auto& u : no_ids.users) u.target_id.clear();
  for (auto& g : no_ids.groups) g.target_id.clear();
  CHECK(Describe(MakePlan(d, no_ids, Read(t))) == Describe(p));
}

TEST_CASE("snapshot: adoption by externalId and by userName writes the key as externalId") {
  Directory d = Base();
  d.groups.clear();
  TargetSnapshot t;
  User renamed = d.users[0];
  renamed.Set(Attr::kUserName, "ann.old@x.com");
  t.users.push_back(RemoteOf(renamed, "u-1"));  // externalId E1, an old userName
  User shouting = d.users[1];
  shouting.Set(Attr::kUserName, "BOB@x.com");
  t.users.push_back(RemoteOf(shouting, "u-2", /*external_id=*/false));  // pre-existing
  Plan p = MakePlan(d, KnownState{}, Read(t));
  CHECK(Describe(p) ==
        "create-user    E3 cy@x.com\n"
        "adopt-user     E1 ann@x.com u-1 (by externalId) userName: \"ann.old@x.com\" -> "
        "\"ann@x.com\"\n"
        "adopt-user     E2 bob@x.com u-2 (by userName) externalId: (none) -> \"E2\", userName: "
        "\"BOB@x.com\" -> \"bob@x.com\"\n"
        "# plan: 3 operations (users +1 ~0 -0, groups +0 ~0 -0, members +0 -0, adopt 2)\n");
  CHECK(p.ops[2].external_id == "E2");
  CHECK(p.ops[2].target_id == "u-2");
  CHECK(p.ops[1].external_id.empty());
  // userName already equal: only the externalId is written.
  t.users[1].values = d.users[1].values;
  CHECK(Describe(MakePlan(d, KnownState{}, Read(t))).find(
            "adopt-user     E2 bob@x.com u-2 (by userName) externalId: (none) -> \"E2\"\n") !=
        std::string::npos);
}

TEST_CASE("snapshot: conflicts are reported with both keys and never written") {
  Directory d = Base();
  d.groups.clear();
  d.users.push_back(MakeUser("E4", "dee@x.com"));
  d.users.push_back(MakeUser("E5", "dan@x.com"));
  d.users.push_back(MakeUser("E6", "Dan@x.com"));
  KnownState k;
  // E7 left long ago; scimsync disabled it; bob@x.com was its address.
  KnownUser e7 = Synced(MakeUser("E7", "bob@x.com", "Sales", false), "u-2");
  e7.status = ObjectStatus::kDisabled;
  k.users.push_back(e7);
  TargetSnapshot t;
  RemoteUser other = RemoteOf(d.users[0], "u-1", false);
  other.external_id = "E9";  // ann@x.com belongs to another source key
  t.users.push_back(other);
  t.users.push_back(RemoteOf(MakeUser("E7", "bob@x.com", "Sales", false), "u-2"));
  t.users.push_back(RemoteOf(d.users[2], "u-3", false));
  t.users.push_back(RemoteOf(MakeUser("X", "CY@x.com"), "u-4", false));  // cy@ twice
  t.users.push_back(RemoteOf(d.users[3], "u-5"));                         // externalId E4
  t.users.push_back(RemoteOf(d.users[3], "u-6"));                         // twice
  t.users.push_back(RemoteOf(d.users[4], "u-7", false));  // dan@x.com: E5 and E6 match
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "adopt-user     E5 dan@x.com u-7 (by userName) externalId: (none) -> \"E5\"\n"
        "conflict-user  E1 ann@x.com (target user u-1 with userName \\\"ann@x.com\\\" has "
        "externalId \\\"E9\\\"; not adopted)\n"
        "conflict-user  E2 bob@x.com (userName \\\"bob@x.com\\\" belongs to target user u-2, "
        "bound to source key E7; not adopted)\n"
        "conflict-user  E3 cy@x.com (2 target users have userName \\\"cy@x.com\\\" (u-3, u-4); "
        "none adopted)\n"
        "conflict-user  E4 dee@x.com (2 target users have externalId \\\"E4\\\" (u-5, u-6); "
        "none adopted)\n"
        "conflict-user  E6 Dan@x.com (userName \\\"Dan@x.com\\\" also matches source key E5, "
        "which adopts target user u-7; not adopted)\n"
        "# conflict: 5 objects match target objects that may not be adopted; nothing is "
        "written to either side (see the conflict lines)\n"
        "# plan: 6 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, adopt 1, "
        "conflicts 5, unmanaged users 5 groups 0)\n");
  CHECK(p.ops[1].target_id.empty());
  CHECK(p.summary.conflicts == 5);
  // Conflicts are never written, and their target objects are unmanaged.
  CHECK(p.unmanaged_users.size() == 5);
  CHECK(p.unmanaged_users[0].name == "CY@x.com");
}

TEST_CASE("snapshot: a conflict row is checked again at once, without waiting") {
  Directory d = Base();
  d.groups.clear();
  KnownState k;
  KnownUser c;
  c.key = "E1";
  c.status = ObjectStatus::kConflict;
  c.failed_hash = SourceHash(d.users[0]);
  c.next_retry = SysTime(hours(5));
  k.users.push_back(c);
  TargetSnapshot t;
  t.users.push_back(RemoteOf(d.users[0], "u-1", false));  // the other externalId was removed
  PlanOptions o = Read(t);
  o.now = SysTime(hours(1));
  CHECK(Describe(MakePlan(d, k, o)).find(
            "adopt-user     E1 ann@x.com u-1 (by userName) externalId: (none) -> \"E1\"\n") !=
        std::string::npos);
  o.snapshot = nullptr;  // from the state alone it waits
  CHECK(MakePlan(d, k, o).summary.deferred == 1);
}

TEST_CASE("snapshot: groups with one displayName are two target groups") {
  Directory d;
  Group g1 = MakeGroup("G1", {});
  g1.display_name = "Staff";
  Group g2 = MakeGroup("G2", {});
  g2.display_name = "Staff";
  d.groups = {g1, g2};
  // One pre-existing "Staff" on the target: the lowest key adopts it, the other is
  // created (a target that refuses a second "Staff" makes that a conflict).
  TargetSnapshot one;
  RemoteGroup staff;
  staff.id = "gid-1";
  staff.display_name = "Staff";
  one.groups.push_back(staff);
  Plan p = MakePlan(d, KnownState{}, Read(one));
  CHECK(Describe(p) ==
        "create-group   G2 Staff\n"
        "adopt-group    G1 Staff gid-1 (by displayName) externalId: (none) -> \"G1\"\n"
        "# plan: 2 operations (users +0 ~0 -0, groups +1 ~0 -0, members +0 -0, adopt 1)\n");

  // Two target groups named Staff with our externalIds (after that sync, state lost):
  // each binds its own.
  TargetSnapshot two;
  RemoteGroup s1 = staff, s2 = staff;
  s1.external_id = "G1";
  s2.id = "gid-2";
  s2.external_id = "G2";
  two.groups = {s2, s1};
  CHECK(Describe(MakePlan(d, KnownState{}, Read(two))) ==
        "bind-group     G1 Staff gid-1 (by externalId)\n"
        "bind-group     G2 Staff gid-2 (by externalId)\n"
        "# plan: 2 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, bind 2)\n");

  // G2 leaves the source: only its own group is deleted.
  KnownState k = AfterSync(d);
  k.groups[0].target_id = "gid-1";
  k.groups[1].target_id = "gid-2";
  Directory one_left = d;
  one_left.groups.pop_back();
  CHECK(Describe(MakePlan(one_left, k, Read(two))) ==
        "delete-group   G2 Staff\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -1, members +0 -0)\n");

  // A source group named Staff and two pre-existing ones without externalId: never
  // guessed.
  two.groups[0].external_id.clear();
  two.groups[1].external_id.clear();
  Directory single = d;
  single.groups.pop_back();
  CHECK(Describe(MakePlan(single, KnownState{}, Read(two))) ==
        "conflict-group G1 Staff (2 target groups have displayName \\\"Staff\\\" (gid-1, gid-2); "
        "none adopted)\n"
        "# conflict: 1 object matches a target object that may not be adopted; nothing is "
        "written to either side (see the conflict lines)\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, conflicts 1, "
        "unmanaged users 0 groups 2)\n");
}

TEST_CASE("case-only group rename is one update of the same group, without and with snapshot") {
  Directory d = Base();
  d.groups[1].key = "Sales";
  d.groups[1].display_name = "Sales";
  d.groups[1].members = {"E1", "E2"};
  std::sort(d.groups.begin(), d.groups.end(),
            [](const Group& a, const Group& b) { return a.key < b.key; });
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  Directory renamed = d;
  renamed.groups[1].key = "sales";
  renamed.groups[1].display_name = "sales";
  renamed.groups[1].members = {"E1", "E2", "E3"};
  const std::string want =
      "adopt-group    sales sales gid-Sales (key was Sales) externalId: \"Sales\" -> \"sales\", "
      "displayName: \"Sales\" -> \"sales\"\n"
      "add-members    sales sales +1 members (E3)\n"
      "# plan: 2 operations (users +0 ~0 -0, groups +0 ~0 -0, members +1 -0, adopt 1)\n";
  Plan p = MakePlan(renamed, k, PlanOptions{});
  CHECK(Describe(p) == want);
  CHECK(p.ops[0].previous_key == "Sales");
  CHECK(p.ops[0].target_id == "gid-Sales");
  REQUIRE(p.ops[0].target_members);
  CHECK(*p.ops[0].target_members == std::vector<std::string>{"E1", "E2"});
  CHECK(p.ops[1].target_id == "gid-Sales");
  // No delete of the old key, no remove of anyone: no membership is lost.
  CHECK(Describe(MakePlan(renamed, k, Read(t))) == want);
  // Also when the new key already has a row from a create the target refused.
  KnownState refused = k;
  KnownGroup lower;
  lower.key = "sales";
  lower.display_name = "sales";
  lower.status = ObjectStatus::kConflict;
  refused.groups.push_back(lower);
  CHECK(Plain(renamed, refused) == want);
}

TEST_CASE("snapshot: unmanaged users and groups are counted and never touched") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  RemoteUser zed;
  zed.id = "u-z";
  zed.values.Set(static_cast<std::size_t>(Attr::kUserName), "zed@x.com");
  RemoteUser amy = zed;
  amy.id = "u-a";
  amy.values.Set(static_cast<std::size_t>(Attr::kUserName), "amy@x.com");
  t.users.push_back(zed);
  t.users.push_back(amy);
  RemoteGroup outsiders;
  outsiders.id = "g-o";
  outsiders.display_name = "Outsiders";
  outsiders.member_ids = {"u-z", "id-E1"};  // holds a managed user too
  t.groups.push_back(outsiders);
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, unmanaged "
        "users 2 groups 1)\n");
  REQUIRE(p.unmanaged_users.size() == 2);
  CHECK(p.unmanaged_users[0].id == "u-a");
  CHECK(p.unmanaged_users[1].id == "u-z");
  REQUIRE(p.unmanaged_groups.size() == 1);
  CHECK(p.unmanaged_groups[0].name == "Outsiders");
  CHECK(p.summary.unmanaged_users == 2);
  CHECK(p.summary.unmanaged_groups == 1);
  // Without a snapshot nothing is known about them.
  CHECK(MakePlan(d, k, PlanOptions{}).unmanaged_users.empty());
}

TEST_CASE("snapshot: a stale state row is refreshed without a request") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[0].values.Set(static_cast<std::size_t>(Attr::kTitle), "Old");  // fixed by hand since
  k.users[1].status = ObjectStatus::kFailed;  // backoff over; the target holds it already
  TargetSnapshot t = TargetAfterSync(d);
  Plan p = MakePlan(d, k, Read(t));
  CHECK(Describe(p) ==
        "bind-user      E1 ann@x.com id-E1 (state updated from the target)\n"
        "bind-user      E2 bob@x.com id-E2 (state updated from the target)\n"
        "# plan: 2 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, bind 2)\n");
  CHECK(WritesNothing(p));
}

TEST_CASE("snapshot: the deletion guard counts repairs that deprovision") {
  // Ten users the source marks inactive were activated again by hand.
  Directory d = Many(20);
  for (int i = 0; i < 10; ++i) d.users[static_cast<std::size_t>(i)].Set(Attr::kActive, "false");
  KnownState k = AfterSync(d);
  for (int i = 0; i < 10; ++i) k.users[static_cast<std::size_t>(i)].status = ObjectStatus::kDisabled;
  TargetSnapshot t = TargetAfterSync(d);
  for (int i = 0; i < 10; ++i) Set(&t.users[static_cast<std::size_t>(i)], Attr::kActive, "true");
  Plan p = MakePlan(d, k, Read(t));
  CHECK(p.deletions_blocked);
  CHECK(p.deletions_wanted == 10);
  CHECK(p.summary.users_update == 0);
  PlanOptions allow = Read(t);
  allow.allow_deletions = true;
  Plan allowed = MakePlan(d, k, allow);
  CHECK(allowed.summary.users_update == 10);
  CHECK(allowed.summary.drift == 10);
  CHECK(allowed.ops[0].drift == "active set to true on the target");
}

TEST_CASE("snapshot: the plan does not depend on the order of any input") {
  Directory d = Base();
  d.users.push_back(MakeUser("E5", "dan@x.com"));
  d.users.push_back(MakeUser("E6", "Dan@x.com"));
  Group sales = MakeGroup("Sales", {"E5"});
  d.groups.push_back(sales);
  Canonicalize(d);
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  // State lost for E5, E6 and Sales; the target has one dan@ (no externalId), a
  // hand-added outsider in Staff, Admins deleted by hand.
  std::erase_if(k.users, [](const KnownUser& u) { return u.key == "E5" || u.key == "E6"; });
  std::erase_if(k.groups, [](const KnownGroup& g) { return g.key == "Sales"; });
  std::erase_if(t.users, [](const RemoteUser& u) { return u.id == "id-E6"; });
  FindRemote(t, "id-E5")->external_id.clear();
  FindRemote(t, "id-E5")->values.Set(static_cast<std::size_t>(Attr::kUserName), "DAN@x.com");
  RemoteUser zed;
  zed.id = "u-z";
  t.users.push_back(zed);
  FindRemoteGroup(t, "gid-Staff")->member_ids.push_back("u-z");
  std::erase_if(t.groups, [](const RemoteGroup& g) { return g.id == "gid-Admins"; });
  PlanOptions o = Read(t);
  Plan p = MakePlan(d, k, o);
  const std::string want = Describe(p);
  CHECK(want ==
        "adopt-user     E5 dan@x.com id-E5 (by userName) externalId: (none) -> \"E5\", "
        "userName: \"DAN@x.com\" -> \"dan@x.com\"\n"
        "conflict-user  E6 Dan@x.com (userName \\\"Dan@x.com\\\" also matches source key E5, "
        "which adopts target user id-E5; not adopted)\n"
        "create-group   Admins Admins [drift: deleted on the target]\n"
        "bind-group     Sales Sales gid-Sales (by externalId)\n"
        "add-members    Admins Admins +1 members (E3)\n"
        "remove-members Staff Staff -1 members (id:u-z) [drift: 1 member added on the target]\n"
        "# conflict: 1 object matches a target object that may not be adopted; nothing is "
        "written to either side (see the conflict lines)\n"
        "# plan: 6 operations (users +0 ~0 -0, groups +1 ~0 -0, members +1 -1, adopt 1, "
        "bind 1, conflicts 1, drift 2, unmanaged users 1 groups 0)\n");

  Directory rd = d;
  KnownState rk = k;
  TargetSnapshot rt = t;
  std::reverse(rd.users.begin(), rd.users.end());
  std::reverse(rd.groups.begin(), rd.groups.end());
  std::reverse(rk.users.begin(), rk.users.end());
  std::reverse(rk.groups.begin(), rk.groups.end());
  std::reverse(rt.users.begin(), rt.users.end());
  std::reverse(rt.groups.begin(), rt.groups.end());
  for (auto& g : rt.groups) std::reverse(g.member_ids.begin(), g.member_ids.end());
  Plan rp = MakePlan(rd, rk, Read(rt));
  CHECK(Describe(rp) == want);
  CHECK(DescribeJson(rp) == DescribeJson(p));
}

PlanOptions NoGroups() {
  PlanOptions o;
  o.push_groups = false;
  return o;
}

TEST_CASE("push_groups = false: users only; known groups left on the target as they are") {
  // First sync: no group create, no membership.
  CHECK(Plain(Base(), KnownState{}, NoGroups()) ==
        "create-user    E1 ann@x.com\n"
        "create-user    E2 bob@x.com\n"
        "create-user    E3 cy@x.com\n"
        "# plan: 3 operations (users +3 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");

  // Groups pushed before the switch: a renamed group, a group that left the source,
  // a new group, membership churn and a leaver touch no group; the rows stay.
  Directory d = Base();
  KnownState k = AfterSync(d);
  Directory next = d;
  next.users.erase(next.users.begin());                 // E1 leaves
  next.groups[0].display_name = "Administrators";       // Admins renamed
  next.groups.erase(next.groups.begin() + 1);           // Staff leaves the source
  next.groups.push_back(MakeGroup("Zeta", {"E2"}));     // a new group
  CHECK(Plain(next, k, NoGroups()) ==
        "disable-user   E1 ann@x.com\n"
        "# push_groups = false: 2 known groups are left on the target as they are\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0)\n");
  PlanOptions del = NoGroups();
  del.deprovision = DeprovisionMode::kDelete;
  CHECK(Plain(next, k, del) ==
        "delete-user    E1 ann@x.com\n"
        "# push_groups = false: 2 known groups are left on the target as they are\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0)\n");
  // An uncertain group row is not resolved either: groups are not ours to read.
  k.groups[0].uncertain = true;
  CHECK(MakePlan(d, k, NoGroups()).empty());
}

TEST_CASE("push_groups = false: the deletion guard's percentage counts users only") {
  // 100 users and 10 known groups; 11 users leave. Pushing groups, the base is
  // 110 live objects (10%: allowed); groups left to the target, it is 100 (11%).
  Directory d = Many(100);
  for (int i = 0; i < 9; ++i) d.groups.push_back(MakeGroup("G" + std::to_string(i), {}));
  KnownState k = AfterSync(d);
  Directory shrunk = d;
  shrunk.users.resize(89);
  shrunk.groups[0].members.resize(89);
  CHECK_FALSE(MakePlan(shrunk, k, PlanOptions{}).deletions_blocked);
  Plan p = MakePlan(shrunk, k, NoGroups());
  CHECK(p.deletions_blocked);
  CHECK(p.deletions_wanted == 11);
  CHECK(p.notes[0].find("11 of 100 known users and groups") != std::string::npos);
}

TEST_CASE("push_groups = false: a snapshot's groups are ignored, not listed as unmanaged") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  TargetSnapshot t = TargetAfterSync(d);
  FindRemoteGroup(t, "gid-Staff")->member_ids.clear();  // would be drift when pushing
  t.groups.push_back(RemoteGroup{});
  t.groups.back().id = "g-other";
  t.groups.back().display_name = "Other";
  PlanOptions o = Read(t);
  o.push_groups = false;
  Plan p = MakePlan(d, k, o);
  CHECK(Describe(p) ==
        "# push_groups = false: 2 known groups are left on the target as they are\n"
        "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(p.unmanaged_groups.empty());
}

TEST_CASE("member lists: a state row's list is used as is when sorted, sorted when not") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  // Sorted, unique (as Load keeps them): nothing to do, then one member each way.
  CHECK(Plain(d, k) == "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
  k.groups[1].members = {"E1", "E3"};
  CHECK(Plain(d, k) ==
        "add-members    Staff Staff +1 members (E2)\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +1 -0)\n");
  // Out of order and with a duplicate (a state file written by hand): the same plan
  // as for the sorted list.
  k.groups[1].members = {"E3", "E1", "E3"};
  CHECK(Plain(d, k) ==
        "add-members    Staff Staff +1 members (E2)\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +1 -0)\n");
  k.groups[1].members = {"E3", "E2", "E1", "E2"};
  CHECK(Plain(d, k) == "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
}

}  // namespace
}  // namespace scimsync
