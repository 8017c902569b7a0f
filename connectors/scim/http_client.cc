#include "connectors/scim/http_client.h"

namespace scimsync {

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

}  // namespace scimsync
