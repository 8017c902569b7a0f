// The one translation of LDAP result codes (RFC 4511 resultCode and libldap's
// negative API codes) into scimsync error codes. Whether a retry can help follows
// from the code (IsRetryable, core/result.h): a server that is down, busy or slow
// (kUnavailable, kTimeout) is worth another try or the next URI; bad credentials
// (kAuth), a missing base DN (kNotFound) or a bad filter (kInvalidArgument) are not.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace scimsync {

ErrorCode LdapErrorCode(int rc);

// "<what>: <ldap_err2string(rc)> (LDAP result <rc>)[: <server message>]", with the
// code from LdapErrorCode. `what` names the operation and its object ("search
// ou=people,dc=example,dc=org"); the server message is the diagnostic text the
// server sent, if any. Never pass a secret in either.
Status LdapStatus(int rc, std::string_view what, std::string_view server_message = {});

}  // namespace scimsync
