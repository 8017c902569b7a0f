#include "state/state_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>

#include "core/log.h"
#include "core/redact.h"
#include "state/intent_keys.h"
#include "state/sqlite_error.h"

namespace scimsync {
namespace {

// ---------------------------------------------------------------------------
// User attributes: one TEXT column per Attr.
//
// Why columns and not one encoded blob: a column is found by name, so reordering or
// inserting an Attr in core/model.h cannot silently shift old rows; an operator can
// read the file with the sqlite3 shell (`SELECT key, user_name FROM users WHERE
// status = 'failed'`); and `status` gets the label without decoding. The price is a
// migration step per new attribute (ALTER TABLE ... ADD COLUMN, cheap in SQLite),
// which the static_assert below makes impossible to forget.
// The column names are kAttrs[i].state_column (core/model.h).
static_assert(kAttrCount == 9,
              "a new Attr needs a migration step that adds its users column (kAttrs "
              "state_column)");

// ---------------------------------------------------------------------------
// Schema migrations: kMigrations[v] brings user_version v to v + 1, in one
// transaction together with the new user_version. Steps are frozen once released:
// a change is a new step, never an edit of an old one.
constexpr std::array<const char*, StateStore::kSchemaVersion> kMigrations = {
    // 0 -> 1
    R"sql(
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE users (
  key TEXT PRIMARY KEY,
  target_id TEXT NOT NULL DEFAULT '',
  user_name TEXT NOT NULL DEFAULT '', given_name TEXT NOT NULL DEFAULT '',
  family_name TEXT NOT NULL DEFAULT '', display_name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '', department TEXT NOT NULL DEFAULT '',
  active TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL, uncertain INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
  next_retry INTEGER NOT NULL DEFAULT 0, failed_hash INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX users_target_id ON users (target_id);
CREATE TABLE groups (
  key TEXT PRIMARY KEY,
  target_id TEXT NOT NULL DEFAULT '',
  display_name TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL, uncertain INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
  next_retry INTEGER NOT NULL DEFAULT 0, failed_hash INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX groups_target_id ON groups (target_id);
CREATE TABLE memberships (
  group_key TEXT NOT NULL, user_key TEXT NOT NULL,
  PRIMARY KEY (group_key, user_key)
) WITHOUT ROWID;
CREATE INDEX memberships_user_key ON memberships (user_key);
CREATE TABLE cycles (
  id INTEGER PRIMARY KEY,
  started INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0,
  result TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  users_created INTEGER NOT NULL DEFAULT 0, users_updated INTEGER NOT NULL DEFAULT 0,
  users_disabled INTEGER NOT NULL DEFAULT 0, users_deleted INTEGER NOT NULL DEFAULT 0,
  groups_created INTEGER NOT NULL DEFAULT 0, groups_updated INTEGER NOT NULL DEFAULT 0,
  groups_deleted INTEGER NOT NULL DEFAULT 0,
  members_added INTEGER NOT NULL DEFAULT 0, members_removed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0, conflicts INTEGER NOT NULL DEFAULT 0,
  seat_blocked INTEGER NOT NULL DEFAULT 0, deferred INTEGER NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0, duration_ms INTEGER NOT NULL DEFAULT 0
);
)sql",
    // 1 -> 2: the counters of adoptions, drift repairs and unmanaged objects
    // (core/cycle_counters.h). A gauge is -1 where a cycle did not measure it, so
    // the rows written before it existed read as "not measured", not as 0.
    R"sql(
ALTER TABLE cycles ADD COLUMN users_adopted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cycles ADD COLUMN groups_adopted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cycles ADD COLUMN drift INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cycles ADD COLUMN unmanaged_users INTEGER NOT NULL DEFAULT -1;
ALTER TABLE cycles ADD COLUMN unmanaged_groups INTEGER NOT NULL DEFAULT -1;
)sql",
    // 2 -> 3: what the [scope] left out (core/scope.h).
    R"sql(
ALTER TABLE cycles ADD COLUMN users_out_of_scope INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cycles ADD COLUMN groups_out_of_scope INTEGER NOT NULL DEFAULT 0;
)sql",
    // 3 -> 4: the target_id indexes go. No query reads rows by target_id (a cycle
    // matches ids in memory, core/target_match.h), and keeping them up to date cost
    // a first sync about a tenth of its CPU per created user (issue 13).
    R"sql(
DROP INDEX IF EXISTS users_target_id;
DROP INDEX IF EXISTS groups_target_id;
)sql",
    // 4 -> 5: create intents, the markers of users the state did not know, one row
    // per window of creates instead of one users row per create (issue 13; see
    // MarkCreates in state_store.h).
    R"sql(
CREATE TABLE create_intents (id INTEGER PRIMARY KEY, keys BLOB NOT NULL);
)sql",
};

// Cycle rows kept for `status`; older ones are pruned when a cycle begins.
constexpr std::int64_t kCyclesKept = 1000;

constexpr const char* kUserFixedColumns =
    "status, uncertain, last_error, attempts, next_retry, failed_hash";

std::string UserColumnList() {
  std::string cols = "key, target_id";
  for (const auto& a : kAttrs) {
    cols += ", ";
    cols += a.state_column;
  }
  cols += ", ";
  cols += kUserFixedColumns;
  return cols;
}

std::string PutUserSql() {
  std::string sql = "INSERT OR REPLACE INTO users (" + UserColumnList() + ") VALUES (?";
  for (std::size_t i = 1; i < 2 + kAttrCount + 6; ++i) sql += ",?";
  return sql + ")";
}

// Cycle rows: the fixed columns, then one column per counter, named as in kCounters
// (core/cycle_counters.h); the migrations add a column for every new counter.
constexpr const char* kCycleFixedColumns = "id, started, ended, result, reason";

std::string CycleColumnList() {
  std::string cols = kCycleFixedColumns;
  for (const CounterInfo& c : kCounters) {
    cols += ", ";
    cols += c.name;
  }
  return cols;
}

std::string EndCycleSql() {
  std::string sql = "UPDATE cycles SET ended=?, result=?, reason=?";
  for (const CounterInfo& c : kCounters) {
    sql += ", ";
    sql += c.name;
    sql += "=?";
  }
  return sql + " WHERE id=?";
}

// Cycles that measured a gauge (a reconciling read).
std::string MeasuredWhere() {
  std::string where;
  for (const CounterInfo& c : kCounters) {
    if (c.kind != CounterKind::kGauge) continue;
    where += where.empty() ? " WHERE " : " OR ";
    where += std::string(c.name) + " <> " + std::to_string(kUnmeasured);
  }
  return where.empty() ? " WHERE 0" : where;
}

std::int64_t ToMs(SysTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SysTime FromMs(std::int64_t ms) { return SysTime(std::chrono::milliseconds(ms)); }

std::string NormalizeUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void AssignText(std::string& out, const SQLite::Column& c) {
  out.assign(c.getText(), static_cast<std::size_t>(c.getBytes()));
}

// One row of `SELECT CycleColumnList() FROM cycles`.
CycleRecord ReadCycle(SQLite::Statement& q) {
  CycleRecord r;
  int i = 0;
  r.id = q.getColumn(i++).getInt64();
  r.started = FromMs(q.getColumn(i++).getInt64());
  r.ended = FromMs(q.getColumn(i++).getInt64());
  AssignText(r.result, q.getColumn(i++));
  AssignText(r.reason, q.getColumn(i++));
  for (const CounterInfo& c : kCounters) r.counts[c.counter] = q.getColumn(i++).getInt64();
  return r;
}

// A query over the C API for the hot loop of Load: SQLiteCpp builds a Column
// object (with a shared_ptr copy) per column read, which is a measurable share of
// loading a million rows. Errors are thrown as SQLite::Exception like SQLiteCpp's,
// so they take the same path to a Status.
class RawQuery {
 public:
  RawQuery(SQLite::Database& db, const std::string& sql) : db_(db.getHandle()) {
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st_, nullptr);
    if (rc != SQLITE_OK) throw SQLite::Exception(db_, rc);
  }
  ~RawQuery() { sqlite3_finalize(st_); }
  RawQuery(const RawQuery&) = delete;
  RawQuery& operator=(const RawQuery&) = delete;

  bool Step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SQLite::Exception(db_, rc);
  }
  void Text(int i, std::string& out) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, i));
    out.assign(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st_, i)));
  }
  std::string_view View(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, i));
    return std::string_view(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st_, i)));
  }
  std::int64_t Int64(int i) const { return sqlite3_column_int64(st_, i); }
  ObjectStatus Status(int i) const {
    // Unknown names can only come from a newer binary, whose schema version we
    // would have refused; pending makes the planner look again.
    return ObjectStatusByName(View(i)).value_or(ObjectStatus::kPending);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

// Every key of every create intent, in row order; throws like SQLiteCpp (a damaged
// row as SQLITE_CORRUPT: the file is not what this binary wrote).
std::vector<std::string> ReadIntents(SQLite::Database& db) {
  std::vector<std::string> keys;
  RawQuery q(db, "SELECT id, keys FROM create_intents ORDER BY id");
  while (q.Step()) {
    if (!DecodeIntentKeys(q.View(1), &keys)) {
      throw SQLite::Exception("create intent row " + std::to_string(q.Int64(0)) + " is damaged",
                              SQLITE_CORRUPT);
    }
  }
  return keys;
}

// True if `have` holds exactly `values` (byte for byte: sharing a block must not
// change what the row says).
bool SameValues(const AttrValues& have, const std::array<std::string_view, kAttrCount>& values) {
  for (std::size_t a = 0; a < kAttrCount; ++a) {
    if (have.View(a) != values[a]) return false;
  }
  return true;
}

// `path` for a file: URI (https://www.sqlite.org/uri.html): '?', '#' and '%'
// would end or escape the path.
std::string UriEscape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// Every SQLite failure becomes a Status here: code from ErrorCodeFromSqlite, text
// naming the file and what we were doing.
Status SqliteFailure(const std::string& path, std::string_view what, const std::exception& e) {
  ErrorCode code = ErrorCode::kInternal;
  if (const auto* se = dynamic_cast<const SQLite::Exception*>(&e)) {
    code = ErrorCodeFromSqlite(se->getErrorCode());
    if (code == ErrorCode::kOk) code = ErrorCode::kInternal;
  }
  return Status(code, "state file " + path + ": " + std::string(what) + ": " + e.what());
}

Status TooNew(const std::string& path, int version) {
  return Status(ErrorCode::kSchema,
                "state file " + path + " has schema version " + std::to_string(version) +
                    ", this scimsync knows versions up to " +
                    std::to_string(StateStore::kSchemaVersion) + "; use a newer scimsync");
}

Status Migrate(SQLite::Database& db, const std::string& path) {
  int version = db.execAndGet("PRAGMA user_version").getInt();
  if (version > StateStore::kSchemaVersion) return TooNew(path, version);
  const char* kForeignTables = "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'";
  if (version == 0 && db.execAndGet(kForeignTables).getInt() > 0) {
    return Status(ErrorCode::kSchema, "state file " + path +
                                          " holds tables but no scimsync schema version; it "
                                          "is not a scimsync state file");
  }
  for (int v = version; v < StateStore::kSchemaVersion; ++v) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(kMigrations[static_cast<std::size_t>(v)]);
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
    // Creating a new file is routine; upgrading an existing one is worth a line.
    if (v > 0) {
      LogInfo("state_migrated", {{"file", path}, {"schema_version", v + 1}});
    }
  }
  return Status::Ok();
}

// Durability. The connection runs with WAL and synchronous=NORMAL: a commit is
// written to the WAL before it returns, but fsync'ed only at checkpoints.
//  - Process crash (kill -9, OOM kill, abort): the written WAL frames are in the
//    kernel's page cache and survive; nothing committed is lost. This is the crash
//    DESIGN §4's "row after 2xx" rule is about, and it holds.
//  - Power loss or kernel crash: the last commits (seconds) may roll back; the file
//    stays consistent. A user whose create row (or uncertain marker) is lost is
//    POSTed again and gets a 409 — userName is unique per RFC 7643 §4.1.1 — which
//    the executor adopts by filter: no duplicate. Updates, disables, deletes and
//    membership changes are idempotent when replayed.
//  - Group displayName is NOT required to be unique, so a lost marker before a
//    group POST could turn into a second group. A group row written with
//    uncertain=true (the marker before a request whose outcome may be lost) is
//    therefore committed with synchronous=FULL: fsync of the WAL, which also makes
//    every earlier commit durable. If a later row is lost, the marker survives
//    and the next cycle looks the group up instead of creating it. Groups are
//    few, so these fsyncs cost little.
// synchronous=FULL everywhere costs one fsync per user write: measured ~1,700
// commits/s against ~16,000 with NORMAL on the development VM, and a create is two
// commits (marker, row), which would cap a first sync far below the target's rate.
class DurableWrites {
 public:
  explicit DurableWrites(SQLite::Database& db) : db_(db) { db_.exec("PRAGMA synchronous = FULL"); }
  ~DurableWrites() {
    sqlite3_exec(db_.getHandle(), "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
  }
  DurableWrites(const DurableWrites&) = delete;
  DurableWrites& operator=(const DurableWrites&) = delete;

 private:
  SQLite::Database& db_;
};

// Resets a cached statement before and after use, so a failed step never leaves
// it half-run (holding a read snapshot open) for the next caller.
class Use {
 public:
  explicit Use(SQLite::Statement& st) : st_(st) { st_.tryReset(); }
  ~Use() { st_.tryReset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  SQLite::Statement* operator->() { return &st_; }

 private:
  SQLite::Statement& st_;
};

}  // namespace

// Prepared once per connection: PutUser is the hot path of a first sync.
struct StateStore::Statements {
  explicit Statements(SQLite::Database& db)
      : put_user(db, PutUserSql()),
        delete_user(db, "DELETE FROM users WHERE key = ?"),
        delete_user_members(db, "DELETE FROM memberships WHERE user_key = ?"),
        put_group(db,
                  "INSERT OR REPLACE INTO groups (key, target_id, display_name, status, "
                  "uncertain, last_error, attempts, next_retry, failed_hash) "
                  "VALUES (?,?,?,?,?,?,?,?,?)"),
        delete_group(db, "DELETE FROM groups WHERE key = ?"),
        delete_group_members(db, "DELETE FROM memberships WHERE group_key = ?"),
        insert_member(db, "INSERT OR IGNORE INTO memberships (group_key, user_key) VALUES (?,?)"),
        delete_member(db, "DELETE FROM memberships WHERE group_key = ? AND user_key = ?"),
        mark_user(db, "UPDATE users SET uncertain = ? WHERE key = ?"),
        mark_group(db, "UPDATE groups SET uncertain = ? WHERE key = ?"),
        set_meta(db, "INSERT OR REPLACE INTO meta (name, value) VALUES (?,?)"),
        get_meta(db, "SELECT value FROM meta WHERE name = ?"),
        insert_intent(db, "INSERT INTO create_intents (keys) VALUES (?)"),
        clear_intents(db, "DELETE FROM create_intents"),
        insert_marker(db, "INSERT OR IGNORE INTO users (key, status, uncertain) VALUES (?, ?, 1)") {}
  SQLite::Statement put_user, delete_user, delete_user_members;
  SQLite::Statement put_group, delete_group, delete_group_members;
  SQLite::Statement insert_member, delete_member;
  SQLite::Statement mark_user, mark_group;
  SQLite::Statement set_meta, get_meta;
  SQLite::Statement insert_intent, clear_intents, insert_marker;
};

StateStore::StateStore(std::unique_ptr<SQLite::Database> db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}

StateStore::~StateStore() {
  {
    std::lock_guard lock(mu_);
    // Confirmed rows of an open group are kept on a clean exit, create intents settled.
    // Nobody is left to return a failure to: it is logged (the rows it lost cost the
    // next cycle lookups or repeated, idempotent writes, as after a crash).
    if (Status s = FlushLocked(); !s.ok()) LogError("state_error", {{"error", s.message()}});
  }
  stmts_.reset();  // statements before the connection they belong to
}

Status StateStore::Fail(const std::exception& e, const char* what) const {
  return SqliteFailure(path_, what, e);
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path,
                                                     const std::string& target_url) {
  if (path != ":memory:") {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      return Status(ErrorCode::kIo,
                    "state file " + path + ": directory " + parent.string() + " does not exist");
    }
  }
  std::unique_ptr<StateStore> store;
  try {
    // NOMUTEX: every use of the connection is under mu_ already.
    auto db = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX);
    db->setBusyTimeout(5000);
    std::string mode = db->execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal" && path != ":memory:") {
      // E.g. a file system without shared memory support. Rollback journal keeps
      // the same crash guarantees, only readers block the writer.
      LogWarn("state_no_wal", {{"file", path}, {"journal_mode", mode}});
    }
    db->exec("PRAGMA synchronous = NORMAL");  // see DurableWrites
    Status m = Migrate(*db, path);
    if (!m.ok()) return m;
    store.reset(new StateStore(std::move(db), path));
    store->stmts_ = std::make_unique<Statements>(*store->db_);
  } catch (const std::exception& e) {
    return SqliteFailure(path, "cannot open", e);
  }
  if (Status s = store->SettleStoredIntents(); !s.ok()) return s;
  Result<std::string> bound = store->GetMeta("target_url");
  if (!bound.ok()) return bound.status();
  const std::string want = NormalizeUrl(target_url);
  if (bound->empty()) {
    try {
      std::lock_guard lock(store->mu_);
      DurableWrites durable(*store->db_);
      Use st(store->stmts_->set_meta);
      st->bind(1, "target_url");
      st->bind(2, want);
      st->exec();
    } catch (const std::exception& e) {
      return SqliteFailure(path, "bind to target", e);
    }
  } else if (*bound != want) {
    return Status(ErrorCode::kSchema, "state file " + path + " belongs to target " + *bound +
                                          ", not " + want + "; use another state file");
  }
  return store;
}

Result<std::unique_ptr<StateStore>> StateStore::OpenReadOnly(const std::string& path) {
  if (path != ":memory:") {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    if (ec) return Status(ErrorCode::kIo, "state file " + path + ": " + ec.message());
    if (!exists) {
      return Status(ErrorCode::kNotFound,
                    "state file " + path + " does not exist (no sync has run with it yet)");
    }
  }
  try {
    std::unique_ptr<SQLite::Database> db;
    int version = 0;
    try {
      db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);
      db->setBusyTimeout(5000);
      version = db->execAndGet("PRAGMA user_version").getInt();
    } catch (const SQLite::Exception& e) {
      // A WAL database can be read only where SQLite may create its -shm file
      // next to it (https://www.sqlite.org/wal.html, "Read-Only Databases"). In
      // a directory we cannot write to (a read-only mount, another user's
      // directory) `plan` and `status` read it as immutable instead: a snapshot
      // of the file as it is, which is all a reader that writes nothing needs.
      int rc = e.getErrorCode() & 0xff;
      if (path == ":memory:" || (rc != SQLITE_CANTOPEN && rc != SQLITE_READONLY)) throw;
      db = std::make_unique<SQLite::Database>(
          "file:" + UriEscape(path) + "?immutable=1",
          SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX | SQLite::OPEN_URI);
      version = db->execAndGet("PRAGMA user_version").getInt();
    }
    if (version > kSchemaVersion) return TooNew(path, version);
    if (version == 0) {
      return Status(ErrorCode::kSchema,
                    "state file " + path + " is not a scimsync state file (schema version 0)");
    }
    if (version < kSchemaVersion) {
      return Status(ErrorCode::kSchema, "state file " + path + " has schema version " +
                                            std::to_string(version) + ", this scimsync reads " +
                                            std::to_string(kSchemaVersion) +
                                            "; run `scimsync sync` once to migrate it");
    }
    std::unique_ptr<StateStore> store(new StateStore(std::move(db), path));
    // Write statements prepare fine on a read-only connection; using them fails
    // with "attempt to write a readonly database" (kIo).
    store->stmts_ = std::make_unique<Statements>(*store->db_);
    return store;
  } catch (const std::exception& e) {
    return SqliteFailure(path, "cannot open", e);
  }
}

Result<KnownState> StateStore::Load(const std::vector<User>* desired) {
  std::lock_guard lock(mu_);
  if (Status f = FlushLocked(); !f.ok()) return f;  // its read transaction needs none open
  try {
    KnownState state;
    // One read transaction: users, groups and memberships from the same snapshot.
    SQLite::Transaction tx(*db_);
    state.users.reserve(
        static_cast<std::size_t>(db_->execAndGet("SELECT count(*) FROM users").getInt64()));
    // WITHOUT ROWID tables are stored in key order: ORDER BY is a plain scan, and
    // SQLite's BINARY collation is std::string's byte order. This loop runs a
    // million times on large directories, so it reads columns through the C API
    // (no Column objects) straight into the reserved rows.
    RawQuery rows(*db_, "SELECT " + UserColumnList() + " FROM users ORDER BY key");
    // Both in key order: one merge pass finds each row's desired user.
    const std::size_t desired_count = desired ? desired->size() : 0;
    std::size_t di = 0;
    while (rows.Step()) {
      KnownUser& u = state.users.emplace_back();
      int i = 0;
      rows.Text(i++, u.key);
      rows.Text(i++, u.target_id);
      std::array<std::string_view, kAttrCount> values;
      for (auto& v : values) v = rows.View(i++);
      while (di < desired_count && (*desired)[di].key < u.key) ++di;
      if (di < desired_count && (*desired)[di].key == u.key &&
          SameValues((*desired)[di].values, values)) {
        u.values = (*desired)[di].values;  // shares the block
      } else {
        u.values.Assign(values);
      }
      u.status = rows.Status(i++);
      u.uncertain = rows.Int64(i++) != 0;
      rows.Text(i++, u.last_error);
      u.attempts = static_cast<int>(rows.Int64(i++));
      u.next_retry = FromMs(rows.Int64(i++));
      u.failed_hash = static_cast<std::uint64_t>(rows.Int64(i++));
    }
    // Create intents still in the file (a read-only reader beside a running sync or
    // after a crash; a writer settled its own in FlushLocked, and Open those of a
    // process that died): their users are uncertain, as if their marker rows were
    // written.
    if (std::vector<std::string> keys = ReadIntents(*db_); !keys.empty()) {
      const std::size_t known = state.users.size();
      auto by_key = [](const KnownUser& a, const KnownUser& b) { return a.key < b.key; };
      for (std::string& key : keys) {
        KnownUser probe;
        probe.key = key;
        auto end = state.users.begin() + static_cast<std::ptrdiff_t>(known);
        if (std::binary_search(state.users.begin(), end, probe, by_key)) continue;
        KnownUser& u = state.users.emplace_back();
        u.key = std::move(key);
        u.uncertain = true;
      }
      std::sort(state.users.begin(), state.users.end(), by_key);
      state.users.erase(std::unique(state.users.begin(), state.users.end(),
                                    [](const KnownUser& a, const KnownUser& b) {
                                      return a.key == b.key;
                                    }),
                        state.users.end());
    }
    RawQuery g(*db_,
               "SELECT key, target_id, display_name, status, uncertain, last_error, attempts, "
               "next_retry, failed_hash FROM groups ORDER BY key");
    while (g.Step()) {
      KnownGroup& k = state.groups.emplace_back();
      g.Text(0, k.key);
      g.Text(1, k.target_id);
      g.Text(2, k.display_name);
      k.status = g.Status(3);
      k.uncertain = g.Int64(4) != 0;
      g.Text(5, k.last_error);
      k.attempts = static_cast<int>(g.Int64(6));
      k.next_retry = FromMs(g.Int64(7));
      k.failed_hash = static_cast<std::uint64_t>(g.Int64(8));
    }
    // Memberships come in (group_key, user_key) order: one merge pass, members
    // sorted. Rows of a group without a group row are ignored.
    RawQuery m(*db_, "SELECT group_key, user_key FROM memberships ORDER BY group_key, user_key");
    std::size_t gi = 0;
    // A list is trimmed to its size once complete (growth leaves up to twice that).
    while (m.Step()) {
      std::string_view key = m.View(0);
      while (gi < state.groups.size() && state.groups[gi].key < key) {
        state.groups[gi++].members.shrink_to_fit();
      }
      if (gi < state.groups.size() && state.groups[gi].key == key) {
        m.Text(1, state.groups[gi].members.emplace_back());
      }
    }
    if (gi < state.groups.size()) state.groups[gi].members.shrink_to_fit();
    return state;
  } catch (const std::exception& e) {
    return Fail(e, "load");
  }
}

template <typename Fn>
void StateStore::InGroupLocked(bool barrier, Fn&& fn) {
  if (!group_open_) {
    db_->exec("BEGIN IMMEDIATE");
    group_open_ = true;
    group_writes_ = 0;
    group_started_ = std::chrono::steady_clock::now();
  }
  fn();
  ++group_writes_;
  if (barrier || group_writes_ >= grouping_.max_writes ||
      std::chrono::steady_clock::now() - group_started_ >= grouping_.max_age) {
    CommitGroupLocked();
  }
}

Status StateStore::ApplyQueuedLocked() {
  std::vector<KnownUser> rows;
  {
    std::lock_guard q(queue_mu_);
    if (!queue_error_.ok()) return queue_error_;
    rows.swap(queue_);
  }
  std::size_t i = 0;
  try {
    for (; i < rows.size(); ++i) InGroupLocked(false, [&] { PutUserLocked(rows[i]); });
    return Status::Ok();
  } catch (const std::exception& e) {
    if (group_open_) {  // the group is lost with the failed write, as in Write()
      group_open_ = false;
      if (sqlite3_get_autocommit(db_->getHandle()) == 0) {
        sqlite3_exec(db_->getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
    }
    WritesLostLocked();
    Status s = Fail(e, ("write user " + rows[i].key).c_str());
    std::lock_guard q(queue_mu_);
    queue_error_ = s;
    return s;
  }
}

template <typename What, typename Fn>
Status StateStore::Write(bool barrier, bool durable, What&& what, Fn&& fn) {
  std::lock_guard lock(mu_);
  if (Status q = ApplyQueuedLocked(); !q.ok()) return q;  // queued rows go first
  try {
    // A durable write is its own transaction, after the open group: SQLite refuses
    // to change `synchronous` inside a transaction, and its fsync of the WAL makes
    // the group's commit durable too.
    if (durable) CommitGroupLocked();
    if (grouping_.max_writes <= 1 || durable) {
      // Declared before the transaction so it outlives it: the commit is fsync'ed.
      std::optional<DurableWrites> full;
      if (durable) full.emplace(*db_);
      SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
      fn();
      tx.commit();
      return Status::Ok();
    }
    InGroupLocked(barrier, fn);
    return Status::Ok();
  } catch (const std::exception& e) {
    Status failed = Fail(e, what().c_str());
    WritesLostLocked();  // this write's transaction, or the open group, rolled back
    if (group_open_) {
      // The group is lost with the failed write, rows of calls that returned Ok among
      // them; the caller stops the run. Later writes must not commit past the hole:
      // every call of the run returns this error from now on.
      group_open_ = false;
      if (sqlite3_get_autocommit(db_->getHandle()) == 0) {
        sqlite3_exec(db_->getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
      }
      std::lock_guard q(queue_mu_);
      if (queue_error_.ok()) queue_error_ = failed;
    }
    return failed;
  }
}

void StateStore::WritesLostLocked() {
  intents_unsure_ = true;
  intents_ = true;
}

void StateStore::DropSettledIntentsLocked() {
  if (!intents_ || intents_unsure_ || !pending_.empty()) return;
  Use c(stmts_->clear_intents);
  c->exec();
  intents_ = false;
}

std::size_t StateStore::SettleLocked(const std::vector<std::string>& keys) {
  // The row MarkedForCreate gives a user the state did not know: its key, pending,
  // uncertain. A key with a row keeps it (written after the intent: the truth).
  const std::string status(ObjectStatusName(ObjectStatus::kPending));
  std::size_t written = 0;
  for (const std::string& key : keys) {
    Use ins(stmts_->insert_marker);
    ins->bindNoCopy(1, key);
    ins->bindNoCopy(2, status);
    written += static_cast<std::size_t>(ins->exec());
  }
  Use c(stmts_->clear_intents);
  c->exec();
  pending_.clear();
  intents_ = false;
  intents_unsure_ = false;  // set again if the transaction does not commit
  return written;
}

void StateStore::SettleIntentsLocked() {
  if (!intents_) return;
  // After a rollback pending_ may miss keys whose rows were lost: the file's intents
  // are settled instead, as Open does for a process that died (a key never sent then
  // costs one lookup).
  SettleLocked(intents_unsure_ ? ReadIntents(*db_)
                               : std::vector<std::string>(pending_.begin(), pending_.end()));
}

void StateStore::CommitGroupLocked() {
  if (!group_open_) return;
  group_open_ = false;
  try {
    DropSettledIntentsLocked();
    db_->exec("COMMIT");
  } catch (const std::exception& e) {
    if (sqlite3_get_autocommit(db_->getHandle()) == 0) {
      sqlite3_exec(db_->getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    // The group's writes are lost, rows of calls that returned Ok among them: as for
    // a failed write (Write), nothing may commit past the hole until the grouping ends.
    WritesLostLocked();
    std::lock_guard q(queue_mu_);
    // While grouping is on (a run): with it off there is no group for later writes to
    // commit past, and nothing would clear the error.
    if (queueing_ && queue_error_.ok()) queue_error_ = Fail(e, "commit");
    throw;
  }
}

Status StateStore::FlushLocked(bool settle) {
  if (Status q = ApplyQueuedLocked(); !q.ok()) return q;
  try {
    if (settle && intents_) {
      if (!group_open_) {
        db_->exec("BEGIN IMMEDIATE");
        group_open_ = true;
        group_writes_ = 0;
        group_started_ = std::chrono::steady_clock::now();
      }
      try {
        SettleIntentsLocked();
      } catch (...) {
        group_open_ = false;  // lost with the failed write, as in Write()
        if (sqlite3_get_autocommit(db_->getHandle()) == 0) {
          sqlite3_exec(db_->getHandle(), "ROLLBACK", nullptr, nullptr, nullptr);
        }
        WritesLostLocked();
        throw;
      }
    }
    CommitGroupLocked();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, "commit");
  }
}

Status StateStore::SettleStoredIntents() {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    std::vector<std::string> keys = ReadIntents(*db_);
    if (keys.empty()) return Status::Ok();
    const std::size_t written = SettleLocked(keys);
    tx.commit();
    LogInfo("state_intents_settled", {{"file", path_},
                                      {"users", std::to_string(keys.size())},
                                      {"uncertain", std::to_string(written)}});
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, "settle create intents");
  }
}

Status StateStore::Flush() {
  std::lock_guard lock(mu_);
  return FlushLocked();
}

Status StateStore::FlushIfDue() {
  std::lock_guard lock(mu_);
  if (Status q = ApplyQueuedLocked(); !q.ok()) return q;
  if (!group_open_ || std::chrono::steady_clock::now() - group_started_ < grouping_.max_age) {
    return Status::Ok();
  }
  return FlushLocked(false);  // creates are in flight: their intents stay
}

Status StateStore::SetWriteGrouping(WriteGrouping grouping) {
  std::lock_guard lock(mu_);
  Status s = FlushLocked();
  grouping_ = grouping;
  std::lock_guard q(queue_mu_);
  queueing_ = grouping.max_writes > 1;
  queue_limit_ = static_cast<std::size_t>(std::max(1, grouping.max_writes));
  if (!queueing_) queue_error_ = Status::Ok();  // reported already; the next run starts clean
  return s;
}

void StateStore::PutUserLocked(const KnownUser& u) {
  if (!pending_.empty()) pending_.erase(u.key);  // its intent is settled by this row
  // The hot path of a first sync: the strings outlive exec(), so SQLite need not
  // copy them (bindNoCopy).
  const std::string status(ObjectStatusName(u.status));
  const std::string last_error = Redact(u.last_error);  // a server's words: may echo a secret
  Use st(stmts_->put_user);
  int i = 1;
  st->bindNoCopy(i++, u.key);
  st->bindNoCopy(i++, u.target_id);
  // SQLiteCpp binds text only from NUL-terminated strings: the packed values are
  // copied into strings kept for the next call (no allocation once they are warm).
  for (std::size_t a = 0; a < kAttrCount; ++a) {
    put_values_[a].assign(u.values.View(a));
    st->bindNoCopy(i++, put_values_[a]);
  }
  st->bindNoCopy(i++, status);
  st->bind(i++, u.uncertain ? 1 : 0);
  st->bindNoCopy(i++, last_error);
  st->bind(i++, u.attempts);
  st->bind(i++, static_cast<std::int64_t>(ToMs(u.next_retry)));
  st->bind(i++, static_cast<std::int64_t>(u.failed_hash));
  st->exec();
}

Status StateStore::PutUser(const KnownUser& user) {
  if (!user.uncertain) {
    std::unique_lock q(queue_mu_);
    if (queueing_) {
      if (!queue_error_.ok()) return queue_error_;
      queue_.push_back(user);
      if (queue_.size() < queue_limit_) return Status::Ok();
      q.unlock();
      std::lock_guard lock(mu_);  // a full queue: written here, not left to grow
      return ApplyQueuedLocked();
    }
  }
  return Write(user.uncertain, false, [&] { return "write user " + user.key; },
               [&] { PutUserLocked(user); });
}

Status StateStore::PutUsers(const std::vector<KnownUser>& users) {
  return Write(true, false, [] { return std::string("write users"); }, [&] {
    for (const auto& u : users) PutUserLocked(u);
  });
}

Status StateStore::MarkCreates(const std::vector<KnownUser>& rows,
                               const std::vector<std::string>& new_keys) {
  return Write(true, false, [] { return std::string("mark creates"); }, [&] {
    for (const auto& u : rows) PutUserLocked(u);
    if (new_keys.empty()) return;
    const std::string blob = EncodeIntentKeys(new_keys);
    Use st(stmts_->insert_intent);
    st->bind(1, blob.data(), static_cast<int>(blob.size()));
    st->exec();
    pending_.insert(new_keys.begin(), new_keys.end());
    intents_ = true;
  });
}

Status StateStore::DeleteUser(const std::string& key) {
  return Write(false, false, [&] { return "delete user " + key; }, [&] {
    if (!pending_.empty()) pending_.erase(key);  // nothing was sent: no marker is needed
    {
      Use d(stmts_->delete_user);
      d->bind(1, key);
      d->exec();
    }
    Use m(stmts_->delete_user_members);
    m->bind(1, key);
    m->exec();
  });
}

Status StateStore::PutGroup(const KnownGroup& group) { return RekeyGroup("", group); }

void StateStore::WriteGroupLocked(const KnownGroup& group) {
  {
    Use st(stmts_->put_group);
    st->bind(1, group.key);
    st->bind(2, group.target_id);
    st->bind(3, group.display_name);
    st->bind(4, std::string(ObjectStatusName(group.status)));
    st->bind(5, group.uncertain ? 1 : 0);
    st->bind(6, Redact(group.last_error));
    st->bind(7, group.attempts);
    st->bind(8, static_cast<std::int64_t>(ToMs(group.next_retry)));
    st->bind(9, static_cast<std::int64_t>(group.failed_hash));
    st->exec();
  }
  DeleteGroupMembersLocked(group.key);
  for (const auto& member : group.members) {
    Use ins(stmts_->insert_member);
    ins->bind(1, group.key);
    ins->bind(2, member);
    ins->exec();
  }
}

void StateStore::DeleteGroupMembersLocked(const std::string& key) {
  Use m(stmts_->delete_group_members);
  m->bind(1, key);
  m->exec();
}

Status StateStore::RekeyGroup(const std::string& old_key, const KnownGroup& group) {
  // An uncertain group row is committed with an fsync (see DurableWrites).
  return Write(group.uncertain, group.uncertain, [&] { return "write group " + group.key; }, [&] {
    if (!old_key.empty() && old_key != group.key) {
      Use d(stmts_->delete_group);
      d->bind(1, old_key);
      d->exec();
      DeleteGroupMembersLocked(old_key);
    }
    WriteGroupLocked(group);
  });
}

Status StateStore::DeleteGroup(const std::string& key) {
  return Write(false, false, [&] { return "delete group " + key; }, [&] {
    {
      Use d(stmts_->delete_group);
      d->bind(1, key);
      d->exec();
    }
    DeleteGroupMembersLocked(key);
  });
}

Status StateStore::AddMembers(const std::string& group_key,
                              const std::vector<std::string>& user_keys) {
  return Write(false, false, [&] { return "add members to group " + group_key; }, [&] {
    for (const auto& u : user_keys) {
      Use ins(stmts_->insert_member);
      ins->bind(1, group_key);
      ins->bind(2, u);
      ins->exec();
    }
  });
}

Status StateStore::RemoveMembers(const std::string& group_key,
                                 const std::vector<std::string>& user_keys) {
  return Write(false, false, [&] { return "remove members from group " + group_key; }, [&] {
    for (const auto& u : user_keys) {
      Use del(stmts_->delete_member);
      del->bind(1, group_key);
      del->bind(2, u);
      del->exec();
    }
  });
}

Status StateStore::MarkUncertain(const std::string& kind, const std::string& key, bool uncertain) {
  if (kind != "user" && kind != "group") {
    return Status(ErrorCode::kInvalidArgument, "MarkUncertain: unknown kind \"" + kind + "\"");
  }
  bool found = true;
  Status s = Write(uncertain, false, [&] { return "mark " + kind + " " + key + " uncertain"; },
                   [&] {
                     Use st(kind == "user" ? stmts_->mark_user : stmts_->mark_group);
                     st->bind(1, uncertain ? 1 : 0);
                     st->bind(2, key);
                     found = st->exec() != 0;
                   });
  if (s.ok() && !found) {
    // Marking a row that does not exist would lose the marker silently; a create
    // must write its row (uncertain = true) with PutUser/PutGroup instead.
    return Status(ErrorCode::kNotFound,
                  "state file " + path_ + ": no " + kind + " " + key + " to mark uncertain");
  }
  return s;
}

Result<std::int64_t> StateStore::BeginCycle(SysTime started) {
  std::lock_guard lock(mu_);
  if (Status f = FlushLocked(); !f.ok()) return f;
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    // A cycle still "running" belonged to a process that died: the caller holds
    // the lock file now, so no other cycle can be running.
    db_->exec("UPDATE cycles SET result = 'interrupted' WHERE result = 'running'");
    SQLite::Statement st(*db_, "INSERT INTO cycles (started, result) VALUES (?, 'running')");
    st.bind(1, static_cast<std::int64_t>(ToMs(started)));
    st.exec();
    const std::int64_t id = db_->getLastInsertRowid();
    SQLite::Statement prune(*db_, "DELETE FROM cycles WHERE id <= ?");
    prune.bind(1, id - kCyclesKept);
    prune.exec();
    tx.commit();
    return id;
  } catch (const std::exception& e) {
    return Fail(e, "begin cycle");
  }
}

Status StateStore::EndCycle(const CycleRecord& r) {
  std::lock_guard lock(mu_);
  if (Status f = FlushLocked(); !f.ok()) return f;
  try {
    SQLite::Statement st(*db_, EndCycleSql());
    int i = 1;
    st.bind(i++, static_cast<std::int64_t>(ToMs(r.ended)));
    st.bind(i++, r.result);
    st.bind(i++, Redact(r.reason));
    for (const CounterInfo& c : kCounters) st.bind(i++, r.counts[c.counter]);
    st.bind(i++, static_cast<std::int64_t>(r.id));
    if (st.exec() == 0) {
      return Status(ErrorCode::kNotFound,
                    "state file " + path_ + ": no cycle " + std::to_string(r.id) + " to end");
    }
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, "end cycle");
  }
}

Result<std::vector<CycleRecord>> StateStore::RecentCycles(int limit) {
  std::lock_guard lock(mu_);
  try {
    std::vector<CycleRecord> out;
    if (limit <= 0) return out;
    SQLite::Statement q(*db_,
                        "SELECT " + CycleColumnList() + " FROM cycles ORDER BY id DESC LIMIT ?");
    q.bind(1, limit);
    while (q.executeStep()) out.push_back(ReadCycle(q));
    // Only the newest cycle can still be running (one writer, under the lock); it
    // is running only while someone holds the lock. An in-memory database has no
    // lock file: its newest "running" row is taken at its word.
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (out[k].result != "running") continue;
      bool newest = k == 0;
      if (!newest || (path_ != ":memory:" && !LockFile::IsHeld(path_))) {
        out[k].result = "interrupted";
      }
    }
    return out;
  } catch (const std::exception& e) {
    return Fail(e, "read cycles");
  }
}

Result<std::optional<CycleRecord>> StateStore::LastMeasuredCycle() {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT " + CycleColumnList() + " FROM cycles" + MeasuredWhere() +
                                  " ORDER BY id DESC LIMIT 1");
    if (!q.executeStep()) return std::optional<CycleRecord>();
    return std::optional<CycleRecord>(ReadCycle(q));
  } catch (const std::exception& e) {
    return Fail(e, "read the last reconciling cycle");
  }
}

Result<std::vector<AttentionItem>> StateStore::NeedsAttention() {
  std::lock_guard lock(mu_);
  if (Status f = FlushLocked(false); !f.ok()) return f;  // its read transaction needs none open
  try {
    // One read transaction: the rows and the intents from the same snapshot (a settle
    // between the two reads would hide its users from both).
    SQLite::Transaction tx(*db_);
    std::vector<AttentionItem> out;
    // The problem status wins over "uncertain": it says why the object is stuck.
    auto fill = [&](SQLite::Statement& q, const char* kind) {
      while (q.executeStep()) {
        AttentionItem& a = out.emplace_back();
        a.kind = kind;
        AssignText(a.key, q.getColumn(0));
        AssignText(a.label, q.getColumn(1));
        std::string status = q.getColumn(2).getString();
        bool problem = status == "failed" || status == "conflict" || status == "seat-blocked";
        a.status = problem ? status : "uncertain";
        AssignText(a.last_error, q.getColumn(4));
        a.attempts = q.getColumn(5).getInt();
        a.next_retry = FromMs(q.getColumn(6).getInt64());
      }
    };
    constexpr const char* kWhere =
        " WHERE uncertain <> 0 OR status IN ('failed', 'conflict', 'seat-blocked') ORDER BY key";
    SQLite::Statement u(*db_, std::string("SELECT key, user_name, status, uncertain, last_error, "
                                          "attempts, next_retry FROM users") +
                                  kWhere);
    fill(u, "user");
    // Users of create intents without a row (a sync is sending them now, or one died
    // while it did): uncertain, as their marker rows would say.
    if (std::vector<std::string> keys = ReadIntents(*db_); !keys.empty()) {
      const std::size_t listed = out.size();
      SQLite::Statement has(*db_, "SELECT 1 FROM users WHERE key = ?");
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      for (const std::string& key : keys) {
        has.reset();
        has.bind(1, key);
        if (has.executeStep()) continue;
        AttentionItem& a = out.emplace_back();
        a.kind = "user";
        a.key = key;
        a.status = "uncertain";
      }
      std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(listed), out.end(),
                         [](const AttentionItem& a, const AttentionItem& b) { return a.key < b.key; });
    }
    SQLite::Statement g(*db_, std::string("SELECT key, display_name, status, uncertain, "
                                          "last_error, attempts, next_retry FROM groups") +
                                  kWhere);
    fill(g, "group");
    return out;
  } catch (const std::exception& e) {
    return Fail(e, "read objects needing attention");
  }
}

Status StateStore::SetMeta(const std::string& name, const std::string& value) {
  std::lock_guard lock(mu_);
  if (Status f = FlushLocked(); !f.ok()) return f;
  try {
    Use st(stmts_->set_meta);
    st->bind(1, name);
    st->bind(2, value);
    st->exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("write meta " + name).c_str());
  }
}

Result<std::string> StateStore::GetMeta(const std::string& name) {
  std::lock_guard lock(mu_);
  try {
    Use st(stmts_->get_meta);
    st->bind(1, name);
    if (st->executeStep()) return st->getColumn(0).getString();
    return std::string();
  } catch (const std::exception& e) {
    return Fail(e, ("read meta " + name).c_str());
  }
}

}  // namespace scimsync
