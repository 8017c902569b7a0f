#include "core/attr_values.h"

#include <doctest/doctest.h>

#include <string>

namespace scimsync {
namespace {

using Three = PackedValues<3>;

TEST_CASE("PackedValues: empty by default, Set and read back each value") {
  Three v;
  for (std::size_t i = 0; i < 3; ++i) CHECK(v[i].empty());
  v.Set(1, "middle");
  CHECK(v[0].empty());
  CHECK(v[1] == "middle");
  CHECK(v[2].empty());
  v.Set(0, "first");
  v.Set(2, std::string("with\0nul", 8));
  CHECK(v[0] == "first");
  CHECK(v[1] == "middle");
  CHECK(v[2] == std::string_view("with\0nul", 8));
  v.Set(1, "");  // shrinking a value keeps its neighbours
  CHECK(v[0] == "first");
  CHECK(v[1].empty());
  CHECK(v[2].size() == 8);
  // A value set from the row itself (the old block is read before it is replaced).
  v.Set(1, v[0]);
  CHECK(v[1] == "first");
  v.Set(0, "");
  v.Set(1, "");
  v.Set(2, "");
  CHECK(v == Three{});
}

TEST_CASE("PackedValues: Assign, copies, equality and iteration") {
  Three a;
  a.Assign({"x", "", "zz"});
  Three b = a;
  CHECK(a == b);
  b.Set(1, "y");
  CHECK_FALSE(a == b);
  CHECK(a[1].empty());
  // Same bytes, different boundaries: not equal.
  Three c, d;
  c.Assign({"ab", "c", ""});
  d.Assign({"a", "bc", ""});
  CHECK_FALSE(c == d);
  std::string joined;
  for (std::string_view s : b) joined += std::string(s) + "|";
  CHECK(joined == "x|y|zz|");
  Three moved = std::move(b);
  CHECK(moved[2] == "zz");
  a = moved;
  CHECK(a == moved);
  a.Assign({"", "", ""});
  CHECK(a == Three{});
}

}  // namespace
}  // namespace scimsync
