// Turns the entries of the user and group searches into a Directory (pure, no
// libldap), and says which attributes those searches must ask for.
//
// Users: one User per entry via MapUserEntry (ldap_entry.h); AD tombstones
// (isDeleted) are skipped. Two entries with one key, or two userNames equal ignoring
// case, fail the whole build: the read must not guess which one is meant. (The
// error names the two entries in server order.)
//
// Groups: key from `group_key_attr` (entryUUID / objectGUID, rendered like user keys),
// displayName from `group_name_attr`; both are required. Members come from
//   - DN-valued attributes (`member`, `uniqueMember`; a uniqueMember's optional
//     "#'0101'B" UID suffix is dropped), compared after NormalizeDn (ldap_dn.h);
//   - uid-valued attributes (`memberUid`), matched against the users' `uid_attr`
//     (ASCII case-insensitive);
//   - `member_of_attr` on users (and on groups, for nesting), when set.
// A member that is neither a user of the user search nor a group of the group search
// (outside the configured scope, or a deleted entry) is ignored with a debug line.
// A member that is a group is a nested group: with `flatten_nested` its users count
// as members (recursively, cycles detected, group_flatten.h); without it the nested
// group is ignored with a debug line.
#pragma once

#include <string>
#include <vector>

#include "connectors/ldap/ldap_entry.h"
#include "core/clock.h"
#include "core/mapping.h"
#include "core/model.h"
#include "core/result.h"

namespace scimsync {

struct DirectoryBuildOptions {
  Mapping mapping = Mapping::LdapDefaults();  // users; key_field is the user key attribute
  bool ad = false;
  std::string group_key_attr = "entryUUID";
  std::string group_name_attr = "cn";
  std::vector<std::string> member_dn_attrs = {"member", "uniqueMember"};
  std::vector<std::string> member_uid_attrs = {"memberUid"};
  std::string uid_attr = "uid";          // read from users when member_uid_attrs is set
  std::string member_of_attr;            // empty: not used
  bool flatten_nested = false;
  SysTime now{};                         // for accountExpires
};

// Attributes the user search needs: the key, every mapped field, uid (memberUid),
// memberOf if configured, and the AD state attributes. No duplicates.
std::vector<std::string> UserSearchAttrs(const DirectoryBuildOptions& o);
// Attributes the group search needs: key, name, membership attributes.
std::vector<std::string> GroupSearchAttrs(const DirectoryBuildOptions& o);

// Builds incrementally, so a reader can map each user while the server is still
// sending the next page (the 100,000-entry read then costs max(server, client), not
// the sum). Users must all be added before Finish(); groups are kept until Finish()
// because their members can only be resolved once every user and group is known.
class DirectoryBuilder {
 public:
  explicit DirectoryBuilder(DirectoryBuildOptions o);
  Status AddUser(LdapEntry&& e);
  Status AddGroup(LdapEntry&& e);
  // Resolves memberships, flattens, canonicalizes. Call once.
  Result<Directory> Finish();

 private:
  Status CheckDuplicates() const;

  DirectoryBuildOptions o_;
  Directory dir_;
  std::vector<std::string> user_dns_;                          // per user, as sent
  std::vector<std::vector<std::string>> user_member_of_;       // per user, if member_of_attr
  std::vector<std::string> user_uids_;                         // per user, if memberUid is used
  std::vector<LdapEntry> groups_;
};

Result<Directory> BuildDirectory(const std::vector<LdapEntry>& users,
                                 const std::vector<LdapEntry>& groups,
                                 const DirectoryBuildOptions& o);

}  // namespace scimsync
