#include "daemon/executor.h"

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "core/log.h"

namespace scimsync {
namespace {

std::string ToStr(long v) { return std::to_string(v); }

// Jitter in [0.5, 1.5): spreads retries of many workers and many instances.
double Jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.5, 1.5)(rng);
}

bool IsThrottle(const TargetResponse& r) {
  return r.transport == Transport::kOk && (r.status == 429 || r.status == 503);
}

bool IsTransient(const TargetResponse& r) {
  return r.OutcomeUnknown() || IsThrottle(r) || r.transport == Transport::kConnect;
}

// Values after applying `changes` to `values`.
AttrValues Applied(AttrValues values, const std::vector<AttrChange>& changes) {
  for (const auto& c : changes) values[static_cast<std::size_t>(c.attr)] = c.new_value;
  return values;
}

std::vector<std::vector<std::string>> Chunks(const std::vector<std::string>& v, std::size_t n) {
  std::vector<std::vector<std::string>> out;
  for (std::size_t i = 0; i < v.size(); i += n) {
    out.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(i),
                     v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), i + n)));
  }
  return out;
}

}  // namespace

Executor::Executor(Target& target, StateStore& state, Clock& clock, ExecutorOptions options,
                   const KnownState& known)
    : target_(target), state_(state), clock_(clock), options_(options), known_(known) {
  options_.max_connections = std::max(1, options_.max_connections);
  options_.members_per_request = std::max(1, options_.members_per_request);
  allowed_workers_ = options_.max_connections;
}

// ---------------------------------------------------------------------------
// Running phases

Status Executor::Run(const Plan& plan, Phase first, Phase last) {
  total_ = 0;
  for (const auto& op : plan.ops) {
    Phase p = PhaseOf(op.kind);
    if (p >= first && p <= last) ++total_;
  }
  for (int p = static_cast<int>(first); p <= static_cast<int>(last) && !Stopping(); ++p) {
    // Phase 3 has two steps: groups must exist before members are added to them.
    std::vector<const Operation*> step1, step2;
    for (const auto& op : plan.ops) {
      if (static_cast<int>(PhaseOf(op.kind)) != p) continue;
      (op.kind == OpKind::kAddMembers ? step2 : step1).push_back(&op);
    }
    RunBatch(step1);
    if (!Stopping()) RunBatch(step2);
  }
  if (creates_blocked_) {
    LogWarn("seats_exhausted",
            {{"seat_blocked", ToStr(counters_.seat_blocked)},
             {"detail", seat_detail_},
             {"message", "the target has no free licence seats; creates stopped for this "
                         "cycle and will be retried next cycle"}});
  }
  if (!Stopping() && successes_ == 0 && transient_failures_ > 0) {
    std::string last;
    {
      std::lock_guard lock(mu_);
      last = last_transient_;
    }
    Stop(ErrorCode::kUnavailable, "target unavailable: all " +
                                      std::to_string(transient_failures_.load()) +
                                      " requests failed after retries, last: " + last);
  }
  std::lock_guard lock(mu_);
  if (stop_code_ != ErrorCode::kOk) return Status(stop_code_, stop_reason_);
  if (external_stop_ && external_stop_->load()) {
    return Status(ErrorCode::kCancelled, "stop requested");
  }
  return Status::Ok();
}

void Executor::RunBatch(const std::vector<const Operation*>& ops) {
  if (ops.empty()) return;
  std::atomic<std::size_t> next{0};
  auto worker = [&](int index) {
    while (!Stopping() && index < allowed_workers_.load()) {
      std::size_t i = next.fetch_add(1);
      if (i >= ops.size()) return;
      Execute(*ops[i]);
      int done = ++done_;
      if (progress_ && (done % 100 == 0 || done == total_)) progress_(done, total_);
    }
  };
  int n = std::min<int>(allowed_workers_.load(), static_cast<int>(ops.size()));
  if (n <= 1) {
    worker(0);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  // Workers that left because concurrency was lowered may leave work behind.
  if (!Stopping() && next.load() < ops.size()) {
    std::vector<const Operation*> rest;
    for (std::size_t i = next.load(); i < ops.size(); ++i) rest.push_back(ops[i]);
    RunBatch(rest);
  }
}

void Executor::Execute(const Operation& op) {
  switch (op.kind) {
    case OpKind::kResolveUser: return ResolveUser(op);
    case OpKind::kResolveGroup: return ResolveGroup(op);
    case OpKind::kCreateUser: return CreateUser(op.user);
    case OpKind::kUpdateUser: return UpdateUser(op);
    case OpKind::kDisableUser:
    case OpKind::kDeleteUser: return Deprovision(op);
    case OpKind::kCreateGroup: return CreateGroup(op);
    case OpKind::kUpdateGroup: return UpdateGroup(op);
    case OpKind::kAddMembers: return AddMembers(op);
    case OpKind::kRemoveMembers: return RemoveMembers(op);
    case OpKind::kDeleteGroup: return DeleteGroup(op);
    // Issue 10 kinds (core/planner.h, "What the executor does"): not run yet.
    case OpKind::kAdoptUser:
    case OpKind::kBindUser:
    case OpKind::kConflictUser:
    case OpKind::kAdoptGroup:
    case OpKind::kBindGroup:
    case OpKind::kConflictGroup: return;
  }
}

// ---------------------------------------------------------------------------
// Requests, retries, stopping

bool Executor::Stopping() const {
  return stopped_.load() || (external_stop_ && external_stop_->load());
}

void Executor::Stop(ErrorCode code, std::string reason) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  stop_code_ = code;
  stop_reason_ = std::move(reason);
  LogError("cycle_stopping", {{"reason", stop_reason_}});
}

bool Executor::SleepInterruptible(Millis d) {
  auto until = clock_.Steady() + d;
  while (!Stopping()) {
    auto now = clock_.Steady();
    if (now >= until) return true;
    clock_.SleepFor(std::min<Millis>(Millis(200),
                                     std::chrono::duration_cast<Millis>(until - now)));
  }
  return false;
}

TargetResponse Executor::Call(const std::function<TargetResponse()>& send) {
  TargetResponse r;
  std::optional<TargetResponse> unknown;  // an earlier attempt may have been applied
  int throttles = 0;
  for (int attempt = 0;; ++attempt) {
    if (Stopping()) {
      if (unknown) return *unknown;
      r = TargetResponse{};
      r.transport = Transport::kCancelled;
      r.detail = "stop requested";
      return r;
    }
    r = send();
    if (!IsTransient(r)) return r;
    if (r.OutcomeUnknown()) unknown = r;
    Millis wait;
    if (IsThrottle(r)) {
      // 429/503 are the server asking us to slow down: honour Retry-After and run
      // fewer requests at once for the rest of this run. They get their own,
      // larger budget: being throttled is not a failure.
      if (r.status == 429) {
        int now = allowed_workers_.load();
        int lower = std::max(1, now / 2);
        if (lower < now && allowed_workers_.compare_exchange_strong(now, lower)) {
          LogWarn("rate_limited", {{"concurrency", ToStr(lower)}, {"detail", r.Summary()}});
        }
      }
      if (++throttles > options_.max_retries * 3) return r;
      --attempt;
      wait = r.retry_after ? std::chrono::duration_cast<Millis>(*r.retry_after)
                           : Millis(static_cast<long>(options_.retry_base.count() *
                                                      (1 << std::min(throttles, 8)) * Jitter()));
    } else {
      if (attempt >= options_.max_retries) return r;
      wait = Millis(static_cast<long>(options_.retry_base.count() * (1 << attempt) * Jitter()));
    }
    wait = std::min(wait, options_.max_retry_wait);
    LogDebug("request_retry", {{"attempt", ToStr(attempt + 1)},
                               {"wait_ms", ToStr(wait.count())},
                               {"detail", r.Summary()}});
    if (!SleepInterruptible(wait)) {
      // Stopped while waiting: report what we had.
      return r;
    }
  }
}

void Executor::NoteSuccess() {
  consecutive_failures_ = 0;
  ++successes_;
}

void Executor::NoteTransientFailure(const std::string& what, const TargetResponse& r) {
  int n = ++consecutive_failures_;
  ++transient_failures_;
  {
    std::lock_guard lock(mu_);
    last_transient_ = what + ": " + r.Summary();
  }
  if (r.transport == Transport::kConnect) {
    // Nothing reached the server, even after retries: every other request would
    // fail the same way.
    Stop(ErrorCode::kUnavailable, "target unreachable: " + r.detail);
    return;
  }
  if (n >= options_.max_failures_per_cycle) {
    Stop(ErrorCode::kUnavailable,
         "circuit breaker: " + std::to_string(n) + " requests in a row failed, last: " + what +
             ": " + r.Summary());
  }
}

bool Executor::StopIfFatal(const TargetResponse& r) {
  if (r.transport == Transport::kCancelled) return true;
  if (r.transport == Transport::kOk && (r.status == 401 || r.status == 403)) {
    Stop(ErrorCode::kAuth, "target refused the credentials: " + r.Summary() +
                               " (check target.token_file / token_env and the token's role)");
    return true;
  }
  return false;
}

void Executor::StoreError(const Status& s) {
  if (s.ok()) return;
  // The state store failing is not something to push on through: without it we
  // would lose track of what the target holds.
  Stop(ErrorCode::kIo, "state store: " + s.message());
}

// ---------------------------------------------------------------------------
// Known-state views

const KnownUser* Executor::FindUserLocked(const std::string& key) const {
  auto o = users_.find(key);
  if (o != users_.end()) return &o->second;
  auto it = std::lower_bound(known_.users.begin(), known_.users.end(), key,
                             [](const KnownUser& u, const std::string& k) { return u.key < k; });
  if (it != known_.users.end() && it->key == key) return &*it;
  return nullptr;
}

std::optional<KnownGroup> Executor::FindGroupLocked(const std::string& key) const {
  auto o = groups_.find(key);
  if (o != groups_.end()) return o->second;
  auto it = std::lower_bound(known_.groups.begin(), known_.groups.end(), key,
                             [](const KnownGroup& g, const std::string& k) { return g.key < k; });
  if (it != known_.groups.end() && it->key == key) return *it;
  return std::nullopt;
}

std::string Executor::KeyByIdLocked(const std::string& id) {
  if (!id_index_built_) {
    for (const auto& u : known_.users) {
      if (!u.target_id.empty() && !users_.count(u.key)) user_key_by_id_[u.target_id] = u.key;
    }
    for (const auto& [k, u] : users_) {
      if (!u.target_id.empty()) user_key_by_id_[u.target_id] = k;
    }
    id_index_built_ = true;
  }
  auto it = user_key_by_id_.find(id);
  return it == user_key_by_id_.end() ? std::string() : it->second;
}

std::vector<std::string> Executor::GroupsContainingLocked(const std::string& user_key) const {
  std::vector<std::string> out;
  auto has = [&](const KnownGroup& g) {
    return std::binary_search(g.members.begin(), g.members.end(), user_key);
  };
  for (const auto& g : known_.groups) {
    if (!groups_.count(g.key) && has(g)) out.push_back(g.key);
  }
  for (const auto& [k, g] : groups_) {
    if (g && has(*g)) out.push_back(k);
  }
  return out;
}

KnownUser Executor::UserRow(const std::string& key) {
  std::lock_guard lock(mu_);
  if (const KnownUser* u = FindUserLocked(key)) return *u;
  KnownUser u;
  u.key = key;
  return u;
}

KnownGroup Executor::GroupRow(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto g = FindGroupLocked(key)) return *g;
  KnownGroup g;
  g.key = key;
  return g;
}

void Executor::SaveUser(const KnownUser& row) {
  StoreError(state_.PutUser(row));
  std::lock_guard lock(mu_);
  if (id_index_built_) {
    if (const KnownUser* old = FindUserLocked(row.key);
        old && !old->target_id.empty() && old->target_id != row.target_id) {
      user_key_by_id_.erase(old->target_id);
    }
    if (!row.target_id.empty()) user_key_by_id_[row.target_id] = row.key;
  }
  users_[row.key] = row;
}

void Executor::SaveGroup(const KnownGroup& row) {
  StoreError(state_.PutGroup(row));
  std::lock_guard lock(mu_);
  groups_[row.key] = row;
}

void Executor::ForgetGroup(const std::string& key) {
  StoreError(state_.DeleteGroup(key));
  std::lock_guard lock(mu_);
  groups_[key] = std::nullopt;
}

std::string Executor::UserId(const std::string& key) {
  std::lock_guard lock(mu_);
  const KnownUser* u = FindUserLocked(key);
  if (!u || u->uncertain || u->status == ObjectStatus::kDeleted) return {};
  return u->target_id;
}

SysTime Executor::FailedRetryAt(int attempts) const {
  auto d = options_.failed_backoff * (1L << std::min(std::max(attempts - 1, 0), 16));
  return clock_.Now() + std::min<Millis>(d, options_.max_failed_backoff);
}

// ---------------------------------------------------------------------------
// Users

void Executor::FailUser(KnownUser row, const User* desired, const TargetResponse& r,
                        bool permanent) {
  row.last_error = r.Summary();
  row.attempts += 1;
  if (permanent) {
    // The target rejected this object: retry when its source changes, or after a
    // growing backoff.
    row.status = ObjectStatus::kFailed;
    row.next_retry = FailedRetryAt(row.attempts);
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
  counters_.failed++;
  (permanent ? LogWarn : LogDebug)("user_failed", {{"key", row.key},
                                                   {"user", desired ? desired->Get(Attr::kUserName)
                                                                    : row.values[0]},
                                                   {"error", row.last_error}});
  if (!permanent) LogWarn("user_deferred", {{"key", row.key}, {"error", row.last_error}});
  SaveUser(row);
}

void Executor::ConflictUser(KnownUser row, const User& desired, const std::string& message) {
  row.status = ObjectStatus::kConflict;
  row.uncertain = false;
  row.last_error = message;
  row.attempts += 1;
  row.next_retry = FailedRetryAt(row.attempts);
  row.failed_hash = SourceHash(desired);
  counters_.conflicts++;
  LogWarn("user_conflict", {{"key", row.key},
                            {"user", desired.Get(Attr::kUserName)},
                            {"error", message}});
  SaveUser(row);
}

void Executor::CreateUser(const User& desired) {
  KnownUser row = UserRow(desired.key);
  bool existed;
  {
    std::lock_guard lock(mu_);
    existed = FindUserLocked(desired.key) != nullptr;
  }
  const KnownUser before = row;
  // Nothing reached the target (refused connection, credentials refused, stop
  // requested before sending): put the row back exactly as it was.
  auto restore = [&] {
    if (existed) {
      SaveUser(before);
    } else {
      StoreError(state_.DeleteUser(before.key));
      std::lock_guard lock(mu_);
      users_.erase(before.key);
    }
  };
  if (creates_blocked_) {
    // A 428 earlier in this run: the licence has no seats; do not hammer it.
    row.status = ObjectStatus::kSeatBlocked;
    row.last_error = "waiting for a free licence seat: " + seat_detail_;
    counters_.seat_blocked++;
    SaveUser(row);
    return;
  }
  // Written before the POST: if we crash or lose the response, the next cycle
  // looks the user up instead of creating a duplicate.
  if (Stopping()) return;
  row.uncertain = true;
  if (row.status == ObjectStatus::kDeleted) row.target_id.clear();
  SaveUser(row);

  TargetResponse r = Call([&] { return target_.CreateUser(desired); });
  if (r.Ok()) {
    NoteSuccess();
    if (!r.user || r.user->id.empty()) {
      // 2xx without an id: keep it uncertain; the next cycle finds it by filter.
      row.last_error = "created, but the response carried no id";
      SaveUser(row);
      return;
    }
    row.target_id = r.user->id;
    row.values = desired.values;
    row.status = ObjectStatus::kSynced;
    row.uncertain = false;
    row.last_error.clear();
    row.attempts = 0;
    row.next_retry = SysTime{};
    row.failed_hash = 0;
    SaveUser(row);
    counters_.users_created++;
    LogInfo("user_created", {{"key", row.key},
                             {"user", desired.Get(Attr::kUserName)},
                             {"id", row.target_id}});
    return;
  }
  if (StopIfFatal(r)) {
    // Refused, or stopped before sending (a Call cancelled after a lost answer
    // returns that answer, not kCancelled): nothing was created.
    restore();
    return;
  }
  if (r.transport == Transport::kConnect) {
    restore();
    NoteTransientFailure("create user " + desired.Get(Attr::kUserName), r);
    return;
  }
  if (r.OutcomeUnknown() || IsTransient(r)) {
    NoteTransientFailure("create user " + desired.Get(Attr::kUserName), r);
    FailUser(row, &desired, r, /*permanent=*/false);
    return;
  }
  NoteSuccess();
  row.uncertain = false;
  if (r.status == 409) {
    SaveUser(row);
    AdoptUser(desired, r.Summary());
    return;
  }
  if (r.status == 428) {
    bool first = !creates_blocked_.exchange(true);
    if (first) {
      std::lock_guard lock(mu_);
      seat_detail_ = r.Summary();
    }
    row.status = ObjectStatus::kSeatBlocked;
    row.last_error = r.Summary();
    counters_.seat_blocked++;
    SaveUser(row);
    return;
  }
  FailUser(row, &desired, r, /*permanent=*/true);
}

// Matching an object that may already exist (DESIGN §3): by externalId first, then
// by its name. Stops at the first attribute that matches anything; a failed read
// comes back as a response that is not Ok().
UserQuery Executor::LookUpUser(const std::string& key, const std::string& user_name) {
  UserQuery q;
  for (std::string_view attr : {"externalId", "userName"}) {
    const std::string& value = attr == "externalId" ? key : user_name;
    if (value.empty()) continue;
    q.users.clear();
    q.response = Call([&] {
      UserQuery inner = target_.FindUsers(attr, value);
      q.users = std::move(inner.users);
      return inner.response;
    });
    if (!q.response.Ok() || !q.users.empty()) return q;
  }
  if (q.response.status == 0) q.response.status = 200;  // nothing to look up by
  return q;
}

GroupQuery Executor::LookUpGroup(const std::string& key, const std::string& display_name) {
  GroupQuery q;
  for (std::string_view attr : {"externalId", "displayName"}) {
    const std::string& value = attr == "externalId" ? key : display_name;
    if (value.empty()) continue;
    q.groups.clear();
    q.response = Call([&] {
      GroupQuery inner = target_.FindGroups(attr, value);
      q.groups = std::move(inner.groups);
      return inner.response;
    });
    if (!q.response.Ok() || !q.groups.empty()) return q;
  }
  if (q.response.status == 0) q.response.status = 200;
  return q;
}

bool Executor::AdoptUser(const User& desired, const std::string& why) {
  KnownUser row = UserRow(desired.key);
  UserQuery q = LookUpUser(desired.key, desired.Get(Attr::kUserName));
  if (!q.response.Ok()) {
    if (StopIfFatal(q.response)) return false;
    NoteTransientFailure("find user", q.response);
    FailUser(row, &desired, q.response, !IsTransient(q.response));
    return false;
  }
  std::vector<RemoteUser> found = std::move(q.users);
  if (found.size() != 1) {
    ConflictUser(row, desired,
                 why + "; lookup by externalId and userName found " +
                     std::to_string(found.size()) + " users, so nothing was adopted");
    return false;
  }
  const RemoteUser& remote = found.front();
  if (!remote.external_id.empty() && remote.external_id != desired.key) {
    ConflictUser(row, desired,
                 why + "; userName belongs to target user " + remote.id + " with externalId \"" +
                     remote.external_id + "\"");
    return false;
  }
  row.target_id = remote.id;
  row.values = remote.values;
  row.status = ObjectStatus::kSynced;
  row.uncertain = false;
  SaveUser(row);
  counters_.users_adopted++;
  LogInfo("user_adopted", {{"key", row.key},
                           {"user", desired.Get(Attr::kUserName)},
                           {"id", row.target_id},
                           {"reason", why}});
  return PatchToDesired(row, remote.values, desired, "");
}

// PATCHes the user from `have` to `desired` (no request when they already match).
bool Executor::PatchToDesired(KnownUser& row, const AttrValues& have, const User& desired,
                              const std::string& etag) {
  std::vector<AttrChange> changes = DiffUser(have, desired.values, options_.keep);
  if (changes.empty()) {
    row.values = desired.values;
    for (std::size_t i = 0; i < kAttrCount; ++i) {
      if (options_.keep[i] && desired.values[i].empty()) row.values[i] = have[i];
    }
    row.status = desired.Active() ? ObjectStatus::kSynced : row.status;
    row.last_error.clear();
    row.attempts = 0;
    SaveUser(row);
    return true;
  }
  TargetResponse r = Call([&] { return target_.PatchUser(row.target_id, changes, etag); });
  if (!r.Ok()) {
    if (StopIfFatal(r)) return false;
    if (IsTransient(r)) {
      NoteTransientFailure("patch user " + desired.Get(Attr::kUserName), r);
      FailUser(row, &desired, r, false);
    } else {
      FailUser(row, &desired, r, true);
    }
    return false;
  }
  NoteSuccess();
  row.values = Applied(have, changes);
  row.status = ObjectStatus::kSynced;
  row.uncertain = false;
  row.last_error.clear();
  row.attempts = 0;
  row.next_retry = SysTime{};
  row.failed_hash = 0;
  SaveUser(row);
  counters_.users_updated++;
  LogInfo("user_updated", {{"key", row.key},
                           {"user", desired.Get(Attr::kUserName)},
                           {"id", row.target_id},
                           {"changes", std::to_string(changes.size())}});
  return true;
}

void Executor::UpdateUser(const Operation& op) {
  KnownUser row = UserRow(op.key);
  if (row.target_id.empty()) {
    CreateUser(op.user);
    return;
  }
  TargetResponse r = Call([&] { return target_.PatchUser(row.target_id, op.changes); });
  if (r.Ok()) {
    NoteSuccess();
    bool reactivated = row.status == ObjectStatus::kDisabled && op.user.Active();
    row.values = Applied(row.values, op.changes);
    row.status = row.values[static_cast<std::size_t>(Attr::kActive)] == "false"
                     ? ObjectStatus::kDisabled
                     : ObjectStatus::kSynced;
    row.uncertain = false;
    row.last_error.clear();
    row.attempts = 0;
    row.next_retry = SysTime{};
    row.failed_hash = 0;
    SaveUser(row);
    counters_.users_updated++;
    LogInfo(reactivated ? "user_reactivated" : "user_updated",
            {{"key", row.key}, {"user", op.user.Get(Attr::kUserName)}, {"id", row.target_id},
             {"changes", std::to_string(op.changes.size())}});
    return;
  }
  if (StopIfFatal(r)) return;
  if (IsTransient(r)) {
    NoteTransientFailure("patch user " + op.label, r);
    FailUser(row, &op.user, r, false);
    return;
  }
  NoteSuccess();
  if (r.status == 404) {
    // Gone from the target (deleted there by hand): find it again, or create it.
    LogWarn("user_missing_on_target", {{"key", row.key}, {"id", row.target_id}});
    row.target_id.clear();
    row.status = ObjectStatus::kPending;
    SaveUser(row);
    CreateUser(op.user);
    return;
  }
  if (r.status == 412 || r.status == 428) {
    // ETag mismatch (412) or precondition required (428 on PATCH): re-read the
    // user, re-diff against what it holds now and retry once with If-Match.
    TargetResponse got = Call([&] { return target_.GetUser(row.target_id); });
    if (got.Ok() && got.user) {
      PatchToDesired(row, got.user->values, op.user, got.etag);
      return;
    }
    if (StopIfFatal(got)) return;
    FailUser(row, &op.user, got.Ok() ? r : got, !IsTransient(got));
    return;
  }
  FailUser(row, &op.user, r, true);
}

void Executor::Deprovision(const Operation& op) {
  KnownUser row = UserRow(op.key);
  bool del = op.kind == OpKind::kDeleteUser;
  if (row.target_id.empty()) {
    row.status = del ? ObjectStatus::kDeleted : ObjectStatus::kDisabled;
    SaveUser(row);
    return;
  }
  std::vector<AttrChange> changes = {
      {Attr::kActive, row.values[static_cast<std::size_t>(Attr::kActive)].empty()
                          ? "true"
                          : row.values[static_cast<std::size_t>(Attr::kActive)],
       "false"}};
  TargetResponse r = Call([&] {
    return del ? target_.DeleteUser(row.target_id) : target_.PatchUser(row.target_id, changes);
  });
  if (StopIfFatal(r)) return;
  if (!r.Ok() && IsTransient(r)) {
    NoteTransientFailure(std::string(del ? "delete" : "disable") + " user " + op.label, r);
    FailUser(row, nullptr, r, false);
    return;
  }
  NoteSuccess();
  if (r.Ok() || r.status == 404) {
    if (del || r.status == 404) {
      // Gone: the target drops its memberships with it.
      std::vector<std::string> groups;
      {
        std::lock_guard lock(mu_);
        groups = GroupsContainingLocked(row.key);
        for (const auto& gk : groups) {
          std::optional<KnownGroup> g = FindGroupLocked(gk);
          auto it = std::lower_bound(g->members.begin(), g->members.end(), row.key);
          g->members.erase(it);
          groups_[gk] = std::move(g);
        }
      }
      for (const auto& gk : groups) StoreError(state_.RemoveMembers(gk, {row.key}));
      row.target_id.clear();
      row.status = ObjectStatus::kDeleted;
      counters_.users_deleted++;
    } else {
      row.values[static_cast<std::size_t>(Attr::kActive)] = "false";
      row.status = ObjectStatus::kDisabled;
      counters_.users_disabled++;
    }
    row.uncertain = false;
    row.last_error.clear();
    row.attempts = 0;
    row.next_retry = SysTime{};
    SaveUser(row);
    LogInfo(row.status == ObjectStatus::kDeleted ? "user_deleted" : "user_disabled",
            {{"key", row.key}, {"user", op.label}});
    return;
  }
  FailUser(row, nullptr, r, true);
}

void Executor::ResolveUser(const Operation& op) {
  KnownUser row = UserRow(op.key);
  std::optional<RemoteUser> remote;
  if (!row.target_id.empty()) {
    TargetResponse r = Call([&] { return target_.GetUser(row.target_id); });
    if (r.Ok() && r.user) {
      remote = r.user;
    } else if (r.transport == Transport::kOk && r.status == 404) {
      row.target_id.clear();
    } else {
      if (StopIfFatal(r)) return;
      NoteTransientFailure("read user", r);
      row.last_error = r.Summary();
      SaveUser(row);  // stays uncertain
      return;
    }
  }
  int matches = 0;
  if (!remote) {
    std::string user_name = row.values[static_cast<std::size_t>(Attr::kUserName)];
    if (user_name.empty()) user_name = op.user.Get(Attr::kUserName);
    UserQuery q = LookUpUser(row.key, user_name);
    if (!q.response.Ok()) {
      if (StopIfFatal(q.response)) return;
      NoteTransientFailure("find user", q.response);
      row.last_error = q.response.Summary();
      SaveUser(row);
      return;
    }
    matches = static_cast<int>(q.users.size());
    if (matches == 1 && (q.users[0].external_id.empty() || q.users[0].external_id == row.key)) {
      remote = q.users[0];
    }
  }
  NoteSuccess();
  counters_.resolved++;
  row.uncertain = false;
  if (remote) {
    row.target_id = remote->id;
    row.values = remote->values;
    row.status = remote->values[static_cast<std::size_t>(Attr::kActive)] == "false"
                     ? ObjectStatus::kDisabled
                     : ObjectStatus::kSynced;
    row.last_error.clear();
    LogInfo("user_resolved", {{"key", row.key}, {"id", row.target_id}});
  } else if (matches > 1 || matches == 1) {
    row.status = ObjectStatus::kConflict;
    row.last_error = "lookup found " + std::to_string(matches) +
                     " target users that could be this one; not adopted";
    row.next_retry = FailedRetryAt(++row.attempts);
    counters_.conflicts++;
    LogWarn("user_conflict", {{"key", row.key}, {"error", row.last_error}});
  } else {
    // Not on the target: the create never happened. The next plan creates it.
    row.target_id.clear();
    row.status = ObjectStatus::kPending;
    LogInfo("user_resolved", {{"key", row.key}, {"id", ""}, {"found", "0"}});
  }
  SaveUser(row);
}

// ---------------------------------------------------------------------------
// Groups

void Executor::FailGroup(KnownGroup row, const TargetResponse& r, bool permanent) {
  row.last_error = r.Summary();
  row.attempts += 1;
  if (permanent) {
    row.status = ObjectStatus::kFailed;
    row.next_retry = FailedRetryAt(row.attempts);
  }
  counters_.failed++;
  LogWarn(permanent ? "group_failed" : "group_deferred",
          {{"key", row.key}, {"group", row.display_name}, {"error", row.last_error}});
  SaveGroup(row);
}

void Executor::CreateGroup(const Operation& op) {
  KnownGroup row = GroupRow(op.key);
  row.display_name = row.display_name.empty() ? op.group.display_name : row.display_name;
  row.uncertain = true;
  if (row.status == ObjectStatus::kDeleted) row.target_id.clear();
  SaveGroup(row);
  if (Stopping()) return;
  TargetResponse r = Call([&] { return target_.CreateGroup(op.group); });
  auto adopt = [&](const RemoteGroup& g, const char* event) {
    row.target_id = g.id;
    row.display_name = g.display_name.empty() ? op.group.display_name : g.display_name;
    row.members.clear();
    {
      std::lock_guard lock(mu_);
      for (const auto& id : g.member_ids) {
        std::string key = KeyByIdLocked(id);
        if (!key.empty()) row.members.push_back(std::move(key));
      }
    }
    std::sort(row.members.begin(), row.members.end());
    row.status = ObjectStatus::kSynced;
    row.uncertain = false;
    row.last_error.clear();
    row.attempts = 0;
    SaveGroup(row);
    LogInfo(event, {{"key", row.key}, {"group", row.display_name}, {"id", row.target_id}});
  };
  if (r.Ok() && r.group && !r.group->id.empty()) {
    NoteSuccess();
    counters_.groups_created++;
    RemoteGroup g = *r.group;
    g.member_ids.clear();
    adopt(g, "group_created");
    if (row.display_name != op.group.display_name) {
      row.display_name = op.group.display_name;
      SaveGroup(row);
    }
    return;
  }
  if (r.Ok()) {
    row.last_error = "created, but the response carried no id";
    SaveGroup(row);
    return;
  }
  if (StopIfFatal(r)) {
    if (r.transport != Transport::kCancelled) {
      row.uncertain = false;
      SaveGroup(row);
    }
    return;
  }
  if (IsTransient(r)) {
    row.uncertain = r.transport != Transport::kConnect;
    NoteTransientFailure("create group " + op.label, r);
    FailGroup(row, r, false);
    return;
  }
  NoteSuccess();
  row.uncertain = false;
  if (r.status == 409) {
    GroupQuery q = LookUpGroup(op.key, op.group.display_name);
    if (!q.response.Ok()) {
      if (StopIfFatal(q.response)) return;
      FailGroup(row, q.response, !IsTransient(q.response));
      return;
    }
    if (q.groups.size() == 1) {
      adopt(q.groups[0], "group_adopted");
      return;
    }
    row.status = ObjectStatus::kConflict;
    row.last_error = r.Summary() + "; lookup by externalId and displayName found no single group";
    row.next_retry = FailedRetryAt(++row.attempts);
    counters_.conflicts++;
    LogWarn("group_conflict", {{"key", row.key}, {"error", row.last_error}});
    SaveGroup(row);
    return;
  }
  FailGroup(row, r, true);
}

void Executor::UpdateGroup(const Operation& op) {
  KnownGroup row = GroupRow(op.key);
  if (row.target_id.empty()) return CreateGroup(op);
  TargetResponse r =
      Call([&] { return target_.RenameGroup(row.target_id, op.group.display_name); });
  if (r.Ok()) {
    NoteSuccess();
    row.display_name = op.group.display_name;
    row.status = ObjectStatus::kSynced;
    row.last_error.clear();
    row.attempts = 0;
    SaveGroup(row);
    counters_.groups_updated++;
    LogInfo("group_renamed", {{"key", row.key}, {"group", row.display_name}});
    return;
  }
  if (StopIfFatal(r)) return;
  if (IsTransient(r)) {
    NoteTransientFailure("rename group " + op.label, r);
    return FailGroup(row, r, false);
  }
  NoteSuccess();
  if (r.status == 404) {
    LogWarn("group_missing_on_target", {{"key", row.key}, {"id", row.target_id}});
    ForgetGroup(row.key);  // the next plan creates it again with its members
    return;
  }
  FailGroup(row, r, true);
}

void Executor::AddMembers(const Operation& op) {
  KnownGroup row = GroupRow(op.key);
  if (row.target_id.empty() || row.uncertain) return;  // create failed: next cycle
  std::vector<std::string> keys, ids;
  for (const auto& k : op.members) {
    std::string id = UserId(k);
    if (id.empty()) continue;  // user not (yet) on the target: next cycle
    keys.push_back(k);
    ids.push_back(id);
  }
  std::size_t chunk = static_cast<std::size_t>(options_.members_per_request);
  std::size_t i = 0;
  while (i < ids.size() && !Stopping()) {
    std::size_t n = std::min(chunk, ids.size() - i);
    std::vector<std::string> chunk_ids(ids.begin() + static_cast<std::ptrdiff_t>(i),
                                       ids.begin() + static_cast<std::ptrdiff_t>(i + n));
    TargetResponse r = Call([&] { return target_.PatchGroupMembers(row.target_id, chunk_ids, {}); });
    if (r.Ok()) {
      NoteSuccess();
      std::vector<std::string> chunk_keys(keys.begin() + static_cast<std::ptrdiff_t>(i),
                                          keys.begin() + static_cast<std::ptrdiff_t>(i + n));
      StoreError(state_.AddMembers(row.key, chunk_keys));
      {
        std::lock_guard lock(mu_);
        std::optional<KnownGroup> g = FindGroupLocked(row.key);
        if (!g) g = row;
        g->members.insert(g->members.end(), chunk_keys.begin(), chunk_keys.end());
        std::sort(g->members.begin(), g->members.end());
        g->members.erase(std::unique(g->members.begin(), g->members.end()), g->members.end());
        groups_[row.key] = std::move(g);
      }
      counters_.members_added += static_cast<int>(n);
      i += n;
      continue;
    }
    if (r.transport == Transport::kOk && r.status == 413 && chunk > 1) {
      chunk = std::max<std::size_t>(1, chunk / 2);
      LogWarn("request_too_large", {{"group", row.display_name},
                                    {"members_per_request", std::to_string(chunk)}});
      continue;
    }
    if (StopIfFatal(r)) return;
    if (IsTransient(r)) {
      NoteTransientFailure("add members to " + op.label, r);
      return FailGroup(GroupRow(op.key), r, false);
    }
    NoteSuccess();
    if (r.status == 404) {
      LogWarn("group_missing_on_target", {{"key", row.key}, {"id", row.target_id}});
      return ForgetGroup(row.key);
    }
    return FailGroup(GroupRow(op.key), r, true);
  }
  if (!ids.empty()) {
    LogInfo("members_added", {{"group", row.display_name}, {"count", std::to_string(ids.size())}});
  }
}

void Executor::RemoveMembers(const Operation& op) {
  KnownGroup row = GroupRow(op.key);
  if (row.target_id.empty() || row.uncertain) return;
  std::vector<std::string> keys, ids, gone;
  for (const auto& k : op.members) {
    KnownUser u = UserRow(k);
    if (u.target_id.empty()) {
      gone.push_back(k);  // not on the target: nothing to remove there
      continue;
    }
    keys.push_back(k);
    ids.push_back(u.target_id);
  }
  if (!gone.empty()) StoreError(state_.RemoveMembers(row.key, gone));
  std::size_t chunk = static_cast<std::size_t>(options_.members_per_request);
  for (const auto& part : Chunks(ids, chunk)) {
    if (Stopping()) return;
    TargetResponse r = Call([&] { return target_.PatchGroupMembers(row.target_id, {}, part); });
    // noTarget: the member is not there any more, which is what we wanted.
    bool done = r.Ok() || (r.transport == Transport::kOk && r.status == 400 &&
                           r.scim_type == "noTarget");
    if (done) {
      NoteSuccess();
      std::vector<std::string> part_keys;
      for (const auto& id : part) {
        auto it = std::find(ids.begin(), ids.end(), id);
        part_keys.push_back(keys[static_cast<std::size_t>(it - ids.begin())]);
      }
      StoreError(state_.RemoveMembers(row.key, part_keys));
      counters_.members_removed += static_cast<int>(part.size());
      continue;
    }
    if (StopIfFatal(r)) return;
    if (IsTransient(r)) {
      NoteTransientFailure("remove members from " + op.label, r);
      return FailGroup(GroupRow(op.key), r, false);
    }
    NoteSuccess();
    if (r.status == 404) return ForgetGroup(row.key);
    return FailGroup(GroupRow(op.key), r, true);
  }
  if (!ids.empty()) {
    LogInfo("members_removed",
            {{"group", row.display_name}, {"count", std::to_string(ids.size())}});
  }
}

void Executor::DeleteGroup(const Operation& op) {
  KnownGroup row = GroupRow(op.key);
  if (row.target_id.empty()) return ForgetGroup(row.key);
  TargetResponse r = Call([&] { return target_.DeleteGroup(row.target_id); });
  if (r.Ok() || (r.transport == Transport::kOk && r.status == 404)) {
    NoteSuccess();
    ForgetGroup(row.key);
    counters_.groups_deleted++;
    LogInfo("group_deleted", {{"key", row.key}, {"group", row.display_name}});
    return;
  }
  if (StopIfFatal(r)) return;
  if (IsTransient(r)) {
    NoteTransientFailure("delete group " + op.label, r);
    return FailGroup(row, r, false);
  }
  NoteSuccess();
  FailGroup(row, r, true);
}

void Executor::ResolveGroup(const Operation& op) {
  KnownGroup row = GroupRow(op.key);
  std::optional<RemoteGroup> remote;
  if (!row.target_id.empty()) {
    TargetResponse r = Call([&] { return target_.GetGroup(row.target_id); });
    if (r.Ok() && r.group) {
      remote = r.group;
    } else if (!(r.transport == Transport::kOk && r.status == 404)) {
      if (StopIfFatal(r)) return;
      NoteTransientFailure("read group", r);
      row.last_error = r.Summary();
      SaveGroup(row);
      return;
    }
  }
  if (!remote) {
    GroupQuery q = LookUpGroup(row.key, row.display_name);
    if (!q.response.Ok()) {
      if (StopIfFatal(q.response)) return;
      NoteTransientFailure("find group", q.response);
      row.last_error = q.response.Summary();
      SaveGroup(row);
      return;
    }
    if (q.groups.size() == 1) remote = q.groups[0];
  }
  NoteSuccess();
  counters_.resolved++;
  if (!remote) {
    ForgetGroup(row.key);  // never created: the next plan creates it
    LogInfo("group_resolved", {{"key", row.key}, {"found", "0"}});
    return;
  }
  bool same = row.target_id == remote->id;
  row.target_id = remote->id;
  row.uncertain = false;
  row.status = ObjectStatus::kSynced;
  if (!same || !remote->member_ids.empty()) {
    // What the target holds is the truth; keys we cannot map are not ours.
    row.members.clear();
    std::lock_guard lock(mu_);
    for (const auto& id : remote->member_ids) {
      std::string key = KeyByIdLocked(id);
      if (!key.empty()) row.members.push_back(std::move(key));
    }
    std::sort(row.members.begin(), row.members.end());
  }
  if (!remote->display_name.empty()) row.display_name = remote->display_name;
  SaveGroup(row);
  LogInfo("group_resolved", {{"key", row.key}, {"id", row.target_id}});
}

}  // namespace scimsync
