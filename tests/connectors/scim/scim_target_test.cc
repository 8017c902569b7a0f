// ScimTarget over the recording FakeHttpClient: URLs, headers, bodies, response
// conversion, Retry-After, paging rules and logging.
#include "connectors/scim/scim_target.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "connectors/scim/scim_json.h"
#include "core/log.h"
#include "tests/support/fake_http_client.h"

namespace scimsync {
namespace {

using namespace std::chrono_literals;

class TestClock final : public Clock {
 public:
  SysTime now = SysTime(std::chrono::sys_days(std::chrono::year{1994} / 11 / 6).time_since_epoch() +
                        8h + 49min + 30s);  // Sun, 06 Nov 1994 08:49:30 GMT
  SysTime Now() const override { return now; }
  std::chrono::steady_clock::time_point Steady() const override { return {}; }
  void SleepFor(Millis) override {}
};

struct Fixture {
  FakeHttpClient http;
  TestClock clock;
  ScimTarget target{http, ScimTargetOptions{.base_url = "https://scim.example.com/scim/v2/"}, clock};
};

Group Eng() {
  Group g;
  g.key = "g";
  g.display_name = "G";
  return g;
}

User Bob() {
  User u;
  u.key = "k-bob";
  u.Set(Attr::kUserName, "bob@example.com");
  u.Set(Attr::kActive, "true");
  return u;
}

std::string H(const HttpRequest& r, std::string_view name) { return FakeHttpClient::HeaderOf(r, name); }

// "startIndex" and "count" query values of a URL.
std::map<std::string, long> Query(const std::string& url) {
  std::map<std::string, long> out;
  for (const char* k : {"startIndex", "count"}) {
    std::string key = std::string("&") + k + "=";
    auto p = url.find(key);
    if (p == std::string::npos) key[0] = '?', p = url.find(key);
    if (p != std::string::npos) out[k] = std::stol(url.substr(p + key.size()));
  }
  return out;
}

// A list endpoint over `ids` that returns at most `cap` resources per page,
// honouring startIndex and count.
FakeHttpClient::Handler Lister(std::vector<std::string> ids, long cap, bool with_total = true) {
  return [ids, cap, with_total](const HttpRequest& r) {
    auto q = Query(r.url);
    long start = std::max(1L, q["startIndex"]);
    long n = std::min(q["count"], cap);
    std::string body = "{";
    if (with_total) body += "\"totalResults\":" + std::to_string(ids.size()) + ",";
    body += "\"Resources\":[";
    for (long i = start - 1; i < static_cast<long>(ids.size()) && i < start - 1 + n; ++i) {
      if (i != start - 1) body += ",";
      body += "{\"id\":\"" + ids[i] + "\"}";
    }
    body += "]}";
    return FakeHttpClient::Response(200, body);
  };
}

std::vector<std::string> Ids(int n, const std::string& prefix = "u") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("CreateUser: POST /Users with SCIM headers and the user JSON; 201 parsed") {
  Fixture f;
  f.http.PushStatus(201, R"({"id":"id-1","externalId":"k-bob","userName":"bob@example.com","active":true})",
                    {{"etag", "W/\"1\""}, {"location", "https://scim.example.com/scim/v2/Users/id-1"}});
  TargetResponse r = f.target.CreateUser(Bob());
  CHECK(r.Ok());
  CHECK(r.status == 201);
  REQUIRE(r.user);
  CHECK(r.user->id == "id-1");
  CHECK(r.etag == "W/\"1\"");
  HttpRequest req = f.http.last();
  CHECK(req.method == "POST");
  CHECK(req.url == "https://scim.example.com/scim/v2/Users");
  CHECK(H(req, "Accept") == "application/scim+json");
  CHECK(H(req, "Content-Type") == "application/scim+json");
  CHECK(H(req, "Authorization").empty());  // the HTTP client adds it, nobody else
  CHECK(req.body == UserJson(Bob()));
  CHECK(f.target.RequestCount() == 1);
  CHECK(f.target.WriteCount() == 1);
}

namespace {

// A UserCreates over `users`, `width` at a time, recording each answer by tag.
struct Creates final : UserCreates {
  std::vector<User> users;
  int width = 2;
  std::size_t next = 0;
  std::map<std::uint64_t, TargetResponse> answers;
  std::vector<std::uint64_t> order;
  int Width() override { return width; }
  const User* Next(std::uint64_t* tag) override {
    if (next >= users.size()) return nullptr;
    *tag = 100 + next;
    return &users[next++];
  }
  void Done(std::uint64_t tag, TargetResponse r) override {
    order.push_back(tag);
    answers[tag] = std::move(r);
  }
};

}  // namespace

TEST_CASE("CreateUsers: the same POSTs and answers as CreateUser, over SendMany; false without it") {
  Fixture f;
  Creates c;
  for (const char* n : {"ann", "bob", "cy"}) {
    User u = Bob();
    u.key = std::string("k-") + n;
    u.Set(Attr::kUserName, std::string(n) + "@example.com");
    c.users.push_back(u);
  }
  CHECK_FALSE(f.target.CreateUsers(c));  // the client cannot: nothing asked, nothing sent
  CHECK(c.next == 0);
  CHECK(f.http.request_count() == 0);

  f.http.EnableSendMany();
  f.http.SetHandler([](const HttpRequest& r) {
    if (r.body.find("bob@") != std::string::npos) {
      return FakeHttpClient::Response(409, R"({"detail":"taken","scimType":"uniqueness"})");
    }
    if (r.body.find("cy@") != std::string::npos) return FakeHttpClient::Response(201, "");
    return FakeHttpClient::Response(201, R"({"id":"id-ann","externalId":"k-ann"})",
                                    {{"etag", "W/\"7\""}});
  });
  CHECK(f.target.CreateUsers(c));
  CHECK(f.http.send_many_calls() == 1);
  CHECK(c.order == std::vector<std::uint64_t>{101, 100, 102});  // as the client answered
  REQUIRE(c.answers[100].user);
  CHECK(c.answers[100].user->id == "id-ann");
  CHECK(c.answers[100].etag == "W/\"7\"");
  CHECK(c.answers[101].status == 409);
  CHECK(c.answers[101].scim_type == "uniqueness");
  CHECK(c.answers[101].detail == "taken");
  CHECK(c.answers[102].Ok());  // a 201 without an id, as CreateUser reports it
  CHECK_FALSE(c.answers[102].user);
  CHECK(c.answers[102].detail == "no id in the response: empty body");
  std::vector<HttpRequest> sent = f.http.requests();
  REQUIRE(sent.size() == 3);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    CHECK(sent[i].method == "POST");
    CHECK(sent[i].url == "https://scim.example.com/scim/v2/Users");
    CHECK(H(sent[i], "Content-Type") == "application/scim+json");
    CHECK(sent[i].body == UserJson(c.users[i]));
  }
  CHECK(f.target.RequestCount() == 3);
  CHECK(f.target.WriteCount() == 3);
}

TEST_CASE("Creates and reads: a 2xx without an id keeps its status, no resource, detail says why") {
  // Issue 8 item 5: the executor must be able to tell "created, id unknown" from
  // a confirmed create. A JSON body without an id used to come back as a user
  // with an empty id and no detail.
  struct Row {
    int status;
    std::string body;
    std::string detail;
  };
  const std::string deep(400000, '[');
  const Row rows[] = {
      {201, "", "no id in the response: empty body"},
      {201, "<html>created</html>",
       "no id in the response: not JSON (Invalid value. at byte 0): <html>created</html>"},
      {201, R"({"userName":"bob","displayName":"Bob"})",
       R"(no id in the response: no "id" member: {"userName":"bob","displayName":"Bob"})"},
      {201, R"({"id":"","userName":"bob"})",
       R"(no id in the response: no "id" member: {"id":"","userName":"bob"})"},
      {200, R"({"id":{"nested":"object"}})",
       R"(no id in the response: no "id" member: {"id":{"nested":"object"}})"},
      {201, "[]", "no id in the response: not a JSON object: []"},
      {201, deep, "no id in the response: response body nests deeper than 64 levels"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.body.substr(0, 60));
    Fixture f;
    f.http.PushStatus(row.status, row.body);
    TargetResponse r = f.target.CreateUser(Bob());
    CHECK(r.Ok());
    CHECK(r.status == row.status);
    CHECK_FALSE(r.user);
    CHECK(r.detail == row.detail);
    CHECK(r.Summary() == "HTTP " + std::to_string(row.status) + ": " + row.detail);

    f.http.PushStatus(row.status, row.body);
    r = f.target.CreateGroup(Eng());
    CHECK(r.Ok());
    CHECK_FALSE(r.group);
    CHECK(r.detail == row.detail);

    f.http.PushStatus(200, row.body);
    r = f.target.GetUser("u1");
    CHECK_FALSE(r.user);
    CHECK(r.detail == row.detail);
    f.http.PushStatus(200, row.body);
    r = f.target.GetGroup("g1");
    CHECK_FALSE(r.group);
    CHECK(r.detail == row.detail);
  }
  // With an id: the resource, and no detail.
  Fixture f;
  f.http.PushStatus(201, R"({"id":"g-1","displayName":"G"})");
  TargetResponse r = f.target.CreateGroup(Eng());
  REQUIRE(r.group);
  CHECK(r.group->id == "g-1");
  CHECK(r.detail.empty());
}

TEST_CASE("PATCH: a 204 or an empty 200 is a plain success; a body without an id gives no resource") {
  Fixture f;
  f.http.PushStatus(200, "");
  TargetResponse r = f.target.RenameGroup("g1", "New");
  CHECK(r.Ok());
  CHECK_FALSE(r.group);
  CHECK(r.detail.empty());
  f.http.PushStatus(200, R"({"displayName":"New"})");
  r = f.target.RenameGroup("g1", "New");
  CHECK(r.Ok());
  CHECK_FALSE(r.group);
  CHECK(r.detail.empty());
  f.http.PushStatus(200, R"({"id":"u1","userName":"bob"})");
  r = f.target.PatchUser("u1", {AttrChange{Attr::kTitle, "", "Boss"}});
  REQUIRE(r.user);
  CHECK(r.user->id == "u1");
}

TEST_CASE("URLs: base with path segments, ids percent-encoded as one segment") {
  FakeHttpClient http;
  TestClock clock;
  ScimTarget keeper(http, {.base_url = "https://keepersecurity.com/api/rest/scim/v2/8796093022208"},
                    clock);
  http.PushStatus(200, R"({"id":"a/b c"})", {{"etag", "\"7\""}});
  TargetResponse r = keeper.GetUser("a/b c");
  CHECK(http.last().method == "GET");
  CHECK(http.last().url == "https://keepersecurity.com/api/rest/scim/v2/8796093022208/Users/a%2Fb%20c");
  CHECK(H(http.last(), "Content-Type").empty());
  CHECK(http.last().body.empty());
  REQUIRE(r.user);
  CHECK(r.etag == "\"7\"");

  http.PushStatus(200, R"({"id":"g1","displayName":"Eng","meta":{"version":"W/\"9\""}})");
  r = keeper.GetGroup("g1");
  CHECK(http.last().url ==
        "https://keepersecurity.com/api/rest/scim/v2/8796093022208/Groups/g1?excludedAttributes=members");
  REQUIRE(r.group);
  CHECK(r.group->display_name == "Eng");
  CHECK(r.etag == "W/\"9\"");  // meta.version when there is no ETag header

  http.PushStatus(200, R"({"totalResults":1,"Resources":[]})");
  CHECK(keeper.Probe().Ok());
  CHECK(http.last().url ==
        "https://keepersecurity.com/api/rest/scim/v2/8796093022208/Users?startIndex=1&count=1");
  CHECK(keeper.RequestCount() == 3);
  CHECK(keeper.WriteCount() == 0);
}

TEST_CASE("PatchUser: body, If-Match, 204 without body; no changes sends nothing") {
  Fixture f;
  f.http.PushStatus(204);
  std::vector<AttrChange> changes = {{Attr::kActive, "true", "false"}};
  TargetResponse r = f.target.PatchUser("id-1", changes, "W/\"3\"");
  CHECK(r.Ok());
  CHECK(r.status == 204);
  CHECK_FALSE(r.user);
  HttpRequest req = f.http.last();
  CHECK(req.method == "PATCH");
  CHECK(req.url == "https://scim.example.com/scim/v2/Users/id-1");
  CHECK(H(req, "If-Match") == "W/\"3\"");
  CHECK(H(req, "Content-Type") == "application/scim+json");
  CHECK(req.body == UserPatchJson(changes));

  f.http.PushStatus(200, R"({"id":"id-1","active":false})");
  r = f.target.PatchUser("id-1", changes);
  CHECK(H(f.http.last(), "If-Match").empty());
  REQUIRE(r.user);
  CHECK(r.user->values[static_cast<int>(Attr::kActive)] == "false");

  r = f.target.PatchUser("id-1", {});
  CHECK(r.Ok());
  CHECK(r.status == 204);
  CHECK(f.http.request_count() == 2);
}

TEST_CASE("DeleteUser, groups: methods, URLs and bodies") {
  Fixture f;
  f.http.PushStatus(204);
  CHECK(f.target.DeleteUser("id-1").Ok());
  CHECK(f.http.last().method == "DELETE");
  CHECK(f.http.last().url == "https://scim.example.com/scim/v2/Users/id-1");
  CHECK(f.http.last().body.empty());
  CHECK(H(f.http.last(), "Content-Type").empty());

  Group g;
  g.key = "g-eng";
  g.display_name = "Engineering";
  g.members = {"k-bob"};
  f.http.PushStatus(201, R"({"id":"g1","displayName":"Engineering","members":[]})");
  TargetResponse r = f.target.CreateGroup(g);
  REQUIRE(r.group);
  CHECK(r.group->id == "g1");
  CHECK(f.http.last().url == "https://scim.example.com/scim/v2/Groups");
  CHECK(f.http.last().body == GroupJson(g));

  f.http.PushStatus(204);
  CHECK(f.target.RenameGroup("g1", "Eng").Ok());
  CHECK(f.http.last().method == "PATCH");
  CHECK(f.http.last().url == "https://scim.example.com/scim/v2/Groups/g1");
  CHECK(f.http.last().body == GroupRenameJson("Eng"));

  f.http.PushStatus(204);
  CHECK(f.target.PatchGroupMembers("g1", {"u1"}, {"u2"}).Ok());
  CHECK(f.http.last().body == MembersPatchJson({"u1"}, {"u2"}));
  CHECK(f.target.PatchGroupMembers("g1", {}, {}).status == 204);  // nothing sent

  f.http.PushStatus(404, R"({"detail":"Group not found","status":"404"})");
  r = f.target.DeleteGroup("g1");
  CHECK(r.status == 404);
  CHECK(r.detail == "Group not found");
  CHECK(f.http.last().method == "DELETE");

  CHECK(f.http.request_count() == 5);
  CHECK(f.target.WriteCount() == 5);
  CHECK(f.http.unscripted() == 0);
}

TEST_CASE("Error responses: SCIM detail and scimType, Keeper plain text, Summary") {
  Fixture f;
  f.http.PushStatus(409, R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],)"
                         R"("status":"409","scimType":"uniqueness","detail":"userName already in use"})");
  TargetResponse r = f.target.CreateUser(Bob());
  CHECK_FALSE(r.Ok());
  CHECK(r.status == 409);
  CHECK(r.scim_type == "uniqueness");
  CHECK(r.Summary() == "HTTP 409 uniqueness: userName already in use");

  f.http.PushStatus(428, "Number of licensed seats was exceeded");
  r = f.target.CreateUser(Bob());
  CHECK(r.Summary() == "HTTP 428: Number of licensed seats was exceeded");
  CHECK_FALSE(r.retry_after);
}

TEST_CASE("Transport failures map one to one and keep the client's text") {
  struct Row {
    HttpError error;
    Transport transport;
    bool unknown;
  };
  for (Row row : {Row{HttpError::kTimeout, Transport::kTimeout, true},
                  Row{HttpError::kReset, Transport::kReset, true},
                  Row{HttpError::kConnect, Transport::kConnect, false},
                  Row{HttpError::kCancelled, Transport::kCancelled, false}}) {
    Fixture f;
    f.http.PushError(row.error, "some curl text");
    TargetResponse r = f.target.CreateUser(Bob());
    CHECK(r.transport == row.transport);
    CHECK(r.OutcomeUnknown() == row.unknown);
    CHECK(r.detail == "some curl text");
    CHECK(r.status == 0);
    CHECK(f.target.RequestCount() == 1);
  }
}

TEST_CASE("A refused redirect reads as where it went and why, not as a bare HTTP 307") {
  Fixture f;
  HttpResponse redirect = FakeHttpClient::Response(
      307, "<html>moved</html>", {{"location", "https://other-host.example/scim/v2/Users"}});
  redirect.error_text = "redirect to other-host.example refused: not the scheme, host and port "
                        "of the request, which alone receive the token";
  f.http.Push(redirect);
  TargetResponse r = f.target.CreateUser(Bob());
  CHECK_FALSE(r.Ok());
  CHECK(r.Summary() ==
        "HTTP 307: redirect to other-host.example refused: not the scheme, host and port of the "
        "request, which alone receive the token");
}

TEST_CASE("ParseRetryAfter: seconds, HTTP dates; invalid or absurd values are absent") {
  TestClock c;  // now = Sun, 06 Nov 1994 08:49:30 GMT
  struct Row {
    const char* value;
    std::optional<std::chrono::seconds> want;  // nullopt: treated as absent
  };
  const std::optional<std::chrono::seconds> kAbsent;
  const Row rows[] = {
      // delta-seconds
      {"120", 120s},
      {" 0 ", 0s},
      {"86400", 86400s},  // one day: the most we accept
      {"86401", kAbsent},
      {"999999999", kAbsent},
      {"99999999999", kAbsent},
      {"-5", kAbsent},
      {"-0", kAbsent},
      {"+5", kAbsent},
      {"1.5", kAbsent},
      {"1e3", kAbsent},
      {"0x10", kAbsent},
      {"5 5", kAbsent},
      {"12abc", kAbsent},
      {"", kAbsent},
      {"soon", kAbsent},
      // the three date forms
      {"Sun, 06 Nov 1994 08:49:37 GMT", 7s},
      {"Sunday, 06-Nov-94 08:49:37 GMT", 7s},
      {"Sun Nov  6 08:49:37 1994", 7s},
      {"Mon, 07 Nov 1994 08:49:30 GMT", 86400s},
      {"Mon, 07 Nov 1994 08:49:31 GMT", kAbsent},  // more than a day ahead
      {"Sun, 06 Nov 1994 08:00:00 GMT", 0s},       // in the past: retry now
      {"Thu, 01 Jan 1970 00:00:00 GMT", 0s},
      // absurd dates
      {"Fri, 31 Dec 9999 23:59:59 GMT", kAbsent},  // overflowed into the past: read as 0
      {"Sat, 01 Jan 0000 00:00:00 GMT", kAbsent},  // before 1970
      {"Wed, 31 Dec 1969 23:59:59 GMT", kAbsent},
      {"Sun, 32 Nov 1994 08:49:37 GMT", kAbsent},
      {"Sun, 31 Feb 1994 08:49:37 GMT", kAbsent},
      {"Sun, 06 Nov 1994 25:49:37 GMT", kAbsent},
      {"Sun, 06 Foo 1994 08:49:37 GMT", kAbsent},
      {"Sun, 06 Nov 1994 08:49:37 PST", kAbsent},
      // malformed dates that a tokenizer splitting on '-' and ',' let through
      {"Sun, 06 Nov -1994 08:49:37 GMT", kAbsent},
      {"-Sun, 06 Nov 1994 08:49:37 GMT", kAbsent},
      {"Sun,,, 06 Nov 1994 08:49:37 GMT", kAbsent},
      {"Sun, 06-Nov-1994 08:49:37 GMT", kAbsent},
      {"Sun 06-Nov-94 08:49:37 GMT", kAbsent},
      {"Sun, 000000006 Nov 1994 08:49:37 GMT", kAbsent},
      {"Sun, 06 Nov 94 08:49:37 GMT", kAbsent},
      {"06 Nov 1994 08:49:37 GMT", kAbsent},
      {"Sun, 06 Nov 1994 08:49:37 GMT GMT", kAbsent},
  };
  for (const Row& row : rows) {
    std::string value = row.value;
    CAPTURE(value);
    CHECK(ParseRetryAfter(value, c.now) == row.want);
  }
  TestClock later;
  later.now += 500ms;
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", later.now) == 7s);  // rounded up
  CHECK(ParseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT",
                        SysTime(std::chrono::sys_days(std::chrono::year{2026} / 1 / 1)
                                    .time_since_epoch())) == 10s);
}

TEST_CASE("429 and 503: Retry-After parsed against the clock; slowing down is not the target's call") {
  FakeHttpClient http;
  TestClock clock;
  ScimTarget target(http, {.base_url = "https://t/scim"}, clock);
  http.PushStatus(429, "", {{"retry-after", "3"}});
  TargetResponse r = target.GetUser("x");
  CHECK(r.status == 429);
  CHECK(r.retry_after == 3s);

  http.PushStatus(503, "", {{"retry-after", "Sun, 06 Nov 1994 08:50:00 GMT"}});
  r = target.GetUser("x");
  CHECK(r.status == 503);
  CHECK(r.retry_after == 30s);

  http.PushStatus(429, "", {{"retry-after", "later please"}});
  r = target.GetUser("x");
  CHECK_FALSE(r.retry_after);
  // The executor lowers its worker count; the transport keeps its own limit.
  CHECK(http.concurrency_calls().empty());
}

TEST_CASE("FindUsers: filter escaped and percent-encoded, first page URL exact") {
  Fixture f;
  f.http.PushStatus(200, R"({"totalResults":1,"Resources":[{"id":"u1","externalId":"a\"b\\c"}]})");
  UserQuery q = f.target.FindUsers("externalId", "a\"b\\c");
  CHECK(q.response.Ok());
  REQUIRE(q.users.size() == 1);
  CHECK(q.users[0].external_id == "a\"b\\c");
  CHECK(f.http.last().url ==
        "https://scim.example.com/scim/v2/Users?filter=externalId%20eq%20%22a%5C%22b%5C%5Cc%22"
        "&startIndex=1&count=100");
  CHECK(f.http.request_count() == 1);  // totalResults reached

  f.http.PushStatus(200, R"({"totalResults":0,"Resources":[]})");
  GroupQuery g = f.target.FindGroups("displayName", "R&D Team");
  CHECK(g.response.Ok());
  CHECK(g.groups.empty());
  CHECK(f.http.last().url ==
        "https://scim.example.com/scim/v2/Groups?filter=displayName%20eq%20%22R%26D%20Team%22"
        "&excludedAttributes=members&startIndex=1&count=100");
}

TEST_CASE("Paging: server cap smaller than count, advance by what was returned") {
  Fixture f;
  f.http.SetHandler(Lister(Ids(250), 40));
  UserQuery q = f.target.FindUsers("userName", "x");
  CHECK(q.response.Ok());
  CHECK(q.users.size() == 250);
  CHECK(q.users.back().id == "u249");
  auto reqs = f.http.requests();
  REQUIRE(reqs.size() == 7);  // 6 x 40 + 10
  std::vector<long> starts;
  for (const auto& r : reqs) starts.push_back(Query(r.url)["startIndex"]);
  CHECK(starts == std::vector<long>{1, 41, 81, 121, 161, 201, 241});
  CHECK(Query(reqs[0].url)["count"] == 100);
}

TEST_CASE("Paging: exactly one full page plus one (off-by-one) and no totalResults") {
  Fixture f;
  f.http.SetHandler(Lister(Ids(101), 100));
  UserQuery q = f.target.FindUsers("userName", "x");
  CHECK(q.users.size() == 101);
  CHECK(f.http.request_count() == 2);

  // Without totalResults the read goes on until an empty page.
  Fixture g;
  g.http.SetHandler(Lister(Ids(150), 100, /*with_total=*/false));
  q = g.target.FindUsers("userName", "x");
  CHECK(q.users.size() == 150);
  CHECK(g.http.request_count() == 3);
}

TEST_CASE("Paging: an empty page stops even when totalResults promises more") {
  Fixture f;
  f.http.PushStatus(200, R"({"totalResults":10,"Resources":[{"id":"a"},{"id":"b"},{"id":"c"}]})");
  f.http.PushStatus(200, R"({"totalResults":10,"Resources":[]})");
  UserQuery q = f.target.FindUsers("userName", "x");
  CHECK(q.response.Ok());
  CHECK(q.users.size() == 3);
  CHECK(f.http.request_count() == 2);
  CHECK(Query(f.http.last().url)["startIndex"] == 4);
}

TEST_CASE("Paging: a server that ignores startIndex (repeated page) fails the read") {
  Fixture f;
  std::string page = R"({"totalResults":5,"Resources":[{"id":"a"},{"id":"b"}]})";
  f.http.SetHandler([&](const HttpRequest&) { return FakeHttpClient::Response(200, page); });
  UserQuery q = f.target.FindUsers("userName", "x");
  CHECK_FALSE(q.response.Ok());
  CHECK(q.response.status == 502);
  CHECK(q.users.empty());
  CHECK(f.http.request_count() == 2);
}

TEST_CASE("Paging: shifting pages are de-duplicated by id; max_pages fails endless lists") {
  Fixture f;
  f.http.PushStatus(200, R"({"totalResults":4,"Resources":[{"id":"a"},{"id":"b"}]})");
  f.http.PushStatus(200, R"({"totalResults":4,"Resources":[{"id":"b"},{"id":"c"}]})");
  UserQuery q = f.target.FindUsers("userName", "x");
  REQUIRE(q.users.size() == 3);
  CHECK(q.users[2].id == "c");

  FakeHttpClient http;
  TestClock clock;
  ScimTarget target(http, {.base_url = "https://t", .page_size = 2, .max_pages = 3}, clock);
  int n = 0;
  http.SetHandler([&](const HttpRequest&) {
    ++n;
    return FakeHttpClient::Response(
        200, R"({"Resources":[{"id":"x)" + std::to_string(n) + R"("}]})");
  });
  q = target.FindUsers("userName", "x");
  CHECK_FALSE(q.response.Ok());
  CHECK(q.response.detail == "invalid ListResponse: still not at the end after 3 pages (startIndex=4)");
  CHECK(q.users.empty());
  CHECK(http.request_count() == 3);
  CHECK(Query(http.last().url)["count"] == 2);
}

TEST_CASE("List reads: 404 means no match; a broken page never reads as no match") {
  Fixture f;
  f.http.PushStatus(404, R"({"detail":"Resource not found"})");
  UserQuery q = f.target.FindUsers("externalId", "k");
  CHECK(q.response.Ok());
  CHECK(q.response.status == 200);
  CHECK(q.response.detail.empty());
  CHECK(q.users.empty());

  f.http.PushStatus(200, "<html><body>Gateway says hi</body></html>");
  q = f.target.FindUsers("externalId", "k");
  CHECK_FALSE(q.response.Ok());
  CHECK(q.response.status == 502);
  CHECK(q.response.Summary() ==
        "HTTP 502: invalid ListResponse: not JSON (Invalid value. at byte 0): "
        "<html><body>Gateway says hi</body></html>");
  CHECK(q.response.OutcomeUnknown());

  // A page nested 400,000 levels deep: a clean failure of that read, not a crash.
  f.http.PushStatus(200, R"({"totalResults":1,"Resources":)" + std::string(400000, '['));
  q = f.target.FindUsers("externalId", "k");
  CHECK(q.response.status == 502);
  CHECK(q.response.detail == "invalid ListResponse: response body nests deeper than 64 levels");
  CHECK(q.users.empty());

  f.http.PushStatus(200, R"({"totalResults":2})");
  q = f.target.FindUsers("externalId", "k");
  CHECK(q.response.detail ==
        R"(invalid ListResponse: no Resources although totalResults is not 0: {"totalResults":2})");

  f.http.PushStatus(200, R"({"totalResults":3,"Resources":[{"id":"a"}]})");
  f.http.PushStatus(503, "busy", {{"retry-after", "2"}});
  GroupQuery g = f.target.FindGroups("externalId", "k");
  CHECK(g.response.status == 503);
  CHECK(g.response.retry_after == 2s);

  f.http.PushStatus(401, R"({"detail":"Invalid token"})");
  g = f.target.FindGroups("externalId", "k");
  CHECK(g.response.Summary() == "HTTP 401: Invalid token");
  CHECK(f.http.unscripted() == 0);
}

// ---- lookups on targets without filters (ScimTargetOptions::lookup) ---------------

TEST_CASE("FilterRefused: 501, 400 invalidFilter, or a 400 that says filters are unsupported") {
  auto answer = [](int status, std::string detail, std::string type = "") {
    TargetResponse r;
    r.status = status;
    r.detail = std::move(detail);
    r.scim_type = std::move(type);
    return r;
  };
  CHECK(FilterRefused(answer(501, "")));
  CHECK(FilterRefused(answer(400, "", "invalidFilter")));
  CHECK(FilterRefused(answer(400, "Filter not supported: userName eq \"x\"")));
  CHECK(FilterRefused(answer(400, "unsupported filter operator")));
  CHECK(FilterRefused(answer(400, "Filtering is not implemented")));
  CHECK_FALSE(FilterRefused(answer(400, "bad request", "invalidValue")));
  CHECK_FALSE(FilterRefused(answer(400, "userName not supported")));  // no "filter"
  CHECK_FALSE(FilterRefused(answer(403, "", "invalidFilter")));
  CHECK_FALSE(FilterRefused(answer(200, "")));
  TargetResponse timeout;
  timeout.transport = Transport::kTimeout;
  CHECK_FALSE(FilterRefused(timeout));
}

// A collection of two users and two teams that refuses every filter.
FakeHttpClient::Handler NoFilters() {
  return [](const HttpRequest& r) {
    if (r.url.find("filter=") != std::string::npos) {
      return FakeHttpClient::Response(
          400, R"({"status":"400","scimType":"invalidFilter","detail":"filter not supported"})");
    }
    if (r.url.find("/Groups") != std::string::npos) {
      return FakeHttpClient::Response(
          200, R"({"totalResults":2,"Resources":[)"
               R"({"id":"t1","externalId":"G1","displayName":"Staff"},)"
               R"({"id":"t2","displayName":"staff"}]})");
    }
    return FakeHttpClient::Response(
        200, R"({"totalResults":2,"Resources":[)"
             R"({"id":"u1","externalId":"K1","userName":"Ann@Example.com"},)"
             R"({"id":"u2","externalId":"k1","userName":"bob@example.com"}]})");
  };
}

TEST_CASE("lookup filter: a refused filter is answered by listing and matching locally, "
          "and later lookups of that attribute list at once (logged once)") {
  std::vector<std::string> lines;
  Log().CaptureForTest(&lines);
  Fixture f;
  f.http.SetHandler(NoFilters());
  UserQuery q = f.target.FindUsers("userName", "ann@example.COM");
  CHECK(q.response.Ok());
  REQUIRE(q.users.size() == 1);  // userName: any case
  CHECK(q.users[0].id == "u1");
  REQUIRE(f.http.request_count() == 2);
  CHECK(f.http.requests()[1].url ==
        "https://scim.example.com/scim/v2/Users?startIndex=1&count=100");
  q = f.target.FindUsers("userName", "bob@example.com");
  CHECK(q.users.size() == 1);
  CHECK(f.http.request_count() == 3);  // no filter tried again
  // externalId is exact; its own filter is tried (a target may filter on some attributes).
  q = f.target.FindUsers("externalId", "K1");
  REQUIRE(q.users.size() == 1);
  CHECK(q.users[0].id == "u1");
  CHECK(f.http.request_count() == 5);
  // Groups: displayName any case, members never asked for.
  GroupQuery g = f.target.FindGroups("displayName", "STAFF");
  CHECK(g.groups.size() == 2);
  CHECK(f.http.last().url == "https://scim.example.com/scim/v2/Groups?excludedAttributes=members"
                             "&startIndex=1&count=100");
  g = f.target.FindGroups("externalId", "G1");
  REQUIRE(g.groups.size() == 1);
  CHECK(g.groups[0].id == "t1");
  Log().CaptureForTest(nullptr);
  long refused = std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("event=lookup_filter_refused") != std::string::npos;
  });
  CHECK(refused == 4);  // Users:userName, Users:externalId, Groups:displayName, Groups:externalId
  CHECK(f.http.unscripted() == 0);
}

TEST_CASE("lookup filter: any other refusal is the lookup's answer, never a listing") {
  Fixture f;
  f.http.PushStatus(400, R"({"scimType":"invalidValue","detail":"nope"})");
  UserQuery q = f.target.FindUsers("userName", "x");
  CHECK(q.response.status == 400);
  CHECK(f.http.request_count() == 1);
  // A listing that fails is a failed lookup, never "no match".
  f.http.PushStatus(501, "");
  f.http.PushStatus(404, "");
  q = f.target.FindUsers("userName", "x");
  CHECK_FALSE(q.response.Ok());
  CHECK(q.response.status == 502);
  CHECK(q.users.empty());
}

TEST_CASE("lookup list: never a filter, the collection is listed and matched") {
  FakeHttpClient http;
  TestClock clock;
  ScimTarget target(http, {.base_url = "https://t", .lookup = LookupMethod::kList}, clock);
  http.SetHandler(NoFilters());
  UserQuery q = target.FindUsers("externalId", "k1");
  REQUIRE(q.users.size() == 1);  // exact: not K1
  CHECK(q.users[0].id == "u2");
  CHECK(http.request_count() == 1);
  CHECK(http.last().url.find("filter") == std::string::npos);
}

TEST_CASE("Logging: one debug line per request, bodies only at debug, credentials redacted") {
  std::vector<std::string> lines;
  Log().CaptureForTest(&lines);
  Log().SetMinLevel(LogLevel::kInfo);
  {
    Fixture f;
    f.http.PushStatus(201, R"({"id":"1"})");
    (void)f.target.CreateUser(Bob());
    CHECK(lines.empty());
  }
  Log().SetMinLevel(LogLevel::kDebug);
  {
    Fixture f;
    f.http.PushStatus(409, R"({"detail":"dup"})");
    (void)f.target.CreateUser(Bob());
    f.http.PushError(HttpError::kTimeout);
    (void)f.target.GetUser("9");
  }
  Log().SetMinLevel(LogLevel::kInfo);
  Log().CaptureForTest(nullptr);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("event=scim_request") != std::string::npos);
  CHECK(lines[0].find("method=POST") != std::string::npos);
  CHECK(lines[0].find("path=Users") != std::string::npos);
  CHECK(lines[0].find("status=409") != std::string::npos);
  CHECK(lines[0].find("ms=") != std::string::npos);
  CHECK(lines[1].find("event=scim_exchange") != std::string::npos);
  CHECK(lines[1].find("bob@example.com") != std::string::npos);
  CHECK(lines[1].find("dup") != std::string::npos);
  CHECK(lines[2].find("status=timeout") != std::string::npos);

  auto red = RedactHeaders({{"Authorization", "Bearer s3cret"},
                            {"proxy-authorization", "Basic x"},
                            {"COOKIE", "sid=1"},
                            {"Accept", "application/scim+json"}});
  CHECK(red[0].second == "[redacted]");
  CHECK(red[1].second == "[redacted]");
  CHECK(red[2].second == "[redacted]");
  CHECK(red[3].second == "application/scim+json");
}

TEST_CASE("ScimTarget can own its HttpClient") {
  auto owned = std::make_unique<FakeHttpClient>();
  FakeHttpClient* http = owned.get();
  TestClock clock;
  auto target = std::make_unique<ScimTarget>(std::move(owned), ScimTargetOptions{.base_url = "https://t/v2"},
                                             clock);
  http->PushStatus(204);
  CHECK(target->DeleteUser("1").Ok());
  CHECK(http->last().url == "https://t/v2/Users/1");
}

TEST_CASE("FakeHttpClient: unscripted requests fail loudly and are counted") {
  FakeHttpClient http;
  HttpRequest req{.method = "GET", .url = "https://t/x", .headers = {}, .body = "", .form = {}};
  HttpResponse r = http.Send(req);
  CHECK(r.error == HttpError::kConnect);
  CHECK(r.error_text == "FakeHttpClient: no scripted response for GET https://t/x");
  CHECK(http.unscripted() == 1);
  http.Cancel();
  CHECK(http.Send(req).error == HttpError::kCancelled);
  CHECK(http.request_count() == 2);
}

}  // namespace scimsync

namespace scimsync {

TEST_CASE("Discover: GET {base}/ServiceProviderConfig; 404 and 501 are not served; others fail") {
  Fixture f;
  f.http.PushStatus(200, R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],)"
                         R"("patch":{"supported":true},"filter":{"supported":true,"maxResults":50},)"
                         R"("bulk":{"supported":false,"maxOperations":0},"etag":{"supported":false}})");
  Discovery d = f.target.Discover();
  CHECK(f.http.last().method == "GET");
  CHECK(f.http.last().url == "https://scim.example.com/scim/v2/ServiceProviderConfig");
  CHECK(H(f.http.last(), "Accept") == "application/scim+json");
  CHECK(d.outcome == Discovery::Outcome::kServed);
  CHECK(d.filter_max_results == 50);
  CHECK(d.patch == true);
  CHECK(d.bulk == false);
  CHECK_FALSE(d.sort.has_value());
  CHECK(f.target.WriteCount() == 0);

  f.http.PushStatus(404, R"({"detail":"Not Found"})");
  d = f.target.Discover();
  CHECK(d.outcome == Discovery::Outcome::kNotServed);
  CHECK(d.detail == "HTTP 404: Not Found");
  f.http.PushStatus(501, "");
  CHECK(f.target.Discover().outcome == Discovery::Outcome::kNotServed);

  f.http.PushStatus(401, R"({"detail":"bad token"})");
  d = f.target.Discover();
  CHECK(d.outcome == Discovery::Outcome::kFailed);
  CHECK(d.detail == "HTTP 401: bad token");
  f.http.PushError(HttpError::kTimeout, "timed out");
  d = f.target.Discover();
  CHECK(d.outcome == Discovery::Outcome::kFailed);
  CHECK(d.detail == "timeout: timed out");
  // A 200 that is no ServiceProviderConfig (a portal's login page).
  f.http.PushStatus(200, "<html>login</html>");
  d = f.target.Discover();
  CHECK(d.outcome == Discovery::Outcome::kFailed);
  CHECK(d.detail.rfind("not a ServiceProviderConfig: not JSON", 0) == 0);
  CHECK(f.http.unscripted() == 0);
}

}  // namespace scimsync
