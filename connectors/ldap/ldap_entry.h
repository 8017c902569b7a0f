// One LDAP entry as read from the server, and its mapping to a model User (pure,
// no libldap: the unit tests build entries by hand).
//
// Values are the raw bytes the server sent. RenderValue turns one into the UTF-8
// string the model holds:
//   - objectGUID and mS-DS-ConsistencyGuid (16 bytes): the GUID string (ad_values.h);
//   - valid UTF-8: unchanged (trimmed later by ApplyMapping);
//   - anything else (binary such as jpegPhoto or objectSid): base64, so it is at least
//     stable and printable.
// A multi-valued attribute contributes its first value in server order (OpenLDAP and
// AD return values in a stable order); the others are ignored for user attributes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/mapping.h"
#include "core/result.h"

namespace scimsync {

struct LdapAttribute {
  std::string name;                  // attribute description as returned ("member;range=0-1499")
  std::vector<std::string> values;   // raw bytes
};

struct LdapEntry {
  std::string dn;
  std::vector<LdapAttribute> attrs;

  // The values of the attribute named exactly `name` (case-insensitive), or null.
  const std::vector<std::string>* Find(std::string_view name) const;
  std::vector<std::string>* Find(std::string_view name);
  // The first value rendered (RenderValue), or "" when absent.
  std::string First(std::string_view name) const;
  void Add(std::string name, std::string value);  // appends to an existing attribute
};

std::string RenderValue(std::string_view attr, std::string_view raw);
std::string Base64(std::string_view raw);

// Builds the user for one entry with ApplyMapping. For the AD dialect also:
//   - userName falls back to `mail` when the mapped userPrincipalName is absent;
//   - userAccountControl with ACCOUNTDISABLE set, or an accountExpires in the past,
//     makes the user inactive (on top of whatever `active` is mapped to).
// Errors name the entry's DN: "uid=ann,ou=people,dc=example,dc=org: missing key (entryUUID)".
Result<User> MapUserEntry(const LdapEntry& entry, const Mapping& mapping, bool ad, SysTime now);

// AD: the entry is a tombstone (isDeleted: TRUE).
bool IsDeletedEntry(const LdapEntry& entry);

}  // namespace scimsync
