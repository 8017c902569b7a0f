#include "connectors/ldap/ldap_directory.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "connectors/ldap/group_flatten.h"
#include "connectors/ldap/ldap_dn.h"
#include "core/log.h"

namespace scimsync {
namespace {

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (s.empty()) return;
  for (const auto& e : v) {
    if (AttrNameEquals(e, s)) return;
  }
  v.push_back(s);
}

// uniqueMember uses the nameAndOptionalUID syntax: "<dn>#'<bits>'B".
std::string_view StripOptionalUid(std::string_view v) {
  if (v.size() >= 4 && v.back() == 'B' && v[v.size() - 2] == '\'') {
    std::size_t hash = v.rfind("#'");
    if (hash != std::string_view::npos) {
      std::string_view bits = v.substr(hash + 2, v.size() - hash - 4);
      if (std::all_of(bits.begin(), bits.end(), [](char c) { return c == '0' || c == '1'; })) {
        return v.substr(0, hash);
      }
    }
  }
  return v;
}

}  // namespace

std::vector<std::string> UserSearchAttrs(const DirectoryBuildOptions& o) {
  std::vector<std::string> a;
  AddUnique(a, o.mapping.key_field);
  for (const auto& m : o.mapping.attrs) {
    if (m.constant.empty()) AddUnique(a, m.field);
  }
  if (!o.member_uid_attrs.empty()) AddUnique(a, o.uid_attr);
  AddUnique(a, o.member_of_attr);
  if (o.ad) {
    AddUnique(a, "mail");  // userPrincipalName fallback
    AddUnique(a, "userAccountControl");
    AddUnique(a, "accountExpires");
    AddUnique(a, "isDeleted");
  }
  return a;
}

std::vector<std::string> GroupSearchAttrs(const DirectoryBuildOptions& o) {
  std::vector<std::string> a;
  AddUnique(a, o.group_key_attr);
  AddUnique(a, o.group_name_attr);
  for (const auto& m : o.member_dn_attrs) AddUnique(a, m);
  for (const auto& m : o.member_uid_attrs) AddUnique(a, m);
  if (o.flatten_nested) AddUnique(a, o.member_of_attr);
  if (o.ad) AddUnique(a, "isDeleted");
  return a;
}

Result<Directory> BuildDirectory(const std::vector<LdapEntry>& users,
                                 const std::vector<LdapEntry>& groups,
                                 const DirectoryBuildOptions& o) {
  Directory dir;
  dir.users.reserve(users.size());
  std::unordered_map<std::string, std::size_t> user_by_key;   // key -> index in users
  std::unordered_map<std::string, std::size_t> user_by_name;  // folded userName -> index
  std::unordered_map<std::string, std::string> user_by_dn;    // normalized DN -> key
  std::unordered_map<std::string, std::string> user_by_uid;   // folded uid -> key
  std::vector<const LdapEntry*> user_entries;
  for (const LdapEntry& e : users) {
    if (o.ad && IsDeletedEntry(e)) continue;
    auto u = MapUserEntry(e, o.mapping, o.ad, o.now);
    if (!u.ok()) return u.status();
    auto [it, fresh] = user_by_key.emplace(u->key, user_entries.size());
    if (!fresh) {
      return Status(ErrorCode::kInvalidArgument,
                    e.dn + ": duplicate key " + o.mapping.key_field + " \"" + u->key +
                        "\" (also on " + user_entries[it->second]->dn + ")");
    }
    if (const std::string& name = u->Get(Attr::kUserName); !name.empty()) {
      auto [nit, nfresh] = user_by_name.emplace(FoldCase(name), user_entries.size());
      if (!nfresh) {
        return Status(ErrorCode::kInvalidArgument,
                      e.dn + ": userName \"" + name + "\" equals (ignoring case) that of " +
                          user_entries[nit->second]->dn);
      }
    }
    user_by_dn[NormalizeDn(e.dn)] = u->key;
    if (!o.member_uid_attrs.empty()) {
      std::string uid(Trim(e.First(o.uid_attr)));
      if (!uid.empty()) user_by_uid.emplace(FoldCase(uid), u->key);
    }
    user_entries.push_back(&e);
    dir.users.push_back(std::move(*u));
  }

  // Groups: identity first, so nested members can be resolved in any order.
  std::vector<const LdapEntry*> group_entries;
  std::unordered_map<std::string, std::size_t> group_by_dn;
  std::unordered_map<std::string, std::size_t> group_by_key;
  for (const LdapEntry& e : groups) {
    if (o.ad && IsDeletedEntry(e)) continue;
    Group g;
    g.key = std::string(Trim(e.First(o.group_key_attr)));
    if (g.key.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    e.dn + ": missing key (" + o.group_key_attr + ")");
    }
    g.display_name = std::string(Trim(e.First(o.group_name_attr)));
    if (g.display_name.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    e.dn + ": missing group name (" + o.group_name_attr + ")");
    }
    auto [it, fresh] = group_by_key.emplace(g.key, group_entries.size());
    if (!fresh) {
      return Status(ErrorCode::kInvalidArgument,
                    e.dn + ": duplicate key " + o.group_key_attr + " \"" + g.key +
                        "\" (also on " + group_entries[it->second]->dn + ")");
    }
    group_by_dn[NormalizeDn(e.dn)] = group_entries.size();
    group_entries.push_back(&e);
    dir.groups.push_back(std::move(g));
  }

  std::vector<GroupEdges> edges(dir.groups.size());
  auto ignored = [](const Group& g, std::string_view why, std::string_view member) {
    LogDebug("ldap_member_ignored", {{"group", g.display_name},
                                     {"member", std::string(member)},
                                     {"reason", std::string(why)}});
  };
  for (std::size_t gi = 0; gi < group_entries.size(); ++gi) {
    const LdapEntry& e = *group_entries[gi];
    for (const auto& attr : o.member_dn_attrs) {
      const auto* vals = e.Find(attr);
      if (vals == nullptr) continue;
      for (const std::string& v : *vals) {
        std::string dn = NormalizeDn(StripOptionalUid(v));
        if (auto u = user_by_dn.find(dn); u != user_by_dn.end()) {
          edges[gi].users.push_back(u->second);
        } else if (auto g = group_by_dn.find(dn); g != group_by_dn.end()) {
          if (o.flatten_nested) {
            edges[gi].children.push_back(g->second);
          } else {
            ignored(dir.groups[gi], "nested group (flatten_nested is off)", v);
          }
        } else {
          ignored(dir.groups[gi], "not in the user search", v);
        }
      }
    }
    for (const auto& attr : o.member_uid_attrs) {
      const auto* vals = e.Find(attr);
      if (vals == nullptr) continue;
      for (const std::string& v : *vals) {
        if (auto u = user_by_uid.find(FoldCase(Trim(v))); u != user_by_uid.end()) {
          edges[gi].users.push_back(u->second);
        } else {
          ignored(dir.groups[gi], "no user with that uid", v);
        }
      }
    }
    if (o.flatten_nested && !o.member_of_attr.empty()) {
      if (const auto* vals = e.Find(o.member_of_attr)) {
        for (const std::string& v : *vals) {
          if (auto p = group_by_dn.find(NormalizeDn(v)); p != group_by_dn.end()) {
            edges[p->second].children.push_back(gi);
          }
        }
      }
    }
  }
  if (!o.member_of_attr.empty()) {
    for (std::size_t ui = 0; ui < user_entries.size(); ++ui) {
      const auto* vals = user_entries[ui]->Find(o.member_of_attr);
      if (vals == nullptr) continue;
      for (const std::string& v : *vals) {
        if (auto g = group_by_dn.find(NormalizeDn(v)); g != group_by_dn.end()) {
          edges[g->second].users.push_back(dir.users[ui].key);
        } else {
          LogDebug("ldap_member_ignored", {{"user", user_entries[ui]->dn},
                                           {"group", v},
                                           {"reason", "group not in the group search"}});
        }
      }
    }
  }

  FlattenResult flat = FlattenGroups(edges);
  for (const auto& [from, to] : flat.cycle_edges) {
    LogWarn("ldap_group_cycle", {{"group", group_entries[from]->dn},
                                 {"member_group", group_entries[to]->dn}});
  }
  for (std::size_t gi = 0; gi < dir.groups.size(); ++gi) {
    dir.groups[gi].members = std::move(flat.members[gi]);
  }
  Canonicalize(dir);
  return dir;
}

}  // namespace scimsync
