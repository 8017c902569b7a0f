// CurlHttpClient: HttpClient over libcurl's easy interface.
//
// Two ways a transfer travels (HttpClientOptions::direct_transfers):
//   * direct (the default when no proxy applies, for requests without form parts):
//     libcurl opens the connection (CURLOPT_CONNECT_ONLY: name resolution, TCP, TLS
//     with the verification below, ALPN offering only http/1.1) and the request and
//     response are framed by connectors/scim/http_wire.h over curl_easy_send/recv.
//     A pooled connection is checked before every reuse (readable while idle means
//     the server closed it or sent something unasked: it is replaced, nothing is
//     sent on it). Against a fast target this costs a third of
//     libcurl's own transfer.
//   * libcurl's HTTP transfer: with a proxy (explicit or from the environment), for
//     multipart forms, and when direct_transfers is off.
// Both give the same results, errors and limits below (the unit tests run on both).
//
// Send() runs its transfer on the calling thread, with an easy handle taken from a
// pool of at most `max_connections` handles; each handle keeps one HTTP/1.1
// keep-alive connection (CURLOPT_MAXCONNECTS 1, no pipelining, no HTTP/2). Several
// threads may call Send() at once: that is how requests of one phase run
// concurrently over up to `max_connections` connections.
//
// SendMany() runs several direct requests from the calling thread alone: up to
// min(batch.Width(), the concurrency limit) of them in flight, each on its own
// pooled connection, all waited for with one poll() (as a load generator such as
// wrk does). Each request is one state machine (DirectExchange in the .cc: reuse
// check, connect, send, read, redirect), the same one Send() drives with a blocking
// wait, so both give the same answers. It shares the connection pool and the
// concurrency limit with Send() on other threads. It declines (returns false) when
// requests would not travel direct (a proxy applies, direct_transfers is off) and
// under a rate cap; a request with form parts is run to its end on libcurl's
// transfer in place. Connecting is blocking (a new connection is rare).
// Why not one I/O thread serving every caller: every request then crosses threads
// twice (a wake-up write, a condition variable), which cost more CPU than the
// request itself against a fast target (issue 13). SendMany has no crossings: the
// thread that wants the answers drives the connections; and one thread per
// connection blocking in Send() pays a context switch per request instead.
//
// Gates applied before a request starts (the caller waits for them):
//   * concurrency: at most SetMaxConcurrency(n) transfers in flight (1..max_connections;
//     starts at max_connections).
//   * rate: with max_requests_per_second > 0, request starts are spaced evenly,
//     1/rate apart (a token bucket holding one token: no bursts).
// A request's timeouts (connect_timeout, request_timeout) start when it leaves the
// queue, so waiting behind the gates never times a request out.
//
// Security:
//   * TLS peer and host verification are always on (CURLOPT_SSL_VERIFYPEER 1,
//     CURLOPT_SSL_VERIFYHOST 2, which is libcurl's "verify" value); `ca_file`, when
//     set, replaces the system store (CURLOPT_CAINFO). Only http and https URLs.
//   * The bearer token is added to each request as an Authorization header here
//     and nowhere else; it is never logged and never part of error_text.
//   * Redirects: libcurl's automatic following is OFF. A 307 or 308 whose Location
//     has the same scheme, host and port as the request is followed (method, body
//     and headers kept; at most 5 hops). Every other redirect (another host or port
//     or scheme, or 301/302/303, which would turn a PATCH into a GET) is returned to
//     the caller as the 3xx response, with error_text "redirect to <host> refused:
//     <why>" (host and explicit port of the Location, nothing else of it). So the
//     Authorization header never leaves for another host.
//   * Response size: at most `max_response_size` bytes of body (and as many of
//     headers) are buffered. A larger Content-Length fails before the body is read
//     (CURLOPT_MAXFILESIZE_LARGE); a longer body without one is aborted in the
//     write callback once past the cap. Either way the request fails with kReset
//     (outcome unknown: see HttpErrorFromCurl) and error_text "response larger
//     than max_response_size (<n> bytes): transfer aborted".
//
// Errors: libcurl result codes are translated in HttpErrorFromCurl() only (table
// tested). Codes that prove nothing was sent map to kConnect; timeouts to kTimeout;
// everything else (including unknown codes) to kReset, "outcome unknown", which
// makes the executor re-read before writing again: the safe assumption.
//
// Cancel(): requests waiting at the gates and later Send() calls return kCancelled at once;
// SendMany() asks its batch for no more requests. Requests already on the wire run to
// completion (bounded by request_timeout), because abandoning them would leave their
// outcome unknown.
//
// Response header names are lowercased; for a followed redirect only the final
// response's headers are kept.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "connectors/scim/http_client.h"

namespace scimsync {

// Translates a libcurl CURLcode (passed as int to keep curl.h out of this header).
HttpError HttpErrorFromCurl(int curl_code);

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpClientOptions options);
  ~CurlHttpClient() override;  // cancels what is queued, waits for in-flight requests
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResponse Send(const HttpRequest& request) override;
  bool SendMany(HttpBatch& batch) override;
  void SetMaxConcurrency(int n) override;
  void Cancel() override;

  int max_concurrency() const;

 private:
  struct DirectConnection;  // a CURLOPT_CONNECT_ONLY handle and its origin
  class DirectExchange;     // one direct request, as a state machine driven by poll()
  struct ManySlot;          // one request of SendMany in flight
  // Runs `request` on easy handle `easy` (CURL*), following same-origin redirects.
  HttpResponse Perform(void* easy, const HttpRequest& request);
  // Runs `request` with libcurl's transfer on a pooled easy handle.
  HttpResponse PerformCurl(const HttpRequest& request);
  // Ends a request that held a slot: `conn` (may be null) back to the pool, running_ down.
  void Release(DirectConnection* conn);
  // Runs `request` with our own framing over `conn` (opened, or replaced when dead,
  // of another origin, or not reusable afterwards; null when none is left open).
  HttpResponse PerformDirect(DirectConnection*& conn, const HttpRequest& request);
  // Opens a connection to `origin` ("scheme://authority"); null and `out` filled on failure.
  DirectConnection* Connect(const std::string& origin, std::chrono::steady_clock::time_point deadline,
                            HttpResponse* out) const;
  // Sets the options of one transfer (`errbuf` of CURL_ERROR_SIZE bytes).
  void Configure(void* easy, const HttpRequest& request, void* received, char* errbuf,
                 void** headers, void** mime) const;

  HttpClientOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // a slot, the rate gate, cancel, or the last request done
  std::vector<void*> idle_;     // CURL* handles not in use, each with its connection
  std::vector<DirectConnection*> idle_direct_;  // open direct connections not in use
  bool direct_ = false;         // direct_transfers, and no proxy applies
  int running_ = 0;
  int limit_;
  bool cancelled_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point next_start_{};
  std::chrono::nanoseconds interval_{0};
};

}  // namespace scimsync
