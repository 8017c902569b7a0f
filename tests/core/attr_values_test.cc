#include "core/attr_values.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/model.h"

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

TEST_CASE("PackedValues: copies share one block until one of them is Set") {
  Three a;
  a.Assign({"x", "y", "z"});
  Three b = a;
  CHECK(b.SharesStorageWith(a));
  const std::string_view before = a.View(1);
  b.Set(1, "changed");  // copy on write: a and views into it are untouched
  CHECK_FALSE(b.SharesStorageWith(a));
  CHECK(before == "y");
  CHECK(a.View(1) == "y");
  CHECK(b.View(1) == "changed");
  // Equal values in separate blocks (different reference counts) are equal.
  Three c;
  c.Assign({"x", "y", "z"});
  CHECK_FALSE(c.SharesStorageWith(a));
  CHECK(c == a);
  Three shared = c;
  CHECK(c == a);  // the counts differ now (2 vs 1): still equal
  // An all-empty row holds no block, so it shares nothing.
  CHECK_FALSE(Three{}.SharesStorageWith(Three{}));
  // Assigning a row to itself or to a sharer keeps the block alive.
  c = shared;
  const Three& same_row = c;
  c = same_row;
  CHECK(c.View(2) == "z");
}

TEST_CASE("PackedValues: a shared block outlives the row that built it, across threads") {
  std::vector<Three> copies;
  {
    Three origin;
    origin.Assign({"alpha", "beta", "gamma"});
    copies.assign(64, origin);
  }
  std::vector<std::thread> threads;
  std::vector<int> read(4, 0);  // values read back intact, per thread
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < copies.size(); i += 4) {
        Three local = copies[i];
        copies[i] = Three{};
        if (local.View(2) == "gamma") ++read[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(read == std::vector<int>{16, 16, 16, 16});
}

// A view of a temporary row would dangle at the end of the statement: no View, no
// iteration on an rvalue (the owned copies, values[i] and Get, stay available).
// (Concepts: a requires-expression outside a template may not test for ill-formed.)
template <typename T>
concept ViewsRvalue = requires(T&& t) { std::move(t).View(0); };
template <typename T>
concept IteratesRvalue = requires(T&& t) { std::move(t).begin(); };
template <typename T>
concept UserViewsRvalue = requires(T&& u) { std::move(u).View(Attr::kUserName); };
template <typename T>
concept AssignsThroughIndex = requires(T& t) { t[0] = "x"; };
static_assert(!ViewsRvalue<Three>);
static_assert(!ViewsRvalue<const Three>);
static_assert(!IteratesRvalue<Three>);
static_assert(requires(Three&& t) { std::move(t)[0]; });
static_assert(requires(Three& t) { t.View(0); });
static_assert(!UserViewsRvalue<User>);
static_assert(requires(User&& u) { std::move(u).Get(Attr::kUserName); });
// Assigning through operator[] would write a temporary: does not compile.
static_assert(!AssignsThroughIndex<Three>);

TEST_CASE("User: Get is an owned copy that outlives its row") {
  auto name_of = [] {
    User u;
    u.Set(Attr::kUserName, "a-name-longer-than-the-small-string-buffer@example.com");
    return u.Get(Attr::kUserName);  // a string_view here would dangle
  };
  CHECK(name_of() == "a-name-longer-than-the-small-string-buffer@example.com");
}

}  // namespace
}  // namespace scimsync
