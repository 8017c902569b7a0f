// Golden tests of ApplyScope (core/scope.h): each rule of its header, compared with a
// one-line-per-fact rendering of the scoped directory.
#include "core/scope.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/planner.h"
#include "core/text.h"

namespace scimsync {
namespace {

User U(const std::string& key) {
  User u;
  u.key = key;
  u.Set(Attr::kUserName, key + "@x.com");
  u.Set(Attr::kActive, "true");
  return u;
}

Group G(const std::string& key, const std::string& name, std::vector<std::string> members,
        const std::string& dn = "") {
  Group g;
  g.key = key;
  g.display_name = name;
  g.members = std::move(members);
  g.dn = dn;
  return g;
}

// Six people; "Keeper Users" holds E1 E2 directly. "Keeper Admins" (E5) is nested in it
// in the LDAP sense; `flattened` says whether the source resolved that nesting into
// the parent's member list (flatten_nested = true) or not.
Directory Company(bool flattened = false) {
  Directory d;
  d.users = {U("E1"), U("E2"), U("E3"), U("E4"), U("E5"), U("E6")};
  std::vector<std::string> keeper = {"E1", "E2"};
  if (flattened) keeper.push_back("E5");
  d.groups = {
      G("g1", "Keeper Users", keeper, "cn=Keeper Users,ou=groups,dc=example,dc=org"),
      G("g2", "Keeper Admins", {"E5"}, "cn=Keeper Admins,ou=groups,dc=example,dc=org"),
      G("g3", "Team Sales", {"E1", "E3"}, "cn=Team Sales,ou=groups,dc=example,dc=org"),
      G("g4", "Team Ops", {"E2", "E4", "E5"}, "cn=Team Ops,ou=groups,dc=example,dc=org"),
      G("g5", "crm-legacy", {"E1", "E6"}, "cn=crm-legacy,ou=groups,dc=example,dc=org"),
  };
  return d;
}

std::vector<Glob> Globs(std::vector<std::string> patterns) {
  std::vector<Glob> out;
  for (const auto& p : patterns) {
    Result<Glob> g = Glob::Parse(p);
    REQUIRE_MESSAGE(g.ok(), g.status().message());
    out.push_back(*g);
  }
  return out;
}

std::string Render(const ScopeResult& r) {
  std::string s = "users:";
  for (const User& u : r.dir.users) s += " " + u.key;
  s += "\n";
  for (const Group& g : r.dir.groups) {
    s += "group " + g.display_name + ":";
    for (const auto& m : g.members) s += " " + m;
    s += "\n";
  }
  s += "out: users " + std::to_string(r.users_out) + ", groups " + std::to_string(r.groups_out) +
       "\n";
  for (const auto& m : r.missing) s += "missing: " + m + "\n";
  return s;
}

std::string Scoped(const Directory& d, const Scope& scope, DnKey dn_key = nullptr) {
  return Render(ApplyScope(d, scope, dn_key));
}

TEST_CASE("an empty scope keeps everyone and every group") {
  CHECK(Scoped(Company(), Scope{}) ==
        "users: E1 E2 E3 E4 E5 E6\n"
        "group Keeper Users: E1 E2\n"
        "group Keeper Admins: E5\n"
        "group Team Sales: E1 E3\n"
        "group Team Ops: E2 E4 E5\n"
        "group crm-legacy: E1 E6\n"
        "out: users 0, groups 0\n");
}

TEST_CASE("scope groups keep their direct members; pushed groups carry only them") {
  Scope s;
  s.groups = {"Keeper Users"};
  CHECK(Scoped(Company(), s) ==
        "users: E1 E2\n"
        "group Keeper Users: E1 E2\n"
        "group Keeper Admins:\n"
        "group Team Sales: E1\n"
        "group Team Ops: E2\n"
        "group crm-legacy: E1\n"
        "out: users 4, groups 0\n");
}

TEST_CASE("nested members count when the source resolved the nesting, not otherwise") {
  Scope s;
  s.groups = {"Keeper Users"};
  // flatten_nested = true: the source put E5 (of Keeper Admins) in Keeper Users.
  CHECK(Scoped(Company(/*flattened=*/true), s) ==
        "users: E1 E2 E5\n"
        "group Keeper Users: E1 E2 E5\n"
        "group Keeper Admins: E5\n"
        "group Team Sales: E1\n"
        "group Team Ops: E2 E5\n"
        "group crm-legacy: E1\n"
        "out: users 3, groups 0\n");
  // Without it, nothing is expanded here: E5 is out.
  CHECK(Render(ApplyScope(Company(false), s)).starts_with("users: E1 E2\n"));
}

TEST_CASE("several scope groups: members of any of them") {
  Scope s;
  s.groups = {"Keeper Users", "Keeper Admins"};
  CHECK(Render(ApplyScope(Company(), s)).starts_with("users: E1 E2 E5\n"));
}

TEST_CASE("scope names compare with display names without ASCII case") {
  Scope s;
  s.groups = {"keeper USERS"};
  CHECK(Render(ApplyScope(Company(), s)).starts_with("users: E1 E2\n"));
  // Only ASCII letters fold: "ÉQUIPE" does not name "équipe".
  Directory d;
  d.users = {U("E1")};
  d.groups = {G("g1", "\xC3\xA9quipe", {"E1"})};
  s.groups = {"\xC3\x89QUIPE"};
  CHECK(Scoped(d, s) ==
        "users:\n"
        "group \xC3\xA9quipe:\n"
        "out: users 1, groups 0\n"
        "missing: \xC3\x89QUIPE\n");
}

// A stand-in for the LDAP source's NormalizeDn: lower-case, no space after a comma.
std::string TestDnKey(std::string_view dn) {
  std::string out;
  for (std::size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == ' ' && i > 0 && dn[i - 1] == ',') continue;
    out += LowerAscii(dn[i]);
  }
  return out;
}

TEST_CASE("an LDAP group may be named by its DN, compared in the DN key form") {
  Scope s;
  s.groups = {"CN=keeper users, OU=Groups, DC=example, DC=org"};
  CHECK(Render(ApplyScope(Company(), s, &TestDnKey)).starts_with("users: E1 E2\n"));
  // Without a DN key only the case is folded: the spaces after the commas differ.
  CHECK(ApplyScope(Company(), s).missing == std::vector<std::string>{s.groups[0]});
  s.groups = {"cn=KEEPER USERS,ou=groups,dc=example,dc=org"};
  CHECK(ApplyScope(Company(), s).missing.empty());
  // A group without a DN (CSV) is never named by one.
  Directory d;
  d.users = {U("E1")};
  d.groups = {G("Keeper Users", "Keeper Users", {"E1"})};
  s.groups = {"cn=Keeper Users,ou=groups,dc=example,dc=org"};
  CHECK(ApplyScope(d, s, &TestDnKey).missing == s.groups);
}

TEST_CASE("one name may name several groups: all of them count") {
  Directory d;
  d.users = {U("E1"), U("E2"), U("E3")};
  d.groups = {G("g1", "Staff", {"E1"}, "cn=Staff,ou=a,dc=x"),
              G("g2", "staff", {"E2"}, "cn=Staff,ou=b,dc=x")};
  Scope s;
  s.groups = {"STAFF"};
  CHECK(Scoped(d, s) ==
        "users: E1 E2\n"
        "group Staff: E1\n"
        "group staff: E2\n"
        "out: users 1, groups 0\n");
}

TEST_CASE("include and exclude patterns choose the groups pushed; exclude wins") {
  Scope s;
  s.include_groups = Globs({"Team *", "keeper*"});
  s.exclude_groups = Globs({"* Ops", "*-legacy"});
  // No scope groups: everyone stays, with every membership of the pushed groups.
  CHECK(Scoped(Company(), s) ==
        "users: E1 E2 E3 E4 E5 E6\n"
        "group Keeper Users: E1 E2\n"
        "group Keeper Admins: E5\n"
        "group Team Sales: E1 E3\n"
        "out: users 0, groups 2\n");
  Scope only_exclude;
  only_exclude.exclude_groups = Globs({"*-LEGACY"});
  CHECK(Render(ApplyScope(Company(), only_exclude)).ends_with("out: users 0, groups 1\n"));
  Scope only_include;
  only_include.include_groups = Globs({"Team [SO]*"});
  CHECK(Scoped(Company(), only_include) ==
        "users: E1 E2 E3 E4 E5 E6\n"
        "group Team Sales: E1 E3\n"
        "group Team Ops: E2 E4 E5\n"
        "out: users 0, groups 3\n");
}

TEST_CASE("both lists: scope groups choose people, patterns choose groups") {
  Scope s;
  s.groups = {"Keeper Users"};
  s.include_groups = Globs({"Team *"});
  // The scope group itself is not pushed (not included), yet its members are in scope.
  CHECK(Scoped(Company(), s) ==
        "users: E1 E2\n"
        "group Team Sales: E1\n"
        "group Team Ops: E2\n"
        "out: users 4, groups 3\n");
}

TEST_CASE("a scope group the source does not have is reported, in config order") {
  Scope s;
  s.groups = {"Keeper Userz", "Keeper Users", "IT Admins"};
  ScopeResult r = ApplyScope(Company(), s);
  CHECK(r.missing == std::vector<std::string>{"Keeper Userz", "IT Admins"});
  // The others still apply (the caller stops the cycle anyway).
  CHECK(Render(r).starts_with("users: E1 E2\n"));
  // Every scope group missing: nobody is in scope, and both names are reported.
  s.groups = {"Nope", "Nada"};
  CHECK(Scoped(Company(), s) ==
        "users:\n"
        "group Keeper Users:\n"
        "group Keeper Admins:\n"
        "group Team Sales:\n"
        "group Team Ops:\n"
        "group crm-legacy:\n"
        "out: users 6, groups 0\n"
        "missing: Nope\n"
        "missing: Nada\n");
}

TEST_CASE("a member that is no user of the directory is not kept, nor counted") {
  Directory d;
  d.users = {U("E1")};
  d.groups = {G("g1", "Keeper", {"E1", "E9"})};
  Scope s;
  s.groups = {"Keeper"};
  CHECK(Scoped(d, s) ==
        "users: E1\n"
        "group Keeper: E1\n"
        "out: users 0, groups 0\n");
}

TEST_CASE("someone who leaves every scope group is a leaver for the planner") {
  Scope s;
  s.groups = {"Keeper Users"};
  Directory before = ApplyScope(Company(), s).dir;
  // Everything in scope was pushed.
  KnownState known;
  for (const User& u : before.users) {
    KnownUser k;
    k.key = u.key;
    k.target_id = "id-" + u.key;
    k.values = u.values;
    k.status = ObjectStatus::kSynced;
    known.users.push_back(k);
  }
  for (const Group& g : before.groups) {
    KnownGroup k;
    k.key = g.key;
    k.target_id = "gid-" + g.key;
    k.display_name = g.display_name;
    k.members = g.members;
    k.status = ObjectStatus::kSynced;
    known.groups.push_back(k);
  }
  // E2 leaves Keeper Users but stays in the source (and in Team Ops); E3 joins it.
  Directory next = Company();
  next.groups[0].members = {"E1", "E3"};
  PlanOptions o;
  o.max_deletions = 10;
  o.max_deletion_percent = 100;
  Plan p = MakePlan(ApplyScope(next, s).dir, known, o);
  std::string text = Describe(p);
  CAPTURE(text);
  CHECK(text.find("create-user    E3 E3@x.com") != std::string::npos);
  CHECK(text.find("disable-user   E2") != std::string::npos);
  CHECK(p.summary.users_disable == 1);
  CHECK(p.summary.users_create == 1);
  // ...and counted by the deletion guard like any leaver.
  o.max_deletions = 0;
  Plan guarded = MakePlan(ApplyScope(next, s).dir, known, o);
  CHECK(guarded.deletions_blocked);
  CHECK(guarded.summary.users_disable == 0);
}

}  // namespace
}  // namespace scimsync
