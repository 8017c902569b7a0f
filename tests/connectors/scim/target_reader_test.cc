// TargetReader through ScimTarget over the recording FakeHttpClient: the whole-target
// snapshot (ReadSnapshot) and the paging rules it shares with the filter lookups.
#include "connectors/scim/target_reader.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <functional>
#include <map>

#include "connectors/scim/scim_target.h"
#include "core/log.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_http_client.h"

namespace scimsync {
namespace {

using namespace std::chrono_literals;

// "startIndex" and "count" query values of a URL (0 when absent).
std::map<std::string, long> Query(const std::string& url) {
  std::map<std::string, long> out;
  for (const char* k : {"startIndex", "count"}) {
    for (char lead : {'?', '&'}) {
      std::string key = std::string(1, lead) + k + "=";
      auto p = url.find(key);
      if (p != std::string::npos) out[k] = std::stol(url.substr(p + key.size()));
    }
  }
  return out;
}

std::string PathOf(const std::string& url) {
  const std::string base = "https://t/scim/v2/";
  std::string p = url.substr(base.size());
  return p.substr(0, p.find('?'));
}

// A SCIM server's list endpoints over resources held as JSON objects: pages capped
// at `cap`, itemsPerPage echoing the requested count (as SCIMMY does), and a hook
// that runs before each answer so a test can change the data mid-read.
struct Server {
  std::vector<std::string> users;   // JSON objects, in server order
  std::vector<std::string> groups;
  long cap = 1000000;
  bool total = true;
  std::function<void(const HttpRequest&)> before;
  std::map<std::string, HttpResponse> by_path;  // fixed answers, e.g. "Groups/g1"

  HttpResponse operator()(const HttpRequest& r) {
    if (before) before(r);
    std::string path = PathOf(r.url);
    if (auto it = by_path.find(path); it != by_path.end()) return it->second;
    const std::vector<std::string>& all = path == "Users" ? users : groups;
    auto q = Query(r.url);
    long start = std::max(1L, q["startIndex"]);
    long asked = q["count"];
    long n = std::min(asked, cap);
    std::string body = "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],";
    if (total) body += "\"totalResults\":" + std::to_string(all.size()) + ",";
    body += "\"startIndex\":" + std::to_string(start) +
            ",\"itemsPerPage\":" + std::to_string(asked) + ",\"Resources\":[";
    for (long i = start - 1; i < static_cast<long>(all.size()) && i < start - 1 + n; ++i) {
      if (i != start - 1) body += ",";
      body += all[static_cast<std::size_t>(i)];
    }
    body += "]}";
    return FakeHttpClient::Response(200, body);
  }
};

std::string UserJson(int i) {
  return "{\"id\":\"u" + std::to_string(100000 + i) + "\",\"userName\":\"user" + std::to_string(i) +
         "@example.com\",\"externalId\":\"K" + std::to_string(i) + "\"}";
}
std::vector<std::string> UsersJson(int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(UserJson(i));
  return v;
}
std::string GroupJson(const std::string& id, const std::vector<std::string>& members) {
  std::string m;
  for (const auto& x : members) m += (m.empty() ? "" : ",") + ("{\"value\":\"" + x + "\"}");
  return "{\"id\":\"" + id + "\",\"displayName\":\"Group " + id + "\",\"members\":[" + m + "]}";
}

struct Fixture {
  FakeHttpClient http;
  FakeClock clock;
  Server server;
  ScimTarget target{http, ScimTargetOptions{.base_url = "https://t/scim/v2"}, clock};
  Fixture() {
    http.SetHandler([this](const HttpRequest& r) { return server(r); });
  }
  std::vector<std::string> Requests() const {
    std::vector<std::string> out;
    for (const auto& r : http.requests()) {
      out.push_back(r.url.substr(std::strlen("https://t/scim/v2/")));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("ReadSnapshot: page caps: the server returns 50 when asked 100, itemsPerPage says 100") {
  Fixture f;
  f.server.users = UsersJson(0, 230);
  f.server.groups = {GroupJson("g1", {"u100001", "u100000"}), GroupJson("g0", {})};
  f.server.cap = 50;
  Result<TargetSnapshot> s = f.target.ReadSnapshot({});
  REQUIRE(s.ok());
  CHECK(s->users.size() == 230);
  CHECK(f.Requests() == std::vector<std::string>{
                            "Users?startIndex=1&count=100", "Users?startIndex=51&count=100",
                            "Users?startIndex=101&count=100", "Users?startIndex=151&count=100",
                            "Users?startIndex=201&count=100", "Groups?startIndex=1&count=100"});
  // Sorted by id, attributes parsed, members inline, sorted.
  CHECK(s->users.front().id == "u100000");
  CHECK(s->users.back().id == "u100229");
  CHECK(s->users.front().external_id == "K0");
  CHECK(s->users.front().values[static_cast<std::size_t>(Attr::kUserName)] == "user0@example.com");
  REQUIRE(s->groups.size() == 2);
  CHECK(s->groups[0].id == "g0");
  CHECK(s->groups[1].display_name == "Group g1");
  CHECK(s->groups[1].member_ids == std::vector<std::string>{"u100000", "u100001"});
  CHECK(f.http.unscripted() == 0);
}

TEST_CASE("ReadSnapshot: page size from SnapshotOptions, else the target's") {
  Fixture f;
  f.server.users = UsersJson(0, 3);
  REQUIRE(f.target.ReadSnapshot({.members_per_group = false, .page_size = 1000}).ok());
  CHECK(Query(f.http.requests()[0].url)["count"] == 1000);

  FakeHttpClient http;
  FakeClock clock;
  Server server;
  http.SetHandler([&](const HttpRequest& r) { return server(r); });
  ScimTarget target(http, {.base_url = "https://t/scim/v2", .page_size = 7}, clock);
  REQUIRE(target.ReadSnapshot({}).ok());
  CHECK(Query(http.requests()[0].url)["count"] == 7);
}

TEST_CASE("ReadSnapshot: an empty target is an empty snapshot (Resources absent or empty)") {
  Fixture f;
  Result<TargetSnapshot> s = f.target.ReadSnapshot({});
  REQUIRE(s.ok());
  CHECK(s->users.empty());
  CHECK(s->groups.empty());
  CHECK(f.http.request_count() == 2);

  Fixture g;
  g.server.by_path["Users"] = FakeHttpClient::Response(200, R"({"totalResults":0})");
  g.server.by_path["Groups"] =
      FakeHttpClient::Response(200, R"({"totalResults":0,"Resources":[]})");
  s = g.target.ReadSnapshot({});
  REQUIRE(s.ok());
  CHECK(s->users.empty());
  CHECK(g.http.request_count() == 2);
}

TEST_CASE("ReadSnapshot: a repeated page (startIndex ignored) fails the read") {
  Fixture f;
  // Every Users page is page 1 of 150 users.
  std::vector<std::string> first = UsersJson(0, 100);
  std::string body = "{\"totalResults\":150,\"Resources\":[";
  for (std::size_t i = 0; i < first.size(); ++i) body += (i ? "," : "") + first[i];
  body += "]}";
  f.server.by_path["Users"] = FakeHttpClient::Response(200, body);
  Result<TargetSnapshot> s = f.target.ReadSnapshot({});
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == ErrorCode::kParse);
  CHECK(s.status().message() ==
        "target read failed: GET Users page 2 (startIndex=101): invalid ListResponse: the page at "
        "startIndex=101 repeats earlier results (100 resources, no new id): the server ignores "
        "startIndex or does not page");
  CHECK(f.http.request_count() == 2);  // no retry of a page that came back 200
}

TEST_CASE("ReadSnapshot: no stable order: a page overlapping the last one is de-duplicated") {
  Fixture f;
  f.server.users = UsersJson(0, 200);
  int n = 0;
  f.server.before = [&](const HttpRequest& r) {
    // Before page 2, three users are created at the front: page 2 repeats 3 ids,
    // one of them renamed meanwhile.
    if (PathOf(r.url) == "Users" && ++n == 2) {
      f.server.users.insert(f.server.users.begin(), {UserJson(900), UserJson(901), UserJson(902)});
      f.server.users[100] = R"({"id":"u100097","userName":"renamed@example.com"})";
    }
  };
  Result<TargetSnapshot> s = f.target.ReadSnapshot({});
  REQUIRE(s.ok());
  CHECK(s->users.size() == 200);  // the three created during the read came before startIndex
  CHECK(s->users[97].id == "u100097");
  CHECK(s->users[97].values[static_cast<std::size_t>(Attr::kUserName)] == "renamed@example.com");
  CHECK(f.Requests()[2] == "Users?startIndex=201&count=100");  // totalResults grew to 203
  CHECK(f.http.request_count() == 4);
}

TEST_CASE("ReadSnapshot: totalResults that grows and shrinks during the read; the latest wins") {
  SUBCASE("grows: the read goes on to the new total") {
    Fixture f;
    f.server.users = UsersJson(0, 150);
    int n = 0;
    f.server.before = [&](const HttpRequest& r) {
      if (PathOf(r.url) == "Users" && ++n == 2) {
        for (const auto& u : UsersJson(150, 210)) f.server.users.push_back(u);
      }
    };
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE(s.ok());
    CHECK(s->users.size() == 210);
    CHECK(f.Requests() == std::vector<std::string>{"Users?startIndex=1&count=100",
                                                   "Users?startIndex=101&count=100",
                                                   "Users?startIndex=201&count=100",
                                                   "Groups?startIndex=1&count=100"});
  }
  SUBCASE("shrinks: the read stops at the new total, no extra page") {
    Fixture f;
    f.server.users = UsersJson(0, 250);
    int n = 0;
    f.server.before = [&](const HttpRequest& r) {
      if (PathOf(r.url) == "Users" && ++n == 2) f.server.users.resize(130);
    };
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE(s.ok());
    CHECK(s->users.size() == 130);
    CHECK(f.http.request_count() == 3);
  }
  SUBCASE("overstated: an empty page ends the read before totalResults, with a warning") {
    std::vector<std::string> lines;
    Log().CaptureForTest(&lines);
    Fixture f;
    f.server.by_path["Users"] =
        FakeHttpClient::Response(200, R"({"totalResults":1000,"Resources":[]})");
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    Log().CaptureForTest(nullptr);
    REQUIRE(s.ok());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find("event=target_read_short users_short_by=1000 groups_short_by=0") !=
          std::string::npos);
    CHECK(lines[1].find("event=target_read users=0 groups=0 memberships=0 requests=2") !=
          std::string::npos);
  }
  SUBCASE("running ahead: a totalResults that keeps growing with pages that shrink is cut off") {
    Fixture f;
    int n = 0;
    f.http.SetHandler([&](const HttpRequest& r) {
      if (PathOf(r.url) != "Users") return f.server(r);
      ++n;
      long start = Query(r.url)["startIndex"];
      std::string res = n == 1 ? UserJson(0) + "," + UserJson(1) + "," + UserJson(2) + "," +
                                     UserJson(3) + "," + UserJson(4)
                               : UserJson(100 + n);
      return FakeHttpClient::Response(200, "{\"totalResults\":" + std::to_string(start + 9) +
                                               ",\"Resources\":[" + res + "]}");
    });
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == ErrorCode::kParse);
    // First page: totalResults 10 in pages of 5 -> 2 pages needed, at most 2 * 3 + 10.
    CHECK(s.status().message() ==
          "target read failed: GET Users page 17 (startIndex=21): invalid ListResponse: still "
          "not at the end after 16 pages (startIndex=21)");
    CHECK(n == 16);
  }
}

TEST_CASE("ReadSnapshot: any failed request fails the whole read, naming page and startIndex") {
  SUBCASE("5xx mid-read: tried 3 times with backoff, then the read fails") {
    Fixture f;
    f.server.users = UsersJson(0, 250);
    f.server.before = [&](const HttpRequest& r) {
      if (Query(r.url)["startIndex"] == 101) {
        f.server.by_path["Users"] = FakeHttpClient::Response(500, R"({"detail":"boom"})");
      }
    };
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == ErrorCode::kUnavailable);
    CHECK(s.status().message() ==
          "target read failed: GET Users page 2 (startIndex=101): HTTP 500: boom (after 3 tries)");
    CHECK(f.http.request_count() == 4);
    CHECK(f.clock.Slept() == 3000ms);  // 1 s + 2 s
  }
  SUBCASE("429 with Retry-After, then the page comes: waited as asked, the read completes") {
    Fixture f;
    f.server.users = UsersJson(0, 150);
    int n = 0;
    f.http.SetHandler([&](const HttpRequest& r) {
      if (++n == 2) return FakeHttpClient::Response(429, "", {{"retry-after", "7"}});
      return f.server(r);
    });
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE(s.ok());
    CHECK(s->users.size() == 150);
    CHECK(f.clock.Slept() == 7000ms);
    CHECK(f.Requests()[2] == "Users?startIndex=101&count=100");
  }
  SUBCASE("a failure in the groups list: no snapshot at all, users or not") {
    Fixture f;
    f.server.users = UsersJson(0, 10);
    f.server.by_path["Groups"] = FakeHttpClient::Failure(HttpError::kTimeout, "timed out");
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == ErrorCode::kTimeout);
    CHECK(s.status().message() ==
          "target read failed: GET Groups page 1 (startIndex=1): timeout: timed out (after 3 "
          "tries)");
  }
  SUBCASE("401 is not retried; 404 on the first page is not an empty target") {
    Fixture f;
    f.server.by_path["Users"] = FakeHttpClient::Response(401, R"({"detail":"Invalid token"})");
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == ErrorCode::kAuth);
    CHECK(f.http.request_count() == 1);
    f.server.by_path["Users"] = FakeHttpClient::Response(404, R"({"detail":"no such endpoint"})");
    s = f.target.ReadSnapshot({});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message() ==
          "target read failed: GET Users page 1 (startIndex=1): HTTP 404: no such endpoint");
  }
  SUBCASE("a 2xx page that is not a ListResponse") {
    Fixture f;
    f.server.by_path["Users"] = FakeHttpClient::Response(200, "<html>proxy login</html>");
    Result<TargetSnapshot> s = f.target.ReadSnapshot({});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == ErrorCode::kParse);
    CHECK(s.status().message() ==
          "target read failed: GET Users page 1 (startIndex=1): invalid ListResponse: "
          "not JSON (Invalid value. at byte 0): <html>proxy login</html>");
  }
}

TEST_CASE("ReadSnapshot: members_per_group lists without members, then GETs each group") {
  Fixture f;
  f.server.users = UsersJson(0, 3);
  // The list ignores excludedAttributes here: its members must not be used.
  f.server.groups = {GroupJson("g1", {"stale"}), GroupJson("g2", {}), GroupJson("g/3", {})};
  f.server.by_path["Groups/g1"] =
      FakeHttpClient::Response(200, GroupJson("g1", {"u100002", "u100000", "u100002"}));
  f.server.by_path["Groups/g2"] = FakeHttpClient::Response(404, R"({"detail":"gone"})");
  f.server.by_path["Groups/g%2F3"] = FakeHttpClient::Response(200, GroupJson("g/3", {"u100001"}));
  Result<TargetSnapshot> s = f.target.ReadSnapshot({.members_per_group = true});
  REQUIRE(s.ok());
  CHECK(f.Requests() ==
        std::vector<std::string>{"Users?startIndex=1&count=100",
                                 "Groups?excludedAttributes=members&startIndex=1&count=100",
                                 "Groups/g1", "Groups/g2", "Groups/g%2F3"});
  REQUIRE(s->groups.size() == 2);  // g2 was deleted during the read
  CHECK(s->groups[0].id == "g/3");
  CHECK(s->groups[0].member_ids == std::vector<std::string>{"u100001"});
  CHECK(s->groups[1].id == "g1");
  CHECK(s->groups[1].display_name == "Group g1");
  CHECK(s->groups[1].member_ids == std::vector<std::string>{"u100000", "u100002"});

  SUBCASE("a failed group GET fails the read; a GET answering another group too") {
    f.server.by_path["Groups/g2"] = FakeHttpClient::Response(503, "busy");
    s = f.target.ReadSnapshot({.members_per_group = true});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message() ==
          "target read failed: GET Groups/g2: HTTP 503: busy (after 3 tries)");
    f.server.by_path["Groups/g2"] = FakeHttpClient::Response(200, GroupJson("g9", {}));
    s = f.target.ReadSnapshot({.members_per_group = true});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message() == "target read failed: GET Groups/g2: answered group \"g9\"");
  }
}

TEST_CASE("ReadSnapshot: members_per_group GETs up to `concurrency` groups at once, same result") {
  Fixture f;
  f.server.users = UsersJson(0, 1);
  for (int i = 0; i < 8; ++i) {
    const std::string id = "g" + std::to_string(i);
    f.server.groups.push_back(GroupJson(id, {}));
    f.server.by_path["Groups/" + id] = FakeHttpClient::Response(200, GroupJson(id, {"u100000"}));
  }
  std::atomic<int> in_flight{0}, most{0};
  f.server.before = [&](const HttpRequest& r) {
    if (PathOf(r.url).rfind("Groups/", 0) != 0) return;
    int now = ++in_flight;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(30ms);  // a target 30 ms away
    --in_flight;
  };
  auto start = std::chrono::steady_clock::now();
  Result<TargetSnapshot> s = f.target.ReadSnapshot({.members_per_group = true, .concurrency = 4});
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(s.ok());
  CHECK(most.load() == 4);
  CHECK(took < 8 * 30ms);  // not one after the other
  REQUIRE(s->groups.size() == 8);
  for (const RemoteGroup& g : s->groups) CHECK(g.member_ids == std::vector<std::string>{"u100000"});

  SUBCASE("the first failure in list order is the one reported, whichever failed first") {
    f.server.before = nullptr;
    f.server.by_path["Groups/g2"] = FakeHttpClient::Response(503, "busy");
    f.server.by_path["Groups/g5"] = FakeHttpClient::Response(500, "broken");
    s = f.target.ReadSnapshot({.members_per_group = true, .concurrency = 2});
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().message() ==
          "target read failed: GET Groups/g2: HTTP 503: busy (after 3 tries)");
  }
}

TEST_CASE("ReadSnapshot: read_groups = false sends no group request; the groups are empty") {
  Fixture f;
  f.server.users = UsersJson(0, 3);
  f.server.groups = {GroupJson("g1", {"u100000"})};
  Result<TargetSnapshot> s = f.target.ReadSnapshot({.read_groups = false});
  REQUIRE(s.ok());
  CHECK(s->users.size() == 3);
  CHECK(s->groups.empty());
  CHECK(f.Requests() == std::vector<std::string>{"Users?startIndex=1&count=100"});
  // Also with members_per_group: no per-group GET either.
  f.http.ClearRequests();
  REQUIRE(f.target.ReadSnapshot({.members_per_group = true, .read_groups = false}).ok());
  CHECK(f.Requests() == std::vector<std::string>{"Users?startIndex=1&count=100"});
}

TEST_CASE("FindUsers/FindGroups: a repeated page fails the lookup instead of hiding a match") {
  Fixture f;
  // Two users match; the server ignores startIndex and caps pages at 1.
  f.server.by_path["Users"] =
      FakeHttpClient::Response(200, R"({"totalResults":2,"Resources":[{"id":"a"}]})");
  UserQuery q = f.target.FindUsers("userName", "x");
  CHECK_FALSE(q.response.Ok());
  CHECK(q.response.status == 502);
  CHECK(q.response.OutcomeUnknown());  // the executor retries it, then defers: never adopts
  CHECK(q.response.detail ==
        "invalid ListResponse: the page at startIndex=2 repeats earlier results (1 resources, no "
        "new id): the server ignores startIndex or does not page");
  CHECK(q.users.empty());
  CHECK(f.http.request_count() == 2);  // lookups are not retried inside the target

  f.server.by_path["Groups"] =
      FakeHttpClient::Response(200, R"({"Resources":[{"id":"g1"},{"id":"g2"}]})");
  GroupQuery g = f.target.FindGroups("displayName", "x");
  CHECK_FALSE(g.response.Ok());
  CHECK(g.groups.empty());
}

}  // namespace scimsync
