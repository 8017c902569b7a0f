// http_wire: URL splitting, request bytes, and the response parser fed the way a
// socket may deliver it (whole, a byte at a time, split anywhere).
#include "connectors/scim/http_wire.h"

#include <doctest/doctest.h>

#include <string>

namespace scimsync {
namespace {

using State = HttpResponseParser::State;

// Feeds `bytes` in pieces of `step` bytes (0: all at once), then EOF if `eof`.
State Parse(HttpResponseParser& p, std::string_view bytes, std::size_t step = 0, bool eof = false) {
  State s = State::kMore;
  if (step == 0) step = bytes.size() + 1;
  for (std::size_t at = 0; at < bytes.size() && s == State::kMore; at += step) {
    s = p.Feed(bytes.substr(at, step));
  }
  if (eof) s = p.Eof();
  return s;
}

UrlParts Url(const std::string& url) {
  UrlParts parts;
  std::string error;
  REQUIRE(SplitUrl(url, &parts, &error));
  return parts;
}

}  // namespace

TEST_CASE("SplitUrl: origin, Host and origin-form target") {
  UrlParts p = Url("HTTPS://Tenant.Example.COM:8443/scim/v2/Users?filter=x%20eq#frag");
  CHECK(p.https);
  CHECK(p.origin == "https://tenant.example.com:8443");
  CHECK(p.authority == "tenant.example.com:8443");
  CHECK(p.target == "/scim/v2/Users?filter=x%20eq");
  CHECK(Url("http://h").target == "/");
  CHECK(Url("http://h?x=1").target == "/?x=1");
  CHECK(Url("http://[::1]:80/a").authority == "[::1]:80");

  UrlParts parts;
  std::string error;
  CHECK_FALSE(SplitUrl("ftp://h/x", &parts, &error));
  CHECK(error == "not an http or https URL");
  CHECK_FALSE(SplitUrl("https://user:SECRET@h/x", &parts, &error));
  CHECK(error.find("SECRET") == std::string::npos);
  CHECK_FALSE(SplitUrl("https:///x", &parts, &error));
  CHECK_FALSE(SplitUrl("https://h/a b", &parts, &error));
  CHECK_FALSE(SplitUrl("https://h/a\r\nX-Injected: 1", &parts, &error));
  CHECK(error == "the URL holds a space or a control character");
}

TEST_CASE("SerializeRequest: the exact bytes, and no header injection") {
  HttpRequest r;
  r.method = "PATCH";
  r.url = "https://t.example/scim/v2/Users/1";
  r.headers = {{"Accept", "application/scim+json"}, {"Content-Type", "application/scim+json"}};
  r.body = R"({"x":1})";
  std::string out, error;
  REQUIRE(SerializeRequest(r, Url(r.url), "scimsync/1", "tok", &out, &error));
  CHECK(out ==
        "PATCH /scim/v2/Users/1 HTTP/1.1\r\nHost: t.example\r\nUser-Agent: scimsync/1\r\n"
        "Authorization: Bearer tok\r\nAccept: application/scim+json\r\n"
        "Content-Type: application/scim+json\r\nContent-Length: 7\r\n\r\n{\"x\":1}");

  HttpRequest get;
  get.method = "GET";
  get.url = "http://t/x";
  REQUIRE(SerializeRequest(get, Url(get.url), "", "", &out, &error));
  CHECK(out == "GET /x HTTP/1.1\r\nHost: t\r\n\r\n");  // no body, no Content-Length

  HttpRequest post = get;
  post.method = "POST";
  REQUIRE(SerializeRequest(post, Url(post.url), "", "", &out, &error));
  CHECK(out.find("Content-Length: 0\r\n") != std::string::npos);

  HttpRequest evil = get;
  evil.headers = {{"X-Note", "a\r\nAuthorization: Bearer other"}};
  CHECK_FALSE(SerializeRequest(evil, Url(evil.url), "", "tok", &out, &error));
  CHECK(error.find("X-Note") != std::string::npos);
  evil.headers = {{"Bad Name", "v"}};
  CHECK_FALSE(SerializeRequest(evil, Url(evil.url), "", "tok", &out, &error));
  CHECK_FALSE(SerializeRequest(get, Url(get.url), "", "tok\nX: y", &out, &error));
  CHECK(error == "the bearer token holds a control character");
  CHECK(error.find("tok") == error.find("token"));  // names it, never shows it
  evil = get;
  evil.method = "GET /other";
  CHECK_FALSE(SerializeRequest(evil, Url(evil.url), "", "", &out, &error));
}

TEST_CASE("HttpResponseParser: a Content-Length response, however it is split") {
  const std::string bytes =
      "HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\nETag:  W/\"3\" \r\n"
      "Content-Length: 11\r\n\r\n{\"id\":\"42\"}";
  for (std::size_t step : {0, 1, 2, 7, 13}) {
    CAPTURE(step);
    HttpResponseParser p(1024);
    REQUIRE(Parse(p, bytes, step) == State::kDone);
    CHECK(p.response().status == 201);
    CHECK(p.response().body == R"({"id":"42"})");
    CHECK(p.response().Header("etag") == "W/\"3\"");
    CHECK(p.response().Header("content-type") == "application/scim+json");
    CHECK(p.keep_alive());
  }
  HttpResponseParser p(1024);
  CHECK(p.Feed(bytes + "HTTP/1.1 200 OK\r\n") == State::kDone);
  CHECK_FALSE(p.keep_alive());  // bytes nobody asked for: the connection is not reused
}

TEST_CASE("HttpResponseParser: chunked bodies, interim responses, folding") {
  const std::string chunked =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Long: a\r\n  b\r\n\r\n"
      "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-Field: x\r\n\r\n";
  for (std::size_t step : {0, 1, 3}) {
    CAPTURE(step);
    HttpResponseParser p(1024);
    REQUIRE(Parse(p, chunked, step) == State::kDone);
    CHECK(p.response().status == 200);
    CHECK(p.response().body == "hello world");
    CHECK(p.response().Header("x-long") == "a b");
    CHECK(p.response().Header("trailer-field").empty());
    CHECK(p.keep_alive());
  }
  HttpResponseParser bad(1024);
  CHECK(Parse(bad, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n") ==
        State::kError);
  CHECK(bad.error() == "malformed chunked body: chunk not followed by CRLF");
  HttpResponseParser gz(1024);
  CHECK(Parse(gz, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == State::kError);
  HttpResponseParser up(1024);
  CHECK(Parse(up, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n") == State::kError);
}

TEST_CASE("HttpResponseParser: bodies without length, no-body statuses, keep-alive rules") {
  HttpResponseParser close(1024);
  CHECK(Parse(close, "HTTP/1.1 200 OK\r\n\r\nuntil the end") == State::kMore);
  CHECK(close.Eof() == State::kDone);
  CHECK(close.response().body == "until the end");
  CHECK_FALSE(close.keep_alive());

  HttpResponseParser none(1024);
  CHECK(Parse(none, "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n") == State::kDone);
  CHECK(none.response().body.empty());

  HttpResponseParser c(1024);
  CHECK(Parse(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n") ==
        State::kDone);
  CHECK_FALSE(c.keep_alive());
  HttpResponseParser old(1024);
  CHECK(Parse(old, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n") == State::kDone);
  CHECK_FALSE(old.keep_alive());
  HttpResponseParser old_ka(1024);
  CHECK(Parse(old_ka, "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n") ==
        State::kDone);
  CHECK(old_ka.keep_alive());

  HttpResponseParser same(1024);
  CHECK(Parse(same, "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok") == State::kDone);
  HttpResponseParser conflict(1024);
  CHECK(Parse(conflict, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n") ==
        State::kError);
  CHECK(conflict.error() == "malformed or conflicting Content-Length");
}

TEST_CASE("HttpResponseParser: framing is read from the whole header block") {
  // A folded Connection line counts like any other.
  HttpResponseParser folded(1024);
  CHECK(Parse(folded, "HTTP/1.1 200 OK\r\nConnection: keep-alive,\r\n close\r\n"
                      "Content-Length: 0\r\n\r\n") == State::kDone);
  CHECK_FALSE(folded.keep_alive());
  // An interim response's fields do not frame the final one.
  HttpResponseParser interim(1024);
  CHECK(Parse(interim, "HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\nLink: </a>\r\n\r\n"
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
        State::kDone);
  CHECK(interim.response().Header("link").empty());
  CHECK(interim.keep_alive());
  // Content-Length and chunked together: chunked wins, the connection is not reused.
  HttpResponseParser both(1024);
  CHECK(Parse(both, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "2\r\nok\r\n0\r\n\r\n") == State::kDone);
  CHECK(both.response().body == "ok");
  CHECK_FALSE(both.keep_alive());
  // A body announced on a 204 or 304 is not read, so the connection is not reused.
  for (const char* head : {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                           "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
    HttpResponseParser p(1024);
    CAPTURE(head);
    CHECK(Parse(p, head) == State::kDone);
    CHECK(p.response().body.empty());
    CHECK_FALSE(p.keep_alive());
  }
  HttpResponseParser plain304(1024);
  CHECK(Parse(plain304, "HTTP/1.1 304 Not Modified\r\nETag: \"1\"\r\n\r\n") == State::kDone);
  CHECK(plain304.keep_alive());
  HttpResponseParser twice(1024);
  CHECK(Parse(twice, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n") ==
        State::kError);
  HttpResponseParser identity(1024);
  CHECK(Parse(identity, "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nraw", 0, true) ==
        State::kDone);
  CHECK(identity.response().body == "raw");
  HttpResponseParser low(1024);
  CHECK(Parse(low, "HTTP/1.1 099 Odd\r\n") == State::kError);
  // Bytes after a chunked response: more than was asked for.
  HttpResponseParser extra(1024);
  CHECK(Parse(extra, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX") ==
        State::kDone);
  CHECK_FALSE(extra.keep_alive());
}

TEST_CASE("HttpResponseParser: truncated or malformed answers, and their error text") {
  HttpResponseParser nothing(1024);
  CHECK(nothing.Eof() == State::kError);
  CHECK_FALSE(nothing.started());
  CHECK(nothing.error() == "connection closed before any response");

  HttpResponseParser cut(1024);
  CHECK(Parse(cut, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, true) == State::kError);
  CHECK(cut.error() == "connection closed before the response was complete");

  // Error text is ours alone: the server's bytes could forge a log line.
  for (const char* junk : {"<html>SECRET\r\n", "HTTP/2 200\r\n", "HTTP/1.1 20x OK\r\n",
                           "HTTP/1.1 200 OK\r\nSECRET-no-colon\r\n",
                           "HTTP/1.1 200 OK\r\nX: a\x01SECRET\r\n"}) {
    HttpResponseParser p(1024);
    CAPTURE(junk);
    CHECK(Parse(p, junk) == State::kError);
    CHECK(p.error().find("SECRET") == std::string::npos);
    CHECK_FALSE(p.keep_alive());
  }
}

TEST_CASE("HttpResponseParser: header and body limits stop the parse, buffering nothing more") {
  HttpResponseParser headers(64);
  CHECK(Parse(headers, "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(100, 'h') + "\r\n\r\n") ==
        State::kError);
  CHECK(headers.too_large());

  HttpResponseParser declared(64);
  CHECK(Parse(declared, "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n") == State::kError);
  CHECK(declared.too_large());
  CHECK(declared.response().body.empty());

  HttpResponseParser streamed(64);
  CHECK(Parse(streamed, "HTTP/1.1 200 OK\r\n\r\n" + std::string(65, 'x'), 4) == State::kError);
  CHECK(streamed.too_large());
  CHECK(streamed.response().body.size() <= 64);

  HttpResponseParser chunk(60);
  const std::string chunk32 = "20\r\n" + std::string(32, 'c') + "\r\n";
  CHECK(Parse(chunk, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk32 + chunk32) ==
        State::kError);
  CHECK(chunk.too_large());

  HttpResponseParser exact(64);  // 39 bytes of headers, 64 of body: each within the limit
  CHECK(Parse(exact, "HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n" + std::string(64, 'b')) ==
        State::kDone);

  HttpResponseParser long_size(1 << 20);
  CHECK(Parse(long_size, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                             std::string(2000, '0')) == State::kError);
}

}  // namespace scimsync
