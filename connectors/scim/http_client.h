// The HTTP seam. HttpClient is our own interface: CurlHttpClient implements it over
// libcurl's easy interface; unit tests use a recording fake (tests/support/).
//
// Send() is blocking and thread-safe: several executor threads call it at once and
// the implementation spreads them over up to max_connections keep-alive
// connections. Retries and policies are not the client's business.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/defaults.h"

namespace scimsync {

// One part of a multipart/form-data body (RFC 7578): a field, or a file when
// `filename` is set. `content_type` empty: none sent (text/plain by RFC 7578).
struct HttpFormPart {
  std::string name;
  std::string value;
  std::string filename;
  std::string content_type;
};

struct HttpRequest {
  std::string method;   // "GET", "POST", "PATCH", "PUT", "DELETE"
  std::string url;      // absolute
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
  // Non-empty: the body is multipart/form-data built from these parts, in order
  // (the client sets Content-Type with its boundary); `body` is then ignored.
  std::vector<HttpFormPart> form;
};

enum class HttpError {
  kNone,       // a response arrived
  kTimeout,    // no complete answer within the request timeout
  kReset,      // connection closed or reset after the request was (maybe) sent
  kConnect,    // DNS, TCP connect or TLS failure: nothing was sent
  kCancelled,
};

struct HttpResponse {
  HttpError error = HttpError::kNone;
  // When error != kNone: why (curl's message, or "response larger than
  // max_response_size (<n> bytes): transfer aborted"). For a 301/302/303/307/308
  // the client did not follow: "redirect to <host> refused: <why>". Never holds
  // a secret.
  std::string error_text;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  // First header with that (lowercase) name, or empty.
  std::string Header(std::string_view name) const;
};

struct HttpClientOptions {
  std::string bearer_token;            // sent as Authorization: Bearer; never logged
  std::string ca_file;                 // empty = system store; verification always on
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout = defaults::kTargetTimeout;
  int max_connections = defaults::kMaxConnections;
  std::string user_agent;              // "scimsync/<version>"
  double max_requests_per_second = 0;  // request starts per second, evenly spaced; 0 = no cap
  // Largest response accepted, in bytes (the body, and the headers counted apart);
  // a larger one fails the request (kReset, outcome unknown) and is not buffered.
  std::size_t max_response_size = 8 * 1024 * 1024;
  // HTTP(S) proxy URL. Empty: libcurl's environment variables decide (https_proxy,
  // HTTPS_PROXY, all_proxy, no_proxy); "none": no proxy at all, whatever the
  // environment says.
  std::string proxy;
  // Hosts reached without the proxy (libcurl's NOPROXY list: "a.example,.corp,10.0.0.0/8",
  // "*" for all); empty: the environment's no_proxy, if any.
  std::string no_proxy;
  // How a request without form parts travels when no proxy applies (no `proxy`, and
  // no proxy variable in the environment): true, our own HTTP/1.1 framing
  // (connectors/scim/http_wire.h) over a connection libcurl opened (TCP, TLS and its
  // verification); false, libcurl's own HTTP transfer, as with a proxy. The two
  // behave alike (the client's unit tests run on both); direct costs a third of
  // the CPU per request.
  bool direct_transfers = true;
};

// The caller's side of HttpClient::SendMany: where the requests come from and where
// their answers go. Every call is made on the thread that called SendMany.
class HttpBatch {
 public:
  virtual ~HttpBatch() = default;
  // How many requests may be in flight now; asked before every start, so it may go
  // down and up during the batch. Below 1 counts as 1.
  virtual int Width() = 0;
  // Fills the next request to start and the tag its answer will carry. false: start
  // no more; SendMany stops asking and returns once every started request has been
  // answered.
  virtual bool Next(HttpRequest* request, std::uint64_t* tag) = 0;
  // The answer to the request started with `tag`, in the order answers complete.
  // Every started request gets exactly one.
  virtual void Done(std::uint64_t tag, HttpResponse response) = 0;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse Send(const HttpRequest& request) = 0;
  // Runs the requests of `batch` several at once from the calling thread (one event
  // loop over several connections); each answer is what Send would have given for
  // that request. false, without calling `batch`: this client cannot (the caller
  // then calls Send from several threads). The default cannot.
  virtual bool SendMany(HttpBatch& batch) {
    (void)batch;
    return false;
  }
  // Lowers (or raises, up to max_connections) how many requests run at once.
  virtual void SetMaxConcurrency(int n) = 0;
  // Makes pending and future Send() calls return kCancelled soon (graceful stop).
  virtual void Cancel() = 0;
};

}  // namespace scimsync
