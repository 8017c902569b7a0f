// The pure part of the LDAP watchers (connectors/ldap/ldap_watch.h); the watchers
// themselves run against slapd and Samba in tests/integration.
#include "connectors/ldap/ldap_watch.h"

#include <doctest/doctest.h>

namespace scimsync {
namespace {

TEST_CASE("CommonAncestorDn: the trailing RDNs every DN shares") {
  CHECK(CommonAncestorDn({"ou=people,dc=example,dc=org", "ou=groups,dc=example,dc=org"}) ==
        "dc=example,dc=org");
  CHECK(CommonAncestorDn({"ou=people,dc=example,dc=org", "ou=people, DC=Example,dc=org"}) ==
        "ou=people,dc=example,dc=org");
  CHECK(CommonAncestorDn({"ou=a,ou=people,dc=x", "ou=people,dc=x"}) == "ou=people,dc=x");
  CHECK(CommonAncestorDn({"ou=people,dc=x"}) == "ou=people,dc=x");
  CHECK(CommonAncestorDn({"dc=x", "dc=y"}).empty());
  CHECK(CommonAncestorDn({"cn=a\\,b,dc=x", "cn=c,dc=x"}) == "dc=x");
  CHECK(CommonAncestorDn({"cn=a\\,dc=x,dc=y", "cn=b,dc=x,dc=y"}) == "dc=y");  // not dc=x: escaped
  CHECK(CommonAncestorDn({}).empty());
}

TEST_CASE("a marker watcher against no server: a retryable Start() error (the runner retries)") {
  LdapWatchOptions o;
  o.conn.uris = {"ldap://127.0.0.1:1"};
  o.conn.timeout = std::chrono::milliseconds(500);
  o.bases = {"dc=example,dc=org"};
  auto w = MakeMarkerPollWatcher(o, LdapMarker::kHighestCommittedUsn);
  CHECK(w->Method() == "usn_poll");
  Status s = w->Start();
  CHECK_FALSE(s.ok());
  CHECK(s.Retryable());
  auto sr = MakeSyncReplWatcher(o);
  CHECK(sr->Describe() == "syncrepl on dc=example,dc=org at ldap://127.0.0.1:1");
  CHECK(sr->Start().Retryable());
}

}  // namespace
}  // namespace scimsync
