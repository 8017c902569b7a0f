#include "connectors/scim/curl_http_client.h"
#include "core/text.h"

#include <curl/curl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "connectors/scim/http_wire.h"

namespace scimsync {
namespace {

constexpr int kMaxRedirectHops = 5;
// Largest piece of a request handed to curl_easy_send at once (DirectExchange::Send).
constexpr std::size_t kSendSlice = 16 * 1024;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// "scheme://host:port" with the default port filled in; empty if unparsable.
std::string Origin(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return "";
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* scheme = nullptr;
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
      out = FoldCase(scheme) + "://" + FoldCase(host) + ":" + port;
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

// The host of a URL, with the port when the URL spells one out; empty if unparsable.
std::string HostOf(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return "";
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
      out = FoldCase(host);
      if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) out += std::string(":") + port;
    }
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return out;
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Why a redirect was returned to the caller instead of followed, naming where it
// pointed (host only: a Location may carry credentials or tokens in its path).
std::string RefusedRedirect(long status, const std::string& from, const std::string& to, int hops) {
  std::string host = to.empty() ? "" : HostOf(to);
  if (host.empty()) return "redirect refused: no usable Location header";
  std::string why;
  if (status != 307 && status != 308) {
    why = "only 307 and 308 are followed (a " + std::to_string(status) +
          " may turn the request into a GET)";
  } else if (hops >= kMaxRedirectHops) {
    why = "more than " + std::to_string(kMaxRedirectHops) + " redirects";
  } else if (Origin(to) != Origin(from)) {
    why = "not the scheme, host and port of the request, which alone receive the token";
  } else {
    why = "could not follow it";
  }
  return "redirect to " + host + " refused: " + why;
}

std::string TooLarge(std::size_t limit) {
  return "response larger than max_response_size (" + std::to_string(limit) +
         " bytes): transfer aborted";
}

// What the write and header callbacks fill: the response, bounded by `limit`.
struct Received {
  HttpResponse response;
  std::size_t limit = 0;
  std::size_t header_bytes = 0;
  bool too_large = false;  // set when a callback refused data: curl then fails the transfer
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  std::size_t len = size * n;
  if (len > r->limit - std::min(r->limit, r->response.body.size())) {
    r->too_large = true;
    return 0;  // any count but len aborts the transfer (CURLE_WRITE_ERROR)
  }
  r->response.body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Received*>(user);
  HttpResponse* resp = &r->response;
  std::string_view line(data, size * n);
  r->header_bytes += line.size();
  if (r->header_bytes > r->limit) {
    r->too_large = true;
    return 0;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    resp->headers.clear();  // a new response (after 100 Continue): keep only the last one
    return size * n;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string_view value = TrimOws(line.substr(colon + 1));
  resp->headers.emplace_back(FoldCase(line.substr(0, colon)), std::string(value));
  return size * n;
}

// True if an environment variable libcurl reads for a proxy is set: requests then
// take libcurl's own transfer, which applies it (and no_proxy) as curl documents.
bool ProxyFromEnvironment() {
  for (const char* name : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                           "ALL_PROXY"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return true;
  }
  return false;
}

// Resolves a Location header (absolute or relative) against the request's URL, as
// libcurl's CURLINFO_REDIRECT_URL does; empty if either is unusable.
std::string ResolveLocation(const std::string& base, const std::string& location) {
  if (location.empty()) return "";
  CURLU* u = curl_url();
  if (u == nullptr) return "";
  std::string out;
  char* full = nullptr;
  if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK) {
    out = full;
  }
  curl_free(full);
  curl_url_cleanup(u);
  return out;
}

using SteadyTime = std::chrono::steady_clock::time_point;

long RemainingMs(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max<long>(0, static_cast<long>(left.count()));
}

// Waits until `fd` is ready for `events` or `deadline` passes (false).
bool WaitFor(curl_socket_t fd, short events, SteadyTime deadline) {
  for (;;) {
    long ms = RemainingMs(deadline);
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<long>(ms, 60'000)));
    if (r > 0) return true;
    // A poll error: let the next send/recv report it, until the deadline.
    if (r < 0 && errno != EINTR) return ms > 0;
    if (r == 0 && ms == 0) return false;
  }
}

std::string TimedOut(std::chrono::milliseconds timeout) {
  return "no complete response within " + std::to_string(timeout.count()) + " ms";
}

// The options of every handle, whichever way it travels: http(s) only, no signals,
// HTTP/1.1 (ALPN offers nothing else), TLS verification always on (with `ca_file`
// replacing the system store when set), TCP keep-alive.
void SetConnectionOptions(CURL* e, const HttpClientOptions& o) {
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!o.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
}

}  // namespace

struct CurlHttpClient::DirectConnection {
  CURL* easy = nullptr;
  curl_socket_t fd = CURL_SOCKET_BAD;
  std::string origin;
  char errbuf[CURL_ERROR_SIZE] = {};

  ~DirectConnection() {
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
  // An idle connection that is readable was closed by the server or holds bytes
  // nobody asked for; either way it cannot carry a request. A TLS record without
  // application data (a TLS 1.3 session ticket) reads as CURLE_AGAIN: still usable.
  bool Usable() {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 0) return true;
    char byte;
    std::size_t n = 0;
    return curl_easy_recv(easy, &byte, 1, &n) == CURLE_AGAIN;
  }
};

HttpError HttpErrorFromCurl(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK:
      return HttpError::kNone;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpError::kTimeout;
    // Nothing reached the server: no connection, no name, no TLS session, or a
    // request we could not even form.
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
      return HttpError::kConnect;
    case CURLE_ABORTED_BY_CALLBACK:
      return HttpError::kCancelled;
    // The request may have reached the server: SEND_ERROR, RECV_ERROR,
    // GOT_NOTHING, PARTIAL_FILE, WEIRD_SERVER_REPLY, HTTP2 errors, and anything
    // we do not know.
    //
    // FILESIZE_EXCEEDED and WRITE_ERROR: the response was larger than
    // max_response_size and we aborted it. Also kReset, deliberately: the request
    // was sent and answered, so for a POST, PATCH or DELETE the server may well
    // have committed it; "outcome unknown" is the truth, and it makes the executor
    // re-read before it writes again, never assume nothing happened (kConnect
    // would, and a create would be duplicated). We saw no complete answer, so no
    // HTTP status is reported either.
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
    default:
      return HttpError::kReset;
  }
}

CurlHttpClient::CurlHttpClient(HttpClientOptions options)
    : options_(std::move(options)), limit_(std::max(1, options_.max_connections)) {
  GlobalInit();
  options_.max_connections = limit_;
  direct_ = options_.direct_transfers &&
            (options_.proxy == "none" || (options_.proxy.empty() && !ProxyFromEnvironment()));
  if (options_.max_requests_per_second > 0) {
    interval_ = std::chrono::nanoseconds(
        static_cast<long long>(1e9 / options_.max_requests_per_second));
  }
}

CurlHttpClient::~CurlHttpClient() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return running_ == 0; });
  for (void* e : idle_) curl_easy_cleanup(static_cast<CURL*>(e));
  for (DirectConnection* c : idle_direct_) delete c;
}

HttpResponse CurlHttpClient::Send(const HttpRequest& request) {
  const bool direct = direct_ && request.form.empty();
  DirectConnection* conn = nullptr;
  {
    std::unique_lock lock(mu_);
    for (;;) {
      if (cancelled_ || stopping_) {
        HttpResponse r;
        r.error = HttpError::kCancelled;
        r.error_text = "cancelled before sending";
        return r;
      }
      if (running_ >= limit_) {
        cv_.wait(lock);
        continue;
      }
      if (interval_.count() > 0) {
        auto now = std::chrono::steady_clock::now();
        if (now < next_start_) {
          cv_.wait_until(lock, next_start_);
          continue;
        }
        // Scheduled from the ideal start time so wake-up latency does not lower
        // the rate; after an idle spell, from now (no burst).
        if (now - next_start_ >= interval_) next_start_ = now;
        next_start_ += interval_;
      }
      break;
    }
    ++running_;
    if (direct && !idle_direct_.empty()) {
      conn = idle_direct_.back();  // the most recent: its connection is warm
      idle_direct_.pop_back();
    }
  }
  HttpResponse r = direct ? PerformDirect(conn, request) : PerformCurl(request);
  Release(conn);
  return r;
}

void CurlHttpClient::Release(DirectConnection* conn) {
  {
    std::lock_guard lock(mu_);
    --running_;
    if (conn != nullptr) idle_direct_.push_back(conn);
  }
  cv_.notify_all();  // no system call when nobody waits
}

HttpResponse CurlHttpClient::PerformCurl(const HttpRequest& request) {
  CURL* e = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      e = static_cast<CURL*>(idle_.back());
      idle_.pop_back();
    }
  }
  if (e == nullptr) e = curl_easy_init();
  if (e == nullptr) {
    HttpResponse r;
    r.error = HttpError::kConnect;
    r.error_text = "could not create a curl handle";
    return r;
  }
  HttpResponse r = Perform(e, request);
  std::lock_guard lock(mu_);
  idle_.push_back(e);
  return r;
}

void CurlHttpClient::SetMaxConcurrency(int n) {
  {
    std::lock_guard lock(mu_);
    limit_ = std::clamp(n, 1, options_.max_connections);
  }
  cv_.notify_all();
}

int CurlHttpClient::max_concurrency() const {
  std::lock_guard lock(mu_);
  return limit_;
}

void CurlHttpClient::Cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

void CurlHttpClient::Configure(void* easy, const HttpRequest& req, void* received, char* errbuf,
                               void** headers, void** mime) const {
  CURL* e = static_cast<CURL*>(easy);
  SetConnectionOptions(e, options_);
  curl_easy_setopt(e, CURLOPT_MAXCONNECTS, 1L);  // one connection per handle
  // An explicit proxy overrides the environment; "" tells libcurl to use none.
  if (options_.proxy == "none") {
    curl_easy_setopt(e, CURLOPT_PROXY, "");
  } else if (!options_.proxy.empty()) {
    curl_easy_setopt(e, CURLOPT_PROXY, options_.proxy.c_str());
  }
  if (!options_.no_proxy.empty()) curl_easy_setopt(e, CURLOPT_NOPROXY, options_.no_proxy.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  if (!options_.user_agent.empty()) {
    curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
  }
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, received);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, received);
  // A Content-Length above the cap fails before the body is read; a body without
  // one (chunked, or until close) is cut off by OnBody.
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_size));

  if (!req.form.empty()) {
    // libcurl's MIME API writes the boundary, each part's headers and the
    // Content-Type; the values are copied.
    curl_mime* m = curl_mime_init(e);
    for (const HttpFormPart& f : req.form) {
      curl_mimepart* part = curl_mime_addpart(m);
      curl_mime_name(part, f.name.c_str());
      curl_mime_data(part, f.value.data(), f.value.size());
      if (!f.filename.empty()) curl_mime_filename(part, f.filename.c_str());
      if (!f.content_type.empty()) curl_mime_type(part, f.content_type.c_str());
    }
    *mime = m;
    curl_easy_setopt(e, CURLOPT_MIMEPOST, m);
    if (req.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else if (req.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    if (req.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method == "POST" || !req.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
  }

  curl_slist* h = nullptr;
  for (const auto& [name, value] : req.headers) {
    h = curl_slist_append(h, (name + ": " + value).c_str());
  }
  if (!options_.bearer_token.empty()) {
    h = curl_slist_append(h, ("Authorization: Bearer " + options_.bearer_token).c_str());
  }
  h = curl_slist_append(h, "Expect:");  // no 100-continue round trip for large bodies
  *headers = h;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
}

HttpResponse CurlHttpClient::Perform(void* easy, const HttpRequest& request) {
  CURL* e = static_cast<CURL*>(easy);
  Received received;
  received.limit = options_.max_response_size;
  HttpResponse& response = received.response;
  char errbuf[CURL_ERROR_SIZE] = {};
  void* headers = nullptr;
  void* mime = nullptr;
  Configure(e, request, &received, errbuf, &headers, &mime);
  std::string url = request.url;
  for (int hops = 0;; ++hops) {
    errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    const CURLcode code = curl_easy_perform(e);
    HttpError err = HttpErrorFromCurl(code);
    if (err != HttpError::kNone) {
      response.error = err;
      if (received.too_large || code == CURLE_FILESIZE_EXCEEDED) {
        response.error_text = TooLarge(options_.max_response_size);
        response.body.clear();
        response.body.shrink_to_fit();
      } else {
        response.error_text = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
      }
      response.status = 0;
      break;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    if (!IsRedirect(status)) break;
    char* location = nullptr;
    curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &location);
    std::string next = location != nullptr ? location : "";
    std::string origin = Origin(url);
    if ((status == 307 || status == 308) && hops < kMaxRedirectHops && !origin.empty() &&
        origin == Origin(next)) {
      // Same scheme, host and port: the credentials stay where they were sent.
      url = std::move(next);
      received.response = HttpResponse{};
      received.header_bytes = 0;
      continue;
    }
    response.error_text = RefusedRedirect(status, url, next, hops);
    break;
  }
  curl_easy_reset(e);  // drops this request's options, keeps the connection
  curl_slist_free_all(static_cast<curl_slist*>(headers));
  curl_mime_free(static_cast<curl_mime*>(mime));
  return std::move(received.response);
}

}  // namespace scimsync

namespace scimsync {

CurlHttpClient::DirectConnection* CurlHttpClient::Connect(const std::string& origin,
                                                          SteadyTime deadline,
                                                          HttpResponse* out) const {
  auto conn = std::make_unique<DirectConnection>();
  conn->easy = curl_easy_init();
  conn->origin = origin;
  CURL* e = conn->easy;
  if (e == nullptr) {
    out->error = HttpError::kConnect;
    out->error_text = "could not create a curl handle";
    return nullptr;
  }
  const std::string url = origin + "/";
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
  SetConnectionOptions(e, options_);  // HTTP/1.1 alone: the framing here is HTTP/1.1
  curl_easy_setopt(e, CURLOPT_PROXY, "");  // direct only when no proxy applies
  const long left = std::max(1L, RemainingMs(deadline));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   std::min(left, static_cast<long>(options_.connect_timeout.count())));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, conn->errbuf);
  const CURLcode code = curl_easy_perform(e);
  if (code != CURLE_OK) {
    out->error = HttpErrorFromCurl(code);
    out->error_text = conn->errbuf[0] != '\0' ? conn->errbuf : curl_easy_strerror(code);
    return nullptr;
  }
  curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &conn->fd);
  if (conn->fd == CURL_SOCKET_BAD) {
    out->error = HttpError::kConnect;
    out->error_text = "connected, but libcurl gave no socket";
    return nullptr;
  }
  return conn.release();
}

// One direct exchange as a state machine: a request over a pooled connection, from
// the reuse check to the parsed answer, following same-origin 307/308 redirects.
// PerformDirect drives one with WaitFor, SendMany several with one poll(); both get
// the same results, errors and texts because this is the only code that decides them.
class CurlHttpClient::DirectExchange {
 public:
  explicit DirectExchange(const CurlHttpClient& client) : client_(client) {}

  // Starts `request` (which must outlive the exchange) over `conn` (null: none open;
  // the exchange owns it from now on). May finish at once (a request that cannot be
  // formed, a failed connect): events() is then 0.
  void Begin(const HttpRequest& request, DirectConnection* conn) {
    request_ = &request;
    conn_.reset(conn);
    url_ = request.url;
    hops_ = 0;
    StartHop();
  }
  // What the exchange waits for on fd(): POLLOUT (with POLLIN: an early answer) while
  // the request goes out, POLLIN for the answer, or 0 once it has its answer.
  short events() const { return events_; }
  curl_socket_t fd() const { return conn_->fd; }
  SteadyTime deadline() const { return deadline_; }
  // fd() is ready for events() (or poll failed: send and recv then say why).
  void Step() {
    if ((events_ & POLLOUT) != 0) {
      if (!EarlyAnswer()) Send();
    } else if (events_ == POLLIN) {
      Read();
    }
  }
  // The hop's deadline passed with fd() not ready.
  void Expire() { Fail(HttpError::kTimeout, TimedOut(client_.options_.request_timeout)); }
  HttpResponse TakeResponse() { return std::move(response_); }
  // The connection, still open and reusable, or null.
  DirectConnection* TakeConnection() { return conn_.release(); }

 private:
  void Answer(HttpResponse response) {
    response_ = std::move(response);
    events_ = 0;
  }
  void Drop() { conn_.reset(); }
  // A failed request: the connection is not reused (its state is unknown).
  void Fail(HttpError error, std::string text) {
    Drop();
    HttpResponse r;
    r.error = error;
    r.error_text = std::move(text);
    Answer(std::move(r));
  }

  void StartHop() {
    const HttpClientOptions& o = client_.options_;
    std::string why;
    if (!SplitUrl(url_, &parts_, &why) ||
        !SerializeRequest(*request_, parts_, o.user_agent, o.bearer_token, &wire_, &why)) {
      HttpResponse r;
      r.error = HttpError::kConnect;  // nothing was sent
      r.error_text = std::move(why);
      return Answer(std::move(r));
    }
    deadline_ = std::chrono::steady_clock::now() + o.request_timeout;
    // Checked before every reuse: bytes a server sent past its last response (a body
    // on a 204, more than its Content-Length) must never be read as this answer.
    if (conn_ != nullptr && (conn_->origin != parts_.origin || !conn_->Usable())) Drop();
    if (conn_ == nullptr) {
      HttpResponse r;
      conn_.reset(client_.Connect(parts_.origin, deadline_, &r));
      if (conn_ == nullptr) return Answer(std::move(r));
    }
    sent_ = 0;
    parser_.emplace(o.max_response_size);
    Send();
  }

  // Sends what is left of the request. Nothing written yet when it fails: nothing
  // was sent.
  void Send() {
    while (sent_ < wire_.size()) {
      std::size_t n = 0;
      // In slices: over TLS, libcurl reports nothing sent until the whole buffer it
      // was given is, so a body sent in one call would count as unsent (kConnect, no
      // early answer) up to its last byte. A slice is one TLS record at most.
      CURLcode rc = curl_easy_send(conn_->easy, wire_.data() + sent_,
                                   std::min(wire_.size() - sent_, kSendSlice), &n);
      if (rc == CURLE_AGAIN) {
        // An early answer is watched for until one has come (a 2xx: see EarlyAnswer).
        const bool answered = parser_->state() != HttpResponseParser::State::kMore;
        events_ = answered ? POLLOUT : POLLOUT | POLLIN;
        return;
      }
      if (rc != CURLE_OK) {
        // A server that refuses a body (413) may answer and close before reading it:
        // its answer, if it got here, is the outcome, not "unknown".
        if (sent_ > 0 && EarlyAnswer()) return;
        return Fail(sent_ == 0 ? HttpError::kConnect : HttpError::kReset,
                    std::string("sending the request failed: ") + curl_easy_strerror(rc));
      }
      sent_ += n;
    }
    if (parser_->state() != HttpResponseParser::State::kMore) return Finish();  // early 2xx
    // The answer cannot be there yet: wait before the first read (one system call
    // fewer than a read that finds nothing). Nothing of an earlier response is left
    // in libcurl's TLS buffers: a connection that held bytes past its response was
    // not kept.
    events_ = POLLIN;
  }

  // While the request is still going out (a body larger than the socket buffers): a
  // complete error answer (>= 300) the server sent already ends the exchange with that
  // answer, and the rest of the body is not sent (RFC 9112 §9.5: a client sending a
  // body should watch for a response that says the server does not want it, and
  // stop). The connection is not reused: the server read only part of the request.
  // An early 2xx is kept and the body still sent (as libcurl does): the server may
  // want it; the exchange ends with it once the body is out. true: the exchange has
  // its answer (or failed reading it).
  bool EarlyAnswer() {
    HttpResponseParser& parser = *parser_;
    if (parser.state() != HttpResponseParser::State::kMore) return false;  // an early 2xx
    // Nothing yet (CURLE_AGAIN), or a failure the send will report.
    if (Receive() != CURLE_OK) return false;
    if (parser.state() == HttpResponseParser::State::kDone && parser.response().status < 300) {
      return false;  // sent on; Send() ends with it
    }
    Drop();
    Finish();
    return true;
  }

  // Reads until the response is complete or nothing more is there yet.
  void Read() {
    CURLcode rc = Receive();
    if (rc == CURLE_AGAIN) return;  // still POLLIN
    if (rc != CURLE_OK) {
      return Fail(HttpError::kReset,
                  std::string("reading the response failed: ") + curl_easy_strerror(rc));
    }
    Finish();
  }

  // Feeds the parser what the connection holds until it is no longer kMore
  // (CURLE_OK: complete or failed), nothing more is there (CURLE_AGAIN), or recv
  // fails (its code).
  CURLcode Receive() {
    HttpResponseParser& parser = *parser_;
    char buf[16 * 1024];
    while (parser.state() == HttpResponseParser::State::kMore) {
      std::size_t n = 0;
      CURLcode rc = curl_easy_recv(conn_->easy, buf, sizeof buf, &n);
      if (rc != CURLE_OK) return rc;
      if (n == 0) {
        parser.Eof();
      } else {
        parser.Feed(std::string_view(buf, n));
      }
    }
    return CURLE_OK;
  }

  // The parser is done: the answer, a followed redirect, or an error.
  void Finish() {
    HttpResponseParser& parser = *parser_;
    if (parser.state() == HttpResponseParser::State::kError) {
      // The request went out: its outcome is unknown.
      return Fail(HttpError::kReset, parser.too_large()
                                         ? TooLarge(client_.options_.max_response_size)
                                         : parser.error());
    }
    if (!parser.keep_alive()) Drop();
    HttpResponse out = std::move(parser.response());
    if (!IsRedirect(out.status)) return Answer(std::move(out));
    std::string next = ResolveLocation(url_, out.Header("location"));
    std::string origin = Origin(url_);
    if ((out.status == 307 || out.status == 308) && hops_ < kMaxRedirectHops &&
        !origin.empty() && origin == Origin(next)) {
      url_ = std::move(next);  // same scheme, host and port: the credentials stay there
      ++hops_;
      return StartHop();
    }
    out.error_text = RefusedRedirect(out.status, url_, next, hops_);
    Answer(std::move(out));
  }

  const CurlHttpClient& client_;
  const HttpRequest* request_ = nullptr;
  std::unique_ptr<DirectConnection> conn_;
  std::string url_;  // of this hop
  int hops_ = 0;
  UrlParts parts_;
  std::string wire_;  // the request as sent; its capacity is kept between requests
  std::size_t sent_ = 0;
  std::optional<HttpResponseParser> parser_;
  SteadyTime deadline_{};
  short events_ = 0;
  HttpResponse response_;
};

HttpResponse CurlHttpClient::PerformDirect(DirectConnection*& conn, const HttpRequest& request) {
  DirectExchange x(*this);
  x.Begin(request, conn);
  while (x.events() != 0) {
    if (WaitFor(x.fd(), x.events(), x.deadline())) {
      x.Step();
    } else {
      x.Expire();
    }
  }
  conn = x.TakeConnection();
  return x.TakeResponse();
}

// One request slot of SendMany: the exchange and the request it carries, both kept
// between requests so their buffers are reused.
struct CurlHttpClient::ManySlot {
  explicit ManySlot(const CurlHttpClient& client) : exchange(client) {}
  DirectExchange exchange;
  HttpRequest request;
  std::uint64_t tag = 0;
  bool busy = false;
};

bool CurlHttpClient::SendMany(HttpBatch& batch) {
  if (!direct_ || interval_.count() > 0) return false;
  std::vector<ManySlot> slots;
  slots.reserve(static_cast<std::size_t>(options_.max_connections));
  for (int i = 0; i < options_.max_connections; ++i) slots.emplace_back(*this);
  std::vector<pollfd> fds;
  std::vector<ManySlot*> polled;
  fds.reserve(slots.size());
  polled.reserve(slots.size());
  int in_flight = 0;
  bool more = true;  // Next() may still be asked

  // Gives the slot's connection back and the answer to the batch.
  auto finish = [&](ManySlot& s) {
    Release(s.exchange.TakeConnection());
    s.busy = false;
    --in_flight;
    batch.Done(s.tag, s.exchange.TakeResponse());
  };

  for (;;) {
    while (more && in_flight < std::max(1, batch.Width())) {
      DirectConnection* conn = nullptr;
      {
        std::unique_lock lock(mu_);
        // Waits for another thread's slot only when none of ours is in flight: an
        // answer of ours frees one otherwise.
        while (!cancelled_ && !stopping_ && running_ >= limit_ && in_flight == 0) cv_.wait(lock);
        if (cancelled_ || stopping_) {
          more = false;
          break;
        }
        if (running_ >= limit_) break;
        ++running_;
        if (!idle_direct_.empty()) {
          conn = idle_direct_.back();  // the most recent: its connection is warm
          idle_direct_.pop_back();
        }
      }
      ManySlot& s =
          *std::find_if(slots.begin(), slots.end(), [](const ManySlot& x) { return !x.busy; });
      HttpRequest& r = s.request;
      r.method.clear();
      r.url.clear();
      r.headers.clear();
      r.body.clear();
      r.form.clear();
      if (!batch.Next(&r, &s.tag)) {
        more = false;
        Release(conn);
        break;
      }
      if (!r.form.empty()) {  // libcurl's transfer, run to its end here
        HttpResponse answer = PerformCurl(r);
        Release(conn);
        batch.Done(s.tag, std::move(answer));
        continue;
      }
      s.busy = true;
      ++in_flight;
      s.exchange.Begin(r, conn);
      if (s.exchange.events() == 0) finish(s);
    }
    if (in_flight == 0) break;  // nothing more was started, nor will be

    fds.clear();
    polled.clear();
    SteadyTime first = SteadyTime::max();
    for (ManySlot& s : slots) {
      if (!s.busy) continue;
      fds.push_back(pollfd{s.exchange.fd(), s.exchange.events(), 0});
      polled.push_back(&s);
      first = std::min(first, s.exchange.deadline());
    }
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(first - std::chrono::steady_clock::now());
    const int ms = static_cast<int>(std::clamp<long long>(left.count(), 0, 60'000));
    const int r = poll(fds.data(), fds.size(), ms);
    // A poll error: let send/recv report it, until the deadlines.
    const bool failed = r < 0 && errno != EINTR;
    const SteadyTime now = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < fds.size(); ++i) {
      ManySlot& s = *polled[i];
      if (fds[i].revents != 0 || (failed && now < s.exchange.deadline())) {
        s.exchange.Step();
      } else if (now >= s.exchange.deadline()) {
        s.exchange.Expire();
      }
      if (s.exchange.events() == 0) finish(s);
    }
  }
  return true;
}
}  // namespace scimsync
