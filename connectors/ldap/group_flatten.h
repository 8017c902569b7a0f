// Nested-group flattening (pure, no libldap).
//
// Each group has direct user members and direct child groups (indices into the same
// vector). The flattened members of a group are its own users plus, recursively, the
// users of every group reachable through child edges. Cycles (a -> b -> a, or a
// group containing itself) are detected with a per-walk visited set, so each group is
// expanded at most once per root and a cycle ends the walk instead of recursing
// forever; each back edge found is reported once.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace scimsync {

struct GroupEdges {
  std::vector<std::string> users;       // direct member user keys
  std::vector<std::size_t> children;    // direct member groups
};

struct FlattenResult {
  std::vector<std::vector<std::string>> members;          // per group: sorted, unique
  std::vector<std::pair<std::size_t, std::size_t>> cycle_edges;  // (from, to), sorted, unique
};

FlattenResult FlattenGroups(const std::vector<GroupEdges>& groups);

}  // namespace scimsync
