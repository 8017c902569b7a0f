#include "core/scope.h"

#include <algorithm>
#include <utility>

#include "core/text.h"

namespace scimsync {
namespace {

std::string DnForm(std::string_view dn, DnKey dn_key) {
  return dn_key != nullptr ? dn_key(dn) : FoldCase(dn);
}

// Index of the user with `key` in the sorted users, or users.size().
std::size_t FindUser(const std::vector<User>& users, std::string_view key) {
  auto it = std::lower_bound(users.begin(), users.end(), key,
                             [](const User& u, std::string_view k) { return u.key < k; });
  return it != users.end() && it->key == key ? static_cast<std::size_t>(it - users.begin())
                                             : users.size();
}

}  // namespace

ScopeResult ApplyScope(Directory dir, const Scope& scope, DnKey dn_key) {
  ScopeResult r;
  if (scope.Everything()) {
    r.dir = std::move(dir);
    return r;
  }

  // Which groups the scope names. DNs are only worked out when a name could be one
  // (it holds '='; a display name rarely does), so a CSV source pays nothing.
  std::vector<bool> keep(dir.users.size(), scope.groups.empty());
  if (!scope.groups.empty()) {
    bool any_dn = std::any_of(scope.groups.begin(), scope.groups.end(),
                              [](const std::string& n) { return n.find('=') != std::string::npos; });
    std::vector<std::string> group_dns;
    if (any_dn) {
      group_dns.reserve(dir.groups.size());
      for (const Group& g : dir.groups) group_dns.push_back(g.dn.empty() ? "" : DnForm(g.dn, dn_key));
    }
    std::vector<bool> scope_group(dir.groups.size(), false);
    for (const std::string& name : scope.groups) {
      std::string dn = any_dn && name.find('=') != std::string::npos ? DnForm(name, dn_key) : "";
      bool found = false;
      for (std::size_t i = 0; i < dir.groups.size(); ++i) {
        bool hit = EqualsIgnoreCase(dir.groups[i].display_name, name) ||
                   (!dn.empty() && !group_dns[i].empty() && group_dns[i] == dn);
        if (hit) scope_group[i] = found = true;
      }
      if (!found) r.missing.push_back(name);
    }
    for (std::size_t i = 0; i < dir.groups.size(); ++i) {
      if (!scope_group[i]) continue;
      for (const std::string& m : dir.groups[i].members) {
        std::size_t u = FindUser(dir.users, m);
        if (u < keep.size()) keep[u] = true;
      }
    }
  }

  // Groups: the patterns choose; a pushed group keeps its in-scope members only.
  // Filtered while the whole user list is still there to look members up in.
  std::vector<Group> groups;
  groups.reserve(dir.groups.size());
  for (Group& g : dir.groups) {
    bool pushed = (scope.include_groups.empty() || MatchesAny(scope.include_groups, g.display_name)) &&
                  !MatchesAny(scope.exclude_groups, g.display_name);
    if (!pushed) {
      ++r.groups_out;
      continue;
    }
    if (!scope.groups.empty()) {
      std::erase_if(g.members, [&](const std::string& m) {
        std::size_t u = FindUser(dir.users, m);
        return u == keep.size() || !keep[u];
      });
    }
    groups.push_back(std::move(g));
  }

  r.dir.groups = std::move(groups);
  if (scope.groups.empty()) {
    r.dir.users = std::move(dir.users);
    return r;
  }
  std::vector<User>& users = r.dir.users;
  users.reserve(dir.users.size());
  for (std::size_t i = 0; i < dir.users.size(); ++i) {
    if (keep[i]) {
      users.push_back(std::move(dir.users[i]));
    } else {
      ++r.users_out;
    }
  }
  return r;
}

}  // namespace scimsync
