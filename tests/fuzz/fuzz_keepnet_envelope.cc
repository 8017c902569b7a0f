// libFuzzer target: Keepnet's envelope and data parsers (connectors/keepnet/keepnet_json.h)
// on any body. Properties: nothing crashes or recurses without bound, and the text
// printed for the operator (EnvelopeText) is one line of bounded length.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/keepnet/keepnet_json.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  scimsync::KeepnetEnvelope e = scimsync::ParseEnvelope(body);
  std::string text = scimsync::EnvelopeText(e);
  FUZZ_CHECK(text.find_first_of("\r\n") == std::string::npos);
  FUZZ_CHECK(text.size() <= (scimsync::kMaxKeepnetMessages + 2) * (scimsync::kMaxKeepnetMessageBytes + 8));
  (void)scimsync::ParseTokenResponse(body);
  (void)scimsync::DataResourceId(body);
  (void)scimsync::ParseCompanyPage(body);
  (void)scimsync::ParseScimSetting(body);
  (void)scimsync::ParseScimFields(body);
  (void)scimsync::DecTestPassed(body);
  return 0;
}
