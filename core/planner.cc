#include "core/planner.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <unordered_set>

namespace scimsync {
namespace {

// Below this many destructive operations the percentage rule does not apply: one
// leaver in a five-person company is 20 %, and must not block forever.
constexpr int kPercentGuardFloor = 5;

bool InBackoff(ObjectStatus status, std::uint64_t failed_hash, std::uint64_t source_hash,
               SysTime next_retry, SysTime now) {
  return (status == ObjectStatus::kFailed || status == ObjectStatus::kConflict) &&
         failed_hash != 0 && failed_hash == source_hash && now < next_retry;
}

std::vector<std::string> Difference(const std::vector<std::string>& a,
                                    const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

const std::string& UserNameOf(const AttrValues& v) {
  return v[static_cast<std::size_t>(Attr::kUserName)];
}

}  // namespace

std::vector<AttrChange> DiffUser(const AttrValues& have, const AttrValues& want,
                                 const std::array<bool, kAttrCount>& keep) {
  std::vector<AttrChange> out;
  for (std::size_t i = 0; i < kAttrCount; ++i) {
    const std::string& h = have[i];
    const std::string& w = want[i];
    if (h == w) continue;
    if (w.empty() && keep[i]) continue;
    Attr a = static_cast<Attr>(i);
    if (a == Attr::kActive && (h.empty() ? "true" : h) == (w.empty() ? "true" : w)) continue;
    out.push_back({a, h, w});
  }
  return out;
}

Plan MakePlan(const Directory& desired, const KnownState& known, const PlanOptions& options) {
  Plan plan;
  PlanSummary& sum = plan.summary;
  std::vector<Operation> destructive;
  std::unordered_set<std::string> uncertain_users;
  std::unordered_set<std::string> deleted_this_plan;
  SysTime earliest_retry{};

  auto note_deferred = [&](SysTime next) {
    ++sum.deferred;
    if (earliest_retry == SysTime{} || next < earliest_retry) earliest_retry = next;
  };

  // --- users: merge the two key-sorted lists --------------------------------
  for (const auto& k : known.users) {
    if (!k.uncertain) continue;
    Operation op;
    op.kind = OpKind::kResolveUser;
    op.key = k.key;
    op.target_id = k.target_id;
    op.label = UserNameOf(k.values);
    plan.ops.push_back(std::move(op));
    ++sum.resolve;
    uncertain_users.insert(k.key);
  }
  std::size_t i = 0, j = 0;
  const auto& du = desired.users;
  const auto& ku = known.users;
  while (i < du.size() || j < ku.size()) {
    int cmp = i == du.size() ? 1 : j == ku.size() ? -1 : du[i].key.compare(ku[j].key);
    if (cmp < 0) {  // new in the source
      Operation op;
      op.kind = OpKind::kCreateUser;
      op.key = du[i].key;
      op.label = du[i].Get(Attr::kUserName);
      op.user = du[i];
      plan.ops.push_back(std::move(op));
      ++sum.users_create;
      ++i;
      continue;
    }
    if (cmp > 0) {  // left the source
      const KnownUser& k = ku[j++];
      if (k.uncertain || k.target_id.empty() || k.status == ObjectStatus::kDeleted) continue;
      bool del = options.deprovision == DeprovisionMode::kDelete;
      if (!del && k.status == ObjectStatus::kDisabled) continue;
      Operation op;
      op.kind = del ? OpKind::kDeleteUser : OpKind::kDisableUser;
      op.key = k.key;
      op.target_id = k.target_id;
      op.label = UserNameOf(k.values);
      if (!del) op.changes = {{Attr::kActive, "true", "false"}};
      if (del) deleted_this_plan.insert(k.key);
      destructive.push_back(std::move(op));
      continue;
    }
    const User& d = du[i++];
    const KnownUser& k = ku[j++];
    if (k.uncertain) continue;
    if (InBackoff(k.status, k.failed_hash, SourceHash(d), k.next_retry, options.now)) {
      note_deferred(k.next_retry);
      continue;
    }
    if (k.target_id.empty() || k.status == ObjectStatus::kDeleted) {
      Operation op;
      op.kind = OpKind::kCreateUser;
      op.key = d.key;
      op.label = d.Get(Attr::kUserName);
      op.user = d;
      plan.ops.push_back(std::move(op));
      ++sum.users_create;
      continue;
    }
    std::vector<AttrChange> changes = DiffUser(k.values, d.values, options.keep);
    if (changes.empty() && k.status != ObjectStatus::kFailed) continue;
    if (changes.empty()) continue;
    Operation op;
    op.kind = OpKind::kUpdateUser;
    op.key = d.key;
    op.target_id = k.target_id;
    op.label = d.Get(Attr::kUserName);
    op.user = d;
    op.changes = std::move(changes);
    plan.ops.push_back(std::move(op));
    ++sum.users_update;
  }

  auto members_for_add = [&](const std::vector<std::string>& m) {
    std::vector<std::string> out;
    out.reserve(m.size());
    for (const auto& k : m) {
      if (!uncertain_users.count(k)) out.push_back(k);
    }
    return out;
  };

  // --- groups ---------------------------------------------------------------
  for (const auto& k : known.groups) {
    if (!k.uncertain) continue;
    Operation op;
    op.kind = OpKind::kResolveGroup;
    op.key = k.key;
    op.target_id = k.target_id;
    op.label = k.display_name;
    plan.ops.push_back(std::move(op));
    ++sum.resolve;
  }
  const auto& dg = desired.groups;
  const auto& kg = known.groups;
  i = j = 0;
  auto create_group = [&](const Group& g) {
    Operation op;
    op.kind = OpKind::kCreateGroup;
    op.key = g.key;
    op.label = g.display_name;
    op.group = g;
    op.group.members.clear();
    plan.ops.push_back(std::move(op));
    ++sum.groups_create;
    std::vector<std::string> add = members_for_add(g.members);
    if (!add.empty()) {
      Operation m;
      m.kind = OpKind::kAddMembers;
      m.key = g.key;
      m.label = g.display_name;
      m.members = std::move(add);
      sum.members_add += static_cast<int>(m.members.size());
      plan.ops.push_back(std::move(m));
    }
  };
  while (i < dg.size() || j < kg.size()) {
    int cmp = i == dg.size() ? 1 : j == kg.size() ? -1 : dg[i].key.compare(kg[j].key);
    if (cmp < 0) {
      create_group(dg[i++]);
      continue;
    }
    if (cmp > 0) {
      const KnownGroup& k = kg[j++];
      if (k.uncertain || k.status == ObjectStatus::kDeleted) continue;
      Operation op;
      op.kind = OpKind::kDeleteGroup;
      op.key = k.key;
      op.target_id = k.target_id;
      op.label = k.display_name;
      if (k.target_id.empty()) {
        plan.ops.push_back(std::move(op));  // row only: not destructive on the target
        continue;
      }
      destructive.push_back(std::move(op));
      continue;
    }
    const Group& d = dg[i++];
    const KnownGroup& k = kg[j++];
    if (k.uncertain) continue;
    if (InBackoff(k.status, k.failed_hash, SourceHash(d), k.next_retry, options.now)) {
      note_deferred(k.next_retry);
      continue;
    }
    if (k.target_id.empty() || k.status == ObjectStatus::kDeleted) {
      create_group(d);
      continue;
    }
    if (k.display_name != d.display_name) {
      Operation op;
      op.kind = OpKind::kUpdateGroup;
      op.key = d.key;
      op.target_id = k.target_id;
      op.label = d.display_name;
      op.group = d;
      op.group.members.clear();
      op.changes = {{Attr::kDisplayName, k.display_name, d.display_name}};
      plan.ops.push_back(std::move(op));
      ++sum.groups_update;
    }
    std::vector<std::string> add = members_for_add(Difference(d.members, k.members));
    if (!add.empty()) {
      Operation op;
      op.kind = OpKind::kAddMembers;
      op.key = d.key;
      op.target_id = k.target_id;
      op.label = d.display_name;
      op.members = std::move(add);
      sum.members_add += static_cast<int>(op.members.size());
      plan.ops.push_back(std::move(op));
    }
    std::vector<std::string> remove;
    for (auto& m : Difference(k.members, d.members)) {
      // A DELETE takes the user's memberships with it.
      if (!deleted_this_plan.count(m) && !uncertain_users.count(m)) remove.push_back(m);
    }
    if (!remove.empty()) {
      Operation op;
      op.kind = OpKind::kRemoveMembers;
      op.key = d.key;
      op.target_id = k.target_id;
      op.label = d.display_name;
      op.members = std::move(remove);
      sum.members_remove += static_cast<int>(op.members.size());
      plan.ops.push_back(std::move(op));
    }
  }

  // --- deletion guard (DESIGN §7) -------------------------------------------
  int wanted = static_cast<int>(destructive.size());
  int known_live = 0;
  for (const auto& k : known.users) {
    if (!k.target_id.empty() && k.status != ObjectStatus::kDeleted &&
        k.status != ObjectStatus::kDisabled) {
      ++known_live;
    }
  }
  for (const auto& k : known.groups) {
    if (!k.target_id.empty() && k.status != ObjectStatus::kDeleted) ++known_live;
  }
  double percent = known_live > 0 ? 100.0 * wanted / known_live : 0.0;
  bool over = wanted > options.max_deletions ||
              (wanted > kPercentGuardFloor && percent > options.max_deletion_percent);
  if (wanted > 0 && over && !options.allow_deletions) {
    plan.deletions_blocked = true;
    plan.deletions_wanted = wanted;
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "deletion guard: %d of %d known users and groups would be deprovisioned "
                  "(limit %d or %g%%); nothing was deprovisioned; run `scimsync sync "
                  "--allow-deletions` once if this is intended",
                  wanted, known_live, options.max_deletions, options.max_deletion_percent);
    plan.notes.push_back(buf);
  } else {
    for (auto& op : destructive) {
      if (op.kind == OpKind::kDisableUser) ++sum.users_disable;
      if (op.kind == OpKind::kDeleteUser) ++sum.users_delete;
      if (op.kind == OpKind::kDeleteGroup) ++sum.groups_delete;
      plan.ops.push_back(std::move(op));
    }
  }
  if (sum.deferred > 0) {
    plan.notes.push_back("deferred: " + std::to_string(sum.deferred) +
                         " failed or conflicting objects wait for their retry time or a "
                         "source change");
  }
  if (sum.resolve > 0) {
    plan.notes.push_back(std::to_string(sum.resolve) +
                         " uncertain objects are looked up on the target first; the rest of "
                         "their changes is planned after that");
  }

  std::stable_sort(plan.ops.begin(), plan.ops.end(), [](const Operation& a, const Operation& b) {
    if (PhaseOf(a.kind) != PhaseOf(b.kind)) return PhaseOf(a.kind) < PhaseOf(b.kind);
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.key < b.key;
  });
  return plan;
}

}  // namespace scimsync
