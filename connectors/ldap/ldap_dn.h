// DN normalization for comparing member / uniqueMember values with entry DNs.
//
// Two spellings of one DN must compare equal: "CN=Ann  Lee, OU=People,dc=Example,dc=org"
// and "cn=ann lee,ou=people,dc=example,dc=org". NormalizeDn parses the DN per RFC 4514
// (backslash escapes "\," and "\2C", hex-string values "#04..", legacy quoted values,
// ';' as RDN separator) and re-renders it canonically:
//   - attribute types lower-cased, spaces around '=' ',' '+' dropped;
//   - values unescaped, leading/trailing unescaped spaces trimmed, inner runs of spaces
//     collapsed to one (insignificant-space handling of caseIgnoreMatch), ASCII
//     letters lower-cased (other UTF-8 bytes kept as they are);
//   - the AVAs of a multi-valued RDN ("cn=a+uid=b") sorted;
//   - special characters re-escaped in one canonical way ("\2c" style).
// It does not map OIDs to names ("2.5.4.3=x" stays different from "cn=x"), and it
// does not fail: a malformed DN comes back lower-cased and trimmed, which still
// compares equal to itself.
#pragma once

#include <string>
#include <string_view>

namespace scimsync {

std::string NormalizeDn(std::string_view dn);

}  // namespace scimsync
