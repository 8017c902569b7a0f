#include "connectors/target.h"

#include "core/redact.h"

namespace scimsync {

std::string_view TransportName(Transport t) {
  switch (t) {
    case Transport::kOk: return "ok";
    case Transport::kTimeout: return "timeout";
    case Transport::kReset: return "connection_reset";
    case Transport::kConnect: return "connect_failed";
    case Transport::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::string TargetResponse::Summary() const {
  if (transport != Transport::kOk) {
    std::string s(TransportName(transport));
    if (!detail.empty()) s += ": " + detail;
    return Redact(s);
  }
  std::string s = "HTTP " + std::to_string(status);
  if (!scim_type.empty()) s += " " + scim_type;
  if (!detail.empty()) s += ": " + detail;
  return Redact(s);
}

}  // namespace scimsync
