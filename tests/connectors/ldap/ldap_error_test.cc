#include "connectors/ldap/ldap_error.h"

#include <doctest/doctest.h>
#include <ldap.h>

namespace scimsync {
namespace {

TEST_CASE("LdapErrorCode: the translation table") {
  struct Row {
    int rc;
    ErrorCode code;
    bool retryable;
  };
  const Row rows[] = {
      {LDAP_SUCCESS, ErrorCode::kOk, false},
      {LDAP_SERVER_DOWN, ErrorCode::kUnavailable, true},
      {LDAP_CONNECT_ERROR, ErrorCode::kUnavailable, true},
      {LDAP_UNAVAILABLE, ErrorCode::kUnavailable, true},
      {LDAP_BUSY, ErrorCode::kUnavailable, true},
      {LDAP_OTHER, ErrorCode::kUnavailable, true},
      {LDAP_TIMEOUT, ErrorCode::kTimeout, true},
      {LDAP_TIMELIMIT_EXCEEDED, ErrorCode::kTimeout, true},
      {LDAP_INVALID_CREDENTIALS, ErrorCode::kAuth, false},
      {LDAP_INSUFFICIENT_ACCESS, ErrorCode::kAuth, false},
      {LDAP_INAPPROPRIATE_AUTH, ErrorCode::kAuth, false},
      {LDAP_STRONG_AUTH_REQUIRED, ErrorCode::kAuth, false},
      {LDAP_CONFIDENTIALITY_REQUIRED, ErrorCode::kAuth, false},
      {LDAP_NO_SUCH_OBJECT, ErrorCode::kNotFound, false},
      {LDAP_SIZELIMIT_EXCEEDED, ErrorCode::kInvalidArgument, false},
      {LDAP_ADMINLIMIT_EXCEEDED, ErrorCode::kInvalidArgument, false},
      {LDAP_REFERRAL, ErrorCode::kInvalidArgument, false},
      {LDAP_UNAVAILABLE_CRITICAL_EXTENSION, ErrorCode::kInvalidArgument, false},
      {LDAP_FILTER_ERROR, ErrorCode::kInvalidArgument, false},
      {LDAP_INVALID_DN_SYNTAX, ErrorCode::kInvalidArgument, false},
      {LDAP_UNDEFINED_TYPE, ErrorCode::kInvalidArgument, false},
      {LDAP_PROTOCOL_ERROR, ErrorCode::kParse, false},
      {LDAP_DECODING_ERROR, ErrorCode::kParse, false},
      {LDAP_USER_CANCELLED, ErrorCode::kCancelled, false},
      {LDAP_NO_MEMORY, ErrorCode::kInternal, false},
      {12345, ErrorCode::kInternal, false},  // unknown codes are not guessed at
  };
  for (const Row& r : rows) {
    INFO("rc=" << r.rc);
    CHECK(LdapErrorCode(r.rc) == r.code);
    CHECK(IsRetryable(LdapErrorCode(r.rc)) == r.retryable);
  }
}

TEST_CASE("LdapStatus: result code and server message in the text") {
  Status s = LdapStatus(LDAP_INVALID_CREDENTIALS, "bind to ldap://127.0.0.1:3890 as cn=reader",
                        "");
  CHECK(s.code() == ErrorCode::kAuth);
  CHECK(s.message() ==
        "bind to ldap://127.0.0.1:3890 as cn=reader: Invalid credentials (LDAP result 49)");

  s = LdapStatus(LDAP_SIZELIMIT_EXCEEDED, "search ou=people,dc=example,dc=org (objectClass=*)",
                 "server says no");
  CHECK(s.code() == ErrorCode::kInvalidArgument);
  CHECK(s.message() ==
        "search ou=people,dc=example,dc=org (objectClass=*): Size limit exceeded (LDAP result 4): "
        "server says no");

  // A success code is never turned into an ok Status by mistake.
  CHECK_FALSE(LdapStatus(LDAP_SUCCESS, "x").ok());
}

}  // namespace
}  // namespace scimsync
