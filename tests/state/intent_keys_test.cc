// The key list of a create intent: round trip of any bytes, one encoding per list,
// damaged rows refused.
#include "state/intent_keys.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace scimsync;

TEST_CASE("intent keys: any bytes round-trip, in order") {
  const std::vector<std::string> keys = {"E1", "", "cn=a:b,dc=x", std::string("nul\0in", 6),
                                         "12:34", "line\nbreak", std::string(1000, 'k')};
  const std::string blob = EncodeIntentKeys(keys);
  std::vector<std::string> back;
  REQUIRE(DecodeIntentKeys(blob, &back));
  CHECK(back == keys);
  CHECK(EncodeIntentKeys({}).empty());
  back.clear();
  CHECK(DecodeIntentKeys("", &back));
  CHECK(back.empty());
  CHECK(EncodeIntentKeys({"ab", ""}) == "2:ab0:");
}

TEST_CASE("intent keys: anything but the one encoding is refused") {
  for (const std::string bad : {"5:ab",     // shorter than its length
                                "2ab",      // no ':'
                                ":ab",      // no length
                                "02:ab",    // a leading zero
                                "-1:a",     // not digits
                                "1x:a",     // not digits
                                "1234567890:a",  // more digits than any key needs
                                "2:ab3"}) {      // a second key cut short
    CAPTURE(bad);
    std::vector<std::string> keys;
    CHECK_FALSE(DecodeIntentKeys(bad, &keys));
  }
}
