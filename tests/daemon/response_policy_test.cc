// The policy table of DESIGN §6 (daemon/response_policy.h): every row decides for
// every verb it names and for no other, and the whole (response x verb) matrix is
// pinned as text.
#include "daemon/response_policy.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

using namespace scimsync;

namespace {

std::vector<Verb> AllVerbs() {
  std::vector<Verb> v;
  for (int i = 0; i < kVerbCount; ++i) v.push_back(static_cast<Verb>(i));
  return v;
}

// A response that `row` is meant to match.
TargetResponse SampleFor(const PolicyRow& row) {
  TargetResponse r;
  r.transport = row.transport;
  if (row.transport != Transport::kOk) return r;
  r.status = row.status_min;
  if (row.status_min == 0) r.status = 418;       // the catch-all row
  if (row.status_min == 500 && row.status_max == 599) r.status = 502;
  r.scim_type = std::string(row.scim_type);
  if (row.body != PolicyRow::Body::kMissing) {
    r.user = RemoteUser{.id = "u1", .external_id = "", .values = {}};
    r.group = RemoteGroup{.id = "g1", .external_id = "", .display_name = "", .member_ids = {}};
  }
  return r;
}

TargetResponse Http(int status, std::string scim_type = "") {
  TargetResponse r;
  r.status = status;
  r.scim_type = std::move(scim_type);
  return r;
}

TargetResponse WithUser(int status) {
  TargetResponse r = Http(status);
  r.user = RemoteUser{.id = "u1", .external_id = "", .values = {}};
  return r;
}

TargetResponse WithGroup(int status) {
  TargetResponse r = Http(status);
  r.group = RemoteGroup{.id = "g1", .external_id = "", .display_name = "", .member_ids = {}};
  return r;
}

TargetResponse Net(Transport t) {
  TargetResponse r;
  r.transport = t;
  return r;
}

// "action: verb, verb; action: verb" for one response: each action once, in the
// order of its first verb.
std::string Row(const TargetResponse& r, bool if_match = false) {
  std::vector<std::string> order;
  std::map<std::string, std::string> verbs;
  for (Verb v : AllVerbs()) {
    Decision d = Classify(v, r, if_match);
    std::string a(ActionName(d.action));
    if (d.maybe_applied) a += "*";
    if (!verbs.count(a)) order.push_back(a);
    std::string& list = verbs[a];
    list += (list.empty() ? "" : ", ") + std::string(VerbName(v));
  }
  std::string out;
  for (const auto& a : order) out += (out.empty() ? "" : "; ") + a + ": " + verbs[a];
  return out;
}

}  // namespace

TEST_CASE("every row decides for every verb it names, and for no other") {
  auto rows = PolicyRows();
  REQUIRE(!rows.empty());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const PolicyRow& row = rows[i];
    TargetResponse sample = SampleFor(row);
    bool if_match = row.if_match == PolicyRow::IfMatch::kSent;
    for (Verb v : AllVerbs()) {
      CAPTURE(i);
      CAPTURE(row.meaning);
      CAPTURE(VerbName(v));
      const PolicyRow& got = ClassifyRow(v, sample, if_match);
      if (Has(row.verbs, v)) {
        CHECK(&got == &row);  // not shadowed by an earlier row
      } else {
        CHECK(&got != &row);
      }
    }
  }
}

TEST_CASE("the last row matches any HTTP answer: every response gets an action") {
  for (Verb v : AllVerbs()) {
    for (int status = 100; status < 600; ++status) {
      CAPTURE(status);
      const PolicyRow& row = ClassifyRow(v, WithUser(status));
      CHECK(Has(row.verbs, v));
    }
  }
}

TEST_CASE("DESIGN §6 for every verb (* = the target may have applied it)") {
  const std::string all =
      "create user, patch user, reactivate user, disable user, delete user, create group, "
      "rename group, add members, remove members, delete group, get, find";
  // 2xx: done, 200 and 204 alike; a create or a read must carry its object with an id.
  CHECK(Row(WithUser(201)) ==
        "done: create user, patch user, reactivate user, disable user, delete user, rename "
        "group, add members, remove members, delete group, get, find; unconfirmed*: create "
        "group");
  CHECK(Row(WithGroup(201)) ==
        "unconfirmed*: create user; done: patch user, reactivate user, disable user, delete "
        "user, create group, rename group, add members, remove members, delete group, get, find");
  CHECK(Row(Http(204)) ==
        "unconfirmed*: create user, create group; done: patch user, reactivate user, disable "
        "user, delete user, rename group, add members, remove members, delete group, find; "
        "unconfirmed: get");
  // 400: this object is invalid; a member that is already gone is fine.
  CHECK(Row(Http(400, "invalidValue")) == "reject: " + all);
  CHECK(Row(Http(400, "noTarget")) ==
        "reject: create user, patch user, reactivate user, disable user, delete user, create "
        "group, rename group, add members, delete group, get, find; done: remove members");
  // 401, 403: stop.
  CHECK(Row(Http(401)) == "stop-auth: " + all);
  CHECK(Row(Http(403)) == "stop-auth: " + all);
  // 404: gone on DELETE (and a disable, and a read), re-resolve on PATCH.
  CHECK(Row(Http(404)) ==
        "reject: create user, create group; re-resolve: patch user, reactivate user, rename "
        "group, add members, remove members; gone: disable user, delete user, delete group, "
        "get; done: find");
  // 409 on POST: adopt.
  CHECK(Row(Http(409)) ==
        "adopt: create user, create group; reject: patch user, reactivate user, disable user, "
        "delete user, rename group, add members, remove members, delete group, get, find");
  // 412: re-read, retry once with If-Match; a second 412 is a refusal.
  CHECK(Row(Http(412)) ==
        "reject: create user, create group, get, find; retry-with-if-match: patch user, "
        "reactivate user, disable user, delete user, rename group, add members, remove members, "
        "delete group");
  CHECK(Row(Http(412), /*if_match=*/true) == "reject: " + all);
  // 428 on POST: seats; on PATCH/DELETE: If-Match; a re-activation refused again
  // with If-Match: seats.
  CHECK(Row(Http(428)) ==
        "seat-block: create user, create group; retry-with-if-match: patch user, reactivate "
        "user, disable user, delete user, rename group, add members, remove members, delete "
        "group; reject: get, find");
  CHECK(Row(Http(428), /*if_match=*/true) ==
        "seat-block: create user, reactivate user, create group; reject: patch user, disable "
        "user, delete user, rename group, add members, remove members, delete group, get, find");
  // 413 on a membership PATCH: smaller chunks.
  CHECK(Row(Http(413)) ==
        "reject: create user, patch user, reactivate user, disable user, delete user, create "
        "group, rename group, delete group, get, find; shrink-chunk: add members, remove members");
  // 429, 503: slow down; other 5xx, timeouts, resets: transient.
  CHECK(Row(Http(429)) == "throttle: " + all);
  CHECK(Row(Http(503)) == "throttle*: " + all);
  CHECK(Row(Http(500)) == "transient*: " + all);
  CHECK(Row(Http(502)) == "transient*: " + all);
  CHECK(Row(Net(Transport::kTimeout)) == "transient*: " + all);
  CHECK(Row(Net(Transport::kReset)) == "transient*: " + all);
  // Nothing sent.
  CHECK(Row(Net(Transport::kConnect)) == "unreachable: " + all);
  CHECK(Row(Net(Transport::kCancelled)) == "cancelled: " + all);
  // Anything else is this object's refusal.
  CHECK(Row(Http(302)) == "reject: " + all);
  CHECK(Row(Http(422)) == "reject: " + all);
}
