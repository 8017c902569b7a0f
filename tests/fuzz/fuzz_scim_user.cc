// libFuzzer target: ParseUser (connectors/scim/scim_json.h) on any response body, as a
// hostile or broken target could send it. Property: no crash, no sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/scim/scim_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string version;
  (void)scimsync::ParseUser(body, &version);
  (void)scimsync::ParseUser(body);
  return 0;
}
