// The table of cycle counters (core/cycle_counters.h): its rules, the planned counts
// of a plan, and the counters as the fields of the cycle_end / plan_end line.
#include "core/cycle_counters.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

namespace scimsync {
namespace {

TEST_CASE("counter table: unique names and metrics, snake_case names, prefixed metrics") {
  std::set<std::string_view> names, metrics;
  for (const CounterInfo& c : kCounters) {
    INFO(c.name);
    CHECK(names.insert(c.name).second);
    CHECK(metrics.insert(c.metric).second);
    CHECK(c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos);
    CHECK(c.metric.rfind("scimsync_", 0) == 0);
    CHECK_FALSE(c.help.empty());
    CHECK(c.help.back() == '.');
    if (c.kind == CounterKind::kGauge) {
      // A gauge is what the cycle measured (a reconciling read), never a summary's 0
      // of a plan that read nothing: the cycle sets it, PlannedCounts keeps it.
      CHECK(c.planned == nullptr);
      CHECK_FALSE(c.verb.empty());
    }
  }
}

TEST_CASE("counts start at 0, gauges unmeasured") {
  CycleCounts c;
  CHECK(c[Counter::kUsersCreated] == 0);
  CHECK(c[Counter::kDurationMs] == 0);
  CHECK(c[Counter::kUnmanagedUsers] == kUnmeasured);
  CHECK(c[Counter::kUnmanagedGroups] == kUnmeasured);
  CHECK(Measured(Counter::kFailed, c));
  CHECK_FALSE(Measured(Counter::kUnmanagedUsers, c));
  c[Counter::kUnmanagedUsers] = 0;
  CHECK(Measured(Counter::kUnmanagedUsers, c));
}

TEST_CASE("planned counts come from the plan's summary through the table") {
  PlanSummary s;
  s.users_create = 1, s.users_update = 2, s.users_disable = 3, s.users_delete = 4;
  s.groups_create = 5, s.groups_update = 6, s.groups_delete = 7;
  s.members_add = 8, s.members_remove = 9;
  s.resolve = 10;  // not a counter
  s.deferred = 11;
  CycleCounts c = PlannedCounts(s);
  CHECK(c[Counter::kUsersCreated] == 1);
  CHECK(c[Counter::kUsersUpdated] == 2);
  CHECK(c[Counter::kUsersDisabled] == 3);
  CHECK(c[Counter::kUsersDeleted] == 4);
  CHECK(c[Counter::kGroupsCreated] == 5);
  CHECK(c[Counter::kGroupsUpdated] == 6);
  CHECK(c[Counter::kGroupsDeleted] == 7);
  CHECK(c[Counter::kMembersAdded] == 8);
  CHECK(c[Counter::kMembersRemoved] == 9);
  CHECK(c[Counter::kDeferred] == 11);
  CHECK(c[Counter::kFailed] == 0);
  CHECK(c[Counter::kRequests] == 0);
  CHECK(c[Counter::kUnmanagedUsers] == kUnmeasured);

  // What the cycle measured itself is kept.
  CycleCounts measured;
  measured[Counter::kUnmanagedUsers] = 4;
  measured[Counter::kUsersCreated] = 99;
  c = PlannedCounts(s, measured);
  CHECK(c[Counter::kUnmanagedUsers] == 4);
  CHECK(c[Counter::kUsersCreated] == 1);
}

CycleCounts Sample() {
  CycleCounts c;
  c[Counter::kUsersCreated] = 3;
  c[Counter::kUsersUpdated] = 12;
  c[Counter::kUsersAdopted] = 1;
  c[Counter::kUsersDisabled] = 1;
  c[Counter::kGroupsUpdated] = 2;
  c[Counter::kMembersAdded] = 7;
  c[Counter::kMembersRemoved] = 2;
  c[Counter::kRequests] = 25;
  c[Counter::kDurationMs] = 1834;
  return c;
}

TEST_CASE("cycle_end fields: every counter in table order; unmeasured gauges left out") {
  LogFields f = {{"result", "ok"}};
  LogFields counts = CounterLogFields(Sample());
  f.insert(f.end(), counts.begin(), counts.end());
  Logger logger;
  CHECK(logger.Render(LogLevel::kInfo, "cycle_end", f) ==
        "level=info event=cycle_end result=ok users_created=3 users_updated=12 users_adopted=1 "
        "users_disabled=1 users_deleted=0 groups_created=0 groups_updated=2 groups_adopted=0 "
        "groups_deleted=0 members_added=7 members_removed=2 drift=0 users_out_of_scope=0 "
        "groups_out_of_scope=0 failed=0 conflicts=0 seat_blocked=0 deferred=0 requests=25 "
        "duration_ms=1834");

  CycleCounts measured = Sample();
  measured[Counter::kDrift] = 4;
  measured[Counter::kUnmanagedUsers] = 3;
  measured[Counter::kUnmanagedGroups] = 0;
  Logger json(Logger::Format::kJson);
  CHECK(json.Render(LogLevel::kInfo, "cycle_end", CounterLogFields(measured)) ==
        R"({"level":"info","event":"cycle_end","users_created":3,"users_updated":12,)"
        R"("users_adopted":1,"users_disabled":1,"users_deleted":0,"groups_created":0,)"
        R"("groups_updated":2,"groups_adopted":0,"groups_deleted":0,"members_added":7,)"
        R"("members_removed":2,"drift":4,"unmanaged_users":3,"unmanaged_groups":0,)"
        R"("users_out_of_scope":0,"groups_out_of_scope":0,"failed":0,)"
        R"("conflicts":0,"seat_blocked":0,"deferred":0,"requests":25,"duration_ms":1834})");
}

}  // namespace
}  // namespace scimsync
