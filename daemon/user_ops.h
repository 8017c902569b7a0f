// UserOps: the user operations of a plan, each one object from request to state
// row. Requests go through the RequestRunner; what an answer means is the Action of
// the policy table (daemon/response_policy.h); rows go to the StateOverlay.
//
//   Create      POST, the row marked uncertain first (a lost answer costs a lookup,
//               never a duplicate); by MarkCreates for the next few hundred
//               creates at once, or by Create itself. done: synced. unconfirmed (2xx without an id):
//               failed, left uncertain for the next cycle's lookup. adopt (409): find
//               by externalId then userName; one match whose externalId is empty or
//               ours: adopt its id, PATCH the difference; else conflict with backoff.
//               seat-block (428): seat-blocked, and no more creates or re-activations
//               this run. Nothing sent (refused connection, 401, stop): the row is put
//               back as it was.
//   Update      PATCH only the planned changes; a re-activation (active false ->
//               true) is its own verb: refused for seats it is seat-blocked like a
//               create. re-read-and-retry: GET, re-diff against what the target
//               holds, PATCH once more with If-Match. re-resolve (404): re-create.
//   Deprovision PATCH active=false, or DELETE; gone (404) counts as deleted; also
//               retried with If-Match on 412/428. With delete_locks a 2xx DELETE
//               locked the user: the row keeps its target id and becomes disabled
//               (event user_locked), so a re-hire is a re-activation, never a POST.
//   Resolve     an uncertain user: GET by id, else look up by externalId, userName;
//               adopt a single match whose externalId is empty or ours.
// Any user: reject -> failed with backoff (retried when its source changes);
// transient/throttle after the runner's retries -> deferred to the next cycle.
//
// Thread-safe: operations on different users run concurrently.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/target.h"
#include "core/clock.h"
#include "core/plan.h"
#include "core/planner.h"
#include "daemon/executor_counters.h"
#include "daemon/executor_options.h"
#include "daemon/lookup.h"
#include "daemon/request_runner.h"
#include "daemon/state_overlay.h"

namespace scimsync {

// The row's target id no longer holds the object to write: deleted on the target,
// or replaced by a group of another type (op.replaced_id). Its create clears it.
bool StaleTargetId(const Operation& op);

class UserOps {
 public:
  UserOps(Target& target, RequestRunner& runner, StateOverlay& overlay,
          const ExecutorOptions& options, Clock& clock, ExecutorCounters& counters);

  // `stale_id`: the row's target id was deleted on the target; cleared first.
  // `first`: the answer to a POST already sent by Target::CreateUsers (after
  // MarkCreates marked it); handled as the first attempt's answer, consumed.
  void Create(const User& desired, bool stale_id = false, TargetResponse* first = nullptr);
  // Marks the users of the user creates among ops[begin, end) uncertain, all in one
  // committed transaction, before any of them is sent: their Create then sends at
  // once. A marked create that never runs (the run stopped) is put back as it was
  // by ReleaseMarks(), called when the batch is over.
  void MarkCreates(const std::vector<const Operation*>& ops, std::size_t begin, std::size_t end);
  void ReleaseMarks();
  void Update(const Operation& op);
  // Three-sided planning (core/planner.h, "What the executor does"):
  void AdoptPlanned(const Operation& op);  // PATCH externalId + changes, record
  void Bind(const Operation& op);          // record what the target holds
  void PlannedConflict(const Operation& op);
  void Deprovision(const Operation& op);
  void Resolve(const Operation& op);

  // True once the target refused a create or re-activation for lack of seats.
  bool seats_exhausted() const { return seats_exhausted_.load(); }
  std::string seat_detail() const;

 private:
  Lookup<RemoteUser> LookUp(const std::string& key, const std::string& user_name);
  void Adopt(const User& desired, const std::string& why);
  // PATCHes `changes` (from `have`) with the If-Match retry; records the outcome.
  // A success counts as users_updated unless `adopting`: an adoption counts once,
  // as users_adopted, follow-up PATCH included. A non-empty `external_id` is written
  // in the same PATCH.
  void Patch(KnownUser row, const User& desired, Verb verb, AttrValues have,
             std::vector<AttrChange> changes, bool adopting = false,
             const std::string& external_id = "");
  void Synced(KnownUser& row, const AttrValues& values);
  void SeatBlock(KnownUser row, const std::string& error);
  void Fail(KnownUser row, const User* desired, const TargetResponse& r, bool permanent);
  void Conflict(KnownUser row, const User& desired, const std::string& message);

  Target& target_;
  RequestRunner& runner_;
  StateOverlay& overlay_;
  const ExecutorOptions& options_;
  Clock& clock_;
  ExecutorCounters& counters_;
  std::atomic<bool> seats_exhausted_{false};
  // A create's row as it was before MarkCreates marked it.
  struct Marked {
    KnownUser before;
    bool existed = false;
  };
  // The row of `key` as it is now, for a create not marked ahead.
  Marked Unmarked(const std::string& key) const;
  std::optional<Marked> TakeMark(const std::string& key);
  void Restore(const Marked& m);

  mutable std::mutex mu_;  // guards seat_detail_, marked_
  std::string seat_detail_;
  std::unordered_map<std::string, Marked> marked_;
};

}  // namespace scimsync
