#include "connectors/ldap/group_flatten.h"

#include <algorithm>
#include <set>

namespace scimsync {

FlattenResult FlattenGroups(const std::vector<GroupEdges>& groups) {
  const std::size_t n = groups.size();
  FlattenResult out;
  out.members.resize(n);
  std::set<std::pair<std::size_t, std::size_t>> cycles;
  // Iterative depth-first walk from each root; on_path marks the current chain so a
  // back edge (a cycle) is told apart from a diamond (two paths to one group).
  std::vector<char> visited(n), on_path(n);
  struct Frame {
    std::size_t group;
    std::size_t next_child;
  };
  for (std::size_t root = 0; root < n; ++root) {
    std::fill(visited.begin(), visited.end(), 0);
    std::vector<std::string>& acc = out.members[root];
    std::vector<Frame> stack{{root, 0}};
    visited[root] = on_path[root] = 1;
    acc.insert(acc.end(), groups[root].users.begin(), groups[root].users.end());
    while (!stack.empty()) {
      Frame& f = stack.back();
      const auto& kids = groups[f.group].children;
      if (f.next_child == kids.size()) {
        on_path[f.group] = 0;
        stack.pop_back();
        continue;
      }
      std::size_t child = kids[f.next_child++];
      if (child >= n) continue;
      if (on_path[child]) {
        cycles.insert({f.group, child});
        continue;
      }
      if (visited[child]) continue;
      visited[child] = on_path[child] = 1;
      acc.insert(acc.end(), groups[child].users.begin(), groups[child].users.end());
      stack.push_back({child, 0});
    }
    std::sort(acc.begin(), acc.end());
    acc.erase(std::unique(acc.begin(), acc.end()), acc.end());
  }
  out.cycle_edges.assign(cycles.begin(), cycles.end());
  return out;
}

}  // namespace scimsync
