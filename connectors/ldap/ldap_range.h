// Bookkeeping for Active Directory range retrieval of large multi-valued attributes
// (pure functions, no libldap).
//
// AD returns at most MaxValRange (1500 by default) values of an attribute such as
// `member` per request. Instead of `member` the entry then carries
// `member;range=0-1499`; the client asks for `member;range=1500-*` next, and so on,
// until the server answers with a range ending in `*` (the last chunk). A chunk
// whose start is not where the previous one ended means values would be lost, so it
// is an error (the whole read fails).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace scimsync {

struct RangeAttr {
  std::string base;                   // "member"
  std::uint64_t low = 0;
  std::optional<std::uint64_t> high;  // nullopt: "*", the last chunk
};

// Parses an attribute description with a range option, case-insensitively
// ("member;range=0-1499", "Member;Range=1500-*"); nullopt if it has none or it is
// malformed. Other options are kept in `base` ("member;binary;range=0-9" ->
// "member;binary").
std::optional<RangeAttr> ParseRangeAttr(std::string_view attr);

// Tracks one attribute's retrieval across requests.
class RangeCursor {
 public:
  explicit RangeCursor(std::string base) : base_(std::move(base)) {}
  // Records a received chunk; fails if it does not start where the last one ended,
  // or ends before it starts.
  Status Add(const RangeAttr& got);
  bool done() const { return done_; }
  // The attribute to request next: "member;range=1500-*".
  std::string NextRequest() const;

 private:
  std::string base_;
  std::uint64_t next_low_ = 0;
  bool done_ = false;
};

}  // namespace scimsync
