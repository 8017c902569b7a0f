#include "state/state_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

using namespace scimsync;

namespace {

std::string TempPath(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("scimsync-state-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

KnownUser SampleUser() {
  KnownUser u;
  u.key = "E1";
  u.target_id = "t-1";
  u.values[static_cast<std::size_t>(Attr::kUserName)] = "alice@example.com";
  u.values[static_cast<std::size_t>(Attr::kTitle)] = "a:b 12:3 \"quoted\"\nline";
  u.values[static_cast<std::size_t>(Attr::kActive)] = "true";
  u.status = ObjectStatus::kFailed;
  u.uncertain = true;
  u.last_error = "HTTP 400 invalidValue: bad";
  u.attempts = 3;
  u.next_retry = SysTime(std::chrono::milliseconds(1'700'000'000'123));
  u.failed_hash = 0xFEDCBA9876543210ULL;
  return u;
}

}  // namespace

TEST_CASE("users round-trip with every field") {
  auto store = StateStore::Open(":memory:", "https://t.example/scim/v2");
  REQUIRE(store.ok());
  KnownUser u = SampleUser();
  REQUIRE((*store)->PutUser(u).ok());
  auto st = (*store)->Load();
  REQUIRE(st.ok());
  REQUIRE(st->users.size() == 1);
  const KnownUser& got = st->users[0];
  CHECK(got.key == u.key);
  CHECK(got.target_id == u.target_id);
  CHECK(got.values == u.values);
  CHECK(got.status == ObjectStatus::kFailed);
  CHECK(got.uncertain);
  CHECK(got.last_error == u.last_error);
  CHECK(got.attempts == 3);
  CHECK(got.next_retry == u.next_retry);
  CHECK(got.failed_hash == u.failed_hash);
}

TEST_CASE("MarkUncertain leaves other columns; PutGroup replaces members") {
  auto store = StateStore::Open(":memory:", "https://t.example/scim/v2");
  REQUIRE(store.ok());
  KnownUser u = SampleUser();
  u.uncertain = false;
  REQUIRE((*store)->PutUser(u).ok());
  REQUIRE((*store)->MarkUncertain("user", "E1", true).ok());
  auto st = (*store)->Load();
  REQUIRE(st.ok());
  CHECK(st->users[0].uncertain);
  CHECK(st->users[0].target_id == "t-1");

  KnownGroup g;
  g.key = "G";
  g.display_name = "Sales";
  g.target_id = "g-1";
  g.status = ObjectStatus::kSynced;
  g.members = {"E1", "E2"};
  REQUIRE((*store)->PutGroup(g).ok());
  REQUIRE((*store)->AddMembers("G", {"E3"}).ok());
  REQUIRE((*store)->RemoveMembers("G", {"E1"}).ok());
  st = (*store)->Load();
  REQUIRE(st->groups.size() == 1);
  CHECK(st->groups[0].members == std::vector<std::string>{"E2", "E3"});
  g.members = {"E9"};
  REQUIRE((*store)->PutGroup(g).ok());
  st = (*store)->Load();
  CHECK(st->groups[0].members == std::vector<std::string>{"E9"});
  REQUIRE((*store)->DeleteGroup("G").ok());
  st = (*store)->Load();
  CHECK(st->groups.empty());
}

TEST_CASE("a state file is bound to its target URL") {
  std::string path = TempPath("bound.db");
  {
    auto s = StateStore::Open(path, "https://a.example/scim/v2/");
    REQUIRE(s.ok());
  }
  CHECK(StateStore::Open(path, "https://a.example/scim/v2").ok());
  auto other = StateStore::Open(path, "https://b.example/scim/v2");
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().code() == ErrorCode::kSchema);
  CHECK(other.status().message() ==
        "state file " + path +
            " belongs to target https://a.example/scim/v2, not https://b.example/scim/v2; use "
            "another state file");
}

TEST_CASE("a newer schema is refused; an empty file is migrated") {
  std::string path = TempPath("newer.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA user_version = 99");
  }
  auto s = StateStore::Open(path, "https://a.example");
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message() == "state file " + path +
                                    " has schema version 99, this scimsync knows up to version 1; "
                                    "use a newer scimsync");
  std::string empty = TempPath("empty.db");
  { SQLite::Database db(empty, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE); }
  auto m = StateStore::Open(empty, "https://a.example");
  REQUIRE(m.ok());
  SQLite::Database check(empty, SQLite::OPEN_READONLY);
  CHECK(check.execAndGet("PRAGMA user_version").getInt() == StateStore::kSchemaVersion);
}

TEST_CASE("read-only open of a missing file fails clearly") {
  std::string path = TempPath("missing.db");
  auto s = StateStore::OpenReadOnly(path);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().rfind("state file " + path + ": cannot open", 0) == 0);
}

TEST_CASE("cycles: interrupted, recent first; attention list") {
  auto store = StateStore::Open(":memory:", "https://t.example");
  REQUIRE(store.ok());
  auto c1 = (*store)->BeginCycle(SysTime(std::chrono::seconds(100)));
  REQUIRE(c1.ok());
  auto c2 = (*store)->BeginCycle(SysTime(std::chrono::seconds(200)));  // c1 died
  REQUIRE(c2.ok());
  CycleRecord r;
  r.id = *c2;
  r.result = "partial";
  r.users_created = 5;
  r.failed = 1;
  r.requests = 7;
  REQUIRE((*store)->EndCycle(r).ok());
  auto cycles = (*store)->RecentCycles(10);
  REQUIRE(cycles.ok());
  REQUIRE(cycles->size() == 2);
  CHECK((*cycles)[0].id == *c2);
  CHECK((*cycles)[0].result == "partial");
  CHECK((*cycles)[0].users_created == 5);
  CHECK((*cycles)[0].requests == 7);
  CHECK((*cycles)[1].result == "interrupted");

  KnownUser u = SampleUser();
  REQUIRE((*store)->PutUser(u).ok());
  KnownUser ok = SampleUser();
  ok.key = "E2";
  ok.status = ObjectStatus::kSynced;
  ok.uncertain = false;
  REQUIRE((*store)->PutUser(ok).ok());
  auto att = (*store)->NeedsAttention();
  REQUIRE(att.ok());
  REQUIRE(att->size() == 1);
  CHECK((*att)[0].key == "E1");
  CHECK((*att)[0].label == "alice@example.com");
  CHECK((*att)[0].status == "failed");
}

TEST_CASE("the lock file keeps a second run out and names the holder") {
  std::string path = TempPath("locked.db");
  auto first = LockFile::Acquire(path, "scimsync daemon", false);
  REQUIRE(first.ok());
  auto second = LockFile::Acquire(path, "scimsync sync", false);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == ErrorCode::kLocked);
  CHECK(second.status().message().find("pid " + std::to_string(::getpid()) +
                                       ", scimsync daemon, since ") != std::string::npos);
  first = Status(ErrorCode::kInternal, "released");
  CHECK(LockFile::Acquire(path, "scimsync sync", false).ok());
}
