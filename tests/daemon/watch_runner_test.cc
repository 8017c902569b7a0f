// The watch runner's rules (daemon/watch_runner.h) with scripted fake watchers.
#include "daemon/watch_runner.h"

#include <doctest/doctest.h>
#include <poll.h>

#include <functional>

#include "tests/support/fake_source_watcher.h"

namespace scimsync {
namespace {

using std::chrono::milliseconds;

// The runner's methods, in order of preference.
template <typename... Watchers>
std::vector<std::unique_ptr<SourceWatcher>> Methods(Watchers... watchers) {
  std::vector<std::unique_ptr<SourceWatcher>> m;
  (m.push_back(std::move(watchers)), ...);
  return m;
}

WatchRunnerOptions Fast() {
  WatchRunnerOptions o;
  o.slice = milliseconds(5);
  o.first_backoff = milliseconds(5);
  o.max_backoff = milliseconds(20);
  return o;
}

// Waits up to 5 s for the runner's fd; returns TakeChanged() once `until` holds.
bool WaitFor(WatchRunner& r, const std::function<bool(bool changed)>& until) {
  bool changed = false;
  for (int i = 0; i < 500; ++i) {
    struct pollfd p = {r.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    changed = r.TakeChanged() || changed;
    if (until(changed)) return true;
  }
  return false;
}

TEST_CASE("a method that cannot work falls back to the next one, which reports changes") {
  auto a = std::make_unique<FakeSourceWatcher>("syncrepl");
  auto b = std::make_unique<FakeSourceWatcher>("usn_poll");
  a->ScriptStart(Status(ErrorCode::kInvalidArgument, "no syncprov"));
  b->ScriptWait(false);
  b->ScriptWait(true);
  FakeSourceWatcher* bp = b.get();
  WatchRunner r(Methods(std::move(a), std::move(b)), Fast());
  REQUIRE(r.Start().ok());
  CHECK(WaitFor(r, [](bool c) { return c; }));
  CHECK(r.State() == "watching (usn_poll on fake)");
  CHECK(bp->start_calls() == 1);
}

// Regression: the runner used to report a change after a startup fallback, as after
// a reconnect. That cycle read the source ahead of the polled marker's baseline, and
// an add read by it and deleted before the next poll left the marker as it was: the
// delete never started a cycle.
TEST_CASE("falling back during the first start is no gap: no change without the watcher's") {
  auto a = std::make_unique<FakeSourceWatcher>("syncrepl");
  auto b = std::make_unique<FakeSourceWatcher>("context_csn_poll");
  auto c = std::make_unique<FakeSourceWatcher>("modify_timestamp_poll");
  a->ScriptStart(Status(ErrorCode::kInvalidArgument, "no syncprov"));
  b->ScriptStart(Status(ErrorCode::kInvalidArgument, "no contextCSN"));
  WatchRunner r(Methods(std::move(a), std::move(b), std::move(c)), Fast());
  REQUIRE(r.Start().ok());
  bool changed = false;
  CHECK(WaitFor(r, [&](bool ch) {
    changed = changed || ch;
    return r.State() == "watching (modify_timestamp_poll on fake)";
  }));
  struct pollfd p = {r.fd(), POLLIN, 0};
  ::poll(&p, 1, 50);
  changed = r.TakeChanged() || changed;
  CHECK_FALSE(changed);
}

TEST_CASE("a watch lost after a fallback comes back as a change") {
  auto a = std::make_unique<FakeSourceWatcher>("syncrepl");
  auto b = std::make_unique<FakeSourceWatcher>("modify_timestamp_poll");
  a->ScriptStart(Status(ErrorCode::kInvalidArgument, "no syncprov"));
  b->ScriptWait(Status(ErrorCode::kUnavailable, "connection lost"));
  FakeSourceWatcher* bp = b.get();
  WatchRunner r(Methods(std::move(a), std::move(b)), Fast());
  REQUIRE(r.Start().ok());
  CHECK(WaitFor(r, [&](bool c) { return c && bp->start_calls() == 2; }));
}

TEST_CASE("the first successful start is not a change; nothing is reported without one") {
  WatchRunner r(Methods(std::make_unique<FakeSourceWatcher>("inotify")), Fast());
  REQUIRE(r.Start().ok());
  CHECK(WaitFor(r, [&](bool) { return r.State() == "watching (inotify on fake)"; }));
  struct pollfd p = {r.fd(), POLLIN, 0};
  ::poll(&p, 1, 50);
  CHECK_FALSE(r.TakeChanged());
}

TEST_CASE("a server that is down is retried with the same method, and its return is a change") {
  auto a = std::make_unique<FakeSourceWatcher>("syncrepl");
  auto b = std::make_unique<FakeSourceWatcher>("context_csn_poll");
  a->ScriptStart(Status(ErrorCode::kUnavailable, "cannot reach ldap://x"));
  a->ScriptStart(Status(ErrorCode::kUnavailable, "cannot reach ldap://x"));
  FakeSourceWatcher* ap = a.get();
  FakeSourceWatcher* bp = b.get();
  WatchRunner r(Methods(std::move(a), std::move(b)), Fast());
  REQUIRE(r.Start().ok());
  CHECK(WaitFor(r, [](bool c) { return c; }));
  CHECK(ap->start_calls() == 3);
  CHECK(bp->start_calls() == 0);  // a retryable error is no reason to fall back
  CHECK(r.State() == "watching (syncrepl on fake)");
}

TEST_CASE("a lost watch reconnects and counts as a change (what happened meanwhile is unknown)") {
  auto a = std::make_unique<FakeSourceWatcher>("syncrepl");
  a->ScriptWait(Status(ErrorCode::kUnavailable, "connection lost"));
  FakeSourceWatcher* ap = a.get();
  WatchRunner r(Methods(std::move(a)), Fast());
  REQUIRE(r.Start().ok());
  CHECK(WaitFor(r, [](bool c) { return c; }));
  CHECK(ap->start_calls() == 2);
}

TEST_CASE("no method left: the state says the watch is off") {
  auto a = std::make_unique<FakeSourceWatcher>("inotify");
  auto b = std::make_unique<FakeSourceWatcher>("mtime_poll");
  a->ScriptStart(Status(ErrorCode::kIo, "inotify_init1: too many instances"));
  b->ScriptStart(Status(ErrorCode::kNotFound, "people.csv: no such directory"));
  WatchRunner r(Methods(std::move(a), std::move(b)), Fast());
  REQUIRE(r.Start().ok());
  CHECK(WaitFor(r, [&](bool) { return r.State().rfind("watch off", 0) == 0; }));
  CHECK(r.State() == "watch off (mtime_poll: people.csv: no such directory)");
}

}  // namespace
}  // namespace scimsync
