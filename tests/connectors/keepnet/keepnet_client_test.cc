// KeepnetClient over a fake of our HttpClient: the token request, its refresh
// before expiry and once after a 401, the scoping header, form requests, secrets.
#include "connectors/keepnet/keepnet_client.h"

#include <doctest/doctest.h>

#include <string>

#include "core/redact.h"
#include "tests/support/fake_clock.h"
#include "tests/support/fake_http_client.h"

namespace scimsync {
namespace {

using namespace std::chrono_literals;

constexpr char kApi[] = "https://api.keepnet.test";

std::string Token(const std::string& t, int expires_in) {
  return R"({"access_token":")" + t + R"(","expires_in":)" + std::to_string(expires_in) +
         R"(,"token_type":"Bearer","scope":"api1"})";
}
const char kOk[] = R"({"status":"SUCCESS","message":null,"validationMessages":null,"data":{"resourceId":"r1"}})";

KeepnetCredentials Creds() { return {"client-1", "s3cret&+/= x"}; }

TEST_CASE("token request: form-encoded client credentials with scope api1") {
  CHECK(TokenRequestBody(Creds()) ==
        "grant_type=client_credentials&client_id=client-1&client_secret=s3cret%26%2B%2F%3D%20x&scope=api1");
  FakeHttpClient http;
  FakeClock clock;
  http.PushStatus(200, Token("tok-AAAA", 3600));
  http.PushStatus(200, kOk);
  KeepnetClient client(http, clock, std::string(kApi) + "/", Creds());
  KeepnetReply r = client.PostJson("/api/companies/search", "", "{}");
  CHECK(r.ok());
  CHECK(r.what == "POST /api/companies/search");
  auto reqs = http.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].url == "https://api.keepnet.test/connect/token");
  CHECK(FakeHttpClient::HeaderOf(reqs[0], "content-type") == "application/x-www-form-urlencoded");
  CHECK(FakeHttpClient::HeaderOf(reqs[0], "authorization").empty());
  CHECK(reqs[1].url == "https://api.keepnet.test/api/companies/search");
  CHECK(FakeHttpClient::HeaderOf(reqs[1], "authorization") == "Bearer tok-AAAA");
  CHECK(FakeHttpClient::HeaderOf(reqs[1], "content-type") == "application/json");
  // No company named: no scoping header (the reseller's own context).
  CHECK(FakeHttpClient::HeaderOf(reqs[1], "x-keepnet-company-id").empty());
  CHECK(client.token_fetches() == 1);
}

TEST_CASE("X-KEEPNET-Company-Id scopes a call to the company given") {
  FakeHttpClient http;
  FakeClock clock;
  http.PushStatus(200, Token("tok-AAAA", 3600));
  http.PushStatus(200, kOk);
  http.PushStatus(200, kOk);
  KeepnetClient client(http, clock, kApi, Creds());
  CHECK(client.Get("/api/scim/fields", "xC5kfGz7w2Nz").ok());
  CHECK(client.PutJson("/api/companies/direct-email-settings/make-default/d1", "xC5kfGz7w2Nz", "").ok());
  auto reqs = http.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(FakeHttpClient::HeaderOf(reqs[1], "x-keepnet-company-id") == "xC5kfGz7w2Nz");
  CHECK(reqs[2].method == "PUT");
  CHECK(reqs[2].body.empty());
  CHECK(FakeHttpClient::HeaderOf(reqs[2], "content-type").empty());
  CHECK(FakeHttpClient::HeaderOf(reqs[2], "x-keepnet-company-id") == "xC5kfGz7w2Nz");
}

TEST_CASE("the token is reused until it nears expiry, then fetched again") {
  FakeHttpClient http;
  FakeClock clock;
  int fetched = 0;
  http.SetHandler([&](const HttpRequest& r) {
    if (r.url.find("/connect/token") != std::string::npos) {
      return FakeHttpClient::Response(200, Token("tok-" + std::to_string(++fetched) + "xyz", 3600));
    }
    return FakeHttpClient::Response(200, kOk);
  });
  KeepnetClient client(http, clock, kApi, Creds());
  std::vector<bool> after_401;
  client.SetObserver([&](const KeepnetClient::TokenEvent& e) { after_401.push_back(e.after_401); });
  CHECK(client.Get("/api/a", "").ok());
  clock.Advance(3539s);  // 61 s left: more than the 60 s margin
  CHECK(client.Get("/api/a", "").ok());
  CHECK(client.token_fetches() == 1);
  clock.Advance(1s);  // 60 s left: renewed before the request leaves
  CHECK(client.Get("/api/a", "").ok());
  CHECK(client.token_fetches() == 2);
  CHECK(FakeHttpClient::HeaderOf(http.last(), "authorization") == "Bearer tok-2xyz");
  CHECK(after_401 == std::vector<bool>{false, false});
}

TEST_CASE("a 401 fetches a new token and retries once; a second 401 is returned") {
  FakeHttpClient http;
  FakeClock clock;
  http.PushStatus(200, Token("tok-AAAA", 3600));
  http.PushStatus(401, R"({"status":"ERROR","message":"Unauthorized"})");
  http.PushStatus(200, Token("tok-BBBB", 3600));
  http.PushStatus(200, kOk);
  KeepnetClient client(http, clock, kApi, Creds());
  std::vector<bool> after_401;
  client.SetObserver([&](const KeepnetClient::TokenEvent& e) { after_401.push_back(e.after_401); });
  KeepnetReply r = client.PostJson("/api/scim", "c1", R"({"name":"scimsync"})");
  CHECK(r.ok());
  auto reqs = http.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[3].body == R"({"name":"scimsync"})");
  CHECK(FakeHttpClient::HeaderOf(reqs[3], "authorization") == "Bearer tok-BBBB");
  CHECK(FakeHttpClient::HeaderOf(reqs[3], "x-keepnet-company-id") == "c1");
  CHECK(after_401 == std::vector<bool>{false, true});

  http.PushStatus(401, "");
  http.PushStatus(200, Token("tok-CCCC", 3600));
  http.PushStatus(401, R"({"message":"Unauthorized"})");
  KeepnetReply twice = client.Get("/api/scim/fields", "c1");
  CHECK_FALSE(twice.ok());
  CHECK(twice.status == 401);
  CHECK_FALSE(twice.token_failed);
  CHECK(twice.Summary() == "HTTP 401: Unauthorized");
  CHECK(http.pending() == 0);
  CHECK(http.unscripted() == 0);
}

TEST_CASE("a refused token request is the reply: OAuth2 error, status, token_failed") {
  FakeHttpClient http;
  FakeClock clock;
  http.PushStatus(400, R"({"error":"invalid_client"})");
  KeepnetClient client(http, clock, kApi, Creds());
  KeepnetReply r = client.Get("/api/companies/my", "");
  CHECK_FALSE(r.ok());
  CHECK(r.token_failed);
  CHECK(r.what == "POST /connect/token");
  CHECK(r.Summary() == "HTTP 400: invalid_client");
  CHECK(http.request_count() == 1);  // the API call was never sent

  http.PushStatus(200, R"({"token_type":"Bearer"})");
  KeepnetReply empty = client.Get("/api/companies/my", "");
  CHECK(empty.token_failed);
  CHECK(empty.Summary() == "HTTP 200: the token response holds no access_token");

  http.PushError(HttpError::kConnect, "Could not connect");
  KeepnetReply down = client.Get("/api/companies/my", "");
  CHECK(down.token_failed);
  CHECK(down.Summary() == "no answer: Could not connect");
}

TEST_CASE("a 2xx whose envelope says it failed is not ok; Summary carries Keepnet's words") {
  FakeHttpClient http;
  FakeClock clock;
  http.PushStatus(200, Token("tok-AAAA", 3600));
  http.PushStatus(200, R"({"status":"ERROR","message":"Company limit reached","validationMessages":["NumberOfUsers: too many"]})");
  http.PushStatus(500, "<html>oops</html>");
  KeepnetClient client(http, clock, kApi, Creds());
  KeepnetReply r = client.PostJson("/api/companies/search", "", "{}");
  CHECK_FALSE(r.ok());
  CHECK(r.Summary() == "HTTP 200: Company limit reached; NumberOfUsers: too many");
  KeepnetReply html = client.PostJson("/api/companies/search", "", "{}");
  CHECK(html.Summary() == "HTTP 500 (not JSON (Invalid value. at byte 0))");
}

TEST_CASE("PostForm sends the fields as form parts, in order, with no JSON content type") {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Name", "Acme"}, {"NumberOfUsers", "250"}, {"LicenseModuleResourceIdArray", "m1"},
      {"LicenseModuleResourceIdArray", "m2"}};
  std::vector<HttpFormPart> parts = FormParts(fields);
  REQUIRE(parts.size() == 4);
  CHECK(parts[0].name == "Name");
  CHECK(parts[0].value == "Acme");
  CHECK(parts[3].name == "LicenseModuleResourceIdArray");
  CHECK(parts[3].value == "m2");
  CHECK(parts[3].filename.empty());
  CHECK(parts[3].content_type.empty());

  FakeHttpClient http;
  FakeClock clock;
  http.PushStatus(200, Token("tok-AAAA", 3600));
  http.PushStatus(200, kOk);
  KeepnetClient client(http, clock, kApi, Creds());
  KeepnetReply r = client.PostForm("/api/companies", "", parts);
  CHECK(r.ok());
  CHECK(DataResourceId(r.envelope.data) == "r1");
  HttpRequest sent = http.last();
  CHECK(sent.method == "POST");
  CHECK(sent.body.empty());
  REQUIRE(sent.form.size() == 4);
  CHECK(sent.form[1].name == "NumberOfUsers");
  CHECK(sent.form[1].value == "250");
  CHECK(FakeHttpClient::HeaderOf(sent, "content-type").empty());  // the client sets multipart's
}

TEST_CASE("credentials: CLIENT_ID:CLIENT_SECRET; the secret and every token are redacted") {
  KeepnetCredentials c;
  std::string why;
  REQUIRE(ParseKeepnetCredentials(" my-client : pass:with:colons-9 ", &c, &why));
  CHECK(c.client_id == "my-client");
  CHECK(c.client_secret == "pass:with:colons-9");
  CHECK(Redact("x pass:with:colons-9 y") == "x [REDACTED] y");
  CHECK_FALSE(ParseKeepnetCredentials("no-colon", &c, &why));
  CHECK(why == "expected CLIENT_ID:CLIENT_SECRET on one line");
  CHECK_FALSE(ParseKeepnetCredentials("id:", &c, &why));
  CHECK_FALSE(ParseKeepnetCredentials(":secret", &c, &why));

  FakeHttpClient http;
  FakeClock clock;
  http.PushStatus(200, Token("issued-token-77", 3600));
  http.PushStatus(400, R"({"message":"you sent issued-token-77 and another-secret-55"})");
  KeepnetClient client(http, clock, kApi, {"id", "another-secret-55"});
  KeepnetReply r = client.Get("/api/x", "");
  CHECK(r.Summary() == "HTTP 400: you sent [REDACTED] and [REDACTED]");
}

}  // namespace
}  // namespace scimsync
