#include "connectors/ldap/ad_values.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace scimsync {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

SysTime Utc(long long unix_seconds) {
  return SysTime(std::chrono::seconds(unix_seconds));
}

TEST_CASE("RenderGuid: mixed-endian standard form") {
  // .NET documents Guid("35918bc9-196d-40ea-9779-889d79b753f0").ToByteArray() as these bytes,
  // which is also how AD stores objectGUID.
  std::string raw = Bytes({0xc9, 0x8b, 0x91, 0x35, 0x6d, 0x19, 0xea, 0x40, 0x97, 0x79, 0x88,
                           0x9d, 0x79, 0xb7, 0x53, 0xf0});
  CHECK(RenderGuid(raw) == std::optional<std::string>("35918bc9-196d-40ea-9779-889d79b753f0"));
  CHECK(RenderGuid(std::string(16, '\0')) ==
        std::optional<std::string>("00000000-0000-0000-0000-000000000000"));
  CHECK_FALSE(RenderGuid("short").has_value());
  CHECK_FALSE(RenderGuid(std::string(17, 'x')).has_value());
}

TEST_CASE("UacAccountDisabled: bit 0x2") {
  CHECK(UacAccountDisabled("512") == std::optional<bool>(false));    // NORMAL_ACCOUNT
  CHECK(UacAccountDisabled("514") == std::optional<bool>(true));     // + ACCOUNTDISABLE
  CHECK(UacAccountDisabled("66050") == std::optional<bool>(true));   // + DONT_EXPIRE_PASSWD
  CHECK(UacAccountDisabled("66048") == std::optional<bool>(false));
  CHECK(UacAccountDisabled(" 2 ") == std::optional<bool>(true));
  CHECK(UacAccountDisabled("-2147483646") == std::optional<bool>(true));  // 0x80000002 signed
  CHECK_FALSE(UacAccountDisabled("").has_value());
  CHECK_FALSE(UacAccountDisabled("disabled").has_value());
  CHECK_FALSE(UacAccountDisabled("99999999999").has_value());
}

TEST_CASE("AccountExpired: FILETIME ticks, 0 and max mean never") {
  // 2000-01-01T00:00:00Z = unix 946684800 = 125911584000000000 ticks since 1601.
  const char* y2k = "125911584000000000";
  SysTime before = Utc(946684799), at = Utc(946684800), after = Utc(1700000000);
  CHECK(AccountExpired(y2k, before) == std::optional<bool>(false));
  CHECK(AccountExpired(y2k, at) == std::optional<bool>(true));
  CHECK(AccountExpired(y2k, after) == std::optional<bool>(true));
  CHECK(AccountExpired("0", after) == std::optional<bool>(false));
  CHECK(AccountExpired("9223372036854775807", after) == std::optional<bool>(false));
  // Far future (year 30828 is the largest FILETIME AD writes): not expired, no overflow.
  CHECK(AccountExpired("9223372036854775806", after) == std::optional<bool>(false));
  CHECK_FALSE(AccountExpired("never", after).has_value());
  CHECK_FALSE(AccountExpired("-5", after).has_value());
}

}  // namespace
}  // namespace scimsync
