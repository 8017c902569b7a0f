// Translates the [source] part of a Config into the LDAP connector's own options
// (connectors never include config/). Used by MakeSource (daemon/session.h).
#pragma once

#include "config/config.h"
#include "connectors/ldap/ldap_source.h"
#include "core/result.h"

namespace scimsync {

// Splits `url` on spaces and commas into the failover list; user_base and group_base
// default to base_dn; the mapping is the merged one (dialect defaults + [mapping]),
// whose key_field is the key attribute. With a bind_dn the password is read through
// ReadSecret (bind_password_file, mode checked; or bind_password_env; or the systemd
// credential "ldap_password"); errors (kInvalidArgument) never contain the secret.
// Without a bind_dn no password is read (anonymous, or SASL EXTERNAL on ldapi://).
Result<LdapSourceOptions> ToLdapOptions(const Config& config);

}  // namespace scimsync
