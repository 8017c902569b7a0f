// libFuzzer target: ParseDuration (config/config_loader.h) on any text.
// Properties: a parsed duration is never negative and never above the loader's
// 100-year cap (so no overflow on the way), and an error is kInvalidArgument.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_loader.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace scimsync;
  using std::chrono::hours;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<std::chrono::milliseconds> d = ParseDuration(text);
  if (d.ok()) {
    FUZZ_CHECK(d->count() >= 0);
    FUZZ_CHECK(*d <= hours(100LL * 365 * 24));
  } else {
    FUZZ_CHECK(d.status().code() == ErrorCode::kInvalidArgument);
  }
  return 0;
}
