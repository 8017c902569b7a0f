#include "connectors/ldap/ldap_range.h"
#include "core/text.h"

#include <charconv>

namespace scimsync {
namespace {

std::optional<std::uint64_t> ParseU64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<RangeAttr> ParseRangeAttr(std::string_view attr) {
  std::string base;
  std::optional<RangeAttr> found;
  std::size_t start = 0;
  bool first = true;
  while (start <= attr.size()) {
    std::size_t semi = attr.find(';', start);
    std::string_view part =
        attr.substr(start, semi == std::string_view::npos ? std::string_view::npos : semi - start);
    constexpr std::string_view kRange = "range=";
    if (!first && part.size() > kRange.size() && EqualsIgnoreCase(part.substr(0, kRange.size()), kRange)) {
      if (found) return std::nullopt;  // two range options
      std::string_view spec = part.substr(kRange.size());
      std::size_t dash = spec.find('-');
      if (dash == std::string_view::npos) return std::nullopt;
      auto low = ParseU64(spec.substr(0, dash));
      if (!low) return std::nullopt;
      RangeAttr r;
      r.low = *low;
      std::string_view hi = spec.substr(dash + 1);
      if (hi != "*") {
        auto high = ParseU64(hi);
        if (!high) return std::nullopt;
        r.high = *high;
      }
      found = r;
    } else {
      if (part.empty()) return std::nullopt;
      if (!first) base += ';';
      base += part;
    }
    first = false;
    if (semi == std::string_view::npos) break;
    start = semi + 1;
  }
  if (!found) return std::nullopt;
  found->base = std::move(base);
  return found;
}

Status RangeCursor::Add(const RangeAttr& got) {
  if (done_) {
    return Status(ErrorCode::kParse, "range retrieval of " + base_ + ": chunk after the last one");
  }
  if (got.low != next_low_) {
    return Status(ErrorCode::kParse, "range retrieval of " + base_ + ": expected a chunk from " +
                                         std::to_string(next_low_) + ", got one from " +
                                         std::to_string(got.low));
  }
  if (!got.high) {
    done_ = true;
    return Status::Ok();
  }
  if (*got.high < got.low) {
    return Status(ErrorCode::kParse, "range retrieval of " + base_ + ": empty range " +
                                         std::to_string(got.low) + "-" +
                                         std::to_string(*got.high));
  }
  next_low_ = *got.high + 1;
  return Status::Ok();
}

std::string RangeCursor::NextRequest() const {
  return base_ + ";range=" + std::to_string(next_low_) + "-*";
}

}  // namespace scimsync
