// libFuzzer target: ParseError (connectors/scim/scim_json.h) on any error body.
// Properties: what it returns goes into log lines and the state file, so detail and
// scimType are at most 200 bytes and hold no line break or tab (a hostile body must
// not be able to forge a log line).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/scim/scim_json.h"
#include "tests/fuzz/fuzz_check.h"

namespace {
bool OneLine(const std::string& s) { return s.find_first_of("\r\n\t") == std::string::npos; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  scimsync::ScimError e = scimsync::ParseError(body);
  FUZZ_CHECK(e.detail.size() <= 200);
  FUZZ_CHECK(e.scim_type.size() <= 200);
  FUZZ_CHECK(OneLine(e.detail));
  FUZZ_CHECK(OneLine(e.scim_type));
  return 0;
}
