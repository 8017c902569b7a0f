#include "connectors/ldap/ldap_range.h"

#include <doctest/doctest.h>

namespace scimsync {
namespace {

TEST_CASE("ParseRangeAttr") {
  auto r = ParseRangeAttr("member;range=0-1499");
  REQUIRE(r.has_value());
  CHECK(r->base == "member");
  CHECK(r->low == 0);
  CHECK(r->high == std::optional<std::uint64_t>(1499));

  r = ParseRangeAttr("Member;Range=1500-*");
  REQUIRE(r.has_value());
  CHECK(r->base == "Member");
  CHECK(r->low == 1500);
  CHECK_FALSE(r->high.has_value());

  r = ParseRangeAttr("member;binary;range=3-9");
  REQUIRE(r.has_value());
  CHECK(r->base == "member;binary");

  CHECK_FALSE(ParseRangeAttr("member").has_value());
  CHECK_FALSE(ParseRangeAttr("member;binary").has_value());
  CHECK_FALSE(ParseRangeAttr("member;range=").has_value());
  CHECK_FALSE(ParseRangeAttr("member;range=a-9").has_value());
  CHECK_FALSE(ParseRangeAttr("member;range=0-x").has_value());
  CHECK_FALSE(ParseRangeAttr("member;range=0-1;range=2-3").has_value());
  CHECK_FALSE(ParseRangeAttr("range=0-1").has_value());
}

TEST_CASE("RangeCursor: a 3,200-value member read in three chunks") {
  RangeCursor c("member");
  REQUIRE(c.Add(*ParseRangeAttr("member;range=0-1499")).ok());
  CHECK_FALSE(c.done());
  CHECK(c.NextRequest() == "member;range=1500-*");
  REQUIRE(c.Add(*ParseRangeAttr("member;range=1500-2999")).ok());
  CHECK(c.NextRequest() == "member;range=3000-*");
  REQUIRE(c.Add(*ParseRangeAttr("member;range=3000-*")).ok());
  CHECK(c.done());
}

TEST_CASE("RangeCursor: gaps, overlaps and chunks after the last fail") {
  RangeCursor c("member");
  REQUIRE(c.Add(*ParseRangeAttr("member;range=0-1499")).ok());
  Status gap = c.Add(*ParseRangeAttr("member;range=1600-*"));
  CHECK(gap.code() == ErrorCode::kParse);
  CHECK(gap.message() == "range retrieval of member: expected a chunk from 1500, got one from 1600");

  RangeCursor d("member");
  REQUIRE(d.Add(*ParseRangeAttr("member;range=0-*")).ok());
  CHECK(d.done());
  CHECK(d.Add(*ParseRangeAttr("member;range=0-*")).message() ==
        "range retrieval of member: chunk after the last one");

  RangeCursor e("member");
  REQUIRE(e.Add(*ParseRangeAttr("member;range=0-1499")).ok());
  CHECK_FALSE(e.Add(*ParseRangeAttr("member;range=1500-1400")).ok());
}

}  // namespace
}  // namespace scimsync
