#include "core/mapping.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace scimsync {
namespace {

// A source record as a map from field name to value; absent fields read as empty.
FieldGetter Record(std::map<std::string, std::string> fields) {
  return [fields = std::move(fields)](std::string_view name) -> std::string {
    auto it = fields.find(std::string(name));
    return it == fields.end() ? std::string() : it->second;
  };
}

TEST_CASE("defaults by source kind") {
  Mapping csv = Mapping::CsvDefaults();
  CHECK(csv.key_field == "externalId");
  CHECK(csv.at(Attr::kUserName).field == "userName");
  CHECK(csv.at(Attr::kEmail).field == "email");
  CHECK(csv.at(Attr::kActive).field == "active");
  Mapping ldap = Mapping::LdapDefaults();
  CHECK(ldap.key_field == "entryUUID");
  CHECK(ldap.at(Attr::kUserName).field == "mail");
  CHECK(ldap.at(Attr::kFamilyName).field == "sn");
  CHECK(ldap.at(Attr::kActive).field.empty());
  Mapping ad = Mapping::AdDefaults();
  CHECK(ad.key_field == "objectGUID");
  CHECK(ad.at(Attr::kUserName).field == "userPrincipalName");
}

TEST_CASE("ApplyMapping: fields, trimming, active normalized") {
  auto u = ApplyMapping(Mapping::CsvDefaults(),
                        Record({{"externalId", " E1 "},
                                {"userName", "  alice@example.com\t"},
                                {"givenName", "Alice"},
                                {"familyName", "Liddell"},
                                {"displayName", "Alice L."},
                                {"email", "alice@example.com"},
                                {"phone", "+1 555 0100"},
                                {"title", "CTO"},
                                {"department", "Office of the CTO"},
                                {"active", "Yes"}}));
  REQUIRE(u.ok());
  CHECK(u->key == "E1");
  CHECK(u->Get(Attr::kUserName) == "alice@example.com");
  CHECK(u->Get(Attr::kGivenName) == "Alice");
  CHECK(u->Get(Attr::kFamilyName) == "Liddell");
  CHECK(u->Get(Attr::kDisplayName) == "Alice L.");
  CHECK(u->Get(Attr::kEmail) == "alice@example.com");
  CHECK(u->Get(Attr::kPhone) == "+1 555 0100");
  CHECK(u->Get(Attr::kTitle) == "CTO");
  CHECK(u->Get(Attr::kDepartment) == "Office of the CTO");
  CHECK(u->Get(Attr::kActive) == "true");
  CHECK(u->Active());
}

TEST_CASE("ApplyMapping: booleans") {
  Mapping m = Mapping::CsvDefaults();
  auto active = [&](const std::string& v) {
    auto u = ApplyMapping(m, Record({{"externalId", "E1"}, {"active", v}}));
    REQUIRE(u.ok());
    return u->Get(Attr::kActive);
  };
  CHECK(active("") == "true");
  CHECK(active("true") == "true");
  CHECK(active("1") == "true");
  CHECK(active("YES") == "true");
  CHECK(active("false") == "false");
  CHECK(active("0") == "false");
  CHECK(active("No") == "false");
  auto bad = ApplyMapping(m, Record({{"externalId", "E1"}, {"active", "maybe"}}));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.status().message() == "active: not a boolean: \"maybe\"");
}

TEST_CASE("ApplyMapping: missing key") {
  for (const char* key : {"", "   "}) {
    auto u = ApplyMapping(Mapping::CsvDefaults(), Record({{"externalId", key}, {"userName", "a"}}));
    REQUIRE_FALSE(u.ok());
    CHECK(u.status().code() == ErrorCode::kInvalidArgument);
    CHECK(u.status().message() == "missing key (externalId)");
  }
  Mapping m = Mapping::LdapDefaults();
  CHECK(ApplyMapping(m, Record({{"mail", "a@x"}})).status().message() ==
        "missing key (entryUUID)");
}

TEST_CASE("ApplyMapping: transforms and constants") {
  Mapping m = Mapping::CsvDefaults();
  m.at(Attr::kUserName).transform = Transform::kLower;
  m.at(Attr::kTitle).transform = Transform::kUpper;
  m.at(Attr::kDepartment) = {"", "Sales", Transform::kNone, false};
  m.at(Attr::kActive) = {"", "false", Transform::kNone, false};
  m.at(Attr::kPhone) = {"", "+49 30 1234", Transform::kNone, false};
  auto u = ApplyMapping(m, Record({{"externalId", "E1"},
                                   {"userName", "Bob.Builder@Example.COM"},
                                   {"title", "Engineer"},
                                   {"department", "ignored: a constant wins"},
                                   {"active", "true"},
                                   {"phone", "ignored"}}));
  REQUIRE(u.ok());
  CHECK(u->Get(Attr::kUserName) == "bob.builder@example.com");
  CHECK(u->Get(Attr::kTitle) == "ENGINEER");
  CHECK(u->Get(Attr::kDepartment) == "Sales");
  CHECK(u->Get(Attr::kActive) == "false");
  CHECK(u->Get(Attr::kPhone) == "+49 30 1234");
  // Non-ASCII bytes pass through the ASCII-only transforms unchanged.
  m.at(Attr::kGivenName).transform = Transform::kUpper;
  auto v = ApplyMapping(m, Record({{"externalId", "E2"}, {"givenName", "J\xC3\xBCrgen"}}));
  REQUIRE(v.ok());
  CHECK(v->Get(Attr::kGivenName) == "J\xC3\xBCRGEN");
}

TEST_CASE("ApplyMapping: displayName fallback") {
  Mapping m = Mapping::CsvDefaults();
  auto display = [&](std::map<std::string, std::string> f) {
    f["externalId"] = "E1";
    auto u = ApplyMapping(m, Record(std::move(f)));
    REQUIRE(u.ok());
    return u->Get(Attr::kDisplayName);
  };
  CHECK(display({{"givenName", "Ada"}, {"familyName", "Lovelace"}}) == "Ada Lovelace");
  CHECK(display({{"givenName", "Ada"}}) == "Ada");
  CHECK(display({{"familyName", "Lovelace"}}) == "Lovelace");
  CHECK(display({{"userName", "ada@x.org"}}) == "ada@x.org");
  CHECK(display({{"displayName", "Countess"}, {"givenName", "Ada"}}) == "Countess");
  CHECK(display({}) == "");
  // Unmapped displayName: the fallback still applies.
  m.at(Attr::kDisplayName).field.clear();
  CHECK(display({{"displayName", "Countess"}, {"givenName", "Ada"}, {"familyName", "L"}}) ==
        "Ada L");
}

TEST_CASE("ApplyMapping: unmapped attributes stay empty") {
  Mapping m = Mapping::CsvDefaults();
  m.at(Attr::kPhone).field.clear();
  auto u = ApplyMapping(m, Record({{"externalId", "E1"}, {"phone", "+1"}}));
  REQUIRE(u.ok());
  CHECK(u->Get(Attr::kPhone).empty());
}

TEST_CASE("KeepMask: unmapped or keep = never removed from the target") {
  Mapping m = Mapping::CsvDefaults();
  m.at(Attr::kPhone).field.clear();                                   // unmapped
  m.at(Attr::kTitle).keep = true;                                     // kept
  m.at(Attr::kDepartment) = {"", "Sales", Transform::kNone, false};  // constant: ours
  auto keep = KeepMask(m);
  CHECK(keep[static_cast<std::size_t>(Attr::kPhone)]);
  CHECK(keep[static_cast<std::size_t>(Attr::kTitle)]);
  CHECK_FALSE(keep[static_cast<std::size_t>(Attr::kDepartment)]);
  CHECK_FALSE(keep[static_cast<std::size_t>(Attr::kUserName)]);
  CHECK_FALSE(keep[static_cast<std::size_t>(Attr::kEmail)]);
  // LDAP has no `active` attribute by default: never removed.
  CHECK(KeepMask(Mapping::LdapDefaults())[static_cast<std::size_t>(Attr::kActive)]);
}

TEST_CASE("transform names") {
  CHECK(TransformName(Transform::kNone) == "none");
  CHECK(TransformName(Transform::kLower) == "lower");
  CHECK(TransformName(Transform::kUpper) == "upper");
  CHECK(TransformByName("lower") == Transform::kLower);
  CHECK(TransformByName("upper") == Transform::kUpper);
  CHECK(TransformByName("none") == Transform::kNone);
  CHECK(TransformByName("") == Transform::kNone);
  CHECK_FALSE(TransformByName("title").has_value());
  CHECK_FALSE(TransformByName("LOWER").has_value());
}

}  // namespace
}  // namespace scimsync
