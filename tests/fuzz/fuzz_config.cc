// libFuzzer target: the TOML configuration loader (config/config_loader.h,
// ParseConfig: toml++ parsing, the KeySpec tables, validation) on any text. It reads
// no files: secrets are read later, by ReadSecret, which this target does not call.
// Property: an error is kInvalidArgument and names the file ("scimsync.toml:").
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_loader.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace scimsync;
  std::string text(reinterpret_cast<const char*>(data), size);
  Result<Config> config = ParseConfig(text, "scimsync.toml");
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == ErrorCode::kInvalidArgument);
    FUZZ_CHECK(config.status().message().rfind("scimsync.toml:", 0) == 0);
  }
  return 0;
}
