#include "daemon/scim_config.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "scimsync_version.h"

namespace scimsync {

EffectiveTarget EffectiveOf(const TargetConfig& target) {
  return EffectiveBehaviour(target.profile, target.behaviour);
}

ScimTargetOptions ToScimOptions(const TargetConfig& target) {
  ScimTargetOptions o;
  o.base_url = target.url;
  const TargetBehaviour b = EffectiveOf(target).behaviour;
  o.page_size = b.page_size;
  o.lookup = b.lookup;
  return o;
}

HttpClientOptions ToHttpOptions(const TargetConfig& target, std::string token) {
  HttpClientOptions o;
  o.bearer_token = std::move(token);
  o.ca_file = target.ca_file;
  o.request_timeout = target.timeout;
  o.connect_timeout = std::min<std::chrono::milliseconds>(std::chrono::seconds(10), target.timeout);
  o.max_connections = std::max(1, target.max_connections);
  o.max_requests_per_second = target.max_requests_per_second;
  o.max_response_size = target.max_response_size;
  o.proxy = target.proxy;
  o.no_proxy = target.no_proxy;
  o.user_agent = std::string("scimsync/") + SCIMSYNC_VERSION;
  return o;
}

}  // namespace scimsync
