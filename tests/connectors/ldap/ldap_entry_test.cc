#include "connectors/ldap/ldap_entry.h"

#include <doctest/doctest.h>

#include <chrono>

namespace scimsync {
namespace {

const SysTime kNow = SysTime(std::chrono::seconds(1700000000));  // 2023-11-14

LdapEntry Person() {
  LdapEntry e;
  e.dn = "uid=ann,ou=people,dc=example,dc=org";
  e.attrs = {
      {"entryUUID", {"6f0c2a8e-1b2c-4d5e-8f90-0a1b2c3d4e5f"}},
      {"mail", {" Ann.Lee@example.org ", "ann@old.example.org"}},  // multi-valued: first wins
      {"givenName", {"Ann"}},
      {"sn", {"Lee"}},
      {"cn", {"Ann Lee"}},
      {"telephoneNumber", {"+1 555 0100"}},
      {"departmentNumber", {"R&D"}},
      {"title", {"Engineer"}},
  };
  return e;
}

TEST_CASE("MapUserEntry: inetOrgPerson defaults") {
  auto u = MapUserEntry(Person(), Mapping::LdapDefaults(), false, kNow);
  REQUIRE(u.ok());
  CHECK(u->key == "6f0c2a8e-1b2c-4d5e-8f90-0a1b2c3d4e5f");
  CHECK(u->Get(Attr::kUserName) == "Ann.Lee@example.org");
  CHECK(u->Get(Attr::kEmail) == "Ann.Lee@example.org");
  CHECK(u->Get(Attr::kGivenName) == "Ann");
  CHECK(u->Get(Attr::kFamilyName) == "Lee");
  CHECK(u->Get(Attr::kDisplayName) == "Ann Lee");
  CHECK(u->Get(Attr::kPhone) == "+1 555 0100");
  CHECK(u->Get(Attr::kDepartment) == "R&D");
  CHECK(u->Get(Attr::kTitle) == "Engineer");
  CHECK(u->Get(Attr::kActive) == "true");
}

TEST_CASE("MapUserEntry: attribute names are case-insensitive, remapping works") {
  LdapEntry e = Person();
  e.attrs.push_back({"EMPLOYEENUMBER", {"E-17"}});
  Mapping m = Mapping::LdapDefaults();
  m.key_field = "employeeNumber";
  m.at(Attr::kUserName).field = "mail";
  m.at(Attr::kUserName).transform = Transform::kLower;
  auto u = MapUserEntry(e, m, false, kNow);
  REQUIRE(u.ok());
  CHECK(u->key == "E-17");
  CHECK(u->Get(Attr::kUserName) == "ann.lee@example.org");
}

TEST_CASE("MapUserEntry: a missing key names the DN") {
  LdapEntry e = Person();
  e.attrs.erase(e.attrs.begin());
  auto u = MapUserEntry(e, Mapping::LdapDefaults(), false, kNow);
  REQUIRE_FALSE(u.ok());
  CHECK(u.status().code() == ErrorCode::kInvalidArgument);
  CHECK(u.status().message() == "uid=ann,ou=people,dc=example,dc=org: missing key (entryUUID)");
}

TEST_CASE("RenderValue: GUIDs, UTF-8 kept, other binary as base64") {
  std::string guid = "\xc9\x8b\x91\x35\x6d\x19\xea\x40\x97\x79\x88\x9d\x79\xb7\x53\xf0";
  CHECK(RenderValue("objectGUID", guid) == "35918bc9-196d-40ea-9779-889d79b753f0");
  CHECK(RenderValue("objectguid", guid) == "35918bc9-196d-40ea-9779-889d79b753f0");
  CHECK(RenderValue("cn", "J\xC3\xBCrgen") == "J\xC3\xBCrgen");
  CHECK(RenderValue("jpegPhoto", std::string("\xff\xd8\xff", 3)) == "/9j/");
  CHECK(Base64("ab") == "YWI=");
  CHECK(Base64("a") == "YQ==");
  CHECK(Base64("abc") == "YWJj");
}

LdapEntry AdPerson() {
  LdapEntry e;
  e.dn = "CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com";
  e.attrs = {
      {"objectGUID",
       {std::string("\xc9\x8b\x91\x35\x6d\x19\xea\x40\x97\x79\x88\x9d\x79\xb7\x53\xf0", 16)}},
      {"userPrincipalName", {"ann@corp.example.com"}},
      {"mail", {"ann.lee@example.com"}},
      {"givenName", {"Ann"}},
      {"sn", {"Lee"}},
      {"displayName", {"Ann Lee"}},
      {"department", {"Sales"}},
      {"userAccountControl", {"512"}},
      {"accountExpires", {"9223372036854775807"}},
  };
  return e;
}

TEST_CASE("MapUserEntry (AD): objectGUID key, UPN, enabled") {
  auto u = MapUserEntry(AdPerson(), Mapping::AdDefaults(), true, kNow);
  REQUIRE(u.ok());
  CHECK(u->key == "35918bc9-196d-40ea-9779-889d79b753f0");
  CHECK(u->Get(Attr::kUserName) == "ann@corp.example.com");
  CHECK(u->Get(Attr::kEmail) == "ann.lee@example.com");
  CHECK(u->Get(Attr::kDepartment) == "Sales");
  CHECK(u->Get(Attr::kActive) == "true");
}

TEST_CASE("MapUserEntry (AD): userName falls back to mail without a UPN") {
  LdapEntry e = AdPerson();
  e.attrs.erase(e.attrs.begin() + 1);
  auto u = MapUserEntry(e, Mapping::AdDefaults(), true, kNow);
  REQUIRE(u.ok());
  CHECK(u->Get(Attr::kUserName) == "ann.lee@example.com");
}

TEST_CASE("MapUserEntry (AD): disabled or expired accounts are inactive") {
  LdapEntry disabled = AdPerson();
  *disabled.Find("userAccountControl") = {"514"};
  auto u = MapUserEntry(disabled, Mapping::AdDefaults(), true, kNow);
  REQUIRE(u.ok());
  CHECK(u->Get(Attr::kActive) == "false");

  LdapEntry expired = AdPerson();
  *expired.Find("accountExpires") = {"125911584000000000"};  // 2000-01-01
  u = MapUserEntry(expired, Mapping::AdDefaults(), true, kNow);
  REQUIRE(u.ok());
  CHECK(u->Get(Attr::kActive) == "false");

  LdapEntry never = AdPerson();
  *never.Find("accountExpires") = {"0"};
  u = MapUserEntry(never, Mapping::AdDefaults(), true, kNow);
  REQUIRE(u.ok());
  CHECK(u->Get(Attr::kActive) == "true");

  LdapEntry bad = AdPerson();
  *bad.Find("userAccountControl") = {"enabled"};
  u = MapUserEntry(bad, Mapping::AdDefaults(), true, kNow);
  REQUIRE_FALSE(u.ok());
  CHECK(u.status().message() ==
        "CN=Ann Lee,OU=Staff,DC=corp,DC=example,DC=com: userAccountControl: not an integer: "
        "\"enabled\"");
}

TEST_CASE("MapUserEntry: the AD decoding is off for the openldap dialect") {
  LdapEntry e = AdPerson();
  *e.Find("userAccountControl") = {"514"};
  auto u = MapUserEntry(e, Mapping::AdDefaults(), false, kNow);
  REQUIRE(u.ok());
  CHECK(u->Get(Attr::kActive) == "true");
}

TEST_CASE("IsDeletedEntry") {
  LdapEntry e = AdPerson();
  CHECK_FALSE(IsDeletedEntry(e));
  e.attrs.push_back({"isDeleted", {"TRUE"}});
  CHECK(IsDeletedEntry(e));
}

}  // namespace
}  // namespace scimsync
