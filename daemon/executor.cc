#include "daemon/executor.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "daemon/create_pump.h"

namespace scimsync {
namespace {

// State writes of a run: committed every kGroupWrites writes or kGroupAge
// (state_store.h, "Write grouping"); user creates marked uncertain up to kMarkAhead
// ahead of the workers. A crash loses at most the confirmed rows of one group (each
// costs the next cycle a lookup or a repeated, idempotent write) and leaves at most
// kMarkAhead users uncertain that were never sent (each costs a lookup).
constexpr int kGroupWrites = 500;
constexpr std::chrono::milliseconds kGroupAge{20};
// How often the timer thread writes the queued confirmed rows (state_store.h) and
// commits a group older than kGroupAge. Rarely needed while creates are sent: each
// mark commit writes the queue first, and a full queue is written by the PutUser that
// fills it. A 2 ms tick (a few dozen rows a time) cost a first sync into a fast
// responder about a tenth of its rate on two cores, in wake-ups (issue 13).
constexpr std::chrono::milliseconds kFlushTick{20};
constexpr std::size_t kMarkAhead = 256;

ExecutorOptions Normalized(ExecutorOptions o) {
  o.max_connections = std::max(1, o.max_connections);
  o.members_per_request = std::max(1, o.members_per_request);
  return o;
}

}  // namespace

Executor::Executor(Target& target, StateStore& state, Clock& clock, ExecutorOptions options,
                   const KnownState& known)
    : options_(Normalized(options)),
      target_(target),
      state_(state),
      runner_(clock, options_),
      overlay_(state, known,
               [this](const Status& s) {
                 // Without the state store we would lose track of what the target
                 // holds: not something to push on through.
                 runner_.Stop(ErrorCode::kIo, "state store: " + s.message());
               }),
      users_(target, runner_, overlay_, options_, clock, counters_),
      groups_(target, runner_, overlay_, options_, clock, counters_) {}

Status Executor::Run(const Plan& plan, Phase first, Phase last) {
  // State rows are committed in groups while the run lasts (state_store.h), and a
  // timer commits a group that waits longer than kGroupAge for its next write.
  if (Status s = state_.SetWriteGrouping({kGroupWrites, kGroupAge}); !s.ok()) {
    runner_.Stop(ErrorCode::kIo, "state store: " + s.message());
  }
  std::mutex flush_mu;
  std::condition_variable flush_cv;
  bool ran = false;
  std::thread flusher([&] {
    std::unique_lock lock(flush_mu);
    while (!flush_cv.wait_for(lock, kFlushTick, [&] { return ran; })) {
      if (Status s = state_.FlushIfDue(); !s.ok()) {
        runner_.Stop(ErrorCode::kIo, "state store: " + s.message());
      }
    }
  });
  RunPhases(plan, first, last);
  {
    std::lock_guard lock(flush_mu);
    ran = true;
  }
  flush_cv.notify_one();
  flusher.join();
  if (Status s = state_.SetWriteGrouping({}); !s.ok()) {
    runner_.Stop(ErrorCode::kIo, "state store: " + s.message());
  }
  return runner_.Finish();
}

void Executor::RunPhases(const Plan& plan, Phase first, Phase last) {
  total_ = 0;
  for (const auto& op : plan.ops) {
    Phase p = PhaseOf(op.kind);
    if (p >= first && p <= last) ++total_;
  }
  for (int p = static_cast<int>(first); p <= static_cast<int>(last) && !runner_.Stopping(); ++p) {
    // Phase 3 has two steps: groups must exist before members are added to them.
    std::vector<const Operation*> step1, step2;
    for (const auto& op : plan.ops) {
      if (static_cast<int>(PhaseOf(op.kind)) != p) continue;
      (op.kind == OpKind::kAddMembers ? step2 : step1).push_back(&op);
    }
    RunBatch(step1);
    if (!runner_.Stopping()) RunBatch(step2);
  }
  if (users_.seats_exhausted()) {
    LogWarn("seats_exhausted",
            {{"seat_blocked", counters_.Get(Counter::kSeatBlocked)},
             {"detail", users_.seat_detail()},
             {"message", "the target has no free licence seats; creates stopped for this "
                         "cycle and will be retried next cycle"}});
  }
}

// User creates are marked uncertain in one commit, kMarkAhead ahead of where they
// are sent, before any of them is sent: ops [0, marked) are. Once half of the
// marked window is used, the next ops are marked while the sending goes on: by
// the worker that takes the lock (the others go on sending marked ones), or by the
// create pump's one thread, between two answers (its requests in flight go on). A
// sender waits only when it reaches an op that is not marked yet (DESIGN §4: a
// create's marker is committed before its POST).
//
// The pump marks on its own thread: a marker thread beside it (tried in issue 13)
// made a first sync slower on two cores, where the responder, the pump and every
// other thread of ours share the CPUs; a create's mark costs a few hundred bytes
// in one commit per window (StateStore::MarkCreates).
class Executor::MarkWindow {
 public:
  MarkWindow(UserOps& users, const std::vector<const Operation*>& ops) : users_(users), ops_(ops) {}

  // Ensures ops[i] is marked, and marks ahead when the window runs low.
  void Through(std::size_t i) {
    std::size_t m = marked_.load();
    if (i + kMarkAhead / 2 < m || m == ops_.size()) return;
    if (i < m) {
      std::unique_lock lock(mu_, std::try_to_lock);
      if (lock.owns_lock()) Extend(i);  // else another worker is marking ahead
      return;
    }
    std::lock_guard lock(mu_);
    Extend(i);
  }

 private:
  void Extend(std::size_t i) {  // caller holds mu_
    std::size_t from = marked_.load();
    std::size_t to = std::min(ops_.size(), i + kMarkAhead);
    if (to <= from || i + kMarkAhead / 2 < from) return;
    users_.MarkCreates(ops_, from, to);
    marked_.store(to);
  }

  UserOps& users_;
  const std::vector<const Operation*>& ops_;
  std::mutex mu_;
  std::atomic<std::size_t> marked_{0};
};

void Executor::RunBatch(const std::vector<const Operation*>& ops) {
  // The user creates first, then the phase's other operations (updates, adoptions,
  // ...) on the workers: the operations of one phase do not depend on each other.
  std::vector<const Operation*> creates, others;
  for (const Operation* op : ops) {
    (op->kind == OpKind::kCreateUser ? creates : others).push_back(op);
  }
  RunCreates(creates);
  RunOnWorkers(others, 0, nullptr, nullptr);
}

void Executor::RunCreates(const std::vector<const Operation*>& ops) {
  if (ops.empty()) return;
  MarkWindow marks(users_, ops);
  std::size_t begin = 0;
  // User creates go through the target's CreateUsers when it has one (create_pump.h):
  // a pump sends until an answer is not a plain success, the workers handle the
  // creates it hands back, and a new pump goes on from there.
  while (begin < ops.size() && !runner_.Stopping() && !users_.seats_exhausted()) {
    CreatePump pump(ops, begin, runner_, users_,
                    {[&](std::size_t i) { marks.Through(i); },
                     [&](const Operation& op, TargetResponse* first) { Execute(op, first); }});
    if (!target_.CreateUsers(pump)) break;  // this target cannot: the workers send all
    begin = pump.next();
    if (pump.deferred().empty()) break;     // all sent, or the run stops
    std::vector<const Operation*> again;
    std::vector<TargetResponse> firsts;
    for (auto& d : pump.deferred()) {
      again.push_back(d.op);
      firsts.push_back(std::move(d.first));
    }
    RunOnWorkers(again, 0, nullptr, &firsts);
  }
  RunOnWorkers(ops, begin, &marks, nullptr);
  users_.ReleaseMarks();  // marked, but the run stopped before they were sent
}

void Executor::RunOnWorkers(const std::vector<const Operation*>& ops, std::size_t begin,
                            MarkWindow* marks, std::vector<TargetResponse>* firsts) {
  if (begin >= ops.size()) return;
  std::atomic<std::size_t> next{begin};
  // Every possible worker runs; those above the allowed count (lowered by throttling,
  // raised again by quiet periods) wait for a slot.
  auto worker = [&](int index) {
    while (!runner_.Stopping() || firsts != nullptr) {
      if (index >= runner_.workers()) {
        if (next.load() >= ops.size()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      std::size_t i = next.fetch_add(1);
      if (i >= ops.size()) return;
      if (marks != nullptr) marks->Through(i);
      Execute(*ops[i], firsts != nullptr ? &(*firsts)[i] : nullptr);
    }
  };
  int n = std::min<int>(std::max(1, options_.max_connections), static_cast<int>(ops.size() - begin));
  if (n <= 1) {
    worker(0);
  } else {
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) threads.emplace_back(worker, i);
    for (auto& t : threads) t.join();
  }
}

void Executor::Execute(const Operation& op, TargetResponse* first) {
  t_op_succeeded = false;
  Dispatch(op, first);
  if (!op.drift.empty() && t_op_succeeded) {
    counters_.Add(Counter::kDrift);
    LogInfo("drift_repaired", {{"key", op.key}, {"what", op.drift}});
  }
  int done = ++done_;
  if (progress_ && (done % 100 == 0 || done == total_)) progress_(done, total_);
}

void Executor::Dispatch(const Operation& op, TargetResponse* first) {
  // The kinds of three-sided planning: core/planner.h, "What the executor does".
  const bool stale_id = StaleTargetId(op);
  switch (op.kind) {
    case OpKind::kResolveUser: return users_.Resolve(op);
    case OpKind::kResolveGroup: return groups_.Resolve(op);
    case OpKind::kCreateUser: return users_.Create(op.user, stale_id, first);
    case OpKind::kUpdateUser: return users_.Update(op);
    case OpKind::kAdoptUser: return users_.AdoptPlanned(op);
    case OpKind::kBindUser: return users_.Bind(op);
    case OpKind::kConflictUser: return users_.PlannedConflict(op);
    case OpKind::kDisableUser:
    case OpKind::kDeleteUser: return users_.Deprovision(op);
    case OpKind::kCreateGroup: return groups_.Create(op, stale_id);
    case OpKind::kUpdateGroup: return groups_.Update(op);
    case OpKind::kAdoptGroup: return groups_.AdoptPlanned(op);
    case OpKind::kBindGroup: return groups_.Bind(op);
    case OpKind::kConflictGroup: return groups_.PlannedConflict(op);
    case OpKind::kAddMembers: return groups_.AddMembers(op);
    case OpKind::kRemoveMembers: return groups_.RemoveMembers(op);
    case OpKind::kDeleteGroup: return groups_.Delete(op);
  }
}

}  // namespace scimsync
