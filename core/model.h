// The normalized directory: what a Source produces and what the Planner diffs.
//
// A user is its immutable source key (sent as externalId) plus a fixed set of SCIM
// attributes, described once in the kAttrs table below. Every attribute value is a
// UTF-8 string; empty means absent. Booleans (active) are "true" or "false".
// A group is its key, its displayName and the keys of its member users (and, from
// LDAP, its DN, which `[scope] groups` may name; it is never sent).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/attr_values.h"

namespace scimsync {

enum class Attr : int {
  kUserName = 0,
  kGivenName,
  kFamilyName,
  kDisplayName,
  kEmail,       // emails[type eq "work"].value, primary
  kPhone,       // phoneNumbers[type eq "work"].value
  kTitle,
  kDepartment,  // urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department
  kActive,      // "true" / "false"
  kCount,
};
inline constexpr std::size_t kAttrCount = static_cast<std::size_t>(Attr::kCount);

// How an attribute's values compare (SameAttrValue).
enum class AttrKind {
  kString,        // exact
  kEmailAddress,  // ASCII case-insensitive: targets may store an address in another case
                  // (Better Auth lowercases it); the domain is case-insensitive (RFC 5321
                  // §2.4) and, on these targets, so is the local part
  kBoolean,       // "true" / "false"; absent counts as "true"
};

// Where an attribute sits in a SCIM User resource (RFC 7643 §4.1, §4.3).
enum class ScimShape {
  kTopLevel,    // "<leaf>": string
  kNameSub,     // "<container>": {"<leaf>": string}
  kWorkMulti,   // "<container>": [{"value": string, "type": "work"[, "primary": true]}]
  kEnterprise,  // "<container>" (the enterprise URN): {"<leaf>": string}, written last
  kBoolean,     // "<leaf>": true/false
};

struct ScimInfo {
  ScimShape shape;
  std::string_view container;  // "name", "emails", the enterprise URN; "" for top level
  std::string_view leaf;       // member name; "value" for multi-valued
  bool primary;                // kWorkMulti: the work element is marked primary
};

struct AttrInfo {
  Attr attr;
  std::string_view name;         // mapping key and plan rendering: "name.givenName"
  std::string_view patch_path;   // SCIM PATCH path
  std::string_view csv_column;   // default CSV column
  std::string_view ldap_attr;    // default LDAP attribute (openldap dialect)
  std::string_view ad_attr;      // default LDAP attribute (ad dialect)
  std::string_view state_column;  // column of the state file's users table
  AttrKind kind;
  ScimInfo scim;  // the attribute's place in a SCIM User (POST body, PATCH, responses)
};

inline constexpr std::string_view kEnterpriseUserSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

inline constexpr std::array<AttrInfo, kAttrCount> kAttrs = {{
    {Attr::kUserName, "userName", "userName", "userName", "mail", "userPrincipalName",
     "user_name", AttrKind::kString, {ScimShape::kTopLevel, "", "userName", false}},
    {Attr::kGivenName, "name.givenName", "name.givenName", "givenName", "givenName",
     "givenName", "given_name", AttrKind::kString,
     {ScimShape::kNameSub, "name", "givenName", false}},
    {Attr::kFamilyName, "name.familyName", "name.familyName", "familyName", "sn", "sn",
     "family_name", AttrKind::kString, {ScimShape::kNameSub, "name", "familyName", false}},
    {Attr::kDisplayName, "displayName", "displayName", "displayName", "cn", "displayName",
     "display_name", AttrKind::kString, {ScimShape::kTopLevel, "", "displayName", false}},
    {Attr::kEmail, "emails.work", "emails[type eq \"work\"].value", "email", "mail", "mail",
     "email", AttrKind::kEmailAddress, {ScimShape::kWorkMulti, "emails", "value", true}},
    {Attr::kPhone, "phoneNumbers.work", "phoneNumbers[type eq \"work\"].value", "phone",
     "telephoneNumber", "telephoneNumber", "phone", AttrKind::kString,
     {ScimShape::kWorkMulti, "phoneNumbers", "value", false}},
    {Attr::kTitle, "title", "title", "title", "title", "title", "title", AttrKind::kString,
     {ScimShape::kTopLevel, "", "title", false}},
    {Attr::kDepartment, "department",
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "department",
     "departmentNumber", "department", "department", AttrKind::kString,
     {ScimShape::kEnterprise, kEnterpriseUserSchema, "department", false}},
    {Attr::kActive, "active", "active", "active", "", "", "active", AttrKind::kBoolean,
     {ScimShape::kBoolean, "", "active", false}},
}};

inline const AttrInfo& Info(Attr a) { return kAttrs[static_cast<std::size_t>(a)]; }
// Looks an attribute up by its mapping name ("name.givenName"); nullopt if unknown.
std::optional<Attr> AttrByName(std::string_view name);

// True if values a and b of attribute `attr` say the same, by its AttrKind.
bool SameAttrValue(Attr attr, std::string_view a, std::string_view b);

using AttrValues = PackedValues<kAttrCount>;

struct User {
  std::string key;  // immutable source key, sent as externalId
  AttrValues values;

  // The value of `a` as an owned copy: safe to keep anywhere.
  std::string Get(Attr a) const { return values[static_cast<std::size_t>(a)]; }
  // The value of `a` without a copy, valid while this row lives and is not Set
  // (core/attr_values.h); a temporary row has no View.
  std::string_view View(Attr a) const& SCIMSYNC_LIFETIMEBOUND {
    return values.View(static_cast<std::size_t>(a));
  }
  std::string_view View(Attr a) const&& = delete;
  void Set(Attr a, std::string_view v) { values.Set(static_cast<std::size_t>(a), v); }
  bool Active() const { return View(Attr::kActive) != "false"; }
};

struct Group {
  std::string key;           // immutable source key, sent as externalId
  std::string display_name;
  std::vector<std::string> members;  // user keys, sorted, unique
  std::string dn;                    // LDAP: the entry's DN as the server sent it; else empty
};

// A whole snapshot of the source. Users sorted by key, groups sorted by key.
struct Directory {
  std::vector<User> users;
  std::vector<Group> groups;
};

// Sorts users and groups by key, sorts and de-duplicates member lists and drops
// members that are not users of this directory. Returns how many members were dropped.
std::size_t Canonicalize(Directory& dir);

// Trims ASCII whitespace at both ends.
std::string_view Trim(std::string_view s);

// True if s is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// Parses "true/false/1/0/yes/no" (any case); empty gives `empty_value`.
std::optional<bool> ParseBool(std::string_view s, bool empty_value = true);

}  // namespace scimsync
