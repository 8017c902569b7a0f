#include "daemon/cycle.h"

#include <chrono>
#include <cstdlib>
#include <optional>

#include "connectors/ldap/ldap_dn.h"
#include "core/log.h"
#include "core/planner.h"
#include "core/redact.h"
#include "core/roles.h"
#include "core/scope.h"
#include "daemon/executor.h"
#include "daemon/scim_config.h"
#include "daemon/status_report.h"

namespace scimsync {
namespace {

std::string Str(long v) { return std::to_string(v); }

// `"A"` or `"A", "B"`, for messages naming scope groups.
std::string QuotedList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "\"" : ", \"") + n + "\"";
  return out;
}

PlanOptions MakePlanOptions(const Config& config, const CycleRequest& request, SysTime now) {
  PlanOptions o;
  o.deprovision = config.target.deprovision;
  o.keep = KeepMask(config.mapping);
  o.max_deletions = config.safety.max_deletions;
  o.max_deletion_percent = config.safety.max_deletion_percent;
  o.allow_deletions = request.allow_deletions;
  o.foreign_members = config.target.foreign_members;
  const TargetBehaviour b = EffectiveOf(config.target).behaviour;
  o.push_groups = b.push_groups;
  o.unique_group_names = b.unique_group_names;
  o.delete_locks = b.delete_locks;
  o.role_prefix = b.role_prefix;
  o.now = now;
  return o;
}

SnapshotOptions SnapshotOptionsOf(const TargetConfig& target) {
  const TargetBehaviour b = EffectiveOf(target).behaviour;
  SnapshotOptions o;
  o.members_per_group = b.exclude_members;
  o.page_size = b.page_size;
  o.read_groups = b.push_groups;  // groups left to the target are not read either
  o.concurrency = std::max(1, target.max_connections);
  return o;
}

constexpr const char* kLastReconcile = "last_reconcile";  // state meta: epoch seconds

// DESIGN §1: a cycle reads the whole target first when the state has no rows (a
// first run against a populated target, a lost state file), when asked, and when
// `[target] reconcile` has passed since the last completed reconciling cycle (a
// state file that never recorded one counts as due). Returns why, or "" for no.
std::string ReconcileReason(const Config& config, const CycleRequest& request,
                            const KnownState& known, StateStore& state, SysTime now) {
  if (request.reconcile) return "requested";
  if (known.users.empty() && known.groups.empty()) return "empty state";
  if (!config.target.reconcile) return "";
  if (config.target.reconcile->count() == 0) return "always";
  Result<std::string> last = state.GetMeta(kLastReconcile);
  if (!last.ok() || last->empty()) return "never reconciled";
  SysTime at{std::chrono::seconds(std::atoll(last->c_str()))};
  return now - at >= *config.target.reconcile ? "period" : "";
}

ExecutorOptions MakeExecutorOptions(const Config& config) {
  ExecutorOptions o;
  o.max_connections = config.target.max_connections;
  const TargetBehaviour b = EffectiveOf(config.target).behaviour;
  o.members_per_request = b.members_per_request;
  o.unique_group_names = b.unique_group_names;
  o.delete_locks = b.delete_locks;
  o.max_retries = config.target.max_retries;
  o.max_failures_per_cycle = config.safety.max_failures_per_cycle;
  o.keep = KeepMask(config.mapping);
  return o;
}

// Ends the cycle: the run-time counters, the `cycles` row, and the one summary line.
// A dry run (`plan`) reports what the plan would do: its planned counts.
void Finish(CycleReport& report, StateStore& state, Clock& clock,
            std::chrono::steady_clock::time_point start, long requests, bool dry_run) {
  CycleRecord& rec = report.record;
  if (dry_run) rec.counts = PlannedCounts(report.plan.summary, rec.counts);
  rec.ended = clock.Now();
  rec.counts[Counter::kDurationMs] =
      std::chrono::duration_cast<Millis>(clock.Steady() - start).count();
  rec.counts[Counter::kRequests] = requests;
  rec.result = std::string(CycleResultName(report.result));
  rec.reason = report.stop_reason;
  if (!dry_run && rec.id != 0) {
    Status s = state.EndCycle(rec);
    if (!s.ok()) LogError("state_error", {{"error", s.message()}});
  }
  LogFields f = {{"result", rec.result}};
  if (!report.stop_reason.empty()) f.push_back({"reason", report.stop_reason});
  LogFields counts = CounterLogFields(rec.counts);
  f.insert(f.end(), counts.begin(), counts.end());
  if (dry_run) {
    LogInfo("plan_end", f);
  } else {
    LogLevel level = report.result == CycleResult::kOk        ? LogLevel::kInfo
                     : report.result == CycleResult::kPartial ? LogLevel::kWarn
                                                              : LogLevel::kError;
    Log().Log(level, "cycle_end", f);
  }
  Log().SetCycle(0);
}

// Rows of people who left the source before they ever reached the target (a create
// that failed, waited for a seat or was in conflict): there is nothing to deprovision,
// and they must not linger in `status` as needing attention. `known` is the state the
// plan was made from; the executor never touches such rows.
void ForgetNeverCreated(const Directory& dir, const KnownState& known, StateStore& state) {
  std::size_t i = 0;
  for (const KnownUser& k : known.users) {
    while (i < dir.users.size() && dir.users[i].key < k.key) ++i;
    if (i < dir.users.size() && dir.users[i].key == k.key) continue;
    if (!k.target_id.empty() || k.uncertain || k.status == ObjectStatus::kDeleted ||
        k.status == ObjectStatus::kDisabled) {
      continue;
    }
    Status s = state.DeleteUser(k.key);
    if (!s.ok()) {
      LogError("state_error", {{"error", s.message()}});
      return;
    }
    LogInfo("user_forgotten", {{"key", k.key},
                               {"status", std::string(ObjectStatusName(k.status))},
                               {"reason", "left the source before reaching the target"}});
  }
}

}  // namespace

std::string_view CycleResultName(CycleResult r) {
  switch (r) {
    case CycleResult::kOk: return "ok";
    case CycleResult::kPartial: return "partial";
    case CycleResult::kStopped: return "stopped";
  }
  return "?";
}

int CycleReport::ExitCode() const {
  switch (result) {
    case CycleResult::kOk: return 0;
    case CycleResult::kPartial: return 1;
    case CycleResult::kStopped: return 3;
  }
  return 3;
}

CycleReport RunCycle(const Config& config, Source& source, Target* target, StateStore& state,
                     Clock& clock, const CycleRequest& request, const CycleHooks& hooks) {
  CycleReport report;
  auto start = clock.Steady();
  report.record.started = clock.Now();
  long requests_before = target ? target->RequestCount() : 0;
  auto requests = [&] { return target ? target->RequestCount() - requests_before : 0L; };
  auto stop = [&](ErrorCode code, std::string reason) {
    report.result = CycleResult::kStopped;
    report.stop_code = code;
    report.stop_reason = std::move(reason);
  };

  if (!request.dry_run) {
    Result<std::int64_t> id = state.BeginCycle(report.record.started);
    if (!id.ok()) {
      LogError("state_error", {{"error", id.status().message()}});
      stop(id.status().code(), "state store: " + id.status().message());
      Finish(report, state, clock, start, 0, request.dry_run);
      return report;
    }
    report.record.id = *id;
    Log().SetCycle(*id);
  }
  LogFields start_fields = {{"source", source.Describe()}, {"target", config.target.url}};
  if (!request.trigger.empty()) start_fields.push_back({"trigger", request.trigger});
  LogInfo(request.dry_run ? "plan_start" : "cycle_start", start_fields);
  if (hooks.on_progress) hooks.on_progress({"reading source", 0, 0, 0, report.record.id});

  // 1. The whole source, or nothing (DESIGN §7).
  Result<Directory> dir = source.Read();
  if (!dir.ok()) {
    LogError("source_error", {{"error", dir.status().message()}});
    stop(dir.status().code(), "source unreadable: " + dir.status().message());
    Finish(report, state, clock, start, requests(), request.dry_run);
    return report;
  }
  if (dir->users.empty() && !config.safety.allow_empty_source) {
    std::string msg = "source returned no users; refusing to treat everyone as gone (set "
                      "safety.allow_empty_source = true if this is intended)";
    LogError("source_empty", {{"source", source.Describe()}, {"error", msg}});
    stop(ErrorCode::kInvalidArgument, msg);
    Finish(report, state, clock, start, requests(), request.dry_run);
    return report;
  }
  LogInfo("source_read", {{"users", static_cast<long>(dir->users.size())},
                          {"groups", static_cast<long>(dir->groups.size())}});
  // 1b. The [scope] (core/scope.h): from here on only the in-scope snapshot exists, so
  //     identity, reconcile and the deletion guard never see the rest.
  ScopeResult scoped = ApplyScope(std::move(dir).value(), config.scope, &NormalizeDn);
  Directory& desired = scoped.dir;
  report.record.counts[Counter::kUsersOutOfScope] = static_cast<std::int64_t>(scoped.users_out);
  report.record.counts[Counter::kGroupsOutOfScope] = static_cast<std::int64_t>(scoped.groups_out);
  if (!config.scope.Everything()) {
    LogInfo("scope", {{"users", static_cast<long>(desired.users.size())},
                      {"groups", static_cast<long>(desired.groups.size())},
                      {"users_out_of_scope", static_cast<long>(scoped.users_out)},
                      {"groups_out_of_scope", static_cast<long>(scoped.groups_out)}});
  }
  if (!scoped.missing.empty()) {
    // A misspelled or deleted scope group would make all its members look like
    // leavers: stop, as on an empty source (DESIGN §7).
    bool one = scoped.missing.size() == 1;
    std::string msg = std::string(one ? "scope group " : "scope groups ") +
                      QuotedList(scoped.missing) + " not found in the source " +
                      source.Describe() + "; refusing to treat " + (one ? "its" : "their") +
                      " members as gone (check scope.groups in " + config.path +
                      ": a group's display name or, for LDAP, its DN)";
    LogError("scope_group_missing", {{"groups", QuotedList(scoped.missing)}, {"error", msg}});
    stop(ErrorCode::kInvalidArgument, msg);
    Finish(report, state, clock, start, requests(), request.dry_run);
    return report;
  }
  if (!config.scope.groups.empty() && desired.users.empty() &&
      !config.safety.allow_empty_source) {
    std::string msg = "the scope groups " + QuotedList(config.scope.groups) +
                      " have no members in the source; refusing to treat everyone as gone (set "
                      "safety.allow_empty_source = true if this is intended)";
    LogError("source_empty", {{"source", source.Describe()}, {"error", msg}});
    stop(ErrorCode::kInvalidArgument, msg);
    Finish(report, state, clock, start, requests(), request.dry_run);
    return report;
  }

  // Role groups get the role prefix (core/roles.h) after the scope (which
  // names source groups) and before anything is planned.
  const std::string role_prefix = EffectiveOf(config.target).behaviour.role_prefix;
  ApplyRoles(config.target.roles, role_prefix, desired);
  if (std::vector<std::string> named = RolesByName(config.target.roles, role_prefix, desired);
      !named.empty()) {
    LogWarn("group_named_like_role",
            {{"count", static_cast<long>(named.size())},
             {"first", named.front()},
             {"detail", "source groups whose name starts with the role prefix \"" + role_prefix +
                            "\" are roles on the target though target.roles does not list them"}});
  }

  // 2. Plan against what we know.
  Result<KnownState> known = state.Load(&desired.users);
  if (!known.ok()) {
    LogError("state_error", {{"error", known.status().message()}});
    stop(known.status().code(), "state store: " + known.status().message());
    Finish(report, state, clock, start, requests(), request.dry_run);
    return report;
  }
  PlanOptions plan_options = MakePlanOptions(config, request, clock.Now());

  // 2b. What the target really holds, on a reconciling cycle: read whole or not at
  //     all; nothing is planned from a partial read (DESIGN §1, §7).
  std::optional<TargetSnapshot> snapshot;
  std::string why = ReconcileReason(config, request, *known, state, clock.Now());
  if (!why.empty()) {
    if (hooks.on_progress) hooks.on_progress({"reading target", 0, 0, requests(), report.record.id});
    Result<TargetSnapshot> read =
        target ? target->ReadSnapshot(SnapshotOptionsOf(config.target))
               : Result<TargetSnapshot>(Status(ErrorCode::kInvalidArgument,
                                               "no target to read: " + request.no_target));
    if (!read.ok()) {
      LogError("target_read_error", {{"reason", why}, {"error", read.status().message()}});
      stop(read.status().code(), "target unreadable: " + read.status().message());
      Finish(report, state, clock, start, requests(), request.dry_run);
      return report;
    }
    snapshot = std::move(read).value();
    LogInfo("reconcile", {{"reason", why},
                          {"target_users", static_cast<long>(snapshot->users.size())},
                          {"target_groups", static_cast<long>(snapshot->groups.size())}});
    plan_options.snapshot = &*snapshot;
  }
  report.plan = MakePlan(desired, *known, plan_options);
  if (snapshot) {
    // What the target holds that no source object matches (gauges, DESIGN §3).
    report.record.counts[Counter::kUnmanagedUsers] = report.plan.summary.unmanaged_users;
    // Groups left to the target (push_groups = false) were not read: unmeasured.
    if (plan_options.push_groups) {
      report.record.counts[Counter::kUnmanagedGroups] = report.plan.summary.unmanaged_groups;
    }
  }
  if (request.dry_run) {
    Finish(report, state, clock, start, requests(), true);
    return report;
  }

  if (target == nullptr) {  // only a dry run may come without a target
    stop(ErrorCode::kInternal, "no target: " + request.no_target);
    Finish(report, state, clock, start, 0, false);
    return report;
  }
  ExecutorOptions exec_options = MakeExecutorOptions(config);
  const char* phase = "resolving";
  auto progress = [&](int done, int total) {
    if (hooks.on_progress) hooks.on_progress({phase, done, total, requests(), report.record.id});
  };

  // 3. Uncertain objects first: re-read them, then plan again from what the
  //    target really holds (DESIGN §4).
  Status run_status;
  std::int64_t resolve_conflicts = 0;
  if (report.plan.summary.resolve > 0) {
    Executor resolver(*target, state, clock, exec_options, *known);
    resolver.SetStopFlag(hooks.stop);
    resolver.SetProgress(progress);
    run_status = resolver.Run(report.plan, Phase::kResolve, Phase::kResolve);
    resolve_conflicts = resolver.counters().Get(Counter::kConflicts);
    if (run_status.ok()) {
      known = state.Load(&desired.users);
      if (!known.ok()) {
        run_status = known.status();
      } else {
        plan_options.now = clock.Now();
        report.plan = MakePlan(desired, *known, plan_options);
      }
    }
  }

  // 4. Everything else, phase by phase.
  static const KnownState kNothingKnown;
  Executor executor(*target, state, clock, exec_options, known.ok() ? *known : kNothingKnown);
  if (run_status.ok()) {
    phase = "syncing";
    executor.SetStopFlag(hooks.stop);
    executor.SetProgress(progress);
    run_status = executor.Run(report.plan, Phase::kUsers, Phase::kDeleteGroups);
  }

  // The counters (core/cycle_counters.h): what the executors counted, then what
  // only the cycle knows. Requests and duration are added by Finish.
  CycleRecord& rec = report.record;
  executor.counters().AddTo(rec.counts);
  rec.counts[Counter::kConflicts] += resolve_conflicts;
  rec.counts[Counter::kDeferred] = report.plan.summary.deferred;
  // kUnmanagedUsers / kUnmanagedGroups were set after planning when this cycle read
  // the target whole; otherwise they stay kUnmeasured. kDrift and the adoptions come
  // from the executor counters above.

  if (run_status.ok() && known.ok()) ForgetNeverCreated(desired, *known, state);

  if (!run_status.ok()) {
    stop(run_status.code(), run_status.message());
  } else if (report.plan.deletions_blocked) {
    std::string msg = "deletion guard: " + Str(report.plan.deletions_wanted) +
                      " users or groups would be deprovisioned (max_deletions " +
                      Str(config.safety.max_deletions) + ", max_deletion_percent " +
                      Str(static_cast<long>(config.safety.max_deletion_percent)) +
                      "); nothing was deprovisioned; run `scimsync sync --allow-deletions` "
                      "once if this is intended";
    LogError("deletion_guard", {{"wanted", report.plan.deletions_wanted}, {"error", msg}});
    stop(ErrorCode::kInvalidArgument, msg);
  } else if (rec.counts[Counter::kFailed] + rec.counts[Counter::kConflicts] +
                 rec.counts[Counter::kSeatBlocked] + rec.counts[Counter::kDeferred] >
             0) {
    report.result = CycleResult::kPartial;
  }
  if (snapshot && report.result != CycleResult::kStopped) {
    // Only a reconciling cycle that ran to its end restarts the period.
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(
        report.record.started.time_since_epoch());
    Status s = state.SetMeta(kLastReconcile, std::to_string(secs.count()));
    // Names the target sent: outside text, redacted before it is stored (DESIGN §7).
    if (s.ok()) s = state.SetMeta(kUnmanagedMeta, Redact(UnmanagedJson(report.plan)));
    if (!s.ok()) LogWarn("state_error", {{"error", s.message()}});
  }
  Finish(report, state, clock, start, requests(), false);
  return report;
}

}  // namespace scimsync
