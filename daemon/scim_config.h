// Translates the [target] part of a Config into the SCIM connector's own options
// (connectors never include config/). Used by MakeTarget (daemon/session.h).
#pragma once

#include <string>

#include "config/config.h"
#include "connectors/scim/http_client.h"
#include "connectors/scim/scim_target.h"

namespace scimsync {

// The profile's behaviours with the [target] overrides (core/target_profile.h).
EffectiveTarget EffectiveOf(const TargetConfig& target);

// base_url = target.url as written (with or without trailing slash); page_size and
// lookup = the effective behaviour's.
ScimTargetOptions ToScimOptions(const TargetConfig& target);

// `token` is the secret read from token_file / token_env. request_timeout =
// target.timeout; connect_timeout = the smaller of 10 s and target.timeout;
// max_response_size = target.max_response_size; user_agent = "scimsync/<version>".
HttpClientOptions ToHttpOptions(const TargetConfig& target, std::string token);

}  // namespace scimsync
