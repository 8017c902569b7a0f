// `status` text and `status --json` (daemon/status_report.h): the counters rendered
// from their table, word for word.
#include "daemon/status_report.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

namespace scimsync {
namespace {

SysTime At(long long s) { return SysTime(std::chrono::seconds(s)); }

// 2026-01-02T13:40:00Z
constexpr long long kT = 1767361200;

StatusData Sample() {
  StatusData d;
  d.state_path = "/var/lib/scimsync/state.db";
  d.target_url = "https://scim.example.com/scim/v2";
  CycleRecord c;
  c.id = 42;
  c.started = At(kT);
  c.ended = At(kT + 2);
  c.result = "ok";
  c.counts[Counter::kUsersCreated] = 3;
  c.counts[Counter::kUsersUpdated] = 12;
  c.counts[Counter::kUsersAdopted] = 1;
  c.counts[Counter::kUsersDisabled] = 1;
  c.counts[Counter::kGroupsUpdated] = 2;
  c.counts[Counter::kMembersAdded] = 7;
  c.counts[Counter::kMembersRemoved] = 2;
  c.counts[Counter::kRequests] = 25;
  c.counts[Counter::kDurationMs] = 1834;
  CycleRecord idle;
  idle.id = 41;
  idle.started = At(kT - 2400);
  idle.ended = At(kT - 2399);
  idle.result = "stopped";
  idle.reason = "target unreachable";
  idle.counts[Counter::kUnmanagedUsers] = 3;
  idle.counts[Counter::kUnmanagedGroups] = 1;
  d.cycles = {c, idle};
  d.last_measured = idle;
  return d;
}

TEST_CASE("status text: non-zero counters by noun, gauges of the last reconciling read") {
  CHECK(StatusText(Sample()) ==
        "state:  /var/lib/scimsync/state.db\n"
        "target: https://scim.example.com/scim/v2\n"
        "daemon: not running\n"
        "\n"
        "last cycles:\n"
        "  #42    2026-01-02T13:40:00Z  ok              1.8s  users created 3, updated 12, "
        "adopted 1, disabled 1; groups updated 2; members added 7, removed 2; requests 25\n"
        "  #41    2026-01-02T13:00:00Z  stopped         0.0s  no changes\n"
        "         reason: target unreachable\n"
        "\n"
        "unmanaged users: 3\n"
        "unmanaged groups: 1\n"
        "  as of the reconciling read of cycle #41 (2026-01-02T13:00:01Z)\n"
        "\n"
        "needs attention: nothing\n");
}

TEST_CASE("status text: failures, drift, and no reconciling read yet") {
  StatusData d = Sample();
  d.cycles.resize(1);
  d.cycles[0].counts = CycleCounts();
  d.cycles[0].counts[Counter::kDrift] = 2;
  d.cycles[0].counts[Counter::kFailed] = 1;
  d.cycles[0].counts[Counter::kSeatBlocked] = 4;
  d.cycles[0].counts[Counter::kRequests] = 9;
  d.last_measured.reset();
  const std::string t = StatusText(d);
  CHECK(t.find("  0.0s  drift repaired 2; failed 1, seat-blocked 4, requests 9\n") !=
        std::string::npos);
  CHECK(t.find("\nunmanaged users: unknown\nunmanaged groups: unknown\n"
               "  no cycle has read the whole target yet\n") != std::string::npos);
}

TEST_CASE("status --json: every counter by name, null for unmeasured gauges") {
  const std::string text = StatusJson(Sample());
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  const auto& cycles = doc["cycles"];
  REQUIRE(cycles.Size() == 2);
  const auto& c = cycles[0];
  CHECK(c["id"].GetInt64() == 42);
  CHECK(std::string(c["started"].GetString()) == "2026-01-02T13:40:00Z");
  CHECK(std::string(c["result"].GetString()) == "ok");
  for (const CounterInfo& k : kCounters) {
    INFO(k.name);
    REQUIRE(c.HasMember(std::string(k.name).c_str()));
    const auto& v = c[std::string(k.name).c_str()];
    if (k.kind == CounterKind::kGauge) {
      CHECK(v.IsNull());
    } else {
      REQUIRE(v.IsInt64());
      CHECK(v.GetInt64() == Sample().cycles[0].counts[k.counter]);
    }
  }
  CHECK(cycles[1]["unmanaged_users"].GetInt64() == 3);
  const auto& rec = doc["last_reconcile"];
  REQUIRE(rec.IsObject());
  CHECK(rec["cycle"].GetInt64() == 41);
  CHECK(std::string(rec["ended"].GetString()) == "2026-01-02T13:00:01Z");
  CHECK(rec["unmanaged_users"].GetInt64() == 3);
  CHECK(rec["unmanaged_groups"].GetInt64() == 1);
  CHECK(text.find(R"("users_created":3,"users_updated":12,"users_adopted":1,)") !=
        std::string::npos);

  StatusData none = Sample();
  none.last_measured.reset();
  doc.Parse(StatusJson(none).c_str());
  CHECK(doc["last_reconcile"].IsNull());
}

}  // namespace
}  // namespace scimsync
