#include "connectors/ldap/group_flatten.h"

#include <doctest/doctest.h>

namespace scimsync {
namespace {

using Members = std::vector<std::string>;

TEST_CASE("FlattenGroups: a chain a > b > c collects every level") {
  std::vector<GroupEdges> g(3);
  g[0] = {{"u1"}, {1}};
  g[1] = {{"u2"}, {2}};
  g[2] = {{"u3", "u1"}, {}};
  FlattenResult r = FlattenGroups(g);
  CHECK(r.members[0] == Members{"u1", "u2", "u3"});
  CHECK(r.members[1] == Members{"u1", "u2", "u3"});
  CHECK(r.members[2] == Members{"u1", "u3"});
  CHECK(r.cycle_edges.empty());
}

TEST_CASE("FlattenGroups: a cycle ends the walk and is reported once") {
  std::vector<GroupEdges> g(3);
  g[0] = {{"a"}, {1}};
  g[1] = {{"b"}, {2}};
  g[2] = {{"c"}, {0}};  // c contains a: a > b > c > a
  FlattenResult r = FlattenGroups(g);
  CHECK(r.members[0] == Members{"a", "b", "c"});
  CHECK(r.members[1] == Members{"a", "b", "c"});
  CHECK(r.members[2] == Members{"a", "b", "c"});
  // Each root meets the back edge of the cycle at a different place.
  CHECK(r.cycle_edges == std::vector<std::pair<std::size_t, std::size_t>>{{0, 1}, {1, 2}, {2, 0}});
}

TEST_CASE("FlattenGroups: self-membership and diamonds") {
  std::vector<GroupEdges> g(4);
  g[0] = {{}, {0, 1, 2}};  // contains itself, and b and c
  g[1] = {{"b"}, {3}};
  g[2] = {{"c"}, {3}};     // d reachable twice: a diamond, not a cycle
  g[3] = {{"d", "d"}, {}};
  FlattenResult r = FlattenGroups(g);
  CHECK(r.members[0] == Members{"b", "c", "d"});
  CHECK(r.members[3] == Members{"d"});
  CHECK(r.cycle_edges == std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}});
}

TEST_CASE("FlattenGroups: a deep chain does not recurse on the call stack") {
  const std::size_t n = 3000;
  std::vector<GroupEdges> g(n);
  for (std::size_t i = 0; i + 1 < n; ++i) g[i].children = {i + 1};
  g[n - 1].users = {"last"};
  FlattenResult r = FlattenGroups(g);
  CHECK(r.members[0] == Members{"last"});
  CHECK(r.members[n - 2] == Members{"last"});
}

}  // namespace
}  // namespace scimsync
