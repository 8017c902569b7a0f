#include "state/state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>

namespace scimsync {
namespace {

// Attribute values are stored in one column as "<len>:<bytes>" for each Attr in
// kAttrs order: any byte is allowed in a value, adding an attribute later is an
// append, and a row stays one read.
std::string EncodeValues(const AttrValues& values) {
  std::string out;
  std::size_t total = 0;
  for (const auto& v : values) total += v.size() + 4;
  out.reserve(total);
  for (const auto& v : values) {
    out += std::to_string(v.size());
    out += ':';
    out += v;
  }
  return out;
}

bool DecodeValues(std::string_view in, AttrValues& values) {
  std::size_t i = 0;
  for (std::size_t a = 0; a < kAttrCount; ++a) {
    if (i >= in.size()) {  // older rows may hold fewer attributes
      values[a].clear();
      continue;
    }
    std::size_t colon = in.find(':', i);
    if (colon == std::string_view::npos) return false;
    std::size_t len = 0;
    for (std::size_t j = i; j < colon; ++j) {
      if (in[j] < '0' || in[j] > '9') return false;
      len = len * 10 + static_cast<std::size_t>(in[j] - '0');
    }
    if (colon + 1 + len > in.size()) return false;
    values[a].assign(in.substr(colon + 1, len));
    i = colon + 1 + len;
  }
  return true;
}

std::int64_t ToMs(SysTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
SysTime FromMs(std::int64_t ms) { return SysTime(std::chrono::milliseconds(ms)); }

std::string NormalizeUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string IsoNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Schema migrations: step i brings user_version i to i+1, in one transaction.
const std::vector<const char*> kMigrations = {
    // 0 -> 1
    R"sql(
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE users (
  key TEXT PRIMARY KEY, target_id TEXT NOT NULL DEFAULT '', attrs BLOB NOT NULL,
  status TEXT NOT NULL, uncertain INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
  next_retry INTEGER NOT NULL DEFAULT 0, failed_hash INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX users_target_id ON users(target_id);
CREATE TABLE groups (
  key TEXT PRIMARY KEY, target_id TEXT NOT NULL DEFAULT '', display_name TEXT NOT NULL,
  status TEXT NOT NULL, uncertain INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
  next_retry INTEGER NOT NULL DEFAULT 0, failed_hash INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE memberships (group_key TEXT NOT NULL, user_key TEXT NOT NULL,
  PRIMARY KEY (group_key, user_key)) WITHOUT ROWID;
CREATE TABLE cycles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, started INTEGER NOT NULL, ended INTEGER NOT NULL DEFAULT 0,
  result TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  users_created INTEGER NOT NULL DEFAULT 0, users_updated INTEGER NOT NULL DEFAULT 0,
  users_disabled INTEGER NOT NULL DEFAULT 0, users_deleted INTEGER NOT NULL DEFAULT 0,
  groups_created INTEGER NOT NULL DEFAULT 0, groups_updated INTEGER NOT NULL DEFAULT 0,
  groups_deleted INTEGER NOT NULL DEFAULT 0, members_added INTEGER NOT NULL DEFAULT 0,
  members_removed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
  conflicts INTEGER NOT NULL DEFAULT 0, seat_blocked INTEGER NOT NULL DEFAULT 0,
  deferred INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0);
)sql",
};
static_assert(StateStore::kSchemaVersion == 1, "add a migration step with the new version");

constexpr const char* kPutUser =
    "INSERT OR REPLACE INTO users (key, target_id, attrs, status, uncertain, last_error, "
    "attempts, next_retry, failed_hash) VALUES (?,?,?,?,?,?,?,?,?)";

Status Migrate(SQLite::Database& db, const std::string& path) {
  int version = db.execAndGet("PRAGMA user_version").getInt();
  if (version > StateStore::kSchemaVersion) {
    return Status(ErrorCode::kSchema,
                  "state file " + path + " has schema version " + std::to_string(version) +
                      ", this scimsync knows up to version " +
                      std::to_string(StateStore::kSchemaVersion) + "; use a newer scimsync");
  }
  for (int v = version; v < StateStore::kSchemaVersion; ++v) {
    SQLite::Transaction tx(db);
    db.exec(kMigrations[static_cast<std::size_t>(v)]);
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    tx.commit();
  }
  return Status::Ok();
}

void BindUser(SQLite::Statement& st, const KnownUser& u) {
  st.bind(1, u.key);
  st.bind(2, u.target_id);
  std::string attrs = EncodeValues(u.values);
  st.bind(3, attrs.data(), static_cast<int>(attrs.size()));
  st.bind(4, std::string(ObjectStatusName(u.status)));
  st.bind(5, u.uncertain ? 1 : 0);
  st.bind(6, u.last_error);
  st.bind(7, u.attempts);
  st.bind(8, static_cast<std::int64_t>(ToMs(u.next_retry)));
  st.bind(9, static_cast<std::int64_t>(u.failed_hash));
}

}  // namespace

struct StateStore::Statements {
  explicit Statements(SQLite::Database& db) : put_user(db, kPutUser) {}
  SQLite::Statement put_user;
};

StateStore::StateStore(std::unique_ptr<SQLite::Database> db, std::string path)
    : db_(std::move(db)), path_(std::move(path)) {}

StateStore::~StateStore() = default;

Status StateStore::Fail(const std::exception& e, const char* what) const {
  return Status(ErrorCode::kIo, "state file " + path_ + ": " + what + ": " + e.what());
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path,
                                                     const std::string& target_url) {
  try {
    auto db = std::make_unique<SQLite::Database>(
        path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
    db->setBusyTimeout(5000);
    // WAL with synchronous=NORMAL: a committed row survives a crash of the process
    // (kill -9) — the rule DESIGN §4 is about. A power loss may drop the last few
    // commits; the objects they describe then come back as 409s, which the
    // executor adopts by filter, so no duplicate follows either.
    db->exec("PRAGMA journal_mode = WAL");
    db->exec("PRAGMA synchronous = NORMAL");
    db->exec("PRAGMA foreign_keys = OFF");
    Status m = Migrate(*db, path);
    if (!m.ok()) return m;
    std::unique_ptr<StateStore> store(new StateStore(std::move(db), path));
    store->stmts_ = std::make_unique<Statements>(*store->db_);
    Result<std::string> bound = store->GetMeta("target_url");
    if (!bound.ok()) return bound.status();
    std::string want = NormalizeUrl(target_url);
    if (bound->empty()) {
      Status s = store->SetMeta("target_url", want);
      if (!s.ok()) return s;
    } else if (*bound != want) {
      return Status(ErrorCode::kSchema, "state file " + path + " belongs to target " + *bound +
                                            ", not " + want + "; use another state file");
    }
    return store;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kIo, "state file " + path + ": cannot open: " + e.what());
  }
}

Result<std::unique_ptr<StateStore>> StateStore::OpenReadOnly(const std::string& path) {
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY);
    db->setBusyTimeout(5000);
    int version = db->execAndGet("PRAGMA user_version").getInt();
    if (version != kSchemaVersion) {
      return Status(ErrorCode::kSchema,
                    "state file " + path + " has schema version " + std::to_string(version) +
                        ", this scimsync reads version " + std::to_string(kSchemaVersion) +
                        (version < kSchemaVersion ? "; run `scimsync sync` once to migrate it"
                                                  : "; use a newer scimsync"));
    }
    std::unique_ptr<StateStore> store(new StateStore(std::move(db), path));
    return store;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kIo, "state file " + path + ": cannot open: " + e.what());
  }
}

Result<KnownState> StateStore::Load() {
  std::lock_guard lock(mu_);
  try {
    KnownState state;
    int n = db_->execAndGet("SELECT count(*) FROM users").getInt();
    state.users.reserve(static_cast<std::size_t>(n));
    SQLite::Statement q(*db_,
                        "SELECT key, target_id, attrs, status, uncertain, last_error, attempts, "
                        "next_retry, failed_hash FROM users ORDER BY key");
    while (q.executeStep()) {
      KnownUser& u = state.users.emplace_back();
      u.key = q.getColumn(0).getString();
      u.target_id = q.getColumn(1).getString();
      const SQLite::Column attrs = q.getColumn(2);
      std::string_view enc(static_cast<const char*>(attrs.getBlob()),
                           static_cast<std::size_t>(attrs.getBytes()));
      if (!DecodeValues(enc, u.values)) {
        return Status(ErrorCode::kParse,
                      "state file " + path_ + ": user " + u.key + ": malformed attributes");
      }
      u.status = ObjectStatusByName(q.getColumn(3).getString()).value_or(ObjectStatus::kPending);
      u.uncertain = q.getColumn(4).getInt() != 0;
      u.last_error = q.getColumn(5).getString();
      u.attempts = q.getColumn(6).getInt();
      u.next_retry = FromMs(q.getColumn(7).getInt64());
      u.failed_hash = static_cast<std::uint64_t>(q.getColumn(8).getInt64());
    }
    SQLite::Statement g(*db_,
                        "SELECT key, target_id, display_name, status, uncertain, last_error, "
                        "attempts, next_retry, failed_hash FROM groups ORDER BY key");
    while (g.executeStep()) {
      KnownGroup& k = state.groups.emplace_back();
      k.key = g.getColumn(0).getString();
      k.target_id = g.getColumn(1).getString();
      k.display_name = g.getColumn(2).getString();
      k.status = ObjectStatusByName(g.getColumn(3).getString()).value_or(ObjectStatus::kPending);
      k.uncertain = g.getColumn(4).getInt() != 0;
      k.last_error = g.getColumn(5).getString();
      k.attempts = g.getColumn(6).getInt();
      k.next_retry = FromMs(g.getColumn(7).getInt64());
      k.failed_hash = static_cast<std::uint64_t>(g.getColumn(8).getInt64());
    }
    SQLite::Statement m(*db_,
                        "SELECT group_key, user_key FROM memberships ORDER BY group_key, user_key");
    std::size_t gi = 0;
    while (m.executeStep()) {
      std::string gk = m.getColumn(0).getString();
      while (gi < state.groups.size() && state.groups[gi].key < gk) ++gi;
      if (gi < state.groups.size() && state.groups[gi].key == gk) {
        state.groups[gi].members.push_back(m.getColumn(1).getString());
      }
    }
    return state;
  } catch (const std::exception& e) {
    return Fail(e, "load");
  }
}

Status StateStore::PutUserLocked(const KnownUser& user) {
  SQLite::Statement& st = stmts_->put_user;
  st.reset();
  st.clearBindings();
  BindUser(st, user);
  st.exec();
  return Status::Ok();
}

Status StateStore::PutUser(const KnownUser& user) {
  std::lock_guard lock(mu_);
  try {
    return PutUserLocked(user);  // one statement = one transaction
  } catch (const std::exception& e) {
    return Fail(e, ("write user " + user.key).c_str());
  }
}

Status StateStore::PutUsersBulk(const std::vector<KnownUser>& users) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    for (const auto& u : users) {
      Status s = PutUserLocked(u);
      if (!s.ok()) return s;
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, "bulk write users");
  }
}

Status StateStore::DeleteUser(const std::string& key) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement d(*db_, "DELETE FROM users WHERE key = ?");
    d.bind(1, key);
    d.exec();
    SQLite::Statement m(*db_, "DELETE FROM memberships WHERE user_key = ?");
    m.bind(1, key);
    m.exec();
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("delete user " + key).c_str());
  }
}

Status StateStore::PutGroup(const KnownGroup& group) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement st(*db_,
                         "INSERT OR REPLACE INTO groups (key, target_id, display_name, status, "
                         "uncertain, last_error, attempts, next_retry, failed_hash) "
                         "VALUES (?,?,?,?,?,?,?,?,?)");
    st.bind(1, group.key);
    st.bind(2, group.target_id);
    st.bind(3, group.display_name);
    st.bind(4, std::string(ObjectStatusName(group.status)));
    st.bind(5, group.uncertain ? 1 : 0);
    st.bind(6, group.last_error);
    st.bind(7, group.attempts);
    st.bind(8, static_cast<std::int64_t>(ToMs(group.next_retry)));
    st.bind(9, static_cast<std::int64_t>(group.failed_hash));
    st.exec();
    SQLite::Statement del(*db_, "DELETE FROM memberships WHERE group_key = ?");
    del.bind(1, group.key);
    del.exec();
    SQLite::Statement ins(*db_, "INSERT OR IGNORE INTO memberships VALUES (?, ?)");
    for (const auto& m : group.members) {
      ins.reset();
      ins.bind(1, group.key);
      ins.bind(2, m);
      ins.exec();
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("write group " + group.key).c_str());
  }
}

Status StateStore::DeleteGroup(const std::string& key) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement d(*db_, "DELETE FROM groups WHERE key = ?");
    d.bind(1, key);
    d.exec();
    SQLite::Statement m(*db_, "DELETE FROM memberships WHERE group_key = ?");
    m.bind(1, key);
    m.exec();
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("delete group " + key).c_str());
  }
}

Status StateStore::AddMembers(const std::string& group_key,
                              const std::vector<std::string>& user_keys) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement ins(*db_, "INSERT OR IGNORE INTO memberships VALUES (?, ?)");
    for (const auto& u : user_keys) {
      ins.reset();
      ins.bind(1, group_key);
      ins.bind(2, u);
      ins.exec();
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("add members to " + group_key).c_str());
  }
}

Status StateStore::RemoveMembers(const std::string& group_key,
                                 const std::vector<std::string>& user_keys) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement del(*db_, "DELETE FROM memberships WHERE group_key = ? AND user_key = ?");
    for (const auto& u : user_keys) {
      del.reset();
      del.bind(1, group_key);
      del.bind(2, u);
      del.exec();
    }
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("remove members from " + group_key).c_str());
  }
}

Status StateStore::MarkUncertain(const std::string& kind, const std::string& key,
                                 bool uncertain) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement st(*db_, kind == "group"
                                   ? "UPDATE groups SET uncertain = ? WHERE key = ?"
                                   : "UPDATE users SET uncertain = ? WHERE key = ?");
    st.bind(1, uncertain ? 1 : 0);
    st.bind(2, key);
    st.exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("mark " + kind + " " + key).c_str());
  }
}

Result<std::int64_t> StateStore::BeginCycle(SysTime started) {
  std::lock_guard lock(mu_);
  try {
    // A cycle still "running" belonged to a process that died (the lock is ours now).
    db_->exec("UPDATE cycles SET result = 'interrupted' WHERE result = 'running'");
    SQLite::Statement st(*db_, "INSERT INTO cycles (started, result) VALUES (?, 'running')");
    st.bind(1, static_cast<std::int64_t>(ToMs(started)));
    st.exec();
    return static_cast<std::int64_t>(db_->getLastInsertRowid());
  } catch (const std::exception& e) {
    return Fail(e, "begin cycle");
  }
}

Status StateStore::EndCycle(const CycleRecord& r) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement st(
        *db_,
        "UPDATE cycles SET ended=?, result=?, reason=?, users_created=?, users_updated=?, "
        "users_disabled=?, users_deleted=?, groups_created=?, groups_updated=?, groups_deleted=?, "
        "members_added=?, members_removed=?, failed=?, conflicts=?, seat_blocked=?, deferred=?, "
        "requests=?, duration_ms=? WHERE id=?");
    int i = 1;
    st.bind(i++, static_cast<std::int64_t>(ToMs(r.ended)));
    st.bind(i++, r.result);
    st.bind(i++, r.reason);
    for (int v : {r.users_created, r.users_updated, r.users_disabled, r.users_deleted,
                  r.groups_created, r.groups_updated, r.groups_deleted, r.members_added,
                  r.members_removed, r.failed, r.conflicts, r.seat_blocked, r.deferred}) {
      st.bind(i++, v);
    }
    st.bind(i++, static_cast<std::int64_t>(r.requests));
    st.bind(i++, static_cast<std::int64_t>(r.duration_ms));
    st.bind(i++, static_cast<std::int64_t>(r.id));
    st.exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, "end cycle");
  }
}

Result<std::vector<CycleRecord>> StateStore::RecentCycles(int limit) {
  std::lock_guard lock(mu_);
  try {
    std::vector<CycleRecord> out;
    SQLite::Statement q(
        *db_,
        "SELECT id, started, ended, result, reason, users_created, users_updated, users_disabled, "
        "users_deleted, groups_created, groups_updated, groups_deleted, members_added, "
        "members_removed, failed, conflicts, seat_blocked, deferred, requests, duration_ms "
        "FROM cycles ORDER BY id DESC LIMIT ?");
    q.bind(1, limit);
    while (q.executeStep()) {
      CycleRecord r;
      int i = 0;
      r.id = q.getColumn(i++).getInt64();
      r.started = FromMs(q.getColumn(i++).getInt64());
      r.ended = FromMs(q.getColumn(i++).getInt64());
      r.result = q.getColumn(i++).getString();
      r.reason = q.getColumn(i++).getString();
      for (int* f : {&r.users_created, &r.users_updated, &r.users_disabled, &r.users_deleted,
                     &r.groups_created, &r.groups_updated, &r.groups_deleted, &r.members_added,
                     &r.members_removed, &r.failed, &r.conflicts, &r.seat_blocked,
                     &r.deferred}) {
        *f = q.getColumn(i++).getInt();
      }
      r.requests = static_cast<long>(q.getColumn(i++).getInt64());
      r.duration_ms = static_cast<long>(q.getColumn(i++).getInt64());
      out.push_back(std::move(r));
    }
    return out;
  } catch (const std::exception& e) {
    return Fail(e, "read cycles");
  }
}

Result<std::vector<AttentionItem>> StateStore::NeedsAttention() {
  std::lock_guard lock(mu_);
  try {
    std::vector<AttentionItem> out;
    SQLite::Statement u(*db_,
                        "SELECT key, attrs, status, uncertain, last_error, attempts, next_retry "
                        "FROM users WHERE uncertain = 1 OR status IN "
                        "('failed','conflict','seat-blocked') ORDER BY key");
    while (u.executeStep()) {
      AttentionItem a;
      a.kind = "user";
      a.key = u.getColumn(0).getString();
      AttrValues v;
      const SQLite::Column attrs = u.getColumn(1);
      if (DecodeValues(std::string_view(static_cast<const char*>(attrs.getBlob()),
                                        static_cast<std::size_t>(attrs.getBytes())),
                       v)) {
        a.label = v[static_cast<std::size_t>(Attr::kUserName)];
      }
      std::string status = u.getColumn(2).getString();
      a.status = u.getColumn(3).getInt() != 0 && status != "failed" && status != "conflict"
                     ? "uncertain"
                     : status;
      a.last_error = u.getColumn(4).getString();
      a.attempts = u.getColumn(5).getInt();
      a.next_retry = FromMs(u.getColumn(6).getInt64());
      out.push_back(std::move(a));
    }
    SQLite::Statement g(*db_,
                        "SELECT key, display_name, status, uncertain, last_error, attempts, "
                        "next_retry FROM groups WHERE uncertain = 1 OR status IN "
                        "('failed','conflict','seat-blocked') ORDER BY key");
    while (g.executeStep()) {
      AttentionItem a;
      a.kind = "group";
      a.key = g.getColumn(0).getString();
      a.label = g.getColumn(1).getString();
      std::string status = g.getColumn(2).getString();
      a.status = g.getColumn(3).getInt() != 0 && status != "failed" && status != "conflict"
                     ? "uncertain"
                     : status;
      a.last_error = g.getColumn(4).getString();
      a.attempts = g.getColumn(5).getInt();
      a.next_retry = FromMs(g.getColumn(6).getInt64());
      out.push_back(std::move(a));
    }
    return out;
  } catch (const std::exception& e) {
    return Fail(e, "read attention list");
  }
}

Status StateStore::SetMeta(const std::string& name, const std::string& value) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement st(*db_, "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)");
    st.bind(1, name);
    st.bind(2, value);
    st.exec();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Fail(e, ("write meta " + name).c_str());
  }
}

Result<std::string> StateStore::GetMeta(const std::string& name) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement st(*db_, "SELECT value FROM meta WHERE name = ?");
    st.bind(1, name);
    if (st.executeStep()) return st.getColumn(0).getString();
    return std::string();
  } catch (const std::exception& e) {
    return Fail(e, ("read meta " + name).c_str());
  }
}

// ---------------------------------------------------------------------------

Result<std::unique_ptr<LockFile>> LockFile::Acquire(const std::string& state_path,
                                                    const std::string& who, bool wait) {
  std::string path = state_path + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(ErrorCode::kIo, "lock file " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    int err = errno;
    std::string holder;
    char buf[256];
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) holder.assign(buf, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status(ErrorCode::kLocked, "state file " + state_path + " is in use (" +
                                            (holder.empty() ? "holder unknown" : holder) + ")");
    }
    return Status(ErrorCode::kIo, "lock file " + path + ": " + std::strerror(err));
  }
  std::string info = "pid " + std::to_string(::getpid()) + ", " + who + ", since " + IsoNow();
  if (::ftruncate(fd, 0) == 0) {
    ssize_t w = ::pwrite(fd, info.data(), info.size(), 0);
    (void)w;  // the lock is what matters; the text only helps the next one's message
  }
  return std::unique_ptr<LockFile>(new LockFile(fd));
}

LockFile::~LockFile() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace scimsync
