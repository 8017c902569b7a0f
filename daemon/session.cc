#include "daemon/session.h"

#include <sys/stat.h>

#include "config/config_loader.h"
#include "connectors/csv/csv_source.h"
#include "connectors/ldap/ldap_source.h"
#include "connectors/scim/curl_http_client.h"
#include "connectors/scim/scim_target.h"
#include "core/clock.h"
#include "core/log.h"
#include "daemon/csv_config.h"
#include "daemon/ldap_config.h"
#include "daemon/scim_config.h"

namespace scimsync {
namespace {

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<std::unique_ptr<Source>> MakeSource(const Config& config) {
  if (config.source.type == SourceType::kCsv) {
    return std::unique_ptr<Source>(std::make_unique<CsvSource>(ToCsvOptions(config)));
  }
  Result<LdapSourceOptions> options = ToLdapOptions(config);
  if (!options.ok()) return options.status();
  return std::unique_ptr<Source>(std::make_unique<LdapSource>(std::move(options).value()));
}

Result<std::unique_ptr<Target>> MakeTarget(const Config& config) {
  Result<std::string> token =
      ReadSecret(config.target.token_file, config.target.token_env, "token", "target token");
  if (!token.ok()) return token.status();
  auto http = std::make_unique<CurlHttpClient>(ToHttpOptions(config.target, std::move(*token)));
  return std::unique_ptr<Target>(std::make_unique<ScimTarget>(
      std::move(http), ToScimOptions(config.target), SystemClock::Instance()));
}

Result<Session> OpenSession(const Config& config, const SessionOptions& options) {
  Session s;
  if (!options.read_only) {
    Result<std::unique_ptr<LockFile>> lock = LockFile::Acquire(config.state, options.who, false);
    if (!lock.ok() && lock.status().code() == ErrorCode::kLocked && options.wait_for_lock) {
      LogInfo("waiting_for_lock", {{"holder", lock.status().message()}});
      lock = LockFile::Acquire(config.state, options.who, true);
    }
    if (!lock.ok()) return lock.status();
    s.lock = std::move(*lock);
  }
  Result<std::unique_ptr<StateStore>> state = Status(ErrorCode::kInternal, "unset");
  if (!options.read_only) {
    state = StateStore::Open(config.state, config.target.url);
  } else if (!FileExists(config.state)) {
    state = StateStore::Open(":memory:", config.target.url);  // `plan` before the first sync
  } else {
    // `plan` must not write: read-only, but still refuse a state file of another target.
    state = StateStore::OpenReadOnly(config.state);
    if (state.ok()) {
      Result<std::string> bound = (*state)->GetMeta("target_url");
      std::string want = config.target.url;
      while (!want.empty() && want.back() == '/') want.pop_back();
      if (bound.ok() && !bound->empty() && *bound != want) {
        return Status(ErrorCode::kSchema, "state file " + config.state + " belongs to target " +
                                              *bound + ", not " + want +
                                              "; use another state file");
      }
    }
  }
  if (!state.ok()) return state.status();
  s.state = std::move(*state);
  Result<std::unique_ptr<Source>> source = MakeSource(config);
  if (!source.ok()) return source.status();
  s.source = std::move(*source);
  Result<std::unique_ptr<Target>> target = MakeTarget(config);
  if (!target.ok() && options.read_only) {
    // `plan` needs the target only when it reconciles; the cycle says so if it must.
    s.target_error = target.status().message();
    return s;
  }
  if (!target.ok()) return target.status();
  s.target = std::move(*target);
  return s;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk: return 0;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kSchema: return 2;
    case ErrorCode::kLocked: return 4;
    default: return 3;
  }
}

}  // namespace scimsync
