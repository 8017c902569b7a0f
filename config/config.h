// Configuration as plain structs with documented defaults (DESIGN §8). The loader
// (config_loader.h) fills them from TOML and rejects unknown keys, wrong types and
// missing required keys with "file:line: key: message".
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/defaults.h"
#include "core/log.h"
#include "core/mapping.h"
#include "core/planner.h"
#include "core/scope.h"
#include "core/target_profile.h"

namespace scimsync {

enum class SourceType { kCsv, kLdap };
enum class LdapDialect { kOpenLdap, kAd };
enum class LdapScope { kBase, kOne, kSub };
enum class LogFormat { kLogfmt, kJson };
// LogLevel: core/log.h

struct CsvSourceConfig {
  std::string users;                 // required: path of the users CSV
  std::string groups;                // optional: groups file with columns group,member
  std::string key = "externalId";    // key column (also settable as [mapping] externalId)
  char delimiter = ',';
  std::string groups_column = "groups";
  std::string group_separator = ";";
};

struct LdapSourceConfig {
  std::string url;                   // required: one or more URIs separated by spaces or commas
  bool start_tls = false;
  std::string ca_file;
  std::string bind_dn;               // empty: anonymous (or SASL EXTERNAL over ldapi://)
  std::string bind_password_file;
  std::string bind_password_env;
  std::string base_dn;               // required unless user_base and group_base are set
  std::string user_base;             // default: base_dn
  std::string user_filter;           // default by dialect
  LdapScope user_scope = LdapScope::kSub;
  std::string group_base;            // default: base_dn
  std::string group_filter;          // default by dialect
  int page_size = defaults::kLdapPageSize;
  LdapDialect dialect = LdapDialect::kOpenLdap;
  bool flatten_nested = false;
  std::chrono::milliseconds timeout = defaults::kLdapTimeout;
  std::string key;                   // default: entryUUID (openldap) / objectGUID (ad)
  std::string group_name_attr = "cn";
  std::string member_attr;           // default: member/uniqueMember/memberUid, by object
  std::string member_of_attr;        // optional: read memberships from users (memberOf)
};

struct SourceConfig {
  SourceType type = SourceType::kCsv;
  // Daemon only: a change of the source starts a cycle within seconds (inotify for
  // CSV; RFC 4533 syncrepl, else a polled change marker, for LDAP), besides the
  // cycle every `interval`. `watch_interval`: how often a polled marker is read.
  bool watch = false;
  std::chrono::milliseconds watch_interval{std::chrono::seconds(30)};
  CsvSourceConfig csv;
  LdapSourceConfig ldap;
};

struct TargetConfig {
  std::string url;                   // required: SCIM base URL, with or without trailing slash
  std::string token_file;            // one of token_file / token_env is required
  std::string token_env;
  std::string ca_file;
  std::chrono::milliseconds timeout = defaults::kTargetTimeout;
  int max_connections = defaults::kMaxConnections;
  double max_requests_per_second = 0;  // 0 = no cap
  DeprovisionMode deprovision = DeprovisionMode::kDisable;
  TargetProfile profile = TargetProfile::kGeneric;
  // Overrides of the profile's behaviours (core/target_profile.h): page_size,
  // members_per_request, lookup, exclude_members, unique_group_names,
  // delete_locks, push_groups, role_prefix. Unset: the profile's value.
  BehaviourOverrides behaviour;
  std::vector<std::string> roles;    // source groups pushed as roles (role_prefix + name)
  int max_retries = defaults::kMaxRetries;  // per request, for 5xx / timeouts / 429
  // How often a cycle reads the whole target before planning (DESIGN §1):
  // "24h" by default, "always" (zero: every cycle) or "never" (nullopt). The
  // target is read regardless on a state file without rows and on --reconcile.
  std::optional<std::chrono::milliseconds> reconcile{std::chrono::hours(24)};
  // Members of a managed group that the source does not have (added on the target
  // by hand): removed by a reconciling cycle, or kept (DESIGN §3).
  ForeignMembers foreign_members = ForeignMembers::kRemove;
  // HTTP(S) proxy for the target: a URL ("http://proxy.corp:3128"), "none", or empty
  // for libcurl's environment variables (https_proxy, no_proxy). No credentials in
  // the URL: the main config holds no secret.
  std::string proxy;
  std::string no_proxy;  // hosts reached directly: "scim.internal,.corp"; empty: env
  std::size_t max_response_size = 8 * 1024 * 1024;  // bytes; a larger response fails
};

struct SafetyConfig {
  int max_deletions = 500;
  double max_deletion_percent = 10.0;
  bool allow_empty_source = false;
  int max_failures_per_cycle = defaults::kMaxFailuresPerCycle;   // circuit breaker: consecutive transient failures
};

struct LogConfig {
  LogFormat format = LogFormat::kLogfmt;
  LogLevel level = LogLevel::kInfo;
};

struct Config {
  std::string path;                  // the file it was loaded from
  std::string state;                 // default: $STATE_DIRECTORY/state.db, else ./scimsync.db
  std::chrono::milliseconds interval{std::chrono::minutes(40)};
  double interval_jitter = 0.05;     // fraction of the interval
  std::chrono::milliseconds stop_timeout{30000};
  std::string metrics_file;
  SourceConfig source;
  TargetConfig target;
  // Who and which groups are provisioned (core/scope.h); the default is everyone
  // and every group.
  Scope scope;
  SafetyConfig safety;
  LogConfig log;
  Mapping mapping;                   // source defaults merged with [mapping]
};

}  // namespace scimsync
