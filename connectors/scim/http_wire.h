// HTTP/1.1 on the wire (RFC 9112), for CurlHttpClient's direct transfers: the
// request written as bytes, and the response read back by an incremental parser.
//
// Why our own framing: against a fast target, libcurl's per-transfer machinery (its
// multi state machine, option reset and set-up, proxy environment lookups, header
// scanning) cost more CPU than everything else scimsync does per request (issue 13).
// libcurl still owns everything that is hard to get right — name resolution, TCP,
// TLS and its verification — on a CURLOPT_CONNECT_ONLY handle; these functions only
// frame the bytes sent and received over it. Both are pure (no I/O) and fuzzed
// (tests/fuzz/fuzz_http_response.cc).
//
// The parser accepts what a server may legally send, and refuses the rest with one
// bounded line of error text (never the server's bytes, which could forge log lines):
//   * a status line "HTTP/1.x NNN reason"; interim 1xx responses (100 Continue, 103)
//     are skipped, 101 (a protocol switch we never asked for) is an error;
//   * header fields, names lowercased, values trimmed; an obsolete line folding is
//     replaced by a space (§5.2); a line without a colon is an error;
//   * the body by Transfer-Encoding: chunked (chunk extensions and trailers read and
//     dropped), else by Content-Length (several must agree, digits only), else until
//     the connection closes; no body for 204 and 304;
//   * limits: header bytes and body bytes each at most `limit`; more stops the parse
//     with too_large() set, and nothing beyond the limit is buffered.
// keep_alive() says whether the connection may carry the next request: HTTP/1.1
// without "Connection: close", HTTP/1.0 only with "Connection: keep-alive", never
// after a body delimited by close or bytes past the end of the response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/scim/http_client.h"

namespace scimsync {

// The parts of an http(s) URL a request needs. `origin` is "scheme://authority",
// scheme and host lowercased: two requests share a connection when their origins are
// equal. `target` is the origin-form request target: path and query ("/" if the path
// is empty), the fragment dropped.
struct UrlParts {
  std::string origin;
  std::string authority;  // "host" or "host:port", as the Host header carries it
  std::string target;
  bool https = false;
};

// Splits `url`; returns false (with `error` set) for anything but an absolute http or
// https URL with a host and no user:password@ part, or a URL with bytes that are not
// allowed in a request line (control characters, spaces).
bool SplitUrl(std::string_view url, UrlParts* parts, std::string* error);

// The request as sent: request line, Host, User-Agent (if any), Authorization (if
// `bearer_token` is set), the request's own headers, Content-Length when there is a
// body or the method is POST/PUT/PATCH, then the body. False (with `error` set, the
// header's name only) if a header name or value holds a line break or other control
// character: a header that could inject another header is never sent.
bool SerializeRequest(const HttpRequest& request, const UrlParts& url, std::string_view user_agent,
                      std::string_view bearer_token, std::string* out, std::string* error);

class HttpResponseParser {
 public:
  enum class State { kMore, kDone, kError };

  // `limit`: most header bytes, and apart from them most body bytes, accepted.
  explicit HttpResponseParser(std::size_t limit) : limit_(limit) {}

  // Consumes `data` (any split). kDone once a whole final response has been read;
  // bytes after it make keep_alive() false. kError: error() says why.
  State Feed(std::string_view data);
  // The connection closed. Completes a body delimited by close; otherwise an
  // incomplete response is an error.
  State Eof();

  State state() const { return state_; }
  // The response so far (complete when state() is kDone): status, headers, body.
  HttpResponse& response() { return response_; }
  bool keep_alive() const { return keep_alive_; }
  bool too_large() const { return too_large_; }
  // True once any byte of a response has been received.
  bool started() const { return started_; }
  const std::string& error() const { return error_; }

 private:
  enum class Phase { kStatus, kHeaders, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers,
                     kUntilClose, kDone };
  State Fail(std::string why);
  State Complete();
  // Handles one line (CR LF or LF stripped) of the status/header/trailer phases.
  State Line(std::string_view line);
  // Reads Content-Length, Transfer-Encoding and Connection from the whole header block.
  State Framing();
  State StartBody();
  State AppendBody(std::string_view data);

  std::size_t limit_;
  State state_ = State::kMore;
  Phase phase_ = Phase::kStatus;
  HttpResponse response_;
  std::string line_;           // an incomplete line carried between Feed calls
  std::size_t header_bytes_ = 0;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool chunked_ = false;
  bool has_length_ = false;
  std::uint64_t length_ = 0;   // Content-Length, or what remains of the current chunk
  bool too_large_ = false;
  bool started_ = false;
  std::string error_;
};

}  // namespace scimsync
