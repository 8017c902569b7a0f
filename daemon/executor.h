// The Executor runs a Plan against a Target and applies the response policies of
// DESIGN §6, writing each confirmed change to the StateStore right after its 2xx
// (one object per transaction).
//
// Concurrency: the operations of one phase run on up to `max_connections` worker
// threads (the HTTP client multiplexes them over keep-alive connections). Within
// phase 3, group creates and renames finish before memberships are added. A 429
// halves the number of workers for the rest of the run.
//
// Stopping: the run stops early — no new requests, in-flight ones finish — when
//   * the stop flag is raised (SIGTERM),
//   * the target refuses the credentials (401/403; code kAuth),
//   * the target cannot be reached at all after retries (kUnavailable),
//   * the circuit breaker trips: `max_failures_per_cycle` transient failures in a
//     row (kUnavailable),
//   * every request of the run failed transiently (5xx, timeouts): the target is
//     down, whatever the number of objects (kUnavailable), so the daemon backs off.
// A failure of one object (400, conflict, seats) never stops the others.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "connectors/target.h"
#include "core/clock.h"
#include "core/known_state.h"
#include "core/plan.h"
#include "core/planner.h"
#include "core/result.h"
#include "state/state_store.h"

namespace scimsync {

struct ExecutorOptions {
  int max_connections = 4;            // worker threads
  int members_per_request = 100;      // membership PATCH chunk; halved on 413
  int max_retries = 3;                // per request, for 5xx / timeout / reset / 429
  int max_failures_per_cycle = 50;    // circuit breaker: transient failures in a row
  std::array<bool, kAttrCount> keep{};
  Millis retry_base{500};             // first transient backoff; doubles, +-50% jitter
  Millis max_retry_wait{120000};      // longest single wait (Retry-After is capped here)
  Millis failed_backoff{std::chrono::minutes(15)};  // after a 400: doubles per attempt
  Millis max_failed_backoff{std::chrono::hours(24)};
};

// What happened, counted per object (not per request).
struct ExecutorCounters {
  std::atomic<int> users_created{0}, users_updated{0}, users_disabled{0}, users_deleted{0};
  std::atomic<int> users_adopted{0};
  std::atomic<int> groups_created{0}, groups_updated{0}, groups_deleted{0};
  std::atomic<int> members_added{0}, members_removed{0};
  std::atomic<int> resolved{0};
  std::atomic<int> failed{0}, conflicts{0}, seat_blocked{0};
};

class Executor {
 public:
  // `known` is the state the plan was made from and must outlive the executor. The
  // executor does not copy it: rows it changes go to a small overlay, so a cycle
  // over a million users with a handful of changes costs a handful of rows.
  Executor(Target& target, StateStore& state, Clock& clock, ExecutorOptions options,
           const KnownState& known);

  // Progress callback: (operations done, operations total).
  void SetProgress(std::function<void(int, int)> progress) { progress_ = std::move(progress); }
  // Raised externally to stop starting new requests.
  void SetStopFlag(const std::atomic<bool>* stop) { external_stop_ = stop; }

  // Runs every operation of `plan` whose phase is in [first, last], phase by phase.
  // Returns ok, or why the run was stopped.
  Status Run(const Plan& plan, Phase first = Phase::kResolve, Phase last = Phase::kDeleteGroups);

  const ExecutorCounters& counters() const { return counters_; }

 private:
  struct Outcome;
  void RunBatch(const std::vector<const Operation*>& ops);
  void Execute(const Operation& op);

  // Request with the transient-error policy (429/503/5xx/timeouts, retries).
  TargetResponse Call(const std::function<TargetResponse()>& send);
  // After the retries of Call(): classify a non-2xx response. Returns true if the
  // response stopped the run (401/403, unreachable, breaker).
  bool StopIfFatal(const TargetResponse& r);
  void NoteSuccess();
  void NoteTransientFailure(const std::string& what, const TargetResponse& r);
  bool Stopping() const;
  void Stop(ErrorCode code, std::string reason);
  bool SleepInterruptible(Millis d);

  // Users.
  void CreateUser(const User& desired);
  void UpdateUser(const Operation& op);
  void Deprovision(const Operation& op);
  void ResolveUser(const Operation& op);
  // 409/404 recovery: find the user by externalId then userName, adopt it and PATCH
  // the difference. Returns false when it found zero or several (conflict recorded).
  bool AdoptUser(const User& desired, const std::string& why);
  // By externalId, then userName / displayName (DESIGN §3).
  UserQuery LookUpUser(const std::string& key, const std::string& user_name);
  GroupQuery LookUpGroup(const std::string& key, const std::string& display_name);
  bool PatchToDesired(KnownUser& row, const AttrValues& have, const User& desired,
                      const std::string& etag);
  void FailUser(KnownUser row, const User* desired, const TargetResponse& r, bool permanent);
  void ConflictUser(KnownUser row, const User& desired, const std::string& message);

  // Groups.
  void CreateGroup(const Operation& op);
  void UpdateGroup(const Operation& op);
  void AddMembers(const Operation& op);
  void RemoveMembers(const Operation& op);
  void DeleteGroup(const Operation& op);
  void ResolveGroup(const Operation& op);
  void FailGroup(KnownGroup row, const TargetResponse& r, bool permanent);

  // Thread-safe views of the known state.
  KnownUser UserRow(const std::string& key);
  KnownGroup GroupRow(const std::string& key);
  void SaveUser(const KnownUser& row);
  void SaveGroup(const KnownGroup& row);
  void ForgetGroup(const std::string& key);
  std::string UserId(const std::string& key);
  // Callers hold mu_.
  const KnownUser* FindUserLocked(const std::string& key) const;
  std::optional<KnownGroup> FindGroupLocked(const std::string& key) const;
  std::string KeyByIdLocked(const std::string& id);
  std::vector<std::string> GroupsContainingLocked(const std::string& user_key) const;
  SysTime FailedRetryAt(int attempts) const;
  void StoreError(const Status& s);

  Target& target_;
  StateStore& state_;
  Clock& clock_;
  ExecutorOptions options_;
  std::function<void(int, int)> progress_;
  const std::atomic<bool>* external_stop_ = nullptr;

  const KnownState& known_;
  std::mutex mu_;  // guards the overlays below and stop_reason_
  std::unordered_map<std::string, KnownUser> users_;    // rows changed in this run
  std::unordered_map<std::string, std::optional<KnownGroup>> groups_;  // nullopt: forgotten
  bool id_index_built_ = false;  // user_key_by_id_ is built on first use (rare: adopt/resolve)
  std::unordered_map<std::string, std::string> user_key_by_id_;

  std::atomic<bool> stopped_{false};
  ErrorCode stop_code_ = ErrorCode::kOk;
  std::string stop_reason_;
  std::atomic<bool> creates_blocked_{false};  // a 428 on POST /Users this run
  std::string seat_detail_;
  std::atomic<int> allowed_workers_{1};
  std::atomic<int> consecutive_failures_{0};
  std::atomic<int> successes_{0}, transient_failures_{0};
  std::string last_transient_;  // guarded by mu_
  std::atomic<int> done_{0};
  int total_ = 0;
  ExecutorCounters counters_;
};

}  // namespace scimsync
