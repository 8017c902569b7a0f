// The Executor runs a Plan against a Target: phases, workers and ordering. The
// response policies of DESIGN §6 are the table in response_policy.h; the parts use
// each other in one direction only:
//
//   Executor (phases, workers, ordering)
//     -> UserOps, GroupOps (one object from request to state row)
//          -> RequestRunner (retries, backoff, breakers, stop)
//          -> StateOverlay  (rows changed in this run over the KnownState)
//          -> response policy table (verb x response -> action)
//
// Every confirmed change is written to the StateStore right after its 2xx; the
// store commits them in groups (a few hundred rows or 20 ms), and user creates are
// marked uncertain a few hundred at a time, in one commit, before any of them is
// sent (state_store.h, "Write grouping"; DESIGN §4 holds: a crash costs lookups).
//
// Concurrency: the operations of one phase run on up to `max_connections` worker
// threads (each sends over one of the HTTP client's keep-alive connections). A batch
// of user creates goes first through Target::CreateUsers when the target has it: one
// thread keeps several in flight (create_pump.h) and hands every create whose answer
// is not a plain success to the workers. Within phase 3, group creates and renames
// finish before memberships are added. A 429 or 503 halves the number of workers (and
// the pump's width); quiet periods raise it again (request_runner.h).
//
// Stopping: the run stops early — no new requests, in-flight ones finish — for the
// reasons listed in request_runner.h (stop flag, credentials refused, target
// unreachable, circuit breaker, outage breaker, every request failed) or when the
// state store fails. A failure of one object (400, conflict, seats) never stops the
// others.
#pragma once

#include <atomic>
#include <functional>

#include "connectors/target.h"
#include "core/clock.h"
#include "core/known_state.h"
#include "core/plan.h"
#include "core/result.h"
#include "daemon/executor_counters.h"
#include "daemon/executor_options.h"
#include "daemon/group_ops.h"
#include "daemon/request_runner.h"
#include "daemon/state_overlay.h"
#include "daemon/user_ops.h"
#include "state/state_store.h"

namespace scimsync {

class Executor {
 public:
  // `known` is the state the plan was made from and must outlive the executor (it
  // is not copied; see state_overlay.h).
  Executor(Target& target, StateStore& state, Clock& clock, ExecutorOptions options,
           const KnownState& known);

  // Progress callback: (operations done, operations total).
  void SetProgress(std::function<void(int, int)> progress) { progress_ = std::move(progress); }
  // Raised externally to stop starting new requests.
  void SetStopFlag(const std::atomic<bool>* stop) { runner_.SetStopFlag(stop); }

  // Runs every operation of `plan` whose phase is in [first, last], phase by phase.
  // Returns ok, or why the run was stopped.
  Status Run(const Plan& plan, Phase first = Phase::kResolve, Phase last = Phase::kDeleteGroups);

  const ExecutorCounters& counters() const { return counters_; }

 private:
  void RunPhases(const Plan& plan, Phase first, Phase last);
  class MarkWindow;  // creates marked uncertain ahead of where they are sent
  void RunBatch(const std::vector<const Operation*>& ops);
  // User creates: through Target::CreateUsers when it can (create_pump.h), else, and
  // for what the pump hands back, on the workers.
  void RunCreates(const std::vector<const Operation*>& ops);
  // Runs ops[begin, end) on up to max_connections worker threads; `marks` marks
  // creates ahead; `firsts` (parallel to ops) holds answers to creates already sent.
  void RunOnWorkers(const std::vector<const Operation*>& ops, std::size_t begin, MarkWindow* marks,
                    std::vector<TargetResponse>* firsts);
  // Runs one operation (`first`: its create's answer, see UserOps::Create); logs and
  // counts a repaired drift when it succeeded; counts it done.
  void Execute(const Operation& op, TargetResponse* first = nullptr);
  void Dispatch(const Operation& op, TargetResponse* first);

  ExecutorOptions options_;
  Target& target_;
  StateStore& state_;
  ExecutorCounters counters_;
  RequestRunner runner_;
  StateOverlay overlay_;
  UserOps users_;
  GroupOps groups_;
  std::function<void(int, int)> progress_;
  std::atomic<int> done_{0};
  int total_ = 0;
};

}  // namespace scimsync
