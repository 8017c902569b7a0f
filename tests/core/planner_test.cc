// Golden-text tests of the pure planner: each scenario of issue 2 that is a
// planning question, compared with the exact `scimsync plan` rendering.
#include "core/planner.h"

#include <doctest/doctest.h>

using namespace scimsync;

namespace {

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

}  // namespace

TEST_CASE("first sync creates users, then groups, then memberships") {
  Plan p = MakePlan(Base(), KnownState{}, PlanOptions{});
  CHECK(Describe(p) ==
        "create-user    E1 ann@x.com\n"
        "create-user    E2 bob@x.com\n"
        "create-user    E3 cy@x.com\n"
        "create-group   Admins Admins\n"
        "create-group   Staff Staff\n"
        "add-members    Admins Admins +1 members (E3)\n"
        "add-members    Staff Staff +3 members (E1 E2 E3)\n"
        "# plan: 7 operations (users +3 ~0 -0, groups +2 ~0 -0, members +4 -0)\n");
}

TEST_CASE("second plan with no change is empty") {
  Directory d = Base();
  Plan p = MakePlan(d, AfterSync(d), PlanOptions{});
  CHECK(p.empty());
  CHECK(Describe(p) == "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("rename and department move are one update each, changed attributes only") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[0].Set(Attr::kUserName, "ann.new@x.com");
  d.users[0].Set(Attr::kEmail, "ann.new@x.com");
  d.users[1].Set(Attr::kDepartment, "Finance");
  Plan p = MakePlan(d, k, PlanOptions{});
  CHECK(Describe(p) ==
        "update-user    E1 ann.new@x.com userName: \"ann@x.com\" -> \"ann.new@x.com\", "
        "emails.work: \"ann@x.com\" -> \"ann.new@x.com\"\n"
        "update-user    E2 bob@x.com department: \"Sales\" -> \"Finance\"\n"
        "# plan: 2 operations (users +0 ~2 -0, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(p.ops[0].target_id == "id-E1");
}

TEST_CASE("leaver: disabled in disable mode, deleted in delete mode; re-hire") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  Directory left = d;
  left.users.erase(left.users.begin() + 1);  // E2 leaves
  left.groups[1].members = {"E1", "E3"};
  CHECK(Describe(MakePlan(left, k, PlanOptions{})) ==
        "remove-members Staff Staff -1 members (E2)\n"
        "disable-user   E2 bob@x.com\n"
        "# plan: 2 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -1)\n");
  PlanOptions del;
  del.deprovision = DeprovisionMode::kDelete;
  CHECK(Describe(MakePlan(left, k, del)) ==
        "delete-user    E2 bob@x.com\n"
        "# plan: 1 operations (users +0 ~0 -1, groups +0 ~0 -0, members +0 -0)\n");

  // Returns after being disabled: re-activated in place, same id.
  KnownState disabled = k;
  disabled.users[1].status = ObjectStatus::kDisabled;
  disabled.users[1].values[static_cast<std::size_t>(Attr::kActive)] = "false";
  Plan back = MakePlan(d, disabled, PlanOptions{});
  CHECK(Describe(back) ==
        "update-user    E2 bob@x.com active: \"false\" -> \"true\"\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(back.ops[0].target_id == "id-E2");
  // Returns after a DELETE: created again.
  KnownState deleted = k;
  deleted.users[1].status = ObjectStatus::kDeleted;
  deleted.users[1].target_id.clear();
  CHECK(MakePlan(d, deleted, PlanOptions{}).ops[0].kind == OpKind::kCreateUser);
}

TEST_CASE("membership churn adds and removes only the difference") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.groups[0].members = {"E1", "E2"};  // Admins: -E3 +E1 +E2
  CHECK(Describe(MakePlan(d, k, PlanOptions{})) ==
        "add-members    Admins Admins +2 members (E1 E2)\n"
        "remove-members Admins Admins -1 members (E3)\n"
        "# plan: 2 operations (users +0 ~0 -0, groups +0 ~0 -0, members +2 -1)\n");
}

TEST_CASE("a removed attribute is removed unless kept") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[2].Set(Attr::kDepartment, "");
  CHECK(Describe(MakePlan(d, k, PlanOptions{})) ==
        "update-user    E3 cy@x.com department: \"IT\" -> (none)\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
  PlanOptions keep;
  keep.keep[static_cast<std::size_t>(Attr::kDepartment)] = true;
  CHECK(MakePlan(d, k, keep).empty());
}

TEST_CASE("uncertain objects are resolved first and nothing else is planned for them") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[2].uncertain = true;
  k.users[2].target_id.clear();
  k.groups[0].members.clear();  // Admins lost E3 in the source view
  d.users[2].Set(Attr::kTitle, "Boss");
  CHECK(Describe(MakePlan(d, k, PlanOptions{})) ==
        "resolve-user   E3 cy@x.com by filter\n"
        "# 1 uncertain object is re-read from the target first; their other changes are planned "
        "after that\n"
        "# plan: 1 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0, resolve 1)\n");
}

TEST_CASE("failed objects wait for their retry time unless their source changed") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  d.users[0].Set(Attr::kTitle, "Bad");
  k.users[0].status = ObjectStatus::kFailed;
  k.users[0].failed_hash = SourceHash(d.users[0]);
  PlanOptions o;
  o.now = SysTime(std::chrono::hours(10));
  k.users[0].next_retry = SysTime(std::chrono::hours(11));
  Plan p = MakePlan(d, k, o);
  CHECK(p.empty());
  CHECK(p.summary.deferred == 1);
  o.now = SysTime(std::chrono::hours(12));  // backoff over
  CHECK(MakePlan(d, k, o).ops.size() == 1);
  o.now = SysTime(std::chrono::hours(10));
  d.users[0].Set(Attr::kTitle, "Fixed");  // source changed: retry at once
  CHECK(MakePlan(d, k, o).ops.size() == 1);
}

TEST_CASE("seat-blocked users are created again next cycle") {
  Directory d = Base();
  KnownState k = AfterSync(d);
  k.users[1].target_id.clear();
  k.users[1].status = ObjectStatus::kSeatBlocked;
  Plan p = MakePlan(d, k, PlanOptions{});
  REQUIRE(p.ops.size() == 1);
  CHECK(p.ops[0].kind == OpKind::kCreateUser);
}

TEST_CASE("deletion guard: count, percent with a small-directory floor, allow") {
  Directory d;
  for (int n = 0; n < 100; ++n) d.users.push_back(MakeUser("U" + std::to_string(100 + n), "u" + std::to_string(n) + "@x"));
  KnownState k = AfterSync(d);
  Directory shrunk = d;
  shrunk.users.resize(80);  // 20 % leave
  PlanOptions o;
  Plan p = MakePlan(shrunk, k, o);
  CHECK(p.deletions_blocked);
  CHECK(p.deletions_wanted == 20);
  CHECK(p.empty());
  CHECK(Describe(p) ==
        "# deletion guard: 20 of 100 known users and groups would be deprovisioned (limit 500 or "
        "10%); nothing was deprovisioned; run `scimsync sync --allow-deletions` once if this is "
        "intended\n"
        "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
  o.allow_deletions = true;
  CHECK(MakePlan(shrunk, k, o).summary.users_disable == 20);
  o.allow_deletions = false;
  o.max_deletions = 10;
  o.max_deletion_percent = 100;
  CHECK(MakePlan(shrunk, k, o).deletions_blocked);
  // Small directory: 1 of 3 is 33 %, but under the floor of 5 it goes through.
  Directory small = Base();
  KnownState ks = AfterSync(small);
  small.users.pop_back();
  small.groups[0].members.clear();
  small.groups[1].members = {"E1", "E2"};
  CHECK_FALSE(MakePlan(small, ks, PlanOptions{}).deletions_blocked);
}

TEST_CASE("DescribeJson escapes strings") {
  Directory d;
  User u = MakeUser("K\"1", "a\\b@x");
  u.Set(Attr::kTitle, "line\nbreak\x01");
  d.users = {u};
  std::string j = DescribeJson(MakePlan(d, KnownState{}, PlanOptions{}));
  CHECK(j.find("\"key\":\"K\\\"1\"") != std::string::npos);
  CHECK(j.find("\"label\":\"a\\\\b@x\"") != std::string::npos);
  CHECK(j.find("\"summary\":{\"operations\":1,\"users_create\":1,") != std::string::npos);
}
