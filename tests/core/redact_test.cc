#include "core/redact.h"

#include <doctest/doctest.h>

#include <string>

using namespace scimsync;

namespace {

Redactor With(std::string_view secret) {
  Redactor r;
  r.Add(secret);
  return r;
}

}  // namespace

TEST_CASE("PercentEncode and JsonEscape") {
  CHECK(PercentEncode("aZ09-._~") == "aZ09-._~");
  CHECK(PercentEncode("a/b+c d") == "a%2Fb%2Bc%20d");
  CHECK(PercentEncode("\xff=", true) == "%ff%3d");
  CHECK(JsonEscape("a\"b\\c/d\n\x01") == "a\\\"b\\\\c/d\\n\\u0001");
  CHECK(JsonEscape("a/b", true) == "a\\/b");
}

TEST_CASE("a secret is replaced, raw and in each encoded form") {
  const std::string secret = "tok/en+x\"y";
  Redactor r = With(secret);
  // Raw, percent-encoded (both hex cases), JSON-escaped (with and without "\/").
  CHECK(r.forms().size() == 5);
  CHECK(r.Apply("a " + secret + " b") == "a [REDACTED] b");
  CHECK(r.Apply("url?t=tok%2Fen%2Bx%22y&z=1") == "url?t=[REDACTED]&z=1");
  CHECK(r.Apply("url?t=tok%2fen%2bx%22y") == "url?t=[REDACTED]");
  CHECK(r.Apply(R"({"detail":"tok/en+x\"y"})") == R"({"detail":"[REDACTED]"})");
  CHECK(r.Apply(R"({"detail":"tok\/en+x\"y"})") == R"({"detail":"[REDACTED]"})");
  CHECK(r.Apply(secret + secret) == "[REDACTED][REDACTED]");
  // Text without it is left exactly as it was.
  CHECK(r.Apply("HTTP 409 uniqueness: tok/en taken") == "HTTP 409 uniqueness: tok/en taken");
  CHECK(r.Apply("").empty());
}

TEST_CASE("a secret whose encodings are itself has one form; adding twice changes nothing") {
  Redactor r = With("abcd1234");
  r.Add("abcd1234");
  CHECK(r.forms().size() == 1);
  CHECK(r.Apply("xabcd1234y") == "x[REDACTED]y");
}

TEST_CASE("the longest form wins where two secrets overlap") {
  Redactor r;
  r.Add("pass");
  r.Add("password-long");
  CHECK(r.Apply("password-long pass") == "[REDACTED] [REDACTED]");
}

TEST_CASE("a secret shorter than kMinSecretLength is ignored") {
  Redactor r = With("abc");
  CHECK(r.forms().empty());
  CHECK(r.Apply("abc abc") == "abc abc");
}

TEST_CASE("Bearer and a token: the token goes, registered or not") {
  Redactor r;
  CHECK(r.Apply("401: Unauthorized. You sent: Bearer eyJhbGc.iOiJ-IUz_I1~N+iI/s==") ==
        "401: Unauthorized. You sent: Bearer [REDACTED]");
  CHECK(r.Apply("got BEARER\tabc123, expected another") == "got BEARER\t[REDACTED], expected another");
  CHECK(r.Apply("bearer x") == "bearer [REDACTED]");
  // Not the word "Bearer", or no token after it: unchanged.
  CHECK(r.Apply("Bearers abc") == "Bearers abc");
  CHECK(r.Apply("unbearer abc") == "unbearer abc");
  CHECK(r.Apply("missing Bearer") == "missing Bearer");
  CHECK(r.Apply("Bearer [REDACTED]") == "Bearer [REDACTED]");
}

TEST_CASE("Authorization: the value goes, to the end of the line or of its quotes") {
  Redactor r;
  CHECK(r.Apply("GET /Users\nAuthorization: Basic dXNlcjpwYXNz\nHost: t") ==
        "GET /Users\nAuthorization: [REDACTED]\nHost: t");
  CHECK(r.Apply("proxy-authorization = Negotiate abc def\r\nX: 1") ==
        "proxy-authorization = [REDACTED]\r\nX: 1");
  CHECK(r.Apply(R"({"headers":{"Authorization": "Token a\"b", "Accept":"x"}})") ==
        R"({"headers":{"Authorization": "[REDACTED]", "Accept":"x"}})");
  CHECK(r.Apply("authorization='abc' next") == "authorization='[REDACTED]' next");
  // Unquoted inside a JSON string: up to the end of that string.
  CHECK(r.Apply(R"({"detail":"sent Authorization: Bearer a\"b c","status":"401"})") ==
        R"({"detail":"sent Authorization: [REDACTED]","status":"401"})");
  // Not a header: unchanged.
  CHECK(r.Apply("authorization failed for user bob") == "authorization failed for user bob");
  CHECK(r.Apply("Authorization:") == "Authorization:");
}

TEST_CASE("the process-wide registry") {
  const std::string secret = "registry-secret-4711";
  auto before = Secrets();
  CHECK(Redact("x " + secret) == "x " + secret);
  RegisterSecret(secret);
  CHECK(Redact("x " + secret) == "x [REDACTED]");
  CHECK(Redact("x registry-secret-4711%0A") == "x [REDACTED]%0A");
  // A snapshot taken before stays as it was; a new one has the secret.
  CHECK(before->Apply(secret) == secret);
  CHECK(Secrets()->Apply(secret) == "[REDACTED]");
  RegisterSecret("ab");  // too short: ignored
  CHECK(Redact("ab") == "ab");
}
