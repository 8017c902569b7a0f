// Response policies seen on the wire: the executor over the real ScimTarget over a
// recording FakeHttpClient (our HttpClient interface). These pin the exact request
// sequence each policy produces, which the FakeTarget tests in executor_test.cc
// cannot see.
#include <doctest/doctest.h>

#include <algorithm>

#include "connectors/scim/scim_target.h"
#include "core/log.h"
#include "daemon/executor.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_http_client.h"

using namespace scimsync;

namespace {

constexpr const char* kBase = "https://t.example/scim/v2";

User Alice() {
  User u;
  u.key = "E1";
  u.Set(Attr::kUserName, "alice@example.com");
  u.Set(Attr::kEmail, "alice@example.com");
  u.Set(Attr::kDisplayName, "Alice");
  u.Set(Attr::kTitle, "Engineer");
  u.Set(Attr::kActive, "true");
  return u;
}

struct Wire {
  FakeHttpClient http;
  FakeClock clock;
  ScimTarget target{http, ScimTargetOptions{kBase}, clock};
  std::unique_ptr<StateStore> state = std::move(StateStore::Open(":memory:", kBase).value());
  KnownState known;

  Wire() {
    static std::vector<std::string> sink;
    Log().CaptureForTest(&sink);
  }
  std::int64_t failed = 0;  // the executor's Counter::kFailed of the last Run

  Status Run(const Plan& plan) {
    ExecutorOptions o;
    o.max_connections = 1;
    Executor ex(target, *state, clock, o, known);
    Status s = ex.Run(plan);
    failed = ex.counters().Get(Counter::kFailed);
    return s;
  }
  std::string Header(std::size_t request, const std::string& name) {
    const auto requests = http.requests();  // a copy: the loop must not outlive it
    for (const auto& [k, v] : requests.at(request).headers) {
      if (k == name) return v;
    }
    return "<none>";
  }
  std::vector<std::string> Requests() {
    std::vector<std::string> out;
    for (const auto& r : http.requests()) {
      std::string url = r.url.substr(std::string(kBase).size());
      out.push_back(r.method + " " + url);
    }
    return out;
  }
  KnownUser Row() { return state->Load().value().users.at(0); }
};

Plan CreatePlan(const User& u) {
  Operation op;
  op.kind = OpKind::kCreateUser;
  op.key = u.key;
  op.label = u.Get(Attr::kUserName);
  op.user = u;
  Plan p;
  p.ops.push_back(op);
  return p;
}

const char* kListOne =
    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,)"
    R"("startIndex":1,"itemsPerPage":1,"Resources":[{"id":"t-9","userName":"ALICE@example.com",)"
    R"("title":"Old","active":true}]})";
const char* kListNone =
    R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,)"
    R"("startIndex":1,"itemsPerPage":0,"Resources":[]})";

}  // namespace

TEST_CASE("409 on POST: filter by externalId, then userName, adopt, PATCH only the difference") {
  Wire w;
  w.http.PushStatus(409, R"({"status":"409","scimType":"uniqueness","detail":"Email already taken"})");
  w.http.PushStatus(200, kListNone);
  w.http.PushStatus(200, kListOne);
  w.http.PushStatus(200, R"({"id":"t-9","userName":"alice@example.com"})");
  CHECK(w.Run(CreatePlan(Alice())).ok());
  CHECK(w.Requests() == std::vector<std::string>{
                            "POST /Users",
                            "GET /Users?filter=externalId%20eq%20%22E1%22&startIndex=1&count=100",
                            "GET /Users?filter=userName%20eq%20%22alice%40example.com%22&startIndex=1&count=100",
                            "PATCH /Users/t-9"});
  std::string patch = w.http.requests().back().body;
  CHECK(patch.find("\"title\"") != std::string::npos);
  CHECK(patch.find("Engineer") != std::string::npos);
  KnownUser row = w.Row();
  CHECK(row.target_id == "t-9");
  CHECK(row.status == ObjectStatus::kSynced);
  CHECK_FALSE(row.uncertain);
  CHECK(w.http.unscripted() == 0);
}

TEST_CASE("428 on POST marks the user seat-blocked and sends no further creates") {
  Wire w;
  w.http.PushStatus(428, R"({"status":"428","detail":"Seats exceeded"})");
  User bob = Alice();
  bob.key = "E2";
  bob.Set(Attr::kUserName, "bob@example.com");
  Plan p = CreatePlan(Alice());
  p.ops.push_back(CreatePlan(bob).ops[0]);
  CHECK(w.Run(p).ok());
  CHECK(w.Requests() == std::vector<std::string>{"POST /Users"});
  KnownState known = w.state->Load().value();
  REQUIRE(known.users.size() == 2);
  for (const auto& u : known.users) {
    CHECK(u.status == ObjectStatus::kSeatBlocked);
    CHECK_FALSE(u.uncertain);
  }
}

TEST_CASE("429 with Retry-After: waits that long, then the same POST succeeds") {
  Wire w;
  w.http.PushStatus(429, R"({"status":"429","detail":"slow down"})", {{"retry-after", "12"}});
  w.http.PushStatus(201, R"({"id":"t-1","userName":"alice@example.com"})");
  CHECK(w.Run(CreatePlan(Alice())).ok());
  CHECK(w.Requests() == std::vector<std::string>{"POST /Users", "POST /Users"});
  CHECK(w.clock.Slept() >= Millis(12000));
  CHECK(w.Row().target_id == "t-1");
}

TEST_CASE("a timeout on POST leaves the user uncertain for the next cycle's lookup") {
  Wire w;
  for (int i = 0; i < 16; ++i) w.http.PushError(HttpError::kTimeout, "operation timed out");
  CHECK(w.Run(CreatePlan(Alice())).code() == ErrorCode::kUnavailable);  // every request failed
  // The POST is not sent again blind: the lookup by externalId that must come first
  // times out too, so the user stays uncertain for the next cycle.
  std::vector<std::string> sent = w.Requests();
  REQUIRE(sent.size() >= 2);
  CHECK(sent[0] == "POST /Users");
  CHECK(sent[1] == "GET /Users?filter=externalId%20eq%20%22E1%22&startIndex=1&count=100");
  CHECK(std::count(sent.begin(), sent.end(), "POST /Users") == 1);
  KnownUser row = w.Row();
  CHECK(row.uncertain);
  CHECK(row.target_id.empty());
}

TEST_CASE("401 stops at once and leaves no trace in the state") {
  Wire w;
  w.http.PushStatus(401, R"({"status":"401","detail":"invalid token"})");
  Status s = w.Run(CreatePlan(Alice()));
  CHECK(s.code() == ErrorCode::kAuth);
  CHECK(s.message() ==
        "target refused the credentials: HTTP 401: invalid token (check target.token_file / "
        "token_env and the token's role)");
  CHECK(w.state->Load().value().users.empty());
}

namespace {

Plan OneOp(OpKind kind, const std::string& key, std::vector<AttrChange> changes = {}) {
  Operation op;
  op.kind = kind;
  op.key = key;
  op.label = key;
  op.changes = std::move(changes);
  Plan p;
  p.ops.push_back(op);
  return p;
}

}  // namespace

TEST_CASE("428 on a disable PATCH: GET for the ETag, then the same PATCH with If-Match") {
  Wire w;
  KnownUser row;
  row.key = "E1";
  row.target_id = "t-1";
  row.values = Alice().values;
  row.status = ObjectStatus::kSynced;
  w.known.users = {row};
  REQUIRE(w.state->PutUser(row).ok());
  w.http.PushStatus(428, R"({"status":"428","detail":"If-Match required"})");
  w.http.PushStatus(200, R"({"id":"t-1","userName":"alice@example.com","active":true})",
                    {{"etag", "W/\"7\""}});
  w.http.PushStatus(200, R"({"id":"t-1","userName":"alice@example.com","active":false})");
  CHECK(w.Run(OneOp(OpKind::kDisableUser, "E1", {{Attr::kActive, "true", "false"}})).ok());
  CHECK(w.Requests() == std::vector<std::string>{"PATCH /Users/t-1", "GET /Users/t-1",
                                                 "PATCH /Users/t-1"});
  CHECK(w.Header(0, "If-Match") == "<none>");
  CHECK(w.Header(2, "If-Match") == "W/\"7\"");
  CHECK(w.http.requests()[2].body == w.http.requests()[0].body);
  CHECK(w.Row().status == ObjectStatus::kDisabled);
  CHECK(w.http.unscripted() == 0);
}

TEST_CASE("412 on a group DELETE: GET for the ETag, then DELETE with If-Match") {
  Wire w;
  KnownGroup g;
  g.key = "Staff";
  g.target_id = "g-1";
  g.display_name = "Staff";
  g.status = ObjectStatus::kSynced;
  w.known.groups = {g};
  REQUIRE(w.state->PutGroup(g).ok());
  w.http.PushStatus(412, R"({"status":"412","detail":"ETag mismatch"})");
  w.http.PushStatus(200, R"({"id":"g-1","displayName":"Staff","meta":{"version":"W/\"3\""}})");
  w.http.PushStatus(204);
  CHECK(w.Run(OneOp(OpKind::kDeleteGroup, "Staff")).ok());
  CHECK(w.Requests() == std::vector<std::string>{"DELETE /Groups/g-1",
                                                 "GET /Groups/g-1?excludedAttributes=members",
                                                 "DELETE /Groups/g-1"});
  CHECK(w.Header(2, "If-Match") == "W/\"3\"");
  CHECK(w.state->Load().value().groups.empty());
}

TEST_CASE("a 201 with an empty body: the user failed, left uncertain, the POST not repeated") {
  Wire w;
  w.http.PushStatus(201, "");
  CHECK(w.Run(CreatePlan(Alice())).ok());
  CHECK(w.Requests() == std::vector<std::string>{"POST /Users"});
  CHECK(w.failed == 1);
  KnownUser row = w.Row();
  CHECK(row.uncertain);
  CHECK(row.target_id.empty());
  CHECK(row.last_error.find("no user id could be read") != std::string::npos);
}
