#include "connectors/scim/curl_http_client.h"
#include "core/text.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>

namespace scimsync {
namespace {

constexpr int kMaxRedirectHops = 5;

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
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  resp->headers.emplace_back(FoldCase(line.substr(0, colon)), std::string(value));
  return size * n;
}

}  // namespace

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

struct CurlHttpClient::Transfer {
  const HttpRequest* request = nullptr;
  std::string url;  // the current URL (changes when a same-origin redirect is followed)
  int hops = 0;
  Received received;  // the response, filled by the callbacks
  HttpResponse& response = received.response;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_mime* mime = nullptr;  // a multipart body (HttpRequest::form), freed with the handle
  char errbuf[CURL_ERROR_SIZE] = {};
  bool done = false;
  std::condition_variable cv;
};

CurlHttpClient::CurlHttpClient(HttpClientOptions options)
    : options_(std::move(options)), limit_(std::max(1, options_.max_connections)) {
  GlobalInit();
  options_.max_connections = limit_;
  if (options_.max_requests_per_second > 0) {
    interval_ = std::chrono::nanoseconds(
        static_cast<long long>(1e9 / options_.max_requests_per_second));
  }
  CURLM* multi = curl_multi_init();
  long conns = options_.max_connections;
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, conns);
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_NOTHING));
  multi_ = multi;
  io_ = std::thread([this] { Loop(); });
}

CurlHttpClient::~CurlHttpClient() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  Wake();
  io_.join();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void CurlHttpClient::Wake() { curl_multi_wakeup(static_cast<CURLM*>(multi_)); }

HttpResponse CurlHttpClient::Send(const HttpRequest& request) {
  Transfer t;
  t.request = &request;
  t.url = request.url;
  t.received.limit = options_.max_response_size;
  {
    std::lock_guard lock(mu_);
    if (cancelled_ || stopping_) {
      HttpResponse r;
      r.error = HttpError::kCancelled;
      r.error_text = "cancelled before sending";
      return r;
    }
    queue_.push_back(&t);
  }
  Wake();
  std::unique_lock lock(mu_);
  t.cv.wait(lock, [&] { return t.done; });
  return std::move(t.response);
}

void CurlHttpClient::SetMaxConcurrency(int n) {
  {
    std::lock_guard lock(mu_);
    limit_ = std::clamp(n, 1, options_.max_connections);
  }
  Wake();
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
  Wake();
}

void CurlHttpClient::Complete(Transfer* t) {
  t->done = true;
  t->cv.notify_one();
}

long CurlHttpClient::StartReady(std::chrono::steady_clock::time_point now) {
  while (!queue_.empty() && running_ < limit_) {
    if (interval_.count() > 0) {
      if (now < next_start_) {
        auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_start_ - now);
        return std::max<long>(1, static_cast<long>(wait.count()));
      }
      // Scheduled from the ideal start time so poll latency does not lower the
      // rate; after an idle spell, from now (no burst).
      if (now - next_start_ >= interval_) next_start_ = now;
      next_start_ += interval_;
    }
    Transfer* t = queue_.front();
    queue_.pop_front();
    if (Start(t)) {
      ++running_;
    } else {
      Complete(t);
    }
  }
  return -1;
}

bool CurlHttpClient::Start(Transfer* t) {
  CURL* e = curl_easy_init();
  if (e == nullptr) {
    t->response.error = HttpError::kConnect;
    t->response.error_text = "could not create a curl handle";
    return false;
  }
  t->easy = e;
  t->errbuf[0] = '\0';
  const HttpRequest& req = *t->request;
  curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str());
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
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(t));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(&t->received));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, static_cast<void*>(&t->received));
  // A Content-Length above the cap fails before the body is read; a body without
  // one (chunked, or until close) is cut off by OnBody.
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_size));

  if (!req.form.empty()) {
    // libcurl's MIME API writes the boundary, each part's headers and the
    // Content-Type; the values are copied, so `req` may go before the transfer ends.
    curl_mime* mime = curl_mime_init(e);
    for (const HttpFormPart& f : req.form) {
      curl_mimepart* part = curl_mime_addpart(mime);
      curl_mime_name(part, f.name.c_str());
      curl_mime_data(part, f.value.data(), f.value.size());
      if (!f.filename.empty()) curl_mime_filename(part, f.filename.c_str());
      if (!f.content_type.empty()) curl_mime_type(part, f.content_type.c_str());
    }
    t->mime = mime;
    curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
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
  t->headers = h;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);

  if (curl_multi_add_handle(static_cast<CURLM*>(multi_), e) != CURLM_OK) {
    curl_slist_free_all(t->headers);
    curl_easy_cleanup(e);
    curl_mime_free(t->mime);
    t->headers = nullptr;
    t->easy = nullptr;
    t->mime = nullptr;
    t->response.error = HttpError::kConnect;
    t->response.error_text = "could not start the request";
    return false;
  }
  return true;
}

void CurlHttpClient::Finish(Transfer* t, int curl_code) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  curl_multi_remove_handle(multi, t->easy);
  HttpError err = HttpErrorFromCurl(curl_code);
  if (err == HttpError::kNone) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    t->response.status = static_cast<int>(status);
    if (IsRedirect(status)) {
      char* location = nullptr;
      curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location);
      std::string next = location != nullptr ? location : "";
      std::string origin = Origin(t->url);
      if ((status == 307 || status == 308) && t->hops < kMaxRedirectHops && !origin.empty() &&
          origin == Origin(next)) {
        // Same scheme, host and port: the credentials stay where they were sent.
        t->url = std::move(next);
        t->hops++;
        t->received.response = HttpResponse{};
        t->received.header_bytes = 0;
        curl_easy_setopt(t->easy, CURLOPT_URL, t->url.c_str());
        if (curl_multi_add_handle(multi, t->easy) == CURLM_OK) return;
        t->response.error = HttpError::kConnect;
        t->response.error_text = "could not follow the redirect";
      } else {
        t->response.error_text = RefusedRedirect(status, t->url, next, t->hops);
      }
    }
  } else {
    t->response.error = err;
    if (t->received.too_large || curl_code == CURLE_FILESIZE_EXCEEDED) {
      t->response.error_text = TooLarge(options_.max_response_size);
      t->response.body.clear();
      t->response.body.shrink_to_fit();
    } else {
      t->response.error_text = t->errbuf[0] != '\0' ? t->errbuf
                                                     : curl_easy_strerror(static_cast<CURLcode>(curl_code));
    }
    t->response.status = 0;
  }
  curl_slist_free_all(t->headers);
  curl_easy_cleanup(t->easy);
  curl_mime_free(t->mime);  // after the handle that used it
  t->headers = nullptr;
  t->easy = nullptr;
  t->mime = nullptr;
  std::lock_guard lock(mu_);
  --running_;
  Complete(t);
}

void CurlHttpClient::Loop() {
  CURLM* multi = static_cast<CURLM*>(multi_);
  for (;;) {
    long wait_ms = 1000;
    {
      std::lock_guard lock(mu_);
      if (cancelled_ || stopping_) {
        while (!queue_.empty()) {
          Transfer* t = queue_.front();
          queue_.pop_front();
          t->response.error = HttpError::kCancelled;
          t->response.error_text = "cancelled before sending";
          Complete(t);
        }
        if (stopping_ && running_ == 0) break;
      }
      long gate = StartReady(std::chrono::steady_clock::now());
      if (gate >= 0) wait_ms = std::min(wait_ms, gate);
    }
    int still = 0;
    curl_multi_perform(multi, &still);
    int left = 0;
    bool finished = false;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      void* p = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
      Finish(static_cast<Transfer*>(p), m->data.result);
      finished = true;
    }
    // A finished transfer frees a slot: start what waits before sleeping.
    if (finished) continue;
    // Returns on socket activity, curl's own timers, a Wake() or after wait_ms.
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait_ms), nullptr);
  }
}

}  // namespace scimsync
