#include "connectors/ldap/ldap_directory.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "core/log.h"

namespace scimsync {
namespace {

using Keys = std::vector<std::string>;

LdapEntry UserEntry(const std::string& uid, const std::string& key) {
  LdapEntry e;
  e.dn = "uid=" + uid + ",ou=People,dc=example,dc=org";
  e.attrs = {{"entryUUID", {key}}, {"uid", {uid}}, {"mail", {uid + "@example.org"}},
             {"cn", {uid}}};
  return e;
}

LdapEntry GroupEntry(const std::string& cn, const std::string& key,
                std::vector<LdapAttribute> members) {
  LdapEntry e;
  e.dn = "cn=" + cn + ",ou=Groups,dc=example,dc=org";
  e.attrs = {{"entryUUID", {key}}, {"cn", {cn}}};
  for (auto& m : members) e.attrs.push_back(std::move(m));
  return e;
}

const scimsync::Group* Find(const Directory& d, const std::string& name) {
  for (const auto& g : d.groups) {
    if (g.display_name == name) return &g;
  }
  return nullptr;
}

struct CaptureLogs {
  std::vector<std::string> lines;
  CaptureLogs() {
    Log().SetMinLevel(LogLevel::kDebug);
    Log().CaptureForTest(&lines);
  }
  ~CaptureLogs() {
    Log().CaptureForTest(nullptr);
    Log().SetMinLevel(LogLevel::kInfo);
  }
  bool Has(const std::string& needle) const {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  }
};

const std::vector<LdapEntry> kUsers = {UserEntry("ann", "k-ann"), UserEntry("bob", "k-bob"),
                                       UserEntry("cid", "k-cid")};

TEST_CASE("BuildDirectory: member, uniqueMember and memberUid, DNs compared normalized") {
  std::vector<LdapEntry> groups = {
      GroupEntry("devs", "g-devs",
            {{"member", {"UID=Ann, OU=people,DC=Example,DC=org", "uid=bob,ou=people,dc=example,dc=org"}}}),
      GroupEntry("ops", "g-ops",
            {{"uniqueMember", {"uid=cid,ou=people,dc=example,dc=org#'0101'B"}}}),
      GroupEntry("posix", "g-posix", {{"memberUid", {"ANN", "cid"}}}),
  };
  auto d = BuildDirectory(kUsers, groups, {});
  REQUIRE(d.ok());
  CHECK(d->users.size() == 3);
  CHECK(Find(*d, "devs")->members == Keys{"k-ann", "k-bob"});
  CHECK(Find(*d, "ops")->members == Keys{"k-cid"});
  CHECK(Find(*d, "posix")->members == Keys{"k-ann", "k-cid"});
}

TEST_CASE("BuildDirectory: a group keeps its DN as sent, for [scope] groups named by DN") {
  auto d = BuildDirectory(kUsers, {GroupEntry("devs", "g-devs", {})}, {});
  REQUIRE(d.ok());
  CHECK(Find(*d, "devs")->dn == "cn=devs,ou=Groups,dc=example,dc=org");
}

TEST_CASE("BuildDirectory: members outside the user search are ignored with a debug line") {
  CaptureLogs logs;
  std::vector<LdapEntry> groups = {
      GroupEntry("devs", "g-devs",
            {{"member", {"uid=ann,ou=people,dc=example,dc=org",
                         "uid=zed,ou=Contractors,dc=example,dc=org"}}}),
  };
  auto d = BuildDirectory(kUsers, groups, {});
  REQUIRE(d.ok());
  CHECK(Find(*d, "devs")->members == Keys{"k-ann"});
  CHECK(logs.Has("event=ldap_member_ignored"));
  CHECK(logs.Has("uid=zed,ou=Contractors,dc=example,dc=org"));
}

TEST_CASE("BuildDirectory: nested groups are flattened only when asked, cycles survive") {
  std::vector<LdapEntry> groups = {
      GroupEntry("outer", "g-outer",
            {{"member", {"uid=ann,ou=people,dc=example,dc=org", "cn=middle,ou=groups,dc=example,dc=org"}}}),
      GroupEntry("middle", "g-middle",
            {{"member", {"uid=bob,ou=people,dc=example,dc=org", "cn=inner,ou=groups,dc=example,dc=org"}}}),
      GroupEntry("inner", "g-inner",
            {{"member", {"uid=cid,ou=people,dc=example,dc=org", "cn=outer,ou=groups,dc=example,dc=org"}}}),
  };
  auto flat = BuildDirectory(kUsers, groups, {});
  REQUIRE(flat.ok());
  CHECK(Find(*flat, "outer")->members == Keys{"k-ann"});
  CHECK(Find(*flat, "inner")->members == Keys{"k-cid"});

  CaptureLogs logs;
  DirectoryBuildOptions o;
  o.flatten_nested = true;
  auto nested = BuildDirectory(kUsers, groups, o);
  REQUIRE(nested.ok());
  CHECK(Find(*nested, "outer")->members == Keys{"k-ann", "k-bob", "k-cid"});
  CHECK(Find(*nested, "middle")->members == Keys{"k-ann", "k-bob", "k-cid"});
  CHECK(Find(*nested, "inner")->members == Keys{"k-ann", "k-bob", "k-cid"});
  CHECK(logs.Has("event=ldap_group_cycle"));
}

TEST_CASE("BuildDirectory: memberships from memberOf on users") {
  std::vector<LdapEntry> users = kUsers;
  users[0].attrs.push_back({"memberOf", {"CN=Devs,OU=Groups,DC=example,DC=org"}});
  users[2].attrs.push_back({"memberOf", {"cn=devs,ou=groups,dc=example,dc=org",
                                         "cn=elsewhere,dc=example,dc=org"}});
  std::vector<LdapEntry> groups = {GroupEntry("devs", "g-devs", {})};
  DirectoryBuildOptions o;
  o.member_dn_attrs.clear();
  o.member_uid_attrs.clear();
  o.member_of_attr = "memberOf";
  auto d = BuildDirectory(users, groups, o);
  REQUIRE(d.ok());
  CHECK(Find(*d, "devs")->members == Keys{"k-ann", "k-cid"});
  CHECK(std::find(UserSearchAttrs(o).begin(), UserSearchAttrs(o).end(), "memberOf") !=
        UserSearchAttrs(o).end());
}

TEST_CASE("BuildDirectory: identity problems fail the whole build") {
  std::vector<LdapEntry> dup = {UserEntry("ann", "k-1"), UserEntry("bob", "k-1")};
  auto d = BuildDirectory(dup, {}, {});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() ==
        "uid=bob,ou=People,dc=example,dc=org: duplicate key entryUUID \"k-1\" (also on "
        "uid=ann,ou=People,dc=example,dc=org)");

  std::vector<LdapEntry> same_name = {UserEntry("ann", "k-1"), UserEntry("bob", "k-2")};
  *same_name[1].Find("mail") = {"ANN@example.org"};
  d = BuildDirectory(same_name, {}, {});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() ==
        "uid=bob,ou=People,dc=example,dc=org: userName \"ANN@example.org\" equals (ignoring "
        "case) that of uid=ann,ou=People,dc=example,dc=org");

  LdapEntry nameless = GroupEntry("x", "g-x", {});
  nameless.attrs.pop_back();
  d = BuildDirectory(kUsers, {nameless}, {});
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message() == "cn=x,ou=Groups,dc=example,dc=org: missing group name (cn)");
}

TEST_CASE("BuildDirectory (AD): tombstones skipped, objectGUID group keys") {
  DirectoryBuildOptions o;
  o.ad = true;
  o.mapping = Mapping::AdDefaults();
  o.group_key_attr = "objectGUID";
  o.member_dn_attrs = {"member"};
  o.member_uid_attrs.clear();
  LdapEntry a;
  a.dn = "CN=Ann,OU=Staff,DC=corp,DC=com";
  a.attrs = {{"objectGUID", {std::string(16, '\x01')}}, {"userPrincipalName", {"ann@corp.com"}}};
  LdapEntry gone = a;
  gone.dn = "CN=Old\\0ADEL:1234,CN=Deleted Objects,DC=corp,DC=com";
  gone.attrs = {{"objectGUID", {std::string(16, '\x02')}},
                {"userPrincipalName", {"old@corp.com"}},
                {"isDeleted", {"TRUE"}}};
  LdapEntry g;
  g.dn = "CN=Sales,OU=Groups,DC=corp,DC=com";
  g.attrs = {{"objectGUID", {std::string(16, '\x03')}},
             {"cn", {"Sales"}},
             {"member", {"cn=ann,ou=staff,dc=corp,dc=com"}}};
  auto d = BuildDirectory({a, gone}, {g}, o);
  REQUIRE(d.ok());
  REQUIRE(d->users.size() == 1);
  CHECK(d->users[0].key == "01010101-0101-0101-0101-010101010101");
  REQUIRE(d->groups.size() == 1);
  CHECK(d->groups[0].key == "03030303-0303-0303-0303-030303030303");
  CHECK(d->groups[0].members == Keys{"01010101-0101-0101-0101-010101010101"});
  auto attrs = UserSearchAttrs(o);
  for (const char* want : {"objectGUID", "userPrincipalName", "userAccountControl",
                           "accountExpires", "isDeleted", "mail"}) {
    INFO(want);
    CHECK(std::find(attrs.begin(), attrs.end(), want) != attrs.end());
  }
}

}  // namespace
}  // namespace scimsync
