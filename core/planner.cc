#include "core/planner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <utility>

namespace scimsync {
namespace {

constexpr std::size_t kActive = static_cast<std::size_t>(Attr::kActive);

// What the member planning needs to know about a user after phase 2 is planned.
struct UserFate {
  std::string_view key;
  bool will_exist = false;  // on the target now, or created in this plan
  bool uncertain = false;   // resolve only: leave their memberships alone this round
  bool deleted = false;     // delete-user planned: the target drops the memberships
  bool leaver = false;      // deprovisioned (if the guard lets it through)
  bool held_back = false;   // the deletion guard kept this user's deprovisioning back
};

// Per group, what to diff membership against once the guard has decided.
struct GroupWork {
  const Group* desired = nullptr;
  const KnownGroup* known = nullptr;  // null or not on the target: all members are new
  std::string target_id;
};

// Pointers to the elements of v in key order. The contract says v is sorted; a
// caller that breaks it gets a correct plan anyway, just slower.
template <typename T>
std::vector<const T*> ByKey(const std::vector<T>& v) {
  std::vector<const T*> out;
  out.reserve(v.size());
  for (const auto& x : v) out.push_back(&x);
  auto less = [](const T* a, const T* b) { return a->key < b->key; };
  if (!std::is_sorted(out.begin(), out.end(), less)) std::stable_sort(out.begin(), out.end(), less);
  return out;
}

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// `fates` is in key order (built by the merge below).
UserFate* FindFate(std::vector<UserFate>& fates, const std::string& key) {
  auto it = std::lower_bound(fates.begin(), fates.end(), key,
                             [](const UserFate& f, const std::string& k) { return f.key < k; });
  return it != fates.end() && it->key == key ? &*it : nullptr;
}

bool Failing(ObjectStatus s) { return s == ObjectStatus::kFailed || s == ObjectStatus::kConflict; }

// A failed or conflicting object waits for next_retry as long as its source is
// what it was when it failed (failed_hash; 0 for a failed deprovisioning).
bool InBackoff(ObjectStatus status, std::uint64_t failed_hash, std::uint64_t source_hash,
               SysTime next_retry, SysTime now) {
  return Failing(status) && failed_hash == source_hash && now < next_retry;
}

bool OnTarget(const std::string& target_id, ObjectStatus status) {
  return !target_id.empty() && status != ObjectStatus::kDeleted;
}

bool IsDeactivation(const AttrChange& c) {
  return c.attr == Attr::kActive && c.old_value != "false" && c.new_value == "false";
}

std::string FormatUtc(SysTime t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<seconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

// "10" for 10.0, "2.5" for 2.5.
std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Count(long n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
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
    // Exact comparison: a case-only change of userName or email is a change the
    // target should get.
    if (h == w) continue;
    if (w.empty() && keep[i]) continue;
    if (i == kActive) {
      // A user is active unless something says false; a target that leaves
      // `active` out of its representation must not cost a PATCH every cycle.
      std::string hn = h.empty() ? "true" : h;
      std::string wn = w.empty() ? "true" : w;
      if (hn != wn) out.push_back({Attr::kActive, h, wn});
      continue;
    }
    out.push_back({static_cast<Attr>(i), h, w});
  }
  return out;
}

Plan MakePlan(const Directory& desired, const KnownState& known, const PlanOptions& options) {
  Plan plan;
  std::vector<Operation>& ops = plan.ops;
  std::vector<UserFate> fates;  // in key order: binary-searched by the member planning
  std::vector<GroupWork> group_work;
  int deferred = 0;
  SysTime earliest_retry = SysTime::max();
  int resolves = 0;
  int never_created = 0;
  const bool delete_mode = options.deprovision == DeprovisionMode::kDelete;

  auto defer = [&](SysTime next_retry) {
    ++deferred;
    earliest_retry = std::min(earliest_retry, next_retry);
  };

  // ---- users (phases 1, 2, 5): merge of the two key-ordered lists ------------
  auto du = ByKey(desired.users);
  auto ku = ByKey(known.users);
  fates.reserve(du.size() + ku.size());
  for (std::size_t i = 0, j = 0; i < du.size() || j < ku.size();) {
    int cmp = i == du.size()   ? 1
              : j == ku.size() ? -1
                               : du[i]->key.compare(ku[j]->key);
    const User* d = cmp <= 0 ? du[i++] : nullptr;
    const KnownUser* k = cmp >= 0 ? ku[j++] : nullptr;
    UserFate fate;
    fate.key = d ? std::string_view(d->key) : std::string_view(k->key);

    auto add_op = [&](OpKind kind) -> Operation& {
      Operation& op = ops.emplace_back();
      op.kind = kind;
      op.key = std::string(fate.key);
      if (k) op.target_id = k->target_id;
      op.label = d ? d->Get(Attr::kUserName) : UserNameOf(k->values);
      if (op.label.empty() && k) op.label = UserNameOf(k->values);
      if (d) op.user = *d;
      return op;
    };

    if (k && k->uncertain) {
      // Only the re-read this round; the cycle plans again from what it finds.
      add_op(OpKind::kResolveUser);
      ++resolves;
      fate.uncertain = true;
    } else if (d && !k) {
      add_op(OpKind::kCreateUser);
      fate.will_exist = true;
    } else if (d) {
      if (InBackoff(k->status, k->failed_hash, SourceHash(*d), k->next_retry, options.now)) {
        defer(k->next_retry);
        fate.will_exist = OnTarget(k->target_id, k->status);
      } else if (!OnTarget(k->target_id, k->status)) {
        // Never created, seat-blocked, or deleted earlier: create (again).
        Operation& op = add_op(OpKind::kCreateUser);
        op.target_id.clear();
        fate.will_exist = true;
      } else {
        AttrValues have = k->values;
        // A disabled row is inactive on the target whatever `values` holds, so a
        // returning user always gets active=true (re-activation, never re-create).
        if (k->status == ObjectStatus::kDisabled) have[kActive] = "false";
        std::vector<AttrChange> changes = DiffUser(have, d->values, options.keep);
        if (!changes.empty()) add_op(OpKind::kUpdateUser).changes = std::move(changes);
        fate.will_exist = true;
      }
    } else {  // known, not in the source: a leaver
      const bool disabled =
          k->status == ObjectStatus::kDisabled || k->values[kActive] == "false";
      // Every leaver is marked, also one with nothing to deprovision (already
      // inactive, or in backoff): when the guard holds, all of them keep their
      // memberships, not only those whose deprovisioning was planned.
      fate.leaver = true;
      if (!OnTarget(k->target_id, k->status)) {
        if (k->status != ObjectStatus::kDeleted && k->status != ObjectStatus::kDisabled) {
          ++never_created;
        }
      } else if (InBackoff(k->status, k->failed_hash, 0, k->next_retry, options.now)) {
        defer(k->next_retry);
        fate.leaver = true;
      } else if (delete_mode) {
        add_op(OpKind::kDeleteUser);
        fate.leaver = fate.deleted = true;
      } else if (!disabled) {
        Operation& op = add_op(OpKind::kDisableUser);
        std::string old = k->values[kActive].empty() ? "true" : k->values[kActive];
        op.changes = {{Attr::kActive, old, "false"}};
        fate.leaver = true;
      }
    }
    fates.push_back(fate);
  }

  // ---- groups (phases 1, 3, 6) ----------------------------------------------
  auto dg = ByKey(desired.groups);
  auto kg = ByKey(known.groups);
  for (std::size_t i = 0, j = 0; i < dg.size() || j < kg.size();) {
    int cmp = i == dg.size()   ? 1
              : j == kg.size() ? -1
                               : dg[i]->key.compare(kg[j]->key);
    const Group* d = cmp <= 0 ? dg[i++] : nullptr;
    const KnownGroup* k = cmp >= 0 ? kg[j++] : nullptr;

    auto add_op = [&](OpKind kind) -> Operation& {
      Operation& op = ops.emplace_back();
      op.kind = kind;
      op.key = d ? d->key : k->key;
      if (k) op.target_id = k->target_id;
      op.label = d ? d->display_name : k->display_name;
      if (d) {
        op.group.key = d->key;
        op.group.display_name = d->display_name;
      }
      return op;
    };

    if (k && k->uncertain) {
      add_op(OpKind::kResolveGroup);
      ++resolves;
    } else if (d && (!k || !OnTarget(k->target_id, k->status))) {
      if (k && InBackoff(k->status, k->failed_hash, SourceHash(*d), k->next_retry, options.now)) {
        defer(k->next_retry);
        continue;
      }
      add_op(OpKind::kCreateGroup).target_id.clear();
      group_work.push_back({d, nullptr, ""});
    } else if (d) {
      if (InBackoff(k->status, k->failed_hash, SourceHash(*d), k->next_retry, options.now)) {
        defer(k->next_retry);
        continue;
      }
      if (k->display_name != d->display_name) {
        add_op(OpKind::kUpdateGroup).changes = {
            {Attr::kDisplayName, k->display_name, d->display_name}};
      }
      group_work.push_back({d, k, k->target_id});
    } else if (k->status != ObjectStatus::kDeleted) {
      // A group without a target id gets the op too: the executor then only
      // forgets the row (no request), so the guard does not count it.
      if (!k->target_id.empty() &&
          InBackoff(k->status, k->failed_hash, 0, k->next_retry, options.now)) {
        defer(k->next_retry);
        continue;
      }
      add_op(OpKind::kDeleteGroup);
    }
  }

  // ---- deletion guard (DESIGN §7) --------------------------------------------
  auto destructive = [](const Operation& op) {
    switch (op.kind) {
      case OpKind::kDisableUser:
      case OpKind::kDeleteUser:
        return true;
      case OpKind::kDeleteGroup:
        return !op.target_id.empty();
      case OpKind::kUpdateUser:
        return std::any_of(op.changes.begin(), op.changes.end(), IsDeactivation);
      default:
        return false;
    }
  };
  long wanted = std::count_if(ops.begin(), ops.end(), destructive);
  long live = 0;
  for (const auto& k : known.users) {
    if (OnTarget(k.target_id, k.status) && k.status != ObjectStatus::kDisabled) ++live;
  }
  for (const auto& k : known.groups) {
    if (OnTarget(k.target_id, k.status)) ++live;
  }
  const bool over_count = wanted > options.max_deletions;
  const bool over_percent = wanted > options.deletion_percent_floor && live > 0 &&
                            100.0 * static_cast<double>(wanted) / static_cast<double>(live) >
                                options.max_deletion_percent;
  if (wanted > 0 && (over_count || over_percent) && !options.allow_deletions) {
    plan.deletions_blocked = true;
    plan.deletions_wanted = static_cast<int>(wanted);
    std::vector<Operation> kept;
    kept.reserve(ops.size());
    for (auto& op : ops) {
      if (!destructive(op)) {
        kept.push_back(std::move(op));
        continue;
      }
      if (op.kind == OpKind::kUpdateUser) {
        // Keep the rest of the update; only the deactivation waits.
        for (const auto& c : op.changes) {
          if (IsDeactivation(c)) op.user.Set(Attr::kActive, c.old_value);
        }
        std::erase_if(op.changes, IsDeactivation);
        if (!op.changes.empty()) kept.push_back(std::move(op));
      }
    }
    ops = std::move(kept);
    // Nothing destructive for any leaver while the guard holds: a broken source
    // read drops people whatever their state, so a leaver whose deprovisioning was
    // not planned (already inactive, deferred) keeps its memberships as well.
    for (UserFate& f : fates) {
      if (f.leaver) {
        f.held_back = true;
        f.deleted = false;
      }
    }
    plan.notes.push_back(
        "deletion guard: " + std::to_string(wanted) + " of " + std::to_string(live) +
        " known users and groups would be deprovisioned (limit " +
        std::to_string(options.max_deletions) + " or " +
        FormatNumber(options.max_deletion_percent) +
        "%); nothing was deprovisioned; run `scimsync sync --allow-deletions` once if this "
        "is intended");
  }

  // ---- memberships (phases 3 and 4) ------------------------------------------
  for (const GroupWork& w : group_work) {
    std::vector<std::string> want = SortedUnique(w.desired->members);
    std::vector<std::string> have;
    if (w.known) have = SortedUnique(w.known->members);
    std::vector<std::string> add, remove;
    std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                        std::back_inserter(add));
    std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                        std::back_inserter(remove));
    std::erase_if(add, [&](const std::string& m) {
      const UserFate* f = FindFate(fates, m);
      return !f || !f->will_exist || f->uncertain;
    });
    std::erase_if(remove, [&](const std::string& m) {
      // Users we know nothing about any more stay removable: the executor only
      // drops the membership row for them.
      const UserFate* f = FindFate(fates, m);
      return f && (f->uncertain || f->deleted || f->held_back);
    });
    for (auto* list : {&add, &remove}) {
      if (list->empty()) continue;
      Operation& op = ops.emplace_back();
      op.kind = list == &add ? OpKind::kAddMembers : OpKind::kRemoveMembers;
      op.key = w.desired->key;
      op.target_id = w.target_id;
      op.label = w.desired->display_name;
      op.members = std::move(*list);
    }
  }

  // ---- notes, order, summary -------------------------------------------------
  if (resolves > 0) {
    plan.notes.push_back(Count(resolves, "uncertain object is", "uncertain objects are") +
                         " re-read from the target first; their other changes are planned "
                         "after that");
  }
  if (deferred > 0) {
    plan.notes.push_back("deferred: " + Count(deferred, "object", "objects") +
                         " in backoff (next retry " + FormatUtc(earliest_retry) + ")");
  }
  if (never_created > 0) {
    plan.notes.push_back(Count(never_created, "user", "users") +
                         " not in the source never reached the target; nothing to deprovision");
  }

  std::sort(ops.begin(), ops.end(), [](const Operation& a, const Operation& b) {
    auto pa = PhaseOf(a.kind), pb = PhaseOf(b.kind);
    if (pa != pb) return pa < pb;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.key < b.key;
  });

  PlanSummary& s = plan.summary;
  s.deferred = deferred;
  for (const auto& op : ops) {
    switch (op.kind) {
      case OpKind::kResolveUser:
      case OpKind::kResolveGroup: ++s.resolve; break;
      case OpKind::kCreateUser: ++s.users_create; break;
      case OpKind::kUpdateUser: ++s.users_update; break;
      case OpKind::kCreateGroup: ++s.groups_create; break;
      case OpKind::kUpdateGroup: ++s.groups_update; break;
      case OpKind::kAddMembers: s.members_add += static_cast<int>(op.members.size()); break;
      case OpKind::kRemoveMembers: s.members_remove += static_cast<int>(op.members.size()); break;
      case OpKind::kDisableUser: ++s.users_disable; break;
      case OpKind::kDeleteUser: ++s.users_delete; break;
      case OpKind::kDeleteGroup: ++s.groups_delete; break;
    }
  }
  return plan;
}

}  // namespace scimsync
