#include "core/roles.h"

#include <algorithm>
#include <unordered_set>

#include "core/text.h"

namespace scimsync {
namespace {

std::unordered_set<std::string> Folded(const std::vector<std::string>& roles) {
  std::unordered_set<std::string> out;
  for (const auto& r : roles) out.insert(FoldCase(r));
  return out;
}

}  // namespace

void ApplyRoles(const std::vector<std::string>& roles, std::string_view prefix, Directory& dir) {
  if (roles.empty() || prefix.empty()) return;
  const std::unordered_set<std::string> names = Folded(roles);
  for (Group& g : dir.groups) {
    if (names.count(FoldCase(g.display_name))) g.display_name.insert(0, prefix);
  }
}

std::vector<std::string> RolesByName(const std::vector<std::string>& roles,
                                     std::string_view prefix, const Directory& dir) {
  std::vector<std::string> out;
  if (prefix.empty()) return out;
  const std::unordered_set<std::string> names = Folded(roles);
  for (const Group& g : dir.groups) {
    if (!g.display_name.starts_with(prefix)) continue;
    std::string_view rest = std::string_view(g.display_name).substr(prefix.size());
    if (!names.count(FoldCase(rest))) out.push_back(g.display_name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace scimsync
