// A small wrapper around one libldap connection that owns failover, TLS, binding,
// timeouts and paged searching, and reports every failure as a Status whose code
// says whether a retry can help (ldap_error.h).
//
// Connect() tries the URIs in order. For each it sets LDAPv3, no automatic referral
// chasing, the network (connect) timeout and the operation timeout, and TLS with
// certificate verification always on (REQUIRE_CERT = DEMAND, the CA file if given,
// then a fresh TLS context for this handle so no global or earlier setting leaks in).
// It then runs StartTLS if asked (on ldap:// only; ldaps:// is TLS already, ldapi://
// is a local socket) and binds:
//   - bind_dn set: simple bind (an empty password is refused: RFC 4513 would turn it
//     into an unauthenticated, i.e. anonymous, bind);
//   - no bind_dn, ldapi:// URI: SASL EXTERNAL (the server maps our uid/gid);
//   - no bind_dn otherwise: anonymous simple bind.
// A failure that a retry may cure (server down, TLS/connect error, timeout, busy) moves
// on to the next URI; anything else (bad credentials) stops at once. When every URI
// failed, the error lists each one.
//
// Search() runs one search with the Simple Paged Results control (RFC 2696, marked
// critical so a server without paging refuses instead of silently truncating) and
// hands each entry to a callback. It fails, and the caller must discard everything
// it got, on any non-success result (including sizeLimitExceeded and
// timeLimitExceeded), a referral result, a search continuation reference the caller
// does not accept, a page without the paged-results response control, a page that
// does not arrive within the timeout, or an error from the callback.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connectors/ldap/ldap_entry.h"
#include "core/defaults.h"
#include "core/result.h"

typedef struct ldap LDAP;  // NOLINT: libldap's own opaque type, keeps ldap.h out

namespace scimsync {

enum class LdapSearchScope { kBase, kOne, kSub };

struct LdapConnOptions {
  std::vector<std::string> uris;     // tried in order
  bool start_tls = false;
  std::string ca_file;               // empty: the system CA store
  std::string bind_dn;               // empty: anonymous, or SASL EXTERNAL on ldapi://
  std::string bind_password;         // secret: never logged, never in an error
  std::chrono::milliseconds timeout = defaults::kLdapTimeout;  // connect, each operation, each page
};

struct LdapSearch {
  std::string base;
  LdapSearchScope scope = LdapSearchScope::kSub;
  std::string filter = "(objectClass=*)";
  std::vector<std::string> attrs;    // empty: all user attributes
  int page_size = defaults::kLdapPageSize;  // 0: no paging control (single base-scope reads)
  // >0: ask the server for at most this many entries and accept sizeLimitExceeded
  // (Probe: "is there at least one?"). Never used for a real read.
  int probe_limit = 0;
  // Called for each search continuation reference (its URLs); return true to skip it
  // (e.g. AD's DomainDnsZones partitions), false to fail the search. Null: fail.
  std::function<bool(const std::vector<std::string>& urls)> accept_reference;
};

struct LdapSearchStats {
  std::size_t entries = 0;
  std::size_t pages = 0;
};

class LdapConn {
 public:
  static Result<std::unique_ptr<LdapConn>> Connect(const LdapConnOptions& options);
  ~LdapConn();
  LdapConn(const LdapConn&) = delete;
  LdapConn& operator=(const LdapConn&) = delete;

  const std::string& uri() const { return uri_; }
  // The identity the server sees (RFC 4532 Who am I?), e.g. "cn=reader,dc=example,dc=org";
  // falls back to the bind DN, or "anonymous".
  std::string WhoAmI();

  // The libldap handle, for the RFC 4533 watcher (ldap_watch.cc), which drives
  // ldap_sync_* on this connection. Owned by this object.
  LDAP* handle() const { return ld_; }

  using EntryFn = std::function<Status(LdapEntry&& entry)>;
  Result<LdapSearchStats> Search(const LdapSearch& search, const EntryFn& on_entry);

 private:
  LdapConn(LDAP* ld, std::string uri, LdapConnOptions options);
  std::string Diagnostic() const;

  LDAP* ld_;
  std::string uri_;
  LdapConnOptions options_;
};

}  // namespace scimsync
