// libFuzzer target: ParseServiceProviderConfig (connectors/scim/scim_json.h) on any
// body a target serves at /ServiceProviderConfig. Properties: what it returns reaches
// `check` output, so `detail` and every `odd` note are one line of bounded length;
// limits are never negative; only a served outcome carries capabilities.
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
  scimsync::Discovery d = scimsync::ParseServiceProviderConfig(body);
  FUZZ_CHECK(OneLine(d.detail));
  FUZZ_CHECK(d.detail.size() <= 400);
  FUZZ_CHECK(d.odd.size() <= 16);
  for (const std::string& o : d.odd) {
    FUZZ_CHECK(OneLine(o));
    FUZZ_CHECK(o.size() <= 200);
  }
  FUZZ_CHECK(!d.filter_max_results || *d.filter_max_results >= 0);
  FUZZ_CHECK(!d.bulk_max_operations || *d.bulk_max_operations >= 0);
  // Only a served config carries capabilities; a failed one carries why instead.
  if (d.outcome != scimsync::Discovery::Outcome::kServed) {
    FUZZ_CHECK(!d.filter && !d.patch && !d.etag && !d.bulk && !d.sort && d.odd.empty());
    FUZZ_CHECK(!d.detail.empty());
  }
  return 0;
}
