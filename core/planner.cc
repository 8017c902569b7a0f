#include "core/planner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/target_match.h"
#include "core/text.h"

namespace scimsync {
namespace {

constexpr std::size_t kActive = static_cast<std::size_t>(Attr::kActive);

// What the member planning needs to know about a user after phase 2 is planned.
struct UserFate {
  std::string_view key;
  bool will_exist = false;  // on the target now, or created/bound in this plan
  bool uncertain = false;   // resolve only: leave their memberships alone this round
  bool deleted = false;     // delete-user planned (or gone): the target drops the memberships
  bool leaver = false;      // deprovisioned (if the guard lets it through)
  bool held_back = false;   // the deletion guard kept this user's deprovisioning back
};

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// A sorted, unique list of member keys: borrowed from a state row that already is
// one (Load keeps them so), else an owned sorted copy. A million memberships are
// then not copied (twice: `have` and `ours`) for a plan that changes none.
class MemberList {
 public:
  MemberList() = default;
  // `v` must outlive the list if it is borrowed (a KnownState row does).
  static MemberList Of(const std::vector<std::string>& v) {
    MemberList m;
    if (std::adjacent_find(v.begin(), v.end(), std::greater_equal<>()) == v.end()) {
      m.borrowed_ = &v;
    } else {
      m.own_ = SortedUnique(v);
    }
    return m;
  }
  // Takes a list that is already sorted and unique.
  MemberList& operator=(std::vector<std::string> sorted) {
    borrowed_ = nullptr;
    own_ = std::move(sorted);
    return *this;
  }
  const std::vector<std::string>& get() const { return borrowed_ ? *borrowed_ : own_; }

 private:
  const std::vector<std::string>* borrowed_ = nullptr;
  std::vector<std::string> own_;
};

// Per group, what to diff membership against once the guard has decided.
struct GroupWork {
  const Group* desired = nullptr;
  std::string target_id;
  MemberList have;                    // user keys the target holds (as far as we know)
  std::vector<std::string> have_ids;  // snapshot: member ids bound to no key, sorted
  MemberList ours;                    // the state row's members (what scimsync put there)
  bool observed = false;              // `have` was read from the target and `ours` is known
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

// The element of key-ordered `v` with `key`, or null.
template <typename T>
const T* Find(const std::vector<const T*>& v, std::string_view key) {
  auto it = std::lower_bound(v.begin(), v.end(), key,
                             [](const T* x, std::string_view k) { return x->key < k; });
  return it != v.end() && (*it)->key == key ? *it : nullptr;
}

bool Contains(const std::vector<std::string>& sorted, const std::string& s) {
  return std::binary_search(sorted.begin(), sorted.end(), s);
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
template <typename K>
bool OnTarget(const K* k) {
  return k && OnTarget(k->target_id, k->status);
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

std::string_view UserNameOf(const AttrValues& v) {
  return v.View(static_cast<std::size_t>(Attr::kUserName));
}

// `active` as a value: absent means active.
std::string_view ActiveValue(std::string_view v) { return v.empty() ? "true" : v; }

bool SameValue(std::size_t i, std::string_view a, std::string_view b) {
  return SameAttrValue(static_cast<Attr>(i), a, b);
}

// What a state row says the target holds: a disabled row is inactive.
AttrValues StateValues(const KnownUser& k) {
  AttrValues v = k.values;
  if (k.status == ObjectStatus::kDisabled) v.Set(kActive, "false");
  return v;
}

std::string DriftText(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out.empty() ? out : out + " on the target";
}

// The hand edits that `changes` repair: attributes whose target value differs from
// what the state says scimsync left there.
std::string UserDrift(const AttrValues& state, const AttrValues& have,
                      const std::vector<AttrChange>& changes, bool external_id) {
  std::vector<std::string> parts;
  if (external_id) parts.push_back("externalId changed");
  for (const auto& c : changes) {
    auto i = static_cast<std::size_t>(c.attr);
    if (SameValue(i, state.View(i), have.View(i))) continue;
    std::string name(Info(c.attr).name);
    if (i == kActive) {
      parts.push_back("active set to " + std::string(ActiveValue(have.View(i))));
    } else if (have.View(i).empty()) {
      parts.push_back(name + " removed");
    } else if (state.View(i).empty()) {
      parts.push_back(name + " added");
    } else {
      parts.push_back(name + " changed");
    }
  }
  return DriftText(parts);
}

std::string MemberDrift(long n, std::string_view what) {
  return n == 0 ? std::string() : Count(n, "member", "members") + " " + std::string(what);
}

std::string_view MatchHow(MatchKind k, std::string_view name_attr) {
  return k == MatchKind::kByExternalId ? std::string_view("by externalId") : name_attr;
}

constexpr std::string_view kStateRefresh = "state updated from the target";
constexpr std::string_view kNotOnTarget = "not on the target";
constexpr std::string_view kDeletedOnTarget = "deleted on the target";

// The target snapshot by id.
struct SnapshotIndex {
  std::unordered_map<std::string_view, const RemoteUser*> users;
  std::unordered_map<std::string_view, const RemoteGroup*> groups;

  explicit SnapshotIndex(const TargetSnapshot* s) {
    if (!s) return;
    for (const auto& u : s->users) users.emplace(u.id, &u);
    for (const auto& g : s->groups) groups.emplace(g.id, &g);
  }
  const RemoteUser* User(const std::string& id) const {
    auto it = users.find(id);
    return it == users.end() ? nullptr : it->second;
  }
  const RemoteGroup* Group(const std::string& id) const {
    auto it = groups.find(id);
    return it == groups.end() ? nullptr : it->second;
  }
};

class PlanBuilder {
 public:
  PlanBuilder(const Directory& desired, const KnownState& known, const PlanOptions& options)
      : known_(known),
        options_(options),
        snap_(options.snapshot),
        index_(options.snapshot),
        du_(ByKey(desired.users)),
        ku_(ByKey(known.users)),
        dg_(ByKey(desired.groups)),
        kg_(ByKey(known.groups)),
        delete_mode_(options.deprovision == DeprovisionMode::kDelete) {}

  Plan Build() {
    if (snap_) MatchUsers();
    PlanUsers();
    if (options_.push_groups) {
      PairRenamedGroups();
      if (snap_) MatchGroups();
      PlanGroups();
    }
    Guard();
    if (options_.push_groups) PlanMembers();
    Finish();
    return std::move(plan_);
  }

 private:
  // ---- shared --------------------------------------------------------------
  bool Waits(ObjectStatus status, std::uint64_t failed_hash, std::uint64_t source_hash,
             SysTime next_retry) const {
    // With a snapshot a conflict is checked again at once: that costs no request.
    if (snap_ && status == ObjectStatus::kConflict) return false;
    return InBackoff(status, failed_hash, source_hash, next_retry, options_.now);
  }

  // Waits for the row `k` of desired object `d`: d's hash (a pass over its values)
  // only for a failing row, the only kind that can wait for it.
  template <typename Row, typename Desired>
  bool WaitsFor(const Row& k, const Desired& d) const {
    return Failing(k.status) && Waits(k.status, k.failed_hash, SourceHash(d), k.next_retry);
  }

  void Defer(SysTime next_retry) {
    ++deferred_;
    earliest_retry_ = std::min(earliest_retry_, next_retry);
  }

  Operation& AddUserOp(OpKind kind, const User* d, const KnownUser* k) {
    Operation& op = plan_.ops.emplace_back();
    op.kind = kind;
    op.key = d ? d->key : k->key;
    if (k) op.target_id = k->target_id;
    op.label = d ? d->View(Attr::kUserName) : UserNameOf(k->values);
    if (op.label.empty() && k) op.label = UserNameOf(k->values);
    if (d) op.user = *d;
    return op;
  }

  Operation& AddGroupOp(OpKind kind, const Group* d, const KnownGroup* k) {
    Operation& op = plan_.ops.emplace_back();
    op.kind = kind;
    op.key = d ? d->key : k->key;
    if (k) op.target_id = k->target_id;
    op.label = d ? d->display_name : k->display_name;
    if (d) {
      op.group.key = d->key;
      op.group.display_name = d->display_name;
    }
    return op;
  }

  // ---- users (phases 1, 2, 5) ------------------------------------------------
  // Whether desired user d (known row k) looks for its target object in the snapshot.
  bool SeeksUser(const User& d, const KnownUser* k) const {
    if (k && (k->uncertain || WaitsFor(*k, d))) {
      return false;
    }
    return !OnTarget(k) || !index_.User(k->target_id);
  }

  void MatchUsers() {
    std::vector<MatchSeeker> seekers;
    for (const User* d : du_) {
      if (SeeksUser(*d, Find(ku_, d->key))) seekers.push_back({d->key, d->View(Attr::kUserName)});
    }
    std::vector<MatchTarget> targets;
    for (const auto& u : snap_->users) targets.push_back({u.id, u.external_id, UserNameOf(u.values)});
    std::unordered_map<std::string_view, std::string_view> held;
    for (const auto& k : known_.users) {
      if (OnTarget(&k)) held.emplace(k.target_id, k.key);
    }
    auto found = MatchTargets(seekers, targets, held, {"user", "userName", false});
    for (std::size_t i = 0; i < seekers.size(); ++i) {
      user_match_.emplace(seekers[i].key, std::move(found[i]));
    }
  }

  // How many users the merge below visits (keys in du_, ku_ or both): fates_ is
  // reserved to that, not to the sum, which would leave a million slots unused.
  std::size_t MergedCount() const {
    std::size_t n = 0;
    for (std::size_t i = 0, j = 0; i < du_.size() || j < ku_.size(); ++n) {
      int cmp = i == du_.size()   ? 1
                : j == ku_.size() ? -1
                                  : du_[i]->key.compare(ku_[j]->key);
      if (cmp <= 0) ++i;
      if (cmp >= 0) ++j;
    }
    return n;
  }

  void PlanUsers() {
    const std::size_t merged = MergedCount();
    fates_.reserve(merged);
    // Room for one op per user the state does not know (a first sync: a create
    // each), so the 576-byte ops are not moved again and again as the vector grows;
    // a cycle with few changes reserves little.
    plan_.ops.reserve(plan_.ops.size() + (merged - std::min(merged, ku_.size())) + 16);
    for (std::size_t i = 0, j = 0; i < du_.size() || j < ku_.size();) {
      int cmp = i == du_.size()   ? 1
                : j == ku_.size() ? -1
                                  : du_[i]->key.compare(ku_[j]->key);
      const User* d = cmp <= 0 ? du_[i++] : nullptr;
      const KnownUser* k = cmp >= 0 ? ku_[j++] : nullptr;
      UserFate fate;
      fate.key = d ? std::string_view(d->key) : std::string_view(k->key);
      if (k && k->uncertain) {
        // Only the re-read this round; the cycle plans again from what it finds.
        AddUserOp(OpKind::kResolveUser, d, k);
        ++resolves_;
        fate.uncertain = true;
      } else if (d) {
        PlanDesiredUser(*d, k, fate);
      } else {
        PlanLeaver(*k, fate);
      }
      fates_.push_back(fate);
    }
  }

  void PlanDesiredUser(const User& d, const KnownUser* k, UserFate& fate) {
    if (k && WaitsFor(*k, d)) {
      Defer(k->next_retry);
      fate.will_exist = OnTarget(k);
      return;
    }
    if (snap_) {
      if (const RemoteUser* t = OnTarget(k) ? index_.User(k->target_id) : nullptr) {
        PlanBoundUser(d, *k, *t);
        fate.will_exist = true;
      } else {
        fate.will_exist =
            PlanSeekingUser(d, k, OnTarget(k) ? kDeletedOnTarget : std::string_view());
      }
      return;
    }
    fate.will_exist = true;
    if (!OnTarget(k)) {
      // New, never created, seat-blocked, or deleted earlier: create (again).
      AddUserOp(OpKind::kCreateUser, &d, k).target_id.clear();
      return;
    }
    AttrValues have = k->values;
    // A disabled row is inactive on the target whatever `values` holds, so a
    // returning user always gets active=true (re-activation, never re-create).
    if (k->status == ObjectStatus::kDisabled) have.Set(kActive, "false");
    std::vector<AttrChange> changes = DiffUser(have, d.values, options_.keep);
    if (!changes.empty()) AddUserOp(OpKind::kUpdateUser, &d, k).changes = std::move(changes);
  }

  // A desired user whose bound target object is in the snapshot: diff against it.
  void PlanBoundUser(const User& d, const KnownUser& k, const RemoteUser& t) {
    AttrValues state = StateValues(k);
    AttrValues have = t.values;
    // A target that leaves `active` out says nothing about it: trust the state.
    if (have.View(kActive).empty()) have.Set(kActive, state.View(kActive));
    std::vector<AttrChange> changes = DiffUser(have, d.values, options_.keep);
    // An empty externalId is not repaired: some targets do not store it, and a
    // repair that never sticks would cost a PATCH every reconciling cycle.
    const bool fix_external_id = !t.external_id.empty() && t.external_id != d.key;
    if (!changes.empty() || fix_external_id) {
      Operation& op = AddUserOp(OpKind::kUpdateUser, &d, &k);
      op.drift = UserDrift(state, have, changes, fix_external_id);
      op.changes = std::move(changes);
      if (fix_external_id) {
        op.external_id = d.key;
        op.external_id_was = t.external_id;
      }
      op.target_values = have;
      return;
    }
    bool stale = k.status != ObjectStatus::kSynced && k.status != ObjectStatus::kDisabled;
    for (std::size_t i = 0; i < kAttrCount && !stale; ++i) stale = !SameValue(i, state.View(i), have.View(i));
    if (stale) {
      Operation& op = AddUserOp(OpKind::kBindUser, &d, &k);
      op.detail = kStateRefresh;
      op.target_values = have;
    }
  }

  // A desired user without a bound target object (new, lost state, or its object
  // was deleted on the target): adopt what the snapshot holds, or create. Returns
  // whether the user will exist on the target after phase 2.
  bool PlanSeekingUser(const User& d, const KnownUser* k, std::string_view drift) {
    const Match& m = user_match_.at(d.key);
    if (m.kind == MatchKind::kConflict) {
      Operation& op = AddUserOp(OpKind::kConflictUser, &d, k);
      op.target_id.clear();
      op.detail = m.conflict;
      return false;
    }
    if (m.kind == MatchKind::kNone) {
      Operation& op = AddUserOp(OpKind::kCreateUser, &d, k);
      op.target_id.clear();
      op.drift = drift;
      return true;
    }
    const RemoteUser& t = snap_->users[m.target];
    std::vector<AttrChange> changes = DiffUser(t.values, d.values, options_.keep);
    const bool write_external_id = t.external_id != d.key;
    Operation& op = AddUserOp(
        changes.empty() && !write_external_id ? OpKind::kBindUser : OpKind::kAdoptUser, &d, k);
    op.target_id = t.id;
    op.detail = MatchHow(m.kind, "by userName");
    op.changes = std::move(changes);
    if (write_external_id) {
      op.external_id = d.key;
      op.external_id_was = t.external_id;
    }
    op.target_values = t.values;
    op.drift = drift;
    bound_user_ids_.push_back({t.id, d.key});
    if (!OnTarget(k) && ActiveValue(t.values.View(kActive)) != "false") ++newly_live_;
    return true;
  }

  void PlanLeaver(const KnownUser& k, UserFate& fate) {
    // Every leaver is marked, also one with nothing to deprovision (already
    // inactive, or in backoff): when the guard holds, all of them keep their
    // memberships, not only those whose deprovisioning was planned.
    fate.leaver = true;
    if (!OnTarget(&k)) {
      if (k.status != ObjectStatus::kDeleted && k.status != ObjectStatus::kDisabled) {
        ++never_created_;
      }
      return;
    }
    const RemoteUser* t = snap_ ? index_.User(k.target_id) : nullptr;
    if (snap_ && !t) {
      // Deleted on the target already: record it, no request.
      Operation& op = AddUserOp(OpKind::kBindUser, nullptr, &k);
      op.target_id.clear();
      op.detail = kNotOnTarget;
      fate.deleted = true;
      return;
    }
    if (Waits(k.status, k.failed_hash, 0, k.next_retry)) {
      Defer(k.next_retry);
      return;
    }
    if (delete_mode_ && options_.delete_locks) {
      // DELETE locks (core/planner.h, "Target behaviours"): the user stays on the
      // target, so its memberships are removed as in disable mode (fate.deleted
      // stays false), and a locked row is not deleted again.
      const bool locked = k.status == ObjectStatus::kDisabled;
      const bool unlocked_by_hand = locked && t && t->values.View(kActive) == "true";
      if (locked && !unlocked_by_hand) return;
      Operation& op = AddUserOp(OpKind::kDeleteUser, nullptr, &k);
      if (unlocked_by_hand) op.drift = "active set to true on the target";
      return;
    }
    if (delete_mode_) {
      AddUserOp(OpKind::kDeleteUser, nullptr, &k);
      fate.deleted = true;
      return;
    }
    const bool state_disabled =
        k.status == ObjectStatus::kDisabled || k.values.View(kActive) == "false";
    std::string active = t && !t->values.View(kActive).empty() ? std::string(t->values.View(kActive))
                         : state_disabled                 ? "false"
                                                          : std::string(ActiveValue(k.values.View(kActive)));
    if (active != "false") {
      Operation& op = AddUserOp(OpKind::kDisableUser, nullptr, &k);
      op.changes = {{Attr::kActive, active, "false"}};
      if (t) {
        op.target_values = t->values;
        // The source dropped them and scimsync disabled them; someone enabled
        // them again by hand: access the directory does not grant.
        if (state_disabled) op.drift = "active set to true on the target";
      }
    } else if (t && !state_disabled) {
      Operation& op = AddUserOp(OpKind::kBindUser, nullptr, &k);  // disabled by hand
      op.detail = kStateRefresh;
      op.target_values = t->values;
    }
  }

  // ---- groups (phases 1, 3, 6) -----------------------------------------------
  // A case-only rename (CSV group keys are the names): a known group that left the
  // source and a new source group with the same displayName regardless of case,
  // one of each, are the same target group under a new key.
  void PairRenamedGroups() {
    std::unordered_map<std::string, std::vector<const KnownGroup*>> gone;
    std::unordered_map<std::string, std::vector<const Group*>> fresh;
    for (const KnownGroup* k : kg_) {
      if (Find(dg_, k->key) || !OnTarget(k) || k->uncertain) continue;
      if (snap_ && !index_.Group(k->target_id)) continue;
      gone[FoldCase(k->display_name)].push_back(k);
    }
    for (const Group* d : dg_) {
      const KnownGroup* k = Find(kg_, d->key);
      if (k && (k->uncertain || OnTarget(k))) continue;
      fresh[FoldCase(d->display_name)].push_back(d);
    }
    for (const auto& [name, olds] : gone) {
      auto it = fresh.find(name);
      if (olds.size() != 1 || it == fresh.end() || it->second.size() != 1) continue;
      renamed_from_.emplace(it->second.front()->key, olds.front());
      renamed_away_.insert(olds.front()->key);
    }
  }

  bool SeeksGroup(const Group& d, const KnownGroup* k) const {
    if (renamed_from_.count(d.key)) return false;
    if (k && (k->uncertain || WaitsFor(*k, d))) {
      return false;
    }
    return !OnTarget(k) || !index_.Group(k->target_id);
  }

  void MatchGroups() {
    std::vector<MatchSeeker> seekers;
    for (const Group* d : dg_) {
      if (!SeeksGroup(*d, Find(kg_, d->key))) continue;
      // Without unique names a displayName identifies nothing: externalId only.
      seekers.push_back({d->key, options_.unique_group_names ? std::string_view(d->display_name)
                                                             : std::string_view()});
    }
    std::vector<MatchTarget> targets;
    for (const auto& g : snap_->groups) targets.push_back({g.id, g.external_id, g.display_name});
    std::unordered_map<std::string_view, std::string_view> held;
    for (const auto& k : known_.groups) {
      if (OnTarget(&k)) held.emplace(k.target_id, k.key);
    }
    for (const auto& [key, old] : renamed_from_) held[old->target_id] = key;
    auto found = MatchTargets(seekers, targets, held, {"group", "displayName", true});
    for (std::size_t i = 0; i < seekers.size(); ++i) {
      group_match_.emplace(seekers[i].key, std::move(found[i]));
    }
  }

  // Member ids of a target group as source keys (sorted) and the ids bound to no
  // key (sorted).
  std::pair<std::vector<std::string>, std::vector<std::string>> MapMembers(const RemoteGroup& t) {
    if (!user_key_by_id_built_) {
      for (const auto& k : known_.users) {
        if (OnTarget(&k)) user_key_by_id_.emplace(k.target_id, k.key);
      }
      for (const auto& [id, key] : bound_user_ids_) user_key_by_id_[id] = key;
      user_key_by_id_built_ = true;
    }
    std::vector<std::string> keys, ids;
    for (const auto& id : t.member_ids) {
      auto it = user_key_by_id_.find(id);
      if (it != user_key_by_id_.end()) {
        keys.emplace_back(it->second);
      } else {
        ids.push_back(id);
      }
    }
    return {SortedUnique(std::move(keys)), SortedUnique(std::move(ids))};
  }

  void PlanGroups() {
    for (std::size_t i = 0, j = 0; i < dg_.size() || j < kg_.size();) {
      int cmp = i == dg_.size()   ? 1
                : j == kg_.size() ? -1
                                  : dg_[i]->key.compare(kg_[j]->key);
      const Group* d = cmp <= 0 ? dg_[i++] : nullptr;
      const KnownGroup* k = cmp >= 0 ? kg_[j++] : nullptr;
      if (!d && renamed_away_.count(k->key)) continue;  // moves to its new key
      if (k && k->uncertain) {
        AddGroupOp(OpKind::kResolveGroup, d, k);
        ++resolves_;
      } else if (d) {
        PlanDesiredGroup(*d, k);
      } else if (k->status != ObjectStatus::kDeleted) {
        PlanGroupLeaver(*k);
      }
    }
  }

  void PlanDesiredGroup(const Group& d, const KnownGroup* k) {
    if (auto it = renamed_from_.find(d.key); it != renamed_from_.end()) {
      PlanRekey(d, k, *it->second);
      return;
    }
    if (k && WaitsFor(*k, d)) {
      Defer(k->next_retry);
      return;
    }
    if (snap_) {
      if (const RemoteGroup* t = OnTarget(k) ? index_.Group(k->target_id) : nullptr) {
        PlanBoundGroup(d, *k, *t);
      } else {
        PlanSeekingGroup(d, k, OnTarget(k) ? kDeletedOnTarget : std::string_view());
      }
      return;
    }
    if (!OnTarget(k)) {
      AddGroupOp(OpKind::kCreateGroup, &d, k).target_id.clear();
      work_.push_back({&d, "", {}, {}, {}, false});
      return;
    }
    if (CrossesRolePrefix(k->display_name, d.display_name)) {
      PlanRetype(d, *k, k->display_name);
      return;
    }
    if (k->display_name != d.display_name) {
      AddGroupOp(OpKind::kUpdateGroup, &d, k).changes = {
          {Attr::kDisplayName, k->display_name, d.display_name}};
    }
    MemberList members = MemberList::Of(k->members);
    work_.push_back({&d, k->target_id, members, {}, members, false});
  }

  // A group is a role on the target when its displayName starts with the prefix.
  bool CrossesRolePrefix(std::string_view have, std::string_view want) const {
    const std::string& p = options_.role_prefix;
    return !p.empty() && have.starts_with(p) != want.starts_with(p);
  }

  // The group changes type on the target (team <-> role): a new group with the
  // desired name and members, and the old one deleted (core/planner.h).
  void PlanRetype(const Group& d, const KnownGroup& k, const std::string& have_name) {
    const bool role = d.display_name.starts_with(options_.role_prefix);
    const std::string why = role ? "changes type: now a role" : "changes type: no longer a role";
    Operation& create = AddGroupOp(OpKind::kCreateGroup, &d, &k);
    create.target_id.clear();
    create.replaced_id = k.target_id;
    create.detail = why + "; replaces " + k.target_id;
    Operation& del = AddGroupOp(OpKind::kDeleteGroup, &d, &k);
    del.label = have_name;
    del.replaced_id = k.target_id;
    del.detail = why + "; replaced by " + d.display_name;
    work_.push_back({&d, "", {}, {}, {}, false});
  }

  // One target group, a new key: PATCH displayName and externalId, move the row.
  void PlanRekey(const Group& d, const KnownGroup* k, const KnownGroup& old) {
    const RemoteGroup* t = snap_ ? index_.Group(old.target_id) : nullptr;
    Operation& op = AddGroupOp(OpKind::kAdoptGroup, &d, k);
    op.target_id = old.target_id;
    op.previous_key = old.key;
    op.detail = "key was " + old.key;
    const std::string& name = t ? t->display_name : old.display_name;
    if (name != d.display_name) op.changes = {{Attr::kDisplayName, name, d.display_name}};
    std::string external_id = t ? t->external_id : old.key;
    if (external_id != d.key) {
      op.external_id = d.key;
      op.external_id_was = external_id;
    }
    GroupWork w{&d, old.target_id, {}, {}, MemberList::Of(old.members), t != nullptr};
    if (t) {
      std::tie(w.have, w.have_ids) = MapMembers(*t);
    } else {
      w.have = w.ours;
    }
    op.target_members = w.have.get();
    work_.push_back(std::move(w));
  }

  void PlanBoundGroup(const Group& d, const KnownGroup& k, const RemoteGroup& t) {
    if (CrossesRolePrefix(t.display_name, d.display_name)) {
      PlanRetype(d, k, t.display_name);
      return;
    }
    GroupWork w{&d, k.target_id, {}, {}, MemberList::Of(k.members), true};
    std::tie(w.have, w.have_ids) = MapMembers(t);
    const bool rename = t.display_name != d.display_name;
    const bool fix_external_id = !t.external_id.empty() && t.external_id != d.key;
    if (rename || fix_external_id) {
      std::vector<std::string> drift;
      if (rename && t.display_name != k.display_name) drift.push_back("displayName changed");
      if (fix_external_id) drift.push_back("externalId changed");
      Operation& op = AddGroupOp(OpKind::kUpdateGroup, &d, &k);
      if (rename) op.changes = {{Attr::kDisplayName, t.display_name, d.display_name}};
      if (fix_external_id) {
        op.external_id = d.key;
        op.external_id_was = t.external_id;
      }
      op.drift = DriftText(drift);
      op.target_members = w.have.get();
    } else if (k.display_name != t.display_name || w.ours.get() != w.have.get() ||
               k.status != ObjectStatus::kSynced) {
      Operation& op = AddGroupOp(OpKind::kBindGroup, &d, &k);
      op.detail = kStateRefresh;
      op.target_members = w.have.get();
    }
    work_.push_back(std::move(w));
  }

  void PlanSeekingGroup(const Group& d, const KnownGroup* k, std::string_view drift) {
    const Match& m = group_match_.at(d.key);
    if (m.kind == MatchKind::kConflict) {
      Operation& op = AddGroupOp(OpKind::kConflictGroup, &d, k);
      op.target_id.clear();
      op.detail = m.conflict;
      return;
    }
    if (m.kind == MatchKind::kNone) {
      Operation& op = AddGroupOp(OpKind::kCreateGroup, &d, k);
      op.target_id.clear();
      op.drift = drift;
      work_.push_back({&d, "", {}, {}, {}, false});
      return;
    }
    const RemoteGroup& t = snap_->groups[m.target];
    const bool rename = t.display_name != d.display_name;
    const bool write_external_id = t.external_id != d.key;
    Operation& op = AddGroupOp(
        !rename && !write_external_id ? OpKind::kBindGroup : OpKind::kAdoptGroup, &d, k);
    op.target_id = t.id;
    op.detail = MatchHow(m.kind, "by displayName");
    if (rename) op.changes = {{Attr::kDisplayName, t.display_name, d.display_name}};
    if (write_external_id) {
      op.external_id = d.key;
      op.external_id_was = t.external_id;
    }
    op.drift = drift;
    bound_group_ids_.push_back(t.id);
    if (!OnTarget(k)) ++newly_live_;
    // Members scimsync put there before (a group deleted and re-created on the
    // target) count as ours; an adopted group's other members are foreign.
    GroupWork w{&d, t.id, {}, {}, {}, OnTarget(k)};
    if (OnTarget(k)) w.ours = MemberList::Of(k->members);
    std::tie(w.have, w.have_ids) = MapMembers(t);
    op.target_members = w.have.get();
    work_.push_back(std::move(w));
  }

  void PlanGroupLeaver(const KnownGroup& k) {
    if (snap_ && OnTarget(&k) && !index_.Group(k.target_id)) {
      // Deleted on the target already: forget it, no request.
      Operation& op = AddGroupOp(OpKind::kBindGroup, nullptr, &k);
      op.target_id.clear();
      op.detail = kNotOnTarget;
      return;
    }
    // A group without a target id gets the op too: the executor then only
    // forgets the row (no request), so the guard does not count it.
    if (!k.target_id.empty() && Waits(k.status, k.failed_hash, 0, k.next_retry)) {
      Defer(k.next_retry);
      return;
    }
    AddGroupOp(OpKind::kDeleteGroup, nullptr, &k);
  }

  // ---- deletion guard (DESIGN §7) --------------------------------------------
  static bool Destructive(const Operation& op) {
    switch (op.kind) {
      case OpKind::kDisableUser:
      case OpKind::kDeleteUser:
        return true;
      case OpKind::kDeleteGroup:
        return !op.target_id.empty();
      case OpKind::kUpdateUser:
      case OpKind::kAdoptUser:
        return std::any_of(op.changes.begin(), op.changes.end(), IsDeactivation);
      default:
        return false;
    }
  }

  void Guard() {
    std::vector<Operation>& ops = plan_.ops;
    long wanted = std::count_if(ops.begin(), ops.end(), Destructive);
    long live = newly_live_;
    for (const auto& k : known_.users) {
      if (OnTarget(&k) && k.status != ObjectStatus::kDisabled) ++live;
    }
    if (options_.push_groups) {  // groups left to the target are not ours to count
      for (const auto& k : known_.groups) {
        if (OnTarget(&k)) ++live;
      }
    }
    const bool over_count = wanted > options_.max_deletions;
    const bool over_percent = wanted > options_.deletion_percent_floor && live > 0 &&
                              100.0 * static_cast<double>(wanted) / static_cast<double>(live) >
                                  options_.max_deletion_percent;
    if (wanted == 0 || !(over_count || over_percent) || options_.allow_deletions) return;
    plan_.deletions_blocked = true;
    plan_.deletions_wanted = static_cast<int>(wanted);
    // A group that changes type is created only along with its delete.
    std::unordered_set<std::string> retypes;
    for (const auto& op : ops) {
      if (op.kind == OpKind::kDeleteGroup && !op.replaced_id.empty()) retypes.insert(op.key);
    }
    std::erase_if(work_, [&](const GroupWork& w) { return retypes.count(w.desired->key) > 0; });
    std::vector<Operation> kept;
    kept.reserve(ops.size());
    for (auto& op : ops) {
      if (op.kind == OpKind::kCreateGroup && !op.replaced_id.empty()) continue;
      if (!Destructive(op)) {
        kept.push_back(std::move(op));
        continue;
      }
      if (op.kind != OpKind::kUpdateUser && op.kind != OpKind::kAdoptUser) continue;
      // Keep the rest of the update; only the deactivation waits.
      for (const auto& c : op.changes) {
        if (IsDeactivation(c)) op.user.Set(Attr::kActive, c.old_value);
      }
      std::erase_if(op.changes, IsDeactivation);
      if (op.kind == OpKind::kAdoptUser) {
        // The binding is recorded either way.
        if (op.changes.empty() && op.external_id.empty()) op.kind = OpKind::kBindUser;
        kept.push_back(std::move(op));
      } else if (!op.changes.empty() || !op.external_id.empty()) {
        if (op.target_values) {
          const KnownUser* k = Find(ku_, op.key);
          op.drift = UserDrift(StateValues(*k), *op.target_values, op.changes,
                               !op.external_id.empty());
        }
        kept.push_back(std::move(op));
      }
    }
    ops = std::move(kept);
    // Nothing destructive for any leaver while the guard holds: a broken source
    // read drops people whatever their state, so a leaver whose deprovisioning was
    // not planned (already inactive, deferred) keeps its memberships as well.
    for (UserFate& f : fates_) {
      if (f.leaver) {
        f.held_back = true;
        f.deleted = false;
      }
    }
    plan_.notes.push_back(
        "deletion guard: " + std::to_string(wanted) + " of " + std::to_string(live) +
        " known users and groups would be deprovisioned (limit " +
        std::to_string(options_.max_deletions) + " or " +
        FormatNumber(options_.max_deletion_percent) +
        "%); nothing was deprovisioned; run `scimsync sync --allow-deletions` once if this "
        "is intended");
  }

  // ---- memberships (phases 3 and 4) ------------------------------------------
  void PlanMembers() {
    const bool keep_foreign = options_.foreign_members == ForeignMembers::kKeep;
    for (GroupWork& w : work_) {
      const MemberList want_list = MemberList::Of(w.desired->members);
      const std::vector<std::string>& want = want_list.get();
      std::vector<std::string> add, remove, remove_ids;
      const std::vector<std::string>& have = w.have.get();
      std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                          std::back_inserter(add));
      std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                          std::back_inserter(remove));
      std::erase_if(add, [&](const std::string& m) {
        const UserFate* f = FindFate(fates_, m);
        return !f || !f->will_exist || f->uncertain;
      });
      std::erase_if(remove, [&](const std::string& m) {
        // Users we know nothing about any more stay removable: the executor only
        // drops the membership row for them.
        const UserFate* f = FindFate(fates_, m);
        return (f && (f->uncertain || f->deleted || f->held_back)) ||
               (keep_foreign && !Contains(w.ours.get(), m));
      });
      if (!keep_foreign) remove_ids = std::move(w.have_ids);
      std::string add_drift, remove_drift;
      if (w.observed) {
        add_drift = MemberDrift(
            std::count_if(add.begin(), add.end(), [&](const auto& m) { return Contains(w.ours.get(), m); }),
            "removed on the target");
        remove_drift = MemberDrift(
            std::count_if(remove.begin(), remove.end(),
                          [&](const auto& m) { return !Contains(w.ours.get(), m); }) +
                static_cast<long>(remove_ids.size()),
            "added on the target");
      }
      if (!add.empty()) {
        Operation& op = AddMemberOp(OpKind::kAddMembers, w, std::move(add));
        op.drift = std::move(add_drift);
      }
      if (!remove.empty() || !remove_ids.empty()) {
        Operation& op = AddMemberOp(OpKind::kRemoveMembers, w, std::move(remove));
        op.member_ids = std::move(remove_ids);
        op.drift = std::move(remove_drift);
      }
    }
  }

  Operation& AddMemberOp(OpKind kind, const GroupWork& w, std::vector<std::string> members) {
    Operation& op = plan_.ops.emplace_back();
    op.kind = kind;
    op.key = w.desired->key;
    op.target_id = w.target_id;
    op.label = w.desired->display_name;
    op.members = std::move(members);
    return op;
  }

  // ---- notes, order, summary, unmanaged ----------------------------------------
  void Finish() {
    std::vector<Operation>& ops = plan_.ops;
    PlanSummary& s = plan_.summary;
    for (const auto& op : ops) {
      switch (op.kind) {
        case OpKind::kResolveUser:
        case OpKind::kResolveGroup: ++s.resolve; break;
        case OpKind::kCreateUser: ++s.users_create; break;
        case OpKind::kUpdateUser: ++s.users_update; break;
        case OpKind::kCreateGroup: ++s.groups_create; break;
        case OpKind::kUpdateGroup: ++s.groups_update; break;
        case OpKind::kAddMembers: s.members_add += static_cast<int>(op.members.size()); break;
        case OpKind::kRemoveMembers:
          s.members_remove += static_cast<int>(op.members.size() + op.member_ids.size());
          break;
        case OpKind::kDisableUser: ++s.users_disable; break;
        case OpKind::kDeleteUser: ++s.users_delete; break;
        case OpKind::kDeleteGroup: ++s.groups_delete; break;
        case OpKind::kAdoptUser:
        case OpKind::kAdoptGroup: ++s.adopt; break;
        case OpKind::kBindUser:
        case OpKind::kBindGroup: ++s.bind; break;
        case OpKind::kConflictUser:
        case OpKind::kConflictGroup: ++s.conflicts; break;
      }
      if (!op.drift.empty()) ++s.drift;
    }
    s.deferred = deferred_;
    if (snap_) ListUnmanaged();

    if (resolves_ > 0) {
      plan_.notes.push_back(Count(resolves_, "uncertain object is", "uncertain objects are") +
                            " re-read from the target first; their other changes are planned "
                            "after that");
    }
    if (deferred_ > 0) {
      plan_.notes.push_back("deferred: " + Count(deferred_, "object", "objects") +
                            " in backoff (next retry " + FormatUtc(earliest_retry_) + ")");
    }
    if (never_created_ > 0) {
      plan_.notes.push_back(Count(never_created_, "user", "users") +
                            " not in the source never reached the target; nothing to deprovision");
    }
    if (!options_.push_groups) {
      const long left = std::count_if(known_.groups.begin(), known_.groups.end(),
                                      [](const KnownGroup& k) { return OnTarget(&k); });
      if (left > 0) {
        plan_.notes.push_back("push_groups = false: " +
                              Count(left, "known group is", "known groups are") +
                              " left on the target as they are");
      }
    }
    if (s.conflicts > 0) {
      plan_.notes.push_back(
          "conflict: " +
          Count(s.conflicts, "object matches a target object", "objects match target objects") +
          " that may not be adopted; nothing is written to either side (see the conflict lines)");
    }

    auto less = [](const Operation& a, const Operation& b) {
      auto pa = PhaseOf(a.kind), pb = PhaseOf(b.kind);
      if (pa != pb) return pa < pb;
      if (a.kind != b.kind) return a.kind < b.kind;
      return a.key < b.key;
    };
    // The ops come out of the merges in key order, kind by kind, so they are often
    // in order already (a first sync: creates only). Otherwise an index is sorted
    // and each op moved once: an op is a large object to swap around.
    if (std::is_sorted(ops.begin(), ops.end(), less)) return;
    std::vector<std::size_t> order(ops.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return less(ops[a], ops[b]); });
    std::vector<Operation> sorted;
    sorted.reserve(ops.size());
    for (std::size_t i : order) sorted.push_back(std::move(ops[i]));
    ops.swap(sorted);
  }

  // Target objects bound to no source key: not touched, only reported.
  void ListUnmanaged() {
    std::unordered_set<std::string_view> users, groups;
    for (const auto& k : known_.users) {
      if (OnTarget(&k)) users.insert(k.target_id);
    }
    for (const auto& [id, key] : bound_user_ids_) users.insert(id);
    for (const auto& k : known_.groups) {
      if (OnTarget(&k)) groups.insert(k.target_id);
    }
    for (const auto& id : bound_group_ids_) groups.insert(id);
    for (const auto& u : snap_->users) {
      if (!users.count(u.id)) plan_.unmanaged_users.push_back({u.id, std::string(UserNameOf(u.values))});
    }
    // Groups left to the target (push_groups = false) are not read, nor ours to judge.
    if (options_.push_groups) {
      for (const auto& g : snap_->groups) {
        if (!groups.count(g.id)) plan_.unmanaged_groups.push_back({g.id, g.display_name});
      }
    }
    auto by_name = [](const UnmanagedObject& a, const UnmanagedObject& b) {
      return a.name != b.name ? a.name < b.name : a.id < b.id;
    };
    std::sort(plan_.unmanaged_users.begin(), plan_.unmanaged_users.end(), by_name);
    std::sort(plan_.unmanaged_groups.begin(), plan_.unmanaged_groups.end(), by_name);
    plan_.summary.unmanaged_users = static_cast<int>(plan_.unmanaged_users.size());
    plan_.summary.unmanaged_groups = static_cast<int>(plan_.unmanaged_groups.size());
  }

  const KnownState& known_;
  const PlanOptions& options_;
  const TargetSnapshot* snap_;
  SnapshotIndex index_;
  std::vector<const User*> du_;
  std::vector<const KnownUser*> ku_;
  std::vector<const Group*> dg_;
  std::vector<const KnownGroup*> kg_;
  const bool delete_mode_;

  Plan plan_;
  std::vector<UserFate> fates_;  // in key order: binary-searched by the member planning
  std::vector<GroupWork> work_;
  std::unordered_map<std::string_view, Match> user_match_, group_match_;
  std::vector<std::pair<std::string, std::string>> bound_user_ids_;  // (target id, key)
  std::vector<std::string> bound_group_ids_;
  std::unordered_map<std::string, std::string> user_key_by_id_;
  bool user_key_by_id_built_ = false;
  std::unordered_map<std::string, const KnownGroup*> renamed_from_;  // new key -> old row
  std::unordered_set<std::string> renamed_away_;                     // old keys
  int deferred_ = 0;
  SysTime earliest_retry_ = SysTime::max();
  int resolves_ = 0;
  int never_created_ = 0;
  long newly_live_ = 0;  // objects bound in this plan that are live on the target
};

}  // namespace

std::vector<AttrChange> DiffUser(const AttrValues& have, const AttrValues& want,
                                 const std::array<bool, kAttrCount>& keep) {
  std::vector<AttrChange> out;
  for (std::size_t i = 0; i < kAttrCount; ++i) {
    const std::string_view h = have.View(i);
    const std::string_view w = want.View(i);
    // By the attribute's kind (SameAttrValue): a case-only change of userName is a
    // change the target should get; one of an email address is not (a target that
    // lowercases addresses would otherwise be patched on every reconciling cycle).
    if (SameAttrValue(static_cast<Attr>(i), h, w)) continue;
    if (w.empty() && keep[i]) continue;
    if (i == kActive) {
      // A user is active unless something says false (SameAttrValue): a target
      // that leaves `active` out must not cost a PATCH every cycle.
      out.push_back({Attr::kActive, std::string(h), std::string(w.empty() ? "true" : w)});
      continue;
    }
    out.push_back({static_cast<Attr>(i), std::string(h), std::string(w)});
  }
  return out;
}

Plan MakePlan(const Directory& desired, const KnownState& known, const PlanOptions& options) {
  return PlanBuilder(desired, known, options).Build();
}

}  // namespace scimsync
