// One sync cycle (DESIGN §1, §5-§7): read the whole source, load the known state,
// plan, run phase 1 (resolve uncertain objects), re-plan, execute the remaining
// phases through the Executor, record the cycle and log its summary line.
//
// RunCycle never throws and never half-applies a source read: a source error stops
// the cycle before planning. The caller holds the state lock (LockFile) for the
// whole call.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "config/config.h"
#include "connectors/source.h"
#include "connectors/target.h"
#include "core/clock.h"
#include "core/plan.h"
#include "core/result.h"
#include "core/progress.h"
#include "state/state_store.h"

namespace scimsync {

enum class CycleResult { kOk, kPartial, kStopped };
std::string_view CycleResultName(CycleResult r);  // "ok", "partial", "stopped"

struct CycleRequest {
  bool allow_deletions = false;  // `sync --allow-deletions`: lift the deletion guard once
  bool dry_run = false;          // `plan`: read, plan, print; no request, no state write
  bool reconcile = false;        // `--reconcile`: read the whole target before planning
  std::string no_target;         // why there is no target (null `target`), for the message
  std::string trigger;           // daemon: what started the cycle (interval|watch|signal|start)
};

struct CycleHooks {
  // Progress (core/progress.h) for STATUS= and the terminal's live line: at each
  // phase and every 100 operations. Called from the cycle's worker threads.
  std::function<void(const Progress&)> on_progress;
  // When it becomes true: no new requests are started; in-flight ones finish; the
  // cycle ends as stopped with reason "stop requested". May be null.
  const std::atomic<bool>* stop = nullptr;
};

struct CycleReport {
  CycleRecord record;        // what was stored (id 0 for a dry run)
  CycleResult result = CycleResult::kOk;
  ErrorCode stop_code = ErrorCode::kOk;  // why it stopped (kAuth, kUnavailable, ...)
  std::string stop_reason;
  Plan plan;                 // the (last) plan; what `plan` prints

  // DESIGN §9: 0 ok, 1 partial, 3 stopped.
  int ExitCode() const;
};

// `target` may be null for a dry run (`plan` without a readable token): the plan is
// then made from the state alone, and a cycle that must read the target stops with
// `request.no_target` as the reason.
CycleReport RunCycle(const Config& config, Source& source, Target* target, StateStore& state,
                     Clock& clock, const CycleRequest& request, const CycleHooks& hooks = {});

}  // namespace scimsync
