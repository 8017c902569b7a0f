#include "connectors/ldap/ldap_directory.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>

#include "connectors/ldap/group_flatten.h"
#include "connectors/ldap/ldap_dn.h"
#include "core/log.h"
#include "core/text.h"

namespace scimsync {
namespace {

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (s.empty()) return;
  for (const auto& e : v) {
    if (EqualsIgnoreCase(e, s)) return;
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

DirectoryBuilder::DirectoryBuilder(DirectoryBuildOptions o) : o_(std::move(o)) {}

Status DirectoryBuilder::AddUser(LdapEntry&& e) {
  if (o_.ad && IsDeletedEntry(e)) return Status::Ok();
  auto u = MapUserEntry(e, o_.mapping, o_.ad, o_.now);
  if (!u.ok()) return u.status();
  // Duplicates are found in Finish() by sorting: cheaper than two hash maps over
  // 100,000 users, and this runs while the server is sending.
  if (!o_.member_uid_attrs.empty()) user_uids_.push_back(FoldCase(Trim(e.First(o_.uid_attr))));
  if (!o_.member_of_attr.empty()) {
    std::vector<std::string> groups;
    if (auto* v = e.Find(o_.member_of_attr)) groups = std::move(*v);
    user_member_of_.push_back(std::move(groups));
  }
  user_dns_.push_back(std::move(e.dn));
  dir_.users.push_back(std::move(*u));
  return Status::Ok();
}

Status DirectoryBuilder::AddGroup(LdapEntry&& e) {
  if (o_.ad && IsDeletedEntry(e)) return Status::Ok();
  groups_.push_back(std::move(e));
  return Status::Ok();
}

Status DirectoryBuilder::CheckDuplicates() const {
  const auto& users = dir_.users;
  std::vector<std::uint32_t> order(users.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  // Stable: of several equal keys, the first two in server order are reported.
  std::stable_sort(order.begin(), order.end(),
                   [&](auto a, auto b) { return users[a].key < users[b].key; });
  std::optional<std::pair<std::uint32_t, std::uint32_t>> dup;
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (users[order[i]].key == users[order[i - 1]].key) {
      std::pair<std::uint32_t, std::uint32_t> d{order[i - 1], order[i]};
      if (!dup || d.second < dup->second) dup = d;
    }
  }
  if (dup) {
    return Status(ErrorCode::kInvalidArgument,
                  user_dns_[dup->second] + ": duplicate key " + o_.mapping.key_field + " \"" +
                      users[dup->second].key + "\" (also on " + user_dns_[dup->first] + ")");
  }
  std::vector<std::pair<std::string, std::uint32_t>> names;
  names.reserve(users.size());
  for (std::size_t i = 0; i < users.size(); ++i) {
    const std::string_view n = users[i].View(Attr::kUserName);
    if (!n.empty()) names.emplace_back(FoldCase(n), static_cast<std::uint32_t>(i));
  }
  std::sort(names.begin(), names.end());
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (names[i].first == names[i - 1].first) {
      std::pair<std::uint32_t, std::uint32_t> d{names[i - 1].second, names[i].second};
      if (!dup || d.second < dup->second) dup = d;
    }
  }
  if (dup) {
    return Status(ErrorCode::kInvalidArgument,
                  user_dns_[dup->second] + ": userName \"" +
                      users[dup->second].Get(Attr::kUserName) +
                      "\" equals (ignoring case) that of " + user_dns_[dup->first]);
  }
  return Status::Ok();
}

Result<Directory> DirectoryBuilder::Finish() {
  Directory& dir = dir_;
  if (Status s = CheckDuplicates(); !s.ok()) return s;
  // Groups: identity first, so nested members can be resolved in any order.
  std::unordered_map<std::string, std::size_t> group_by_dn;
  std::unordered_map<std::string, std::size_t> group_by_key;
  for (const LdapEntry& e : groups_) {
    Group g;
    g.key = std::string(Trim(e.First(o_.group_key_attr)));
    if (g.key.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    e.dn + ": missing key (" + o_.group_key_attr + ")");
    }
    g.display_name = std::string(Trim(e.First(o_.group_name_attr)));
    if (g.display_name.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    e.dn + ": missing group name (" + o_.group_name_attr + ")");
    }
    auto [it, fresh] = group_by_key.emplace(g.key, dir.groups.size());
    if (!fresh) {
      return Status(ErrorCode::kInvalidArgument,
                    e.dn + ": duplicate key " + o_.group_key_attr + " \"" + g.key +
                        "\" (also on " + groups_[it->second].dn + ")");
    }
    g.dn = e.dn;  // for [scope] groups named by DN (core/scope.h)
    group_by_dn[NormalizeDn(e.dn)] = dir.groups.size();
    dir.groups.push_back(std::move(g));
  }

  // User DNs are normalized only when some group names members by DN: a directory
  // with memberUid groups only, or none, skips 100,000 parses.
  std::unordered_map<std::string, std::size_t> user_by_dn;
  bool dn_members = false;
  for (const LdapEntry& e : groups_) {
    for (const auto& attr : o_.member_dn_attrs) dn_members = dn_members || e.Find(attr) != nullptr;
  }
  bool uid_members = false;
  for (const LdapEntry& e : groups_) {
    for (const auto& attr : o_.member_uid_attrs) uid_members = uid_members || e.Find(attr) != nullptr;
  }
  std::unordered_map<std::string, std::size_t> user_by_uid;
  if (uid_members) {
    user_by_uid.reserve(user_uids_.size());
    for (std::size_t i = 0; i < user_uids_.size(); ++i) {
      if (!user_uids_[i].empty()) user_by_uid.emplace(user_uids_[i], i);
    }
  }
  if (dn_members) {
    user_by_dn.reserve(user_dns_.size());
    for (std::size_t i = 0; i < user_dns_.size(); ++i) user_by_dn.emplace(NormalizeDn(user_dns_[i]), i);
  }

  std::vector<GroupEdges> edges(dir.groups.size());
  auto ignored = [](const Group& g, std::string_view why, std::string_view member) {
    LogDebug("ldap_member_ignored", {{"group", g.display_name},
                                     {"member", std::string(member)},
                                     {"reason", std::string(why)}});
  };
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    const LdapEntry& e = groups_[gi];
    for (const auto& attr : o_.member_dn_attrs) {
      const auto* vals = e.Find(attr);
      if (vals == nullptr) continue;
      for (const std::string& v : *vals) {
        std::string dn = NormalizeDn(StripOptionalUid(v));
        if (auto u = user_by_dn.find(dn); u != user_by_dn.end()) {
          edges[gi].users.push_back(dir.users[u->second].key);
        } else if (auto g = group_by_dn.find(dn); g != group_by_dn.end()) {
          if (o_.flatten_nested) {
            edges[gi].children.push_back(g->second);
          } else {
            ignored(dir.groups[gi], "nested group (flatten_nested is off)", v);
          }
        } else {
          ignored(dir.groups[gi], "not in the user search", v);
        }
      }
    }
    for (const auto& attr : o_.member_uid_attrs) {
      const auto* vals = e.Find(attr);
      if (vals == nullptr) continue;
      for (const std::string& v : *vals) {
        if (auto u = user_by_uid.find(FoldCase(Trim(v))); u != user_by_uid.end()) {
          edges[gi].users.push_back(dir.users[u->second].key);
        } else {
          ignored(dir.groups[gi], "no user with that uid", v);
        }
      }
    }
    if (o_.flatten_nested && !o_.member_of_attr.empty()) {
      if (const auto* vals = e.Find(o_.member_of_attr)) {
        for (const std::string& v : *vals) {
          if (auto p = group_by_dn.find(NormalizeDn(v)); p != group_by_dn.end()) {
            edges[p->second].children.push_back(gi);
          }
        }
      }
    }
  }
  for (std::size_t ui = 0; ui < user_member_of_.size(); ++ui) {
    for (const std::string& v : user_member_of_[ui]) {
      if (auto g = group_by_dn.find(NormalizeDn(v)); g != group_by_dn.end()) {
        edges[g->second].users.push_back(dir.users[ui].key);
      } else {
        LogDebug("ldap_member_ignored", {{"user", user_dns_[ui]},
                                         {"group", v},
                                         {"reason", "group not in the group search"}});
      }
    }
  }

  FlattenResult flat = FlattenGroups(edges);
  for (const auto& [from, to] : flat.cycle_edges) {
    LogWarn("ldap_group_cycle", {{"group", groups_[from].dn},
                                 {"member_group", groups_[to].dn}});
  }
  for (std::size_t gi = 0; gi < dir.groups.size(); ++gi) {
    dir.groups[gi].members = std::move(flat.members[gi]);
  }
  Canonicalize(dir);
  return std::move(dir_);
}

Result<Directory> BuildDirectory(const std::vector<LdapEntry>& users,
                                 const std::vector<LdapEntry>& groups,
                                 const DirectoryBuildOptions& o) {
  DirectoryBuilder b(o);
  for (const LdapEntry& e : users) {
    Status s = b.AddUser(LdapEntry(e));
    if (!s.ok()) return s;
  }
  for (const LdapEntry& e : groups) {
    Status s = b.AddGroup(LdapEntry(e));
    if (!s.ok()) return s;
  }
  return b.Finish();
}

}  // namespace scimsync
