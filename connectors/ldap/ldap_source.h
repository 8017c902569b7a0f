// A Source that reads people and groups from an LDAP directory: OpenLDAP (and other
// RFC 4519 servers) or Active Directory (DESIGN §3, §7, §8; issue 3).
//
// Read() connects (ldap_conn.h: failover over the URIs, StartTLS, CA file, bind),
// runs the user search and the group search with paged results, completes AD range
// retrieval of large `member` values, and builds the directory (ldap_directory.h).
// Any failure anywhere fails the whole read: there is never a partial directory. The
// error names the search and carries the LDAP result code and the server's message.
//
// Defaults by dialect (each overridable through the options):
//   openldap: users (objectClass=inetOrgPerson), key entryUUID; groups
//     (|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)),
//     members from member / uniqueMember (DN) and memberUid (uid).
//   ad: users (&(objectCategory=person)(objectClass=user)), key objectGUID; groups
//     (objectClass=group), members from member (DN, with range retrieval); tombstones
//     skipped; userAccountControl / accountExpires decide `active`; search
//     continuation references into AD's DNS application partitions
//     (DC=DomainDnsZones, DC=ForestDnsZones) and the Configuration partition are
//     skipped, any other referral fails the read.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "connectors/ldap/ldap_conn.h"
#include "connectors/ldap/ldap_directory.h"
#include "connectors/source.h"
#include "core/clock.h"
#include "core/defaults.h"
#include "core/mapping.h"

namespace scimsync {

enum class LdapServerDialect { kOpenLdap, kAd };

struct LdapSourceOptions {
  std::vector<std::string> uris;           // required; tried in order
  bool start_tls = false;
  std::string ca_file;                     // empty: system CAs; verification is always on
  std::string bind_dn;                     // empty: anonymous, or SASL EXTERNAL on ldapi://
  std::string bind_password;               // secret; never logged or described
  std::string user_base;                   // required
  std::string user_filter;                 // empty: by dialect
  LdapSearchScope user_scope = LdapSearchScope::kSub;
  std::string group_base;                  // empty: no group search
  std::string group_filter;                // empty: by dialect
  int page_size = defaults::kLdapPageSize;
  LdapServerDialect dialect = LdapServerDialect::kOpenLdap;
  bool flatten_nested = false;
  std::chrono::milliseconds timeout = defaults::kLdapTimeout;  // connect, bind, each page
  std::string group_key_attr;              // empty: the user key if it is entryUUID /
                                           // objectGUID / nsUniqueId, else by dialect
  std::string group_name_attr = "cn";
  std::string member_attr;                 // empty: by dialect (see above)
  std::string member_of_attr;              // e.g. "memberOf": memberships from users
  Mapping mapping = Mapping::LdapDefaults();  // key_field = user key attribute
  const Clock* clock = nullptr;            // for accountExpires; null: system clock
};

class LdapSource : public Source {
 public:
  explicit LdapSource(LdapSourceOptions options);

  Result<Directory> Read() override;
  // Binds and runs both searches with a size limit of one:
  // "bind ok as cn=reader,dc=example,dc=org, users found, groups found".
  Result<std::string> Probe() override;
  // "ldap:ldap://a.example.org ldap://b.example.org (starttls)". No DN, no password.
  std::string Describe() const override;

  // The effective filters and build options (dialect defaults applied).
  const std::string& user_filter() const { return user_filter_; }
  const std::string& group_filter() const { return group_filter_; }
  const DirectoryBuildOptions& build_options() const { return build_; }

 private:
  LdapConnOptions ConnOptions() const;
  LdapSearch UserSearch() const;
  LdapSearch GroupSearch() const;
  Status CompleteRanges(LdapConn& conn, std::vector<LdapEntry>& groups) const;

  LdapSourceOptions options_;
  std::string user_filter_;
  std::string group_filter_;
  DirectoryBuildOptions build_;  // `now` is set at each Read()
};

}  // namespace scimsync
