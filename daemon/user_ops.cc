#include "daemon/user_ops.h"

#include "core/log.h"

namespace scimsync {
namespace {

constexpr std::size_t kActive = static_cast<std::size_t>(Attr::kActive);
constexpr std::size_t kUserName = static_cast<std::size_t>(Attr::kUserName);

// Values after applying `changes` to `values`.
AttrValues Applied(AttrValues values, const std::vector<AttrChange>& changes) {
  for (const auto& c : changes) values.Set(static_cast<std::size_t>(c.attr), c.new_value);
  return values;
}

// A returning user: the plan turns a disabled user active again.
bool IsReactivation(const std::vector<AttrChange>& changes) {
  for (const auto& c : changes) {
    if (c.attr == Attr::kActive && c.old_value == "false" && c.new_value != "false") return true;
  }
  return false;
}

// The row of a user about to be created: uncertain (a lost answer costs a lookup),
// and without a target id that no longer holds it.
KnownUser MarkedForCreate(KnownUser row, bool stale_id) {
  row.uncertain = true;
  if (row.status == ObjectStatus::kDeleted || stale_id) row.target_id.clear();
  return row;
}

TargetResponse NothingToSend() {
  TargetResponse r;
  r.status = 204;
  return r;
}

}  // namespace

bool StaleTargetId(const Operation& op) {
  return op.drift == "deleted on the target" || !op.replaced_id.empty();
}

UserOps::UserOps(Target& target, RequestRunner& runner, StateOverlay& overlay,
                 const ExecutorOptions& options, Clock& clock, ExecutorCounters& counters)
    : target_(target),
      runner_(runner),
      overlay_(overlay),
      options_(options),
      clock_(clock),
      counters_(counters) {}

std::string UserOps::seat_detail() const {
  std::lock_guard lock(mu_);
  return seat_detail_;
}

// ---------------------------------------------------------------------------
// Outcomes shared by the operations

void UserOps::Synced(KnownUser& row, const AttrValues& values) {
  row.values = values;
  row.status = values[kActive] == "false" ? ObjectStatus::kDisabled : ObjectStatus::kSynced;
  row.uncertain = false;
  row.last_error.clear();
  row.attempts = 0;
  row.next_retry = SysTime{};
  row.failed_hash = 0;
  overlay_.PutUser(row);
  t_op_succeeded = true;
}

void UserOps::SeatBlock(KnownUser row, const std::string& error) {
  if (!seats_exhausted_.exchange(true)) {
    std::lock_guard lock(mu_);
    seat_detail_ = error;
  }
  row.status = ObjectStatus::kSeatBlocked;
  row.uncertain = false;
  row.last_error = error;
  counters_.Add(Counter::kSeatBlocked);
  overlay_.PutUser(row);
}

void UserOps::Fail(KnownUser row, const User* desired, const TargetResponse& r, bool permanent) {
  row.last_error = r.Summary();
  row.attempts += 1;
  if (permanent) {
    // The target refused this object: retry when its source changes, or after a
    // growing backoff.
    row.status = ObjectStatus::kFailed;
    row.next_retry = FailedRetryAt(options_, clock_.Now(), row.attempts);
    row.failed_hash = desired ? SourceHash(*desired) : 0;
  } else {
    // Transient: next cycle tries again (no backoff window across cycles; the
    // daemon interval is the backoff). Existing rows keep their status.
    if (row.status == ObjectStatus::kSynced || row.status == ObjectStatus::kPending) {
      row.status = row.target_id.empty() ? ObjectStatus::kPending : ObjectStatus::kFailed;
    }
    row.next_retry = SysTime{};
    row.failed_hash = 0;
  }
  counters_.Add(Counter::kFailed);
  (permanent ? LogWarn : LogDebug)(
      "user_failed", {{"key", row.key},
                      {"user", desired ? desired->Get(Attr::kUserName) : row.values[kUserName]},
                      {"error", row.last_error}});
  if (!permanent) LogWarn("user_deferred", {{"key", row.key}, {"error", row.last_error}});
  overlay_.PutUser(row);
}

void UserOps::Conflict(KnownUser row, const User& desired, const std::string& message) {
  row.status = ObjectStatus::kConflict;
  row.uncertain = false;
  row.last_error = message;
  row.attempts += 1;
  row.next_retry = FailedRetryAt(options_, clock_.Now(), row.attempts);
  row.failed_hash = SourceHash(desired);
  counters_.Add(Counter::kConflicts);
  LogWarn("user_conflict", {{"key", row.key},
                            {"user", desired.Get(Attr::kUserName)},
                            {"error", message}});
  overlay_.PutUser(row);
}

// ---------------------------------------------------------------------------
// Create, adopt

void UserOps::MarkCreates(const std::vector<const Operation*>& ops, std::size_t begin,
                          std::size_t end) {
  if (seats_exhausted_ || runner_.Stopping()) return;  // Create sends nothing then
  std::vector<KnownUser> known, fresh;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = begin; i < end && i < ops.size(); ++i) {
      const Operation& op = *ops[i];
      if (op.kind != OpKind::kCreateUser || marked_.count(op.key)) continue;
      Marked m = Unmarked(op.key);
      (m.existed ? known : fresh).push_back(MarkedForCreate(m.before, StaleTargetId(op)));
      marked_.emplace(op.key, std::move(m));
    }
  }
  // Written before the POSTs, in one commit: if we crash or lose a response, the
  // next cycle looks the user up instead of creating a duplicate.
  overlay_.MarkCreates(known, fresh);
}

UserOps::Marked UserOps::Unmarked(const std::string& key) const {
  std::optional<KnownUser> row = overlay_.FindUser(key);
  if (row) return Marked{std::move(*row), true};
  Marked m;
  m.before.key = key;
  return m;
}

std::optional<UserOps::Marked> UserOps::TakeMark(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = marked_.find(key);
  if (it == marked_.end()) return std::nullopt;
  Marked m = std::move(it->second);
  marked_.erase(it);
  return m;
}

// Nothing reached the target: put the row back exactly as it was.
void UserOps::Restore(const Marked& m) {
  if (m.existed) {
    overlay_.PutUser(m.before);
  } else {
    overlay_.DropUser(m.before.key);
  }
}

void UserOps::ReleaseMarks() {
  std::unordered_map<std::string, Marked> left;
  {
    std::lock_guard lock(mu_);
    left.swap(marked_);
  }
  for (const auto& [key, m] : left) Restore(m);
}

void UserOps::Create(const User& desired, bool stale_id, TargetResponse* first) {
  std::optional<Marked> mark = TakeMark(desired.key);
  const bool premarked = mark.has_value();
  if (!mark) mark = Unmarked(desired.key);
  auto restore = [&] { Restore(*mark); };
  if (first != nullptr) {
    // Sent already (Target::CreateUsers), after MarkCreates marked it: only the
    // answer is left to handle, whatever has happened since.
  } else if (seats_exhausted_) {
    // A 428 earlier in this run: the licence has no seats; do not hammer it.
    SeatBlock(mark->before, "waiting for a free licence seat: " + seat_detail());
    return;
  } else if (runner_.Stopping()) {
    if (premarked) restore();
    return;
  }
  KnownUser row = MarkedForCreate(mark->before, stale_id);
  // Written before the POST (see MarkCreates), unless MarkCreates did.
  if (!premarked) overlay_.PutUser(row);

  const std::string& name = desired.Get(Attr::kUserName);
  // A create whose answer was lost is not sent again before a lookup by externalId
  // shows that it did not land.
  auto find = [&] { return CreateFoundBy(LookUp(desired.key, "")); };
  Answer a = runner_.SendCreate(Verb::kCreateUser, "create user " + name,
                                [&] { return target_.CreateUser(desired); }, find, first);
  const TargetResponse& r = a.response;
  switch (a.action) {
    case Action::kDone:
      row.target_id = r.user->id;
      Synced(row, desired.values);
      counters_.Add(Counter::kUsersCreated);
      if (Log().Enabled(LogLevel::kInfo)) {  // the fields cost a few allocations
        LogInfo("user_created", {{"key", row.key}, {"user", name}, {"id", row.target_id}});
      }
      return;
    case Action::kUnconfirmed:
      // The target says it created the user but we cannot tell its id: a failure
      // of this object, left uncertain so the next cycle finds it by filter.
      row.last_error = "the target answered " + r.Summary() +
                       " to the create but no user id could be read from the response; "
                       "the user will be looked up next cycle";
      row.attempts += 1;
      counters_.Add(Counter::kFailed);
      LogWarn("user_failed", {{"key", row.key}, {"user", name}, {"error", row.last_error}});
      overlay_.PutUser(row);
      return;
    case Action::kAdopt:
      // The row stays uncertain (as marked) until Adopt confirms which user it is:
      // a lookup cut short by a stop leaves it to the next cycle's lookup (DESIGN §4).
      Adopt(desired, r.Summary());
      return;
    case Action::kSeatBlock:
      SeatBlock(row, r.Summary());
      return;
    case Action::kTransient:
    case Action::kThrottle:
      row.uncertain = a.maybe_applied;
      Fail(row, &desired, r, /*permanent=*/false);
      return;
    case Action::kUnreachable:
    case Action::kStopAuth:
    case Action::kCancelled:
      if (!a.maybe_applied) return restore();
      Fail(row, &desired, r, /*permanent=*/false);  // stays uncertain
      return;
    case Action::kReject:
    case Action::kGone:
    case Action::kReResolve:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      row.uncertain = a.maybe_applied;
      Fail(row, &desired, r, /*permanent=*/true);
      return;
  }
}

// Matching a user that may already exist (DESIGN §3): by externalId first, then by
// userName. Stops at the first attribute that matches anything.
Lookup<RemoteUser> UserOps::LookUp(const std::string& key, const std::string& user_name) {
  return LookUpByKeyThenName<RemoteUser>(
      runner_, "user", "userName", key, user_name, [&](std::string_view attr, const std::string& v) {
        UserQuery q = target_.FindUsers(attr, v);
        return std::make_pair(q.response, std::move(q.users));
      });
}

void UserOps::Adopt(const User& desired, const std::string& why) {
  KnownUser row = overlay_.User(desired.key);
  Lookup<RemoteUser> q = LookUp(desired.key, desired.Get(Attr::kUserName));
  if (q.answer.action != Action::kDone) {
    if (q.answer.action == Action::kStopAuth || q.answer.action == Action::kCancelled) return;
    Fail(row, &desired, q.answer.response, q.answer.action == Action::kReject);
    return;
  }
  if (q.found.size() != 1) {
    Conflict(row, desired,
             why + "; lookup by externalId and userName found " + std::to_string(q.found.size()) +
                 " users, so nothing was adopted");
    return;
  }
  const RemoteUser& remote = q.found.front();
  if (!remote.external_id.empty() && remote.external_id != desired.key) {
    Conflict(row, desired,
             why + "; userName belongs to target user " + remote.id + " with externalId \"" +
                 remote.external_id + "\"");
    return;
  }
  row.target_id = remote.id;
  row.values = remote.values;
  row.status = ObjectStatus::kSynced;
  row.uncertain = false;
  overlay_.PutUser(row);
  counters_.Add(Counter::kUsersAdopted);
  LogInfo("user_adopted", {{"key", row.key},
                           {"user", desired.Get(Attr::kUserName)},
                           {"id", row.target_id},
                           {"reason", why}});
  // Adopting writes the key as its externalId (DESIGN §3), in the same PATCH.
  Patch(row, desired, Verb::kPatchUser, remote.values,
        DiffUser(remote.values, desired.values, options_.keep), /*adopting=*/true,
        remote.external_id == desired.key ? "" : desired.key);
}

// ---------------------------------------------------------------------------
// Adopt, bind, conflict as planned from a target snapshot

void UserOps::AdoptPlanned(const Operation& op) {
  KnownUser row = overlay_.User(op.key);
  const std::string name = op.user.Get(Attr::kUserName);
  const AttrValues have = op.target_values ? *op.target_values : row.values;
  Answer a = runner_.SendWithIfMatch(
      Verb::kPatchUser, "adopt user " + name,
      [&](const std::string& etag, const TargetResponse*) {
        if (op.changes.empty() && op.external_id.empty()) return NothingToSend();
        return target_.PatchUserExternalId(op.target_id, op.external_id, op.changes, etag);
      },
      [&] { return target_.GetUser(op.target_id); });
  const TargetResponse& r = a.response;
  switch (a.action) {
    case Action::kDone:
      row.target_id = op.target_id;
      Synced(row, Applied(have, op.changes));
      counters_.Add(Counter::kUsersAdopted);
      LogInfo("user_adopted", {{"key", row.key}, {"user", name}, {"id", row.target_id},
                               {"reason", op.detail}});
      return;
    case Action::kReResolve:
    case Action::kGone:
      // Vanished since the read: the next cycle creates it.
      LogWarn("user_missing_on_target", {{"key", row.key}, {"id", op.target_id}});
      row.target_id.clear();
      row.uncertain = false;
      row.status = ObjectStatus::kPending;
      overlay_.PutUser(row);
      return;
    case Action::kReject:
    case Action::kAdopt:
      row.target_id.clear();
      Conflict(row, op.user, r.Summary());
      return;
    case Action::kSeatBlock:
      SeatBlock(row, r.Summary());
      return;
    case Action::kTransient:
    case Action::kThrottle:
    case Action::kUnreachable:
      Fail(row, &op.user, r, /*permanent=*/false);
      return;
    case Action::kStopAuth:
    case Action::kCancelled:
      return;
    case Action::kUnconfirmed:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      Fail(row, &op.user, r, /*permanent=*/true);
      return;
  }
}

void UserOps::Bind(const Operation& op) {
  KnownUser row = overlay_.User(op.key);
  if (op.target_id.empty()) {
    // The leaver is gone from the target, and its memberships with it.
    overlay_.RemoveFromAllGroups(row.key);
    row.target_id.clear();
    row.status = ObjectStatus::kDeleted;
    row.uncertain = false;
    row.last_error.clear();
    row.attempts = 0;
    row.next_retry = SysTime{};
    overlay_.PutUser(row);
    t_op_succeeded = true;
    LogInfo("user_bound", {{"key", row.key}, {"id", ""}, {"detail", op.detail}});
    return;
  }
  row.target_id = op.target_id;
  Synced(row, op.target_values ? *op.target_values : row.values);
  LogInfo("user_bound", {{"key", row.key}, {"id", row.target_id}, {"detail", op.detail}});
}

void UserOps::PlannedConflict(const Operation& op) {
  KnownUser row = overlay_.User(op.key);
  row.target_id.clear();
  Conflict(row, op.user, op.detail);
}

// ---------------------------------------------------------------------------
// Update

void UserOps::Update(const Operation& op) {
  KnownUser row = overlay_.User(op.key);
  if (row.target_id.empty()) return Create(op.user);
  const bool reactivate = IsReactivation(op.changes);
  if (reactivate && seats_exhausted_) {
    SeatBlock(row, "waiting for a free licence seat: " + seat_detail());
    return;
  }
  // Planned from a snapshot: the target's values are the base, not the row's.
  Patch(row, op.user, reactivate ? Verb::kReactivateUser : Verb::kPatchUser,
        op.target_values ? *op.target_values : row.values, op.changes, /*adopting=*/false,
        op.external_id);
}

void UserOps::Patch(KnownUser row, const User& desired, Verb verb, AttrValues have,
                    std::vector<AttrChange> changes, bool adopting,
                    const std::string& external_id) {
  const std::string name = desired.Get(Attr::kUserName);
  if (changes.empty() && external_id.empty()) {
    // Already as desired (an adopted user that matches): nothing to send.
    AttrValues values = desired.values;
    for (std::size_t i = 0; i < kAttrCount; ++i) {
      if (options_.keep[i] && desired.values[i].empty()) values.Set(i, have.View(i));
    }
    Synced(row, values);
    return;
  }
  Answer a = runner_.SendWithIfMatch(
      verb, std::string(VerbName(verb)) + " " + name,
      [&](const std::string& etag, const TargetResponse* current) {
        if (current && current->user) {
          // Re-plan against what the target holds now.
          have = current->user->values;
          changes = DiffUser(have, desired.values, options_.keep);
          if (changes.empty() && external_id.empty()) return NothingToSend();
        }
        if (!external_id.empty()) {
          return target_.PatchUserExternalId(row.target_id, external_id, changes, etag);
        }
        return target_.PatchUser(row.target_id, changes, etag);
      },
      [&] { return target_.GetUser(row.target_id); });
  const TargetResponse& r = a.response;
  switch (a.action) {
    case Action::kDone:
      Synced(row, Applied(have, changes));
      if (!adopting) counters_.Add(Counter::kUsersUpdated);
      if (!Log().Enabled(LogLevel::kInfo)) return;
      LogInfo(verb == Verb::kReactivateUser ? "user_reactivated" : "user_updated",
              {{"key", row.key}, {"user", name}, {"id", row.target_id},
               {"changes", changes.size()}});
      return;
    case Action::kReResolve:
      // Gone from the target (deleted there by hand): create it again (a 409
      // then finds it if it was only renamed).
      LogWarn("user_missing_on_target", {{"key", row.key}, {"id", row.target_id}});
      row.target_id.clear();
      row.status = ObjectStatus::kPending;
      overlay_.PutUser(row);
      Create(desired);
      return;
    case Action::kSeatBlock:
      SeatBlock(row, r.Summary());
      return;
    case Action::kTransient:
    case Action::kThrottle:
    case Action::kUnreachable:
      Fail(row, &desired, r, /*permanent=*/false);
      return;
    case Action::kStopAuth:
    case Action::kCancelled:
      return;
    case Action::kReject:
    case Action::kUnconfirmed:
    case Action::kGone:
    case Action::kAdopt:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      Fail(row, &desired, r, /*permanent=*/true);
      return;
  }
}

// ---------------------------------------------------------------------------
// Deprovision

void UserOps::Deprovision(const Operation& op) {
  KnownUser row = overlay_.User(op.key);
  const bool del = op.kind == OpKind::kDeleteUser;
  if (row.target_id.empty()) {
    row.status = del ? ObjectStatus::kDeleted : ObjectStatus::kDisabled;
    overlay_.PutUser(row);
    return;
  }
  const Verb verb = del ? Verb::kDeleteUser : Verb::kDisableUser;
  const std::vector<AttrChange> changes = {
      {Attr::kActive, row.values[kActive].empty() ? "true" : row.values[kActive], "false"}};
  Answer a = runner_.SendWithIfMatch(
      verb, std::string(VerbName(verb)) + " " + op.label,
      [&](const std::string& etag, const TargetResponse*) {
        return del ? target_.DeleteUser(row.target_id, etag)
                   : target_.PatchUser(row.target_id, changes, etag);
      },
      [&] { return target_.GetUser(row.target_id); });
  switch (a.action) {
    case Action::kDone:
    case Action::kGone:
      if (del && a.action == Action::kDone && options_.delete_locks) {
        // The DELETE locked the user (Keeper): still there under the same id, so the
        // row keeps it, disabled, and is not deleted again; a re-hire re-activates it.
        // Its memberships were removed in phase 4 (core/planner.h).
        row.values.Set(kActive, "false");
        row.status = ObjectStatus::kDisabled;
        counters_.Add(Counter::kUsersDeleted);
      } else if (del || a.action == Action::kGone) {
        // Gone: the target drops its memberships with it.
        overlay_.RemoveFromAllGroups(row.key);
        row.target_id.clear();
        row.status = ObjectStatus::kDeleted;
        counters_.Add(Counter::kUsersDeleted);
      } else {
        row.values.Set(kActive, "false");
        row.status = ObjectStatus::kDisabled;
        counters_.Add(Counter::kUsersDisabled);
      }
      row.uncertain = false;
      row.last_error.clear();
      row.attempts = 0;
      row.next_retry = SysTime{};
      overlay_.PutUser(row);
      t_op_succeeded = true;
      LogInfo(row.status == ObjectStatus::kDeleted ? "user_deleted"
              : del                                ? "user_locked"
                                                   : "user_disabled",
              {{"key", row.key}, {"user", op.label}});
      return;
    case Action::kTransient:
    case Action::kThrottle:
    case Action::kUnreachable:
      Fail(row, nullptr, a.response, /*permanent=*/false);
      return;
    case Action::kStopAuth:
    case Action::kCancelled:
      return;
    case Action::kReject:
    case Action::kUnconfirmed:
    case Action::kAdopt:
    case Action::kSeatBlock:
    case Action::kReResolve:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      Fail(row, nullptr, a.response, /*permanent=*/true);
      return;
  }
}

// ---------------------------------------------------------------------------
// Resolve

void UserOps::Resolve(const Operation& op) {
  KnownUser row = overlay_.User(op.key);
  std::optional<RemoteUser> remote;
  auto unresolved = [&](const Answer& a) {
    // Stays uncertain; the next cycle tries again.
    if (a.action == Action::kStopAuth || a.action == Action::kCancelled) return;
    row.last_error = a.response.Summary();
    overlay_.PutUser(row);
  };
  if (!row.target_id.empty()) {
    Answer a = runner_.Send(Verb::kGet, "read user " + op.label,
                            [&] { return target_.GetUser(row.target_id); });
    if (a.action == Action::kDone) {
      remote = a.response.user;
    } else if (a.action == Action::kGone) {
      row.target_id.clear();
    } else {
      return unresolved(a);
    }
  }
  int matches = 0;
  if (!remote) {
    std::string user_name = row.values[kUserName];
    if (user_name.empty()) user_name = op.user.Get(Attr::kUserName);
    Lookup<RemoteUser> q = LookUp(row.key, user_name);
    if (q.answer.action != Action::kDone) return unresolved(q.answer);
    matches = static_cast<int>(q.found.size());
    if (matches == 1 && (q.found[0].external_id.empty() || q.found[0].external_id == row.key)) {
      remote = q.found[0];
    }
  }
  row.uncertain = false;
  if (remote) {
    row.target_id = remote->id;
    row.values = remote->values;
    row.status = remote->values[kActive] == "false" ? ObjectStatus::kDisabled
                                                    : ObjectStatus::kSynced;
    row.last_error.clear();
    LogInfo("user_resolved", {{"key", row.key}, {"id", row.target_id}});
  } else if (matches > 0) {
    row.status = ObjectStatus::kConflict;
    row.last_error = "lookup found " + std::to_string(matches) +
                     " target users that could be this one; not adopted";
    row.next_retry = FailedRetryAt(options_, clock_.Now(), ++row.attempts);
    counters_.Add(Counter::kConflicts);
    LogWarn("user_conflict", {{"key", row.key}, {"error", row.last_error}});
  } else {
    // Not on the target: the create never happened. The next plan creates it.
    row.target_id.clear();
    row.status = ObjectStatus::kPending;
    LogInfo("user_resolved", {{"key", row.key}, {"id", ""}, {"found", "0"}});
  }
  overlay_.PutUser(row);
}

}  // namespace scimsync
