// Watching an LDAP directory for the daemon (connectors/source_watch.h, DESIGN §8
// `[source] watch`). What each method sees and how fast is in docs/ldap.md.
//
// MakeSyncReplWatcher: RFC 4533 content synchronisation in refreshAndPersist mode
// (libldap's ldap_sync_*) on the nearest common ancestor of the user and group
// bases, filter (objectClass=*), no attributes ("1.1"). Start() connects, binds and
// runs the refresh phase (every entry's DN once, ignored: it is the baseline); from
// then on every add, modify, modrdn and delete the server sends in the persist phase
// is a change, reported at once. The connection is kept open. Start() fails with a
// non-retryable code when the server refuses the Sync Request control (no syncprov
// overlay: unavailableCriticalExtension; no right to use it: insufficientAccess), so
// the runner falls back to polling; Wait() fails (kUnavailable) when the connection
// drops or the server ends the search, and the runner reconnects with backoff.
//
// MakeMarkerPollWatcher: reads a cheap change marker every `interval`, on a fresh
// connection each time, and reports a change when it differs from the last one:
//   - kHighestCommittedUsn: the rootDSE's highestCommittedUSN (Active Directory,
//     Samba AD): grows with every add, modify, move and delete on that DC.
//   - kContextCsn: contextCSN of the naming context that holds the bases (OpenLDAP
//     with syncprov or a replica): changes with every write to that database.
//   - kModifyTimestamp: the number of entries under each base and their newest
//     modifyTimestamp (every entry's modifyTimestamp is read: one attribute per
//     entry, paged): sees adds, modifies, renames and deletes; the cost grows with
//     the directory, so the interval matters more.
// Start() fails with kInvalidArgument when the server has no such marker.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/ldap/ldap_conn.h"
#include "connectors/source_watch.h"
#include "core/clock.h"

namespace scimsync {

struct LdapWatchOptions {
  LdapConnOptions conn;
  std::vector<std::string> bases;  // the user and group bases; empty entries ignored
  Millis interval{30000};          // polled markers: how often
};

enum class LdapMarker { kHighestCommittedUsn, kContextCsn, kModifyTimestamp };

std::unique_ptr<SourceWatcher> MakeSyncReplWatcher(LdapWatchOptions options);
std::unique_ptr<SourceWatcher> MakeMarkerPollWatcher(LdapWatchOptions options, LdapMarker marker);

// The nearest common ancestor of DNs: the longest run of trailing RDNs they share,
// compared without regard to case and spaces after commas ("ou=people,dc=example,
// dc=org" and "ou=groups,dc=example,dc=org" give "dc=example,dc=org"). Escaped
// commas stay inside their RDN. Empty when they share nothing.
std::string CommonAncestorDn(const std::vector<std::string>& dns);

}  // namespace scimsync
