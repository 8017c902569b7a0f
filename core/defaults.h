// The defaults of DESIGN §8 that more than one option struct carries: the config
// structs (config/config.h) and the options of the components that use them
// (connectors, executor) take their initial values from here, so each default is
// written once. Each constant is the documented default of the config key named.
#pragma once

#include <chrono>

namespace scimsync::defaults {

// [source] ldap page_size: entries per page of the LDAP paged-results control.
inline constexpr int kLdapPageSize = 500;
// [source] ldap timeout: connect, bind and each page.
inline constexpr std::chrono::milliseconds kLdapTimeout{30000};
// [target] timeout: one HTTP request, from start to last byte.
inline constexpr std::chrono::milliseconds kTargetTimeout{30000};
// [target] max_connections: concurrent requests (and executor workers).
inline constexpr int kMaxConnections = 4;
// [target] members_per_request: member adds per group PATCH (halved on 413).
inline constexpr int kMembersPerRequest = 100;
// [target] max_retries: retries of one request on 5xx, timeouts and refused connections.
inline constexpr int kMaxRetries = 3;
// [safety] max_failures_per_cycle: the circuit breaker.
inline constexpr int kMaxFailuresPerCycle = 50;
// SCIM list reads: `count` asked for per page (the target may return fewer).
inline constexpr int kScimPageSize = 100;

}  // namespace scimsync::defaults
