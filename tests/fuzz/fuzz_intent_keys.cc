// libFuzzer target: DecodeIntentKeys (state/intent_keys.h) on any bytes, as a damaged
// or foreign create_intents row of a state file would hold.
// Properties: a blob that decodes is the one encoding of its keys (encoding them again
// gives the same bytes); and any list of keys (the input cut at '\n') round-trips.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "state/intent_keys.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace scimsync;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> keys;
  if (DecodeIntentKeys(text, &keys)) FUZZ_CHECK(EncodeIntentKeys(keys) == text);

  std::vector<std::string> cut;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      cut.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<std::string> back;
  FUZZ_CHECK(DecodeIntentKeys(EncodeIntentKeys(cut), &back));
  FUZZ_CHECK(back == cut);
  return 0;
}
