#include "connectors/ldap/ad_values.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include "core/model.h"

namespace scimsync {
namespace {

template <typename Int>
std::optional<Int> ParseInt(std::string_view s) {
  s = Trim(s);
  Int v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// 100 ns ticks between 1601-01-01 and 1970-01-01.
constexpr std::int64_t kEpochDeltaTicks = 116444736000000000LL;

}  // namespace

std::optional<std::string> RenderGuid(std::string_view b) {
  if (b.size() != 16) return std::nullopt;
  static const int kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    unsigned char c = static_cast<unsigned char>(b[kOrder[i]]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<bool> UacAccountDisabled(std::string_view value) {
  auto v = ParseInt<std::int64_t>(value);
  if (!v || *v < std::numeric_limits<std::int32_t>::min() ||
      *v > std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  return (static_cast<std::uint32_t>(*v) & 0x2u) != 0;
}

std::optional<bool> AccountExpired(std::string_view value, SysTime now) {
  auto v = ParseInt<std::int64_t>(value);
  if (!v) return std::nullopt;
  if (*v == 0 || *v == std::numeric_limits<std::int64_t>::max()) return false;
  if (*v < 0) return std::nullopt;
  // Compare in ticks to avoid overflowing system_clock's range for far-future dates.
  auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(
                         now.time_since_epoch())
                         .count();
  std::int64_t now_ticks = since_epoch * 10 + kEpochDeltaTicks;
  return *v <= now_ticks;
}

}  // namespace scimsync
