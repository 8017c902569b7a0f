#include "connectors/ldap/ldap_dn.h"

#include <doctest/doctest.h>

namespace scimsync {
namespace {

TEST_CASE("NormalizeDn: case and insignificant spaces do not matter") {
  CHECK(NormalizeDn("CN=Ann  Lee, OU=People,dc=Example,dc=org") ==
        "cn=ann lee,ou=people,dc=example,dc=org");
  CHECK(NormalizeDn(" uid = ann , ou = people ") == "uid=ann,ou=people");
  CHECK(NormalizeDn("uid=ann;ou=people") == "uid=ann,ou=people");
}

TEST_CASE("NormalizeDn: escapes are understood and rendered one way") {
  CHECK(NormalizeDn("CN=Lee\\, Ann ,DC=Example") == "cn=lee\\2c ann,dc=example");
  CHECK(NormalizeDn("cn=Lee\\2C Ann,dc=example") == NormalizeDn("CN=Lee\\, Ann,DC=Example"));
  CHECK(NormalizeDn("cn=\"Lee, Ann\",dc=example") == NormalizeDn("cn=Lee\\, Ann,dc=example"));
  // An escaped comma is part of the value, not a separator.
  CHECK(NormalizeDn("cn=Lee\\, Ann,dc=example") != NormalizeDn("cn=Lee,cn=Ann,dc=example"));
  // An escaped trailing space is significant; an unescaped one is not.
  CHECK(NormalizeDn("cn=a\\ ,dc=x") != NormalizeDn("cn=a ,dc=x"));
  CHECK(NormalizeDn("cn=a ,dc=x") == "cn=a,dc=x");
  CHECK(NormalizeDn("cn=\\#1,dc=x") == "cn=\\231,dc=x");
  // UTF-8 is kept byte for byte (hex-escaped or not).
  CHECK(NormalizeDn("cn=J\\C3\\BCrgen,dc=x") == NormalizeDn("cn=J\xC3\xBCrgen,dc=x"));
  CHECK(NormalizeDn("cn=J\xC3\xBCrgen,dc=x") == "cn=j\xC3\xBCrgen,dc=x");
}

TEST_CASE("NormalizeDn: multi-valued RDNs compare in any order") {
  CHECK(NormalizeDn("cn=a+uid=b,dc=x") == NormalizeDn("UID=b + CN=a,dc=x"));
  CHECK(NormalizeDn("cn=a+uid=b,dc=x") == "cn=a+uid=b,dc=x");
}

TEST_CASE("NormalizeDn: hex-string values and malformed input") {
  CHECK(NormalizeDn("uid=#04024869,dc=x") == NormalizeDn("UID=#04024869 ,DC=X"));
  CHECK(NormalizeDn("") == "");
  CHECK(NormalizeDn("Not A DN") == "not a dn");
  CHECK(NormalizeDn("cn=a,") == "cn=a,");
}

}  // namespace
}  // namespace scimsync
