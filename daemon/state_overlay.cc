#include "daemon/state_overlay.h"

#include <algorithm>

namespace scimsync {

StateOverlay::StateOverlay(StateStore& store, const KnownState& known,
                           std::function<void(const Status&)> on_error)
    : store_(store), known_(known), on_error_(std::move(on_error)) {}

void StateOverlay::Check(const Status& s) {
  if (!s.ok() && on_error_) on_error_(s);
}

const KnownUser* StateOverlay::FindUserLocked(const std::string& key) const {
  auto o = users_.find(key);
  if (o != users_.end()) return &o->second;
  auto it = std::lower_bound(known_.users.begin(), known_.users.end(), key,
                             [](const KnownUser& u, const std::string& k) { return u.key < k; });
  if (it != known_.users.end() && it->key == key) return &*it;
  return nullptr;
}

std::optional<KnownGroup> StateOverlay::FindGroupLocked(const std::string& key) const {
  auto o = groups_.find(key);
  if (o != groups_.end()) return o->second;
  auto it = std::lower_bound(known_.groups.begin(), known_.groups.end(), key,
                             [](const KnownGroup& g, const std::string& k) { return g.key < k; });
  if (it != known_.groups.end() && it->key == key) return *it;
  return std::nullopt;
}

KnownUser StateOverlay::User(const std::string& key) const {
  std::lock_guard lock(mu_);
  if (const KnownUser* u = FindUserLocked(key)) return *u;
  KnownUser u;
  u.key = key;
  return u;
}

bool StateOverlay::HasUser(const std::string& key) const {
  std::lock_guard lock(mu_);
  return FindUserLocked(key) != nullptr;
}

std::optional<KnownUser> StateOverlay::FindUser(const std::string& key) const {
  std::lock_guard lock(mu_);
  if (const KnownUser* u = FindUserLocked(key)) return *u;
  return std::nullopt;
}

KnownGroup StateOverlay::Group(const std::string& key) const {
  std::lock_guard lock(mu_);
  if (auto g = FindGroupLocked(key)) return *g;
  KnownGroup g;
  g.key = key;
  return g;
}

std::string StateOverlay::LiveUserId(const std::string& key) const {
  std::lock_guard lock(mu_);
  const KnownUser* u = FindUserLocked(key);
  if (!u || u->uncertain || u->status == ObjectStatus::kDeleted) return {};
  return u->target_id;
}

std::vector<std::string> StateOverlay::UserKeys(const std::vector<std::string>& ids) {
  std::lock_guard lock(mu_);
  if (!id_index_built_) {
    for (const auto& u : known_.users) {
      if (!u.target_id.empty() && !users_.count(u.key)) user_key_by_id_[u.target_id] = u.key;
    }
    for (const auto& [k, u] : users_) {
      if (!u.target_id.empty()) user_key_by_id_[u.target_id] = k;
    }
    id_index_built_ = true;
  }
  std::vector<std::string> keys;
  for (const auto& id : ids) {
    auto it = user_key_by_id_.find(id);
    if (it != user_key_by_id_.end()) keys.push_back(it->second);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

void StateOverlay::PutUser(const KnownUser& row) {
  Check(store_.PutUser(row));
  std::lock_guard lock(mu_);
  KeepUserLocked(row);
}

void StateOverlay::MarkCreates(const std::vector<KnownUser>& known,
                               const std::vector<KnownUser>& fresh) {
  if (known.empty() && fresh.empty()) return;
  std::vector<std::string> keys;
  keys.reserve(fresh.size());
  for (const auto& row : fresh) keys.push_back(row.key);
  Check(store_.MarkCreates(known, keys));
  std::lock_guard lock(mu_);
  for (const auto& row : known) KeepUserLocked(row);
  for (const auto& row : fresh) KeepUserLocked(row);
}

void StateOverlay::KeepUserLocked(const KnownUser& row) {
  if (id_index_built_) {
    if (const KnownUser* old = FindUserLocked(row.key);
        old && !old->target_id.empty() && old->target_id != row.target_id) {
      user_key_by_id_.erase(old->target_id);
    }
    if (!row.target_id.empty()) user_key_by_id_[row.target_id] = row.key;
  }
  users_[row.key] = row;
}

void StateOverlay::DropUser(const std::string& key) {
  Check(store_.DeleteUser(key));
  std::lock_guard lock(mu_);
  users_.erase(key);
}

void StateOverlay::PutGroup(const KnownGroup& row) {
  Check(store_.PutGroup(row));
  std::lock_guard lock(mu_);
  groups_[row.key] = row;
}

void StateOverlay::ForgetGroup(const std::string& key) {
  Check(store_.DeleteGroup(key));
  std::lock_guard lock(mu_);
  groups_[key] = std::nullopt;
}

void StateOverlay::RekeyGroup(const std::string& old_key, const KnownGroup& row) {
  Check(store_.RekeyGroup(old_key, row));
  std::lock_guard lock(mu_);
  if (!old_key.empty() && old_key != row.key) groups_[old_key] = std::nullopt;
  groups_[row.key] = row;
}

std::string StateOverlay::GroupKeyHolding(const std::string& id, const std::string& except) const {
  if (id.empty()) return {};
  std::lock_guard lock(mu_);
  // Groups are few next to users: a scan, the overlay's rows first.
  for (const auto& [key, g] : groups_) {
    if (g && key != except && g->target_id == id) return key;
  }
  for (const auto& g : known_.groups) {
    if (g.key == except || g.target_id != id || groups_.count(g.key)) continue;
    return g.key;
  }
  return {};
}

void StateOverlay::AddMembers(const std::string& group_key,
                              const std::vector<std::string>& user_keys) {
  Check(store_.AddMembers(group_key, user_keys));
  std::lock_guard lock(mu_);
  std::optional<KnownGroup> g = FindGroupLocked(group_key);
  if (!g) return;
  g->members.insert(g->members.end(), user_keys.begin(), user_keys.end());
  std::sort(g->members.begin(), g->members.end());
  g->members.erase(std::unique(g->members.begin(), g->members.end()), g->members.end());
  groups_[group_key] = std::move(g);
}

void StateOverlay::RemoveMembers(const std::string& group_key,
                                 const std::vector<std::string>& user_keys) {
  Check(store_.RemoveMembers(group_key, user_keys));
  std::lock_guard lock(mu_);
  std::optional<KnownGroup> g = FindGroupLocked(group_key);
  if (!g) return;
  std::erase_if(g->members, [&](const std::string& k) {
    return std::find(user_keys.begin(), user_keys.end(), k) != user_keys.end();
  });
  groups_[group_key] = std::move(g);
}

void StateOverlay::RemoveFromAllGroups(const std::string& user_key) {
  std::vector<std::string> groups;
  {
    std::lock_guard lock(mu_);
    auto has = [&](const KnownGroup& g) {
      return std::binary_search(g.members.begin(), g.members.end(), user_key);
    };
    for (const auto& g : known_.groups) {
      if (!groups_.count(g.key) && has(g)) groups.push_back(g.key);
    }
    for (const auto& [k, g] : groups_) {
      if (g && has(*g)) groups.push_back(k);
    }
  }
  for (const auto& gk : groups) RemoveMembers(gk, {user_key});
}

}  // namespace scimsync
