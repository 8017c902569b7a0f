// The state store: what we believe the target holds (DESIGN §4), in SQLite.
//
// Rules the callers rely on:
// - A row changes only after the target confirmed (2xx); the executor calls
//   PutUser/PutGroup right after each success.
// - MarkUncertain() (or a Put of a row with uncertain = true) is called *before* a
//   request whose outcome may be lost is sent, and cleared by the Put that follows
//   the 2xx. A crash in between leaves the object uncertain, and the next cycle
//   re-reads it before writing.
// - Write grouping (SetWriteGrouping, used by the executor): writes join one open
//   transaction, committed every `max_writes` writes or once `max_age` old, so a
//   first sync pays one commit per few hundred objects instead of two per object.
//   A write that stores an uncertain marker (MarkUncertain(.., true), a Put of a
//   row with uncertain = true, PutUsers of such rows, MarkCreates) commits the open
//   group with it before returning: the marker is durable before the request it
//   guards is sent. While grouping is on, PutUser of a confirmed row (uncertain =
//   false) only queues the row and returns: the queue is written into the group, in
//   order, before any other write, Load or commit, by FlushIfDue (the executor's
//   timer thread), or by the PutUser that fills it to max_writes. A failed queued
//   write, a failed COMMIT of the group, or any failed write that takes the open
//   group with it, is returned by every call that follows until the grouping ends:
//   nothing commits past the hole. Commits happen in write
//   order, so a crash leaves a prefix of the writes: confirmed rows after the last
//   commit are lost, which costs the next cycle a lookup (their markers are
//   committed) or a repeated, idempotent write — never a duplicate. Every other
//   write, Load and EndCycle commit the open group first.
// - Create intents (MarkCreates): the marker of a user the file has no row for is a
//   key in one create_intents row per window, not a row; it reads as an uncertain
//   row until the key's own row is written, and every settle (Flush, Load, the cycle
//   writes, the destructor; Open for a process that died) turns the keys still
//   without a row into marker rows. A file after a settle is what one marker row per
//   create would have made it. After any rollback the store no longer trusts its
//   memory of which keys have rows: the intents then go only with a settle that
//   reads them from the file.
// - The database is bound to one target URL (meta table) and refuses another.
// - PRAGMA user_version is the schema version; migrations are chained steps, each
//   in one transaction; a newer schema than this binary knows is refused.
// - Free text that may hold a server's words (last_error of users and groups, a
//   cycle's reason) passes through Redact() (core/redact.h) before it is written:
//   no secret is ever stored, whatever the caller forgot.
// All methods are thread-safe (one connection, one mutex; WAL mode).
// SQLiteCpp exceptions never escape: they become Status errors.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/cycle_counters.h"
#include "core/known_state.h"
#include "core/result.h"

namespace SQLite { class Database; }

namespace scimsync {

struct CycleRecord {
  std::int64_t id = 0;
  SysTime started{};
  SysTime ended{};
  std::string result;   // "ok", "partial", "stopped", "running", "interrupted"
  std::string reason;   // why stopped, if stopped
  CycleCounts counts;   // one `cycles` column per row of kCounters (core/cycle_counters.h)
};

// An object that needs an operator's attention (status failed / conflict /
// seat-blocked, or uncertain).
struct AttentionItem {
  std::string kind;  // "user" or "group"
  std::string key;
  std::string label;     // userName or displayName
  std::string status;    // ObjectStatusName, or "uncertain"
  std::string last_error;
  int attempts = 0;
  SysTime next_retry{};
};

class StateStore {
 public:
  static constexpr int kSchemaVersion = 5;

  // Opens (creating if needed) the database at `path` (":memory:" for tests),
  // migrates it, and binds it to `target_url` — or fails with kSchema if it is bound
  // to another URL or has a newer schema.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path,
                                                  const std::string& target_url);
  // Opens read-only for `status`; does not migrate or bind.
  static Result<std::unique_ptr<StateStore>> OpenReadOnly(const std::string& path);
  ~StateStore();

  // Every row, users and groups sorted by key, members sorted. `desired` (optional,
  // sorted by key like Directory::users) only saves memory: a user row whose values
  // equal those of the desired user with the same key shares that user's value block
  // (core/attr_values.h) instead of holding a copy, so on a cycle where little
  // changed each user's values are stored once.
  Result<KnownState> Load(const std::vector<User>* desired = nullptr);

  Status PutUser(const KnownUser& user);   // insert or replace, one transaction
  Status DeleteUser(const std::string& key);
  Status PutGroup(const KnownGroup& group);  // replaces the group row; members too
  Status DeleteGroup(const std::string& key);  // and its memberships
  // PutGroup, and in the same transaction the row of `old_key` (and its
  // memberships) removed: a group whose key changed case (no-op when old_key is
  // empty or the same key).
  Status RekeyGroup(const std::string& old_key, const KnownGroup& group);
  Status AddMembers(const std::string& group_key, const std::vector<std::string>& user_keys);
  Status RemoveMembers(const std::string& group_key, const std::vector<std::string>& user_keys);
  // kind: "user" or "group". Leaves every other column as it is. kNotFound if the
  // row does not exist (a marker must never be lost silently: a create writes its
  // row with uncertain=true through PutUser/PutGroup instead).
  Status MarkUncertain(const std::string& kind, const std::string& key, bool uncertain);
  // Many rows in one transaction, committed before it returns (with the open
  // group, if any): seeding (benchmarks, imports), and the executor's uncertain
  // markers for the next few hundred creates.
  Status PutUsers(const std::vector<KnownUser>& users);
  // The uncertain markers of the next creates, committed together before it returns
  // (the executor's mark window): `rows`, the marked rows of users the state knows,
  // are written as they are; `new_keys`, users it does not know, go into one
  // create-intent row instead of a row each. A key of an intent reads as an
  // uncertain row with only its key (Load, NeedsAttention) until a row of its own is
  // written (PutUser, the queued confirmed row) or it is deleted (DeleteUser:
  // nothing was sent). Flush, Load, the cycle writes and the destructor settle what
  // is left: a key still without a row gets its marker row, and the intents go;
  // Open settles the intents of a process that died the same way. So after a
  // settle the file is what one marker row per create would have made it, at one
  // row write per window instead of one per create.
  Status MarkCreates(const std::vector<KnownUser>& rows, const std::vector<std::string>& new_keys);

  // Write grouping (see the rules above). max_writes <= 1 turns it off (the default:
  // every write its own transaction); turning it off commits the open group.
  struct WriteGrouping {
    int max_writes = 0;
    std::chrono::milliseconds max_age{0};
  };
  Status SetWriteGrouping(WriteGrouping grouping);
  // Commits the open group, if any (Flush), or only once it is max_age old
  // (FlushIfDue, for a timer: rows must not wait for the next write forever). Both
  // write the queued confirmed rows first.
  Status Flush();
  Status FlushIfDue();

  Result<std::int64_t> BeginCycle(SysTime started);
  Status EndCycle(const CycleRecord& record);
  // Newest first. A "running" row whose process died (an older row, or the newest
  // one while nobody holds the lock file) is reported as "interrupted";
  // BeginCycle also marks such rows "interrupted" in the file.
  Result<std::vector<CycleRecord>> RecentCycles(int limit);
  // The newest cycle that measured the gauges (kCounters rows of kind kGauge: a
  // reconciling read), which may be older than RecentCycles shows; nullopt if none.
  Result<std::optional<CycleRecord>> LastMeasuredCycle();
  Result<std::vector<AttentionItem>> NeedsAttention();

  // Free-form metadata (meta table): "target_url", "daemon_next_cycle", ...
  Status SetMeta(const std::string& name, const std::string& value);
  Result<std::string> GetMeta(const std::string& name);  // empty if absent

 private:
  struct Statements;
  StateStore(std::unique_ptr<SQLite::Database> db, std::string path);
  // Runs `fn` (the statements of one write) in the open group or in a transaction
  // of its own; `barrier` commits at once; `durable` commits the open group, then
  // runs `fn` in a transaction of its own committed with synchronous=FULL.
  // `what` names the write in an error.
  template <typename What, typename Fn>
  Status Write(bool barrier, bool durable, What&& what, Fn&& fn);
  // Commits the open group; throws like SQLiteCpp.
  void CommitGroupLocked();
  // Runs `fn` (one write's statements) in the open write group, opening one if
  // needed, and commits the group when `barrier`, full or old; throws like SQLiteCpp.
  template <typename Fn>
  void InGroupLocked(bool barrier, Fn&& fn);
  // Writes the queued confirmed user rows into the group (see the rules above).
  Status ApplyQueuedLocked();
  // Commits the open group; `settle` (every caller but the timer's FlushIfDue, which
  // runs while creates are in flight) first settles the create intents.
  Status FlushLocked(bool settle = true);
  // The intents' keys still without a row get their marker rows; the intents go.
  // In the open transaction; throws like SQLiteCpp.
  void SettleIntentsLocked();
  // Marker rows for `keys` that have none, and every intent deleted; how many rows
  // were written. In the open transaction; throws like SQLiteCpp.
  std::size_t SettleLocked(const std::vector<std::string>& keys);
  // Deletes the intents once every key of them has a row (or was deleted).
  void DropSettledIntentsLocked();
  // A transaction of ours rolled back (see intents_unsure_).
  void WritesLostLocked();
  // Open: the intents a process left when it died become marker rows.
  Status SettleStoredIntents();
  void PutUserLocked(const KnownUser& user);
  void WriteGroupLocked(const KnownGroup& group);
  void DeleteGroupMembersLocked(const std::string& key);
  Status Fail(const std::exception& e, const char* what) const;
  std::unique_ptr<SQLite::Database> db_;
  std::string path_;
  std::unique_ptr<Statements> stmts_;
  std::mutex mu_;
  WriteGrouping grouping_;
  bool group_open_ = false;  // a BEGIN of the write group is pending its COMMIT
  int group_writes_ = 0;
  std::chrono::steady_clock::time_point group_started_{};
  // The queue of confirmed user rows (grouping on). Guarded by queue_mu_ alone, so a
  // PutUser that queues never waits for mu_; emptied only under mu_ (then queue_mu_),
  // which keeps writes in order.
  std::mutex queue_mu_;
  std::vector<KnownUser> queue_;
  bool queueing_ = false;  // grouping is on: confirmed user rows are queued
  std::size_t queue_limit_ = 0;  // max_writes: a queue this long is written at once
  Status queue_error_;     // a failed queued write, returned until the grouping ends
  // Keys of this connection's create intents that have no row written since (under
  // mu_), and whether intent rows of ours may be in the file. intents_unsure_: a
  // transaction rolled back since, so rows pending_ counts as written may be lost; the
  // intents then go only with a settle from the file (every key without a row gets
  // its marker), never by pending_ running empty.
  std::unordered_set<std::string> pending_;
  bool intents_ = false;
  bool intents_unsure_ = false;
  // PutUserLocked's bound copies of a row's values (under mu_).
  std::array<std::string, kAttrCount> put_values_;
};

// Exclusive advisory lock on "<state path>.lock" (flock), holding the owner's pid
// and command. Released on destruction or process death.
class LockFile {
 public:
  // wait=false: fails at once with kLocked, message naming the holder
  // ("state file <path> is in use by pid 1234 (scimsync daemon) since
  // 2026-01-02T03:04:05Z"). wait=true: blocks until free. The lock file holds
  // "pid=<pid> who=<who> since=<ISO 8601 UTC>".
  static Result<std::unique_ptr<LockFile>> Acquire(const std::string& state_path,
                                                   const std::string& who, bool wait);
  // True if some open file (this process included) holds the lock of `state_path`
  // now. Probes with a shared lock that is dropped at once; for `status`, which
  // must not block or create files.
  static bool IsHeld(const std::string& state_path);
  ~LockFile();
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;

 private:
  explicit LockFile(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace scimsync
