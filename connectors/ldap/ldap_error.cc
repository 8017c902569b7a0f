#include "connectors/ldap/ldap_error.h"

#include <ldap.h>

#include <utility>

namespace scimsync {
namespace {

struct RcCode {
  int rc;
  ErrorCode code;
};

// Tables over branches: every code we know, in one place. Anything else is kInternal.
constexpr RcCode kTable[] = {
    {LDAP_SUCCESS, ErrorCode::kOk},
    // The server or the network: another try, or the next URI, may work.
    {LDAP_SERVER_DOWN, ErrorCode::kUnavailable},
    {LDAP_CONNECT_ERROR, ErrorCode::kUnavailable},
    {LDAP_UNAVAILABLE, ErrorCode::kUnavailable},
    {LDAP_BUSY, ErrorCode::kUnavailable},
    {LDAP_OTHER, ErrorCode::kUnavailable},
    {LDAP_TIMEOUT, ErrorCode::kTimeout},
    {LDAP_TIMELIMIT_EXCEEDED, ErrorCode::kTimeout},
    // Credentials and access: retrying does not help.
    {LDAP_INVALID_CREDENTIALS, ErrorCode::kAuth},
    {LDAP_INAPPROPRIATE_AUTH, ErrorCode::kAuth},
    {LDAP_INSUFFICIENT_ACCESS, ErrorCode::kAuth},
    {LDAP_STRONG_AUTH_REQUIRED, ErrorCode::kAuth},
    {LDAP_CONFIDENTIALITY_REQUIRED, ErrorCode::kAuth},
    {LDAP_AUTH_METHOD_NOT_SUPPORTED, ErrorCode::kAuth},
    {LDAP_AUTH_UNKNOWN, ErrorCode::kAuth},
    {LDAP_X_PROXY_AUTHZ_FAILURE, ErrorCode::kAuth},
    // The request or the configuration: fix the config.
    {LDAP_NO_SUCH_OBJECT, ErrorCode::kNotFound},
    {LDAP_SIZELIMIT_EXCEEDED, ErrorCode::kInvalidArgument},
    {LDAP_ADMINLIMIT_EXCEEDED, ErrorCode::kInvalidArgument},
    {LDAP_REFERRAL, ErrorCode::kInvalidArgument},
    {LDAP_UNAVAILABLE_CRITICAL_EXTENSION, ErrorCode::kInvalidArgument},
    {LDAP_UNWILLING_TO_PERFORM, ErrorCode::kInvalidArgument},
    {LDAP_FILTER_ERROR, ErrorCode::kInvalidArgument},
    {LDAP_INVALID_DN_SYNTAX, ErrorCode::kInvalidArgument},
    {LDAP_INVALID_SYNTAX, ErrorCode::kInvalidArgument},
    {LDAP_UNDEFINED_TYPE, ErrorCode::kInvalidArgument},
    {LDAP_INAPPROPRIATE_MATCHING, ErrorCode::kInvalidArgument},
    {LDAP_PARAM_ERROR, ErrorCode::kInvalidArgument},
    {LDAP_NOT_SUPPORTED, ErrorCode::kInvalidArgument},
    {LDAP_LOOP_DETECT, ErrorCode::kInvalidArgument},
    {LDAP_ALIAS_PROBLEM, ErrorCode::kInvalidArgument},
    {LDAP_ALIAS_DEREF_PROBLEM, ErrorCode::kInvalidArgument},
    // Garbage on the wire.
    {LDAP_PROTOCOL_ERROR, ErrorCode::kParse},
    {LDAP_DECODING_ERROR, ErrorCode::kParse},
    {LDAP_ENCODING_ERROR, ErrorCode::kParse},
    {LDAP_CONTROL_NOT_FOUND, ErrorCode::kParse},
    {LDAP_NO_RESULTS_RETURNED, ErrorCode::kParse},
    {LDAP_USER_CANCELLED, ErrorCode::kCancelled},
    {LDAP_CANCELLED, ErrorCode::kCancelled},
    {LDAP_NO_MEMORY, ErrorCode::kInternal},
    {LDAP_LOCAL_ERROR, ErrorCode::kInternal},
};

}  // namespace

ErrorCode LdapErrorCode(int rc) {
  for (const RcCode& e : kTable) {
    if (e.rc == rc) return e.code;
  }
  return ErrorCode::kInternal;
}

Status LdapStatus(int rc, std::string_view what, std::string_view server_message) {
  std::string msg(what);
  msg += ": ";
  msg += ldap_err2string(rc);
  msg += " (LDAP result " + std::to_string(rc) + ")";
  if (!server_message.empty()) {
    msg += ": ";
    msg += server_message;
  }
  ErrorCode code = LdapErrorCode(rc);
  // A Status with kOk would read as success; an rc of 0 here is a caller's bug.
  if (code == ErrorCode::kOk) code = ErrorCode::kInternal;
  return Status(code, std::move(msg));
}

}  // namespace scimsync
