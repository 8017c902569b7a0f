// CurlHttpClient: the curl-code table, and the real client against a tiny HTTP/1.1
// server on a loopback socket written here with plain POSIX sockets (keep-alive,
// timeouts, dropped connections, refused ports, redirects, gates).
#include "connectors/scim/curl_http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace scimsync {
namespace {

using namespace std::chrono_literals;

struct SeenRequest {
  int connection = 0;  // which accepted connection carried it (1-based)
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // lowercase names
};

struct Reply {
  // kStream: no Content-Length; `stream_bytes` of 'x' written until done or the
  // client hangs up, then the connection is closed.
  // kRespondClose: answers, then closes the connection without saying so (a
  // server's idle timeout firing between two requests).
  enum Kind { kRespond, kClose, kStall, kStream, kRespondClose } kind = kRespond;
  int status = 200;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds delay{0};  // before answering (kRespond) or closing (kStall)
  std::size_t stream_bytes = 0;
};

// write() that never raises SIGPIPE when the client has gone.
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// A minimal HTTP/1.1 server on 127.0.0.1:<ephemeral>: one thread per connection,
// keep-alive, Content-Length bodies only. Good enough for curl, and nothing else.
class LoopbackServer {
 public:
  using Handler = std::function<Reply(const SeenRequest&)>;
  // `early`: requests it says yes to (asked with the head read, no body) are answered
  // before their body is read. After an error answer (>= 300) the connection is closed
  // as Go's net/http closes one whose body it did not read: its side shut, a pause
  // (the reply's delay), then the close (a reset: the body is unread). After a 2xx the
  // body is read all the same, then the connection closed.
  using Early = std::function<bool(const SeenRequest&)>;

  explicit LoopbackServer(Handler handler, Early early = nullptr)
      : handler_(std::move(handler)), early_(std::move(early)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    acceptor_.join();
    close(listen_fd_);
    std::vector<std::thread> conns;
    {
      std::lock_guard lock(mu_);
      conns.swap(conns_);
    }
    for (auto& t : conns) t.join();
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return accepted_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  std::size_t streamed() const { return streamed_.load(); }  // body bytes of kStream replies sent
  std::vector<SeenRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  static bool WaitReadable(int fd, const std::atomic<bool>& stop) {
    while (!stop) {
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, 50);
      if (r > 0) return true;
      if (r < 0) return false;
    }
    return false;
  }

  void Accept() {
    while (WaitReadable(listen_fd_, stop_)) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      int id = ++accepted_;
      std::lock_guard lock(mu_);
      conns_.emplace_back([this, fd, id] { Serve(fd, id); });
    }
  }

  void Serve(int fd, int id) {
    std::string buf;
    char chunk[4096];
    for (;;) {
      // Read one request: head, then Content-Length bytes of body.
      std::size_t head_end;
      while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!WaitReadable(fd, stop_)) return close(fd), void();
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0) return close(fd), void();
        buf.append(chunk, static_cast<std::size_t>(n));
      }
      SeenRequest req;
      req.connection = id;
      std::string head = buf.substr(0, head_end);
      std::size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      std::size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
      req.method = first.substr(0, sp1);
      req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
      std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        std::size_t e = head.find("\r\n", pos);
        if (e == std::string::npos) e = head.size();
        std::string line = head.substr(pos, e - pos);
        std::size_t c = line.find(':');
        if (c != std::string::npos) {
          std::string name = line.substr(0, c);
          for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          std::string value = line.substr(c + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          req.headers[name] = value;
        }
        pos = e + 2;
      }
      std::size_t length = req.headers.count("content-length")
                               ? std::stoul(req.headers["content-length"])
                               : 0;
      buf.erase(0, head_end + 4);
      if (early_ && early_(req)) {
        Reply reply = handler_(req);
        std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\nConnection: close\r\n";
        out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n" + reply.body;
        SendAll(fd, out);
        if (reply.status < 300) {  // answers first, then reads the body all the same
          while (buf.size() < length && WaitReadable(fd, stop_)) {
            ssize_t n = read(fd, chunk, sizeof chunk);
            if (n <= 0) break;
            buf.append(chunk, static_cast<std::size_t>(n));
          }
          req.body = buf.substr(0, std::min(length, buf.size()));
        } else {
          shutdown(fd, SHUT_WR);
          std::this_thread::sleep_for(reply.delay);
        }
        {
          std::lock_guard lock(mu_);
          requests_.push_back(req);
        }
        return close(fd), void();
      }
      while (buf.size() < length) {
        if (!WaitReadable(fd, stop_)) return close(fd), void();
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0) return close(fd), void();
        buf.append(chunk, static_cast<std::size_t>(n));
      }
      req.body = buf.substr(0, length);
      buf.erase(0, length);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      Reply reply = handler_(req);
      if (reply.delay.count() > 0) std::this_thread::sleep_for(reply.delay);
      --in_flight_;
      if (reply.kind == Reply::kStream) {
        std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\nConnection: close\r\n";
        for (const auto& h : reply.headers) out += h + "\r\n";
        out += "\r\n";
        const std::string chunk(64 * 1024, 'x');
        bool ok = SendAll(fd, out);
        for (std::size_t sent = 0; ok && sent < reply.stream_bytes; sent += chunk.size()) {
          ok = SendAll(fd, chunk);
          if (ok) streamed_ += chunk.size();
        }
        return close(fd), void();
      }
      if (reply.kind != Reply::kRespond && reply.kind != Reply::kRespondClose) {
        return close(fd), void();
      }
      std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
      out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
      for (const auto& h : reply.headers) out += h + "\r\n";
      out += "\r\n" + reply.body;
      if (!SendAll(fd, out) || reply.kind == Reply::kRespondClose) return close(fd), void();
    }
  }

  Handler handler_;
  Early early_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::atomic<std::size_t> streamed_{0};
  mutable std::mutex mu_;
  std::vector<SeenRequest> requests_;
  std::vector<std::thread> conns_;
  std::thread acceptor_;
};

constexpr char kToken[] = "tok-SECRET-123";

// A one-request batch: what Send gives, through SendMany.
class OneRequest final : public HttpBatch {
 public:
  explicit OneRequest(const HttpRequest& request) : request_(request) {}
  int Width() override { return 1; }
  bool Next(HttpRequest* request, std::uint64_t* tag) override {
    if (asked_) return false;
    asked_ = true;
    *request = request_;
    *tag = 7;
    return true;
  }
  void Done(std::uint64_t tag, HttpResponse response) override {
    CHECK(tag == 7);
    CHECK_FALSE(answered_);
    answered_ = true;
    response_ = std::move(response);
  }
  bool asked() const { return asked_; }
  bool answered() const { return answered_; }
  HttpResponse& response() { return response_; }

 private:
  const HttpRequest& request_;
  bool asked_ = false;
  bool answered_ = false;
  HttpResponse response_;
};

// CurlHttpClient whose Send runs each request through SendMany, as the only request
// of a batch; where SendMany cannot (a rate cap), through Send, as a caller would.
class ManyClient final : public HttpClient {
 public:
  explicit ManyClient(HttpClientOptions options)
      : may_decline_(options.max_requests_per_second > 0), inner_(std::move(options)) {}
  HttpResponse Send(const HttpRequest& request) override {
    OneRequest batch(request);
    if (!inner_.SendMany(batch)) {
      CHECK(may_decline_);  // only a rate cap makes it decline here
      CHECK_FALSE(batch.asked());
      return inner_.Send(request);
    }
    CHECK(batch.answered() == batch.asked());
    if (!batch.asked()) {  // cancelled: the batch was never asked for its request
      HttpResponse r;
      r.error = HttpError::kCancelled;
      r.error_text = "cancelled before sending";
      return r;
    }
    return std::move(batch.response());
  }
  void SetMaxConcurrency(int n) override { inner_.SetMaxConcurrency(n); }
  void Cancel() override { inner_.Cancel(); }
  int max_concurrency() const { return inner_.max_concurrency(); }

 private:
  bool may_decline_;
  CurlHttpClient inner_;
};

// Every client test runs three times: direct transfers (our HTTP/1.1 framing over a
// connection libcurl opened), each request through SendMany (the same framing driven
// by its event loop), and libcurl's own transfer (used with proxies).
struct Direct {
  static constexpr bool kDirect = true;
  using Client = CurlHttpClient;
};
struct Many {
  static constexpr bool kDirect = true;
  using Client = ManyClient;
};
struct ViaCurl {
  static constexpr bool kDirect = false;
  using Client = CurlHttpClient;
};

template <typename Mode>
HttpClientOptions Options() {
  HttpClientOptions o;
  o.direct_transfers = Mode::kDirect;
  o.bearer_token = kToken;
  o.user_agent = "scimsync/test";
  o.connect_timeout = 2000ms;
  o.request_timeout = 5000ms;
  o.max_connections = 1;
  return o;
}

HttpRequest Req(std::string method, std::string url, std::string body = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  if (!r.body.empty()) r.headers.emplace_back("Content-Type", "application/scim+json");
  return r;
}

// A loopback port with nothing listening on it.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("HttpErrorFromCurl: the one translation of curl codes") {
  struct Row {
    CURLcode code;
    HttpError want;
  };
  const Row rows[] = {
      {CURLE_OK, HttpError::kNone},
      {CURLE_OPERATION_TIMEDOUT, HttpError::kTimeout},
      {CURLE_COULDNT_CONNECT, HttpError::kConnect},
      {CURLE_COULDNT_RESOLVE_HOST, HttpError::kConnect},
      {CURLE_COULDNT_RESOLVE_PROXY, HttpError::kConnect},
      {CURLE_SSL_CONNECT_ERROR, HttpError::kConnect},
      {CURLE_PEER_FAILED_VERIFICATION, HttpError::kConnect},
      {CURLE_SSL_CACERT_BADFILE, HttpError::kConnect},
      {CURLE_SSL_CERTPROBLEM, HttpError::kConnect},
      {CURLE_UNSUPPORTED_PROTOCOL, HttpError::kConnect},
      {CURLE_URL_MALFORMAT, HttpError::kConnect},
      {CURLE_RECV_ERROR, HttpError::kReset},
      {CURLE_SEND_ERROR, HttpError::kReset},
      {CURLE_GOT_NOTHING, HttpError::kReset},
      {CURLE_PARTIAL_FILE, HttpError::kReset},
      {CURLE_WEIRD_SERVER_REPLY, HttpError::kReset},
      {CURLE_HTTP2, HttpError::kReset},
      {CURLE_OUT_OF_MEMORY, HttpError::kReset},  // unknown outcome: the safe default
      {CURLE_ABORTED_BY_CALLBACK, HttpError::kCancelled},
      // A response over max_response_size: answered, so outcome unknown.
      {CURLE_FILESIZE_EXCEEDED, HttpError::kReset},
      {CURLE_WRITE_ERROR, HttpError::kReset},
  };
  for (const Row& row : rows) {
    CAPTURE(curl_easy_strerror(row.code));
    CHECK(HttpErrorFromCurl(row.code) == row.want);
  }
  CHECK(HttpErrorFromCurl(9999) == HttpError::kReset);
}

TEST_CASE_TEMPLATE("CurlHttpClient: keep-alive reuse, methods, bodies, headers",
                   T, Direct, Many, ViaCurl) {
  LoopbackServer server([](const SeenRequest& r) {
    Reply reply;
    reply.status = r.method == "POST" ? 201 : 200;
    reply.headers = {"X-Custom-Header: Abc", "ETag: W/\"1\"", "Content-Type: application/scim+json"};
    reply.body = r.method + " " + r.path + " " + r.body;
    return reply;
  });
  typename T::Client client(Options<T>());
  const char* methods[] = {"GET", "POST", "PATCH", "PUT", "DELETE"};
  for (const char* m : methods) {
    std::string body = std::string(m) == "GET" || std::string(m) == "DELETE" ? "" : R"({"a":1})";
    HttpResponse r = client.Send(Req(m, server.url("/scim/v2/Users"), body));
    CAPTURE(m);
    CHECK(r.error == HttpError::kNone);
    CHECK(r.status == (std::string(m) == "POST" ? 201 : 200));
    CHECK(r.body == std::string(m) + " /scim/v2/Users " + body);
    CHECK(r.Header("x-custom-header") == "Abc");
    CHECK(r.Header("etag") == "W/\"1\"");
    CHECK(r.Header("X-Custom-Header").empty());  // names are lowercased
  }
  CHECK(server.connections() == 1);  // one keep-alive connection for all five
  auto seen = server.requests();
  REQUIRE(seen.size() == 5);
  for (auto& s : seen) {
    CHECK(s.connection == 1);
    CHECK(s.headers["authorization"] == std::string("Bearer ") + kToken);
    CHECK(s.headers["user-agent"] == "scimsync/test");
    CHECK(s.headers.count("expect") == 0);
  }
  CHECK(seen[2].method == "PATCH");
  CHECK(seen[2].body == R"({"a":1})");
  CHECK(seen[2].headers["content-type"] == "application/scim+json");
  CHECK(seen[4].body.empty());
}

TEST_CASE_TEMPLATE("CurlHttpClient: timeout -> kTimeout, closed without answer -> kReset, refused -> kConnect",
                   T, Direct, Many, ViaCurl) {
  LoopbackServer server([](const SeenRequest& r) {
    Reply reply;
    if (r.path == "/slow") {
      reply.kind = Reply::kStall;
      reply.delay = 700ms;
    } else if (r.path == "/drop") {
      reply.kind = Reply::kClose;
    }
    return reply;
  });
  HttpClientOptions o = Options<T>();
  o.request_timeout = 300ms;
  typename T::Client client(o);

  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.Send(Req("POST", server.url("/slow"), "{}"));
  CHECK(r.error == HttpError::kTimeout);
  CHECK(std::chrono::steady_clock::now() - start < 650ms);
  CHECK_FALSE(r.error_text.empty());
  CHECK(r.error_text.find(kToken) == std::string::npos);

  r = client.Send(Req("PATCH", server.url("/drop"), "{}"));
  CHECK(r.error == HttpError::kReset);
  CHECK(r.error_text.find(kToken) == std::string::npos);

  r = client.Send(Req("GET", "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x"));
  CHECK(r.error == HttpError::kConnect);
  CHECK(r.error_text.find(kToken) == std::string::npos);

  // The client still works afterwards.
  r = client.Send(Req("GET", server.url("/fine")));
  CHECK(r.error == HttpError::kNone);
  CHECK(r.status == 200);
}

TEST_CASE_TEMPLATE("CurlHttpClient: an answer that comes before the body is sent (413) is the "
                   "answer, not a lost request", T, Direct, Many, ViaCurl) {
  LoopbackServer server(
      [](const SeenRequest& r) {
        Reply reply;
        if (r.path == "/too-large") {
          reply.status = 413;
          reply.body = R"({"detail":"request too large"})";
          reply.delay = 200ms;  // shut, then closed 200 ms later
        }
        return reply;
      },
      [](const SeenRequest& r) { return r.path == "/too-large"; });
  typename T::Client client(Options<T>());
  // Far more than the socket buffers hold: the client is still sending when the
  // answer comes, and the server never reads the rest.
  const std::string body(32u << 20, 'm');
  HttpResponse r = client.Send(Req("PATCH", server.url("/too-large"), body));
  CHECK(r.error == HttpError::kNone);
  CHECK(r.status == 413);
  CHECK(r.body == R"({"detail":"request too large"})");
  // The connection is not reused (the server read part of the request): the next
  // request goes over a new one, and works.
  r = client.Send(Req("GET", server.url("/fine")));
  CHECK(r.error == HttpError::kNone);
  CHECK(r.status == 200);
  CHECK(server.connections() == 2);
}

// The direct transfers only: libcurl (proxies, forms) stops the upload at any early
// final answer of a server that says it will close.
TEST_CASE_TEMPLATE("CurlHttpClient: an early 2xx does not cut the body: it is sent in full, then "
                   "the 2xx is the answer", T, Direct, Many) {
  LoopbackServer server(
      [](const SeenRequest&) {
        Reply reply;
        reply.status = 200;
        reply.body = "{}";
        return reply;
      },
      [](const SeenRequest& r) { return r.path == "/accepted-early"; });
  typename T::Client client(Options<T>());
  const std::string body(32u << 20, 'm');
  HttpResponse r = client.Send(Req("PATCH", server.url("/accepted-early"), body));
  CHECK(r.error == HttpError::kNone);
  CHECK(r.status == 200);
  // The server records the request once it has read the body to its end.
  std::vector<SeenRequest> seen;
  for (int i = 0; i < 200 && seen.empty(); ++i) {
    std::this_thread::sleep_for(10ms);
    seen = server.requests();
  }
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].body.size() == body.size());
}

TEST_CASE_TEMPLATE("CurlHttpClient: a connection the server closed while idle is replaced, "
                   "not written to",
                   T, Direct, Many, ViaCurl) {
  LoopbackServer server([](const SeenRequest& r) {
    Reply reply;
    if (r.path == "/then-close") reply.kind = Reply::kRespondClose;
    reply.body = "ok " + r.method;
    return reply;
  });
  typename T::Client client(Options<T>());
  HttpResponse r = client.Send(Req("GET", server.url("/then-close")));
  CHECK(r.status == 200);
  std::this_thread::sleep_for(50ms);  // the close reaches the client's socket
  for (const char* m : {"POST", "PATCH"}) {
    r = client.Send(Req(m, server.url("/x"), "{}"));
    CAPTURE(m);
    CHECK(r.error == HttpError::kNone);
    CHECK(r.body == std::string("ok ") + m);
  }
  CHECK(server.connections() == 2);
  CHECK(server.requests().size() == 3);  // nothing was lost on the closed connection
}

TEST_CASE_TEMPLATE("CurlHttpClient: redirects never carry the token to another host",
                   T, Direct, Many, ViaCurl) {
  LoopbackServer other([](const SeenRequest&) { return Reply{}; });
  std::string elsewhere = "http://localhost:" + std::to_string(other.port()) + "/steal";
  LoopbackServer server([&](const SeenRequest& r) {
    Reply reply;
    if (r.path == "/cross") {
      reply.status = 307;
      reply.headers = {"Location: " + elsewhere};
    } else if (r.path == "/other-port") {
      reply.status = 308;
      reply.headers = {"Location: " + other.url("/steal")};
    } else if (r.path == "/same") {
      reply.status = 307;
      reply.headers = {"Location: /moved"};
    } else if (r.path == "/see-other") {
      reply.status = 303;
      reply.headers = {"Location: /moved"};
    } else {
      reply.body = "arrived " + r.method;
    }
    return reply;
  });
  typename T::Client client(Options<T>());
  const std::string other_port = std::to_string(other.port());
  const std::string own = "127.0.0.1:" + std::to_string(server.port());

  HttpResponse r = client.Send(Req("PATCH", server.url("/cross"), R"({"x":1})"));
  CHECK(r.error == HttpError::kNone);
  CHECK(r.status == 307);
  CHECK(r.Header("location") == elsewhere);
  CHECK(r.error_text == "redirect to localhost:" + other_port +
                            " refused: not the scheme, host and port of the request, "
                            "which alone receive the token");
  r = client.Send(Req("PATCH", server.url("/other-port"), R"({"x":1})"));
  CHECK(r.status == 308);
  CHECK(r.error_text == "redirect to 127.0.0.1:" + other_port +
                            " refused: not the scheme, host and port of the request, "
                            "which alone receive the token");
  CHECK(other.requests().empty());

  // Same scheme, host and port: followed with method, body and token.
  r = client.Send(Req("PATCH", server.url("/same"), R"({"x":1})"));
  CHECK(r.status == 200);
  CHECK(r.body == "arrived PATCH");
  auto seen = server.requests();
  REQUIRE(seen.size() == 4);
  CHECK(seen[3].path == "/moved");
  CHECK(seen[3].method == "PATCH");
  CHECK(seen[3].body == R"({"x":1})");
  CHECK(seen[3].headers["authorization"] == std::string("Bearer ") + kToken);
  CHECK(r.error_text.empty());

  // 303 would turn the PATCH into a GET: returned as it is.
  r = client.Send(Req("PATCH", server.url("/see-other"), R"({"x":1})"));
  CHECK(r.status == 303);
  CHECK(r.error_text == "redirect to " + own +
                            " refused: only 307 and 308 are followed (a 303 may turn the "
                            "request into a GET)");
  CHECK(server.requests().size() == 5);
}

TEST_CASE_TEMPLATE("CurlHttpClient: a refused redirect names the Location's host, and only that",
                   T, Direct, Many, ViaCurl) {
  std::atomic<int> hops{0};
  LoopbackServer server([&](const SeenRequest& r) {
    Reply reply;
    reply.status = 307;
    if (r.path == "/loop") {
      ++hops;
      reply.headers = {"Location: /loop"};
    } else if (r.path == "/creds") {
      reply.headers = {"Location: https://user:pw-SECRET@Other-Host.example/cb?token=SECRET2"};
    }  // "/none": a 307 without Location
    return reply;
  });
  typename T::Client client(Options<T>());
  HttpResponse r = client.Send(Req("GET", server.url("/creds")));
  CHECK(r.status == 307);
  CHECK(r.error_text ==
        "redirect to other-host.example refused: not the scheme, host and port of the request, "
        "which alone receive the token");
  CHECK(r.error_text.find("SECRET") == std::string::npos);

  r = client.Send(Req("GET", server.url("/none")));
  CHECK(r.status == 307);
  CHECK(r.error_text == "redirect refused: no usable Location header");

  r = client.Send(Req("POST", server.url("/loop"), "{}"));
  CHECK(r.status == 307);
  CHECK(hops == 6);  // the request and 5 followed hops
  CHECK(r.error_text == "redirect to 127.0.0.1:" + std::to_string(server.port()) +
                            " refused: more than 5 redirects");
}

TEST_CASE_TEMPLATE("CurlHttpClient: a body larger than max_response_size is cut off, not buffered",
                   T, Direct, Many, ViaCurl) {
  constexpr std::size_t kCap = 1 << 20;
  constexpr std::size_t kHuge = std::size_t{256} << 20;
  LoopbackServer server([&](const SeenRequest& r) {
    Reply reply;
    if (r.path == "/stream") {  // no Content-Length: only the write callback can stop it
      reply.kind = Reply::kStream;
      reply.status = 201;
      reply.stream_bytes = kHuge;
    } else if (r.path == "/declared") {  // Content-Length above the cap: refused up front
      reply.body.assign(kCap + 1, 'y');
    } else if (r.path == "/headers") {
      for (int i = 0; i < 200; ++i) {
        reply.headers.push_back("X-Pad-" + std::to_string(i) + ": " + std::string(100, 'h'));
      }
    } else if (r.path == "/exact") {
      reply.body.assign(kCap, 'z');
    }
    return reply;
  });
  HttpClientOptions o = Options<T>();
  o.max_response_size = kCap;
  typename T::Client client(o);
  const std::string message =
      "response larger than max_response_size (1048576 bytes): transfer aborted";

  auto start = std::chrono::steady_clock::now();
  HttpResponse r = client.Send(Req("POST", server.url("/stream"), "{}"));
  CHECK(r.error == HttpError::kReset);  // the POST may have been committed: outcome unknown
  CHECK(r.error_text == message);
  CHECK(r.status == 0);
  CHECK(r.body.empty());
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  // The client hung up soon after the cap: what the server got out is the cap
  // plus what the loopback socket buffers hold, far from all of it.
  for (int i = 0; i < 100 && server.streamed() == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(server.streamed() < kHuge / 4);

  r = client.Send(Req("GET", server.url("/declared")));
  CHECK(r.error == HttpError::kReset);
  CHECK(r.error_text == message);

  HttpClientOptions small = Options<T>();
  small.max_response_size = 16 * 1024;
  typename T::Client tight(small);
  r = tight.Send(Req("GET", server.url("/headers")));  // about 21 KB of headers
  CHECK(r.error == HttpError::kReset);
  CHECK(r.error_text == "response larger than max_response_size (16384 bytes): transfer aborted");

  // At the cap exactly: fine, and the client goes on working.
  r = client.Send(Req("GET", server.url("/exact")));
  CHECK(r.error == HttpError::kNone);
  CHECK(r.status == 200);
  CHECK(r.body.size() == kCap);
}

TEST_CASE_TEMPLATE("CurlHttpClient: concurrency is bounded by max_connections and SetMaxConcurrency",
                   T, Direct, Many, ViaCurl) {
  LoopbackServer server([](const SeenRequest&) {
    Reply reply;
    reply.delay = 80ms;
    return reply;
  });
  HttpClientOptions o = Options<T>();
  o.max_connections = 3;
  typename T::Client client(o);
  auto burst = [&](int n) {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&] {
        if (client.Send(Req("GET", server.url("/c"))).status == 200) ++ok;
      });
    }
    for (auto& t : threads) t.join();
    return ok.load();
  };
  auto start = std::chrono::steady_clock::now();
  CHECK(burst(9) == 9);
  // 3 rounds of 80 ms; a slot freed by a finished request is reused at once.
  CHECK(std::chrono::steady_clock::now() - start < 800ms);
  CHECK(server.max_in_flight() == 3);
  CHECK(server.connections() == 3);

  client.SetMaxConcurrency(1);
  CHECK(client.max_concurrency() == 1);
  LoopbackServer second([](const SeenRequest&) {
    Reply reply;
    reply.delay = 30ms;
    return reply;
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&] { (void)client.Send(Req("GET", second.url("/c"))); });
  }
  for (auto& t : threads) t.join();
  CHECK(second.requests().size() == 5);
  CHECK(second.max_in_flight() == 1);
  client.SetMaxConcurrency(99);
  CHECK(client.max_concurrency() == 3);
}

TEST_CASE_TEMPLATE("CurlHttpClient: max_requests_per_second spaces request starts evenly",
                   T, Direct, Many, ViaCurl) {
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  LoopbackServer server([&](const SeenRequest&) {
    std::lock_guard lock(mu);
    arrivals.push_back(std::chrono::steady_clock::now());
    return Reply{};
  });
  HttpClientOptions o = Options<T>();
  o.max_connections = 4;
  o.max_requests_per_second = 20;  // 50 ms apart
  typename T::Client client(o);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] { CHECK(client.Send(Req("GET", server.url("/r"))).status == 200); });
  }
  for (auto& t : threads) t.join();
  REQUIRE(arrivals.size() == 6);
  std::sort(arrivals.begin(), arrivals.end());
  auto span = arrivals.back() - arrivals.front();
  CHECK(span >= 230ms);  // 5 intervals of 50 ms, minus scheduling slack
  CHECK(span < 1000ms);
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    CHECK(arrivals[i] - arrivals[i - 1] >= 25ms);  // no bursts
  }
}

TEST_CASE_TEMPLATE("CurlHttpClient: Cancel fails queued and later requests, in-flight ones finish",
                   T, Direct, Many, ViaCurl) {
  LoopbackServer server([](const SeenRequest&) {
    Reply reply;
    reply.delay = 200ms;
    reply.body = "done";
    return reply;
  });
  typename T::Client client(Options<T>());  // one connection: the second request queues
  HttpResponse first, second;
  std::thread a([&] { first = client.Send(Req("POST", server.url("/a"), "{}")); });
  std::this_thread::sleep_for(50ms);
  std::thread b([&] { second = client.Send(Req("POST", server.url("/b"), "{}")); });
  std::this_thread::sleep_for(50ms);
  client.Cancel();
  a.join();
  b.join();
  CHECK(first.error == HttpError::kNone);
  CHECK(first.body == "done");
  CHECK(second.error == HttpError::kCancelled);
  CHECK(client.Send(Req("GET", server.url("/c"))).error == HttpError::kCancelled);
  CHECK(server.requests().size() == 1);
}

}  // namespace scimsync

namespace scimsync {
namespace {

TEST_CASE_TEMPLATE("CurlHttpClient: a form request is sent as multipart/form-data, parts in order",
                   T, Direct, Many, ViaCurl) {
  LoopbackServer server([](const SeenRequest&) { return Reply{}; });
  typename T::Client client(Options<T>());
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/api/companies");
  req.body = "ignored";
  req.form = {{"Name", "Acme \"Corp\"", "", ""},
              {"LicenseModuleResourceIdArray", "m1", "", ""},
              {"LicenseModuleResourceIdArray", "m2", "", ""},
              {"File", std::string("a\0b", 3), "logo.png", "image/png"}};
  HttpResponse r = client.Send(req);
  REQUIRE(r.error == HttpError::kNone);
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  const std::string& ct = seen[0].headers["content-type"];
  REQUIRE(ct.rfind("multipart/form-data; boundary=", 0) == 0);
  std::string boundary = ct.substr(std::string("multipart/form-data; boundary=").size());
  const std::string& body = seen[0].body;
  CHECK(body.find("ignored") == std::string::npos);
  // Each part: its Content-Disposition, then its value; in the order given.
  std::vector<std::string> expect = {
      "--" + boundary + "\r\nContent-Disposition: form-data; name=\"Name\"\r\n\r\nAcme \"Corp\"\r\n",
      "--" + boundary +
          "\r\nContent-Disposition: form-data; name=\"LicenseModuleResourceIdArray\"\r\n\r\nm1\r\n",
      "--" + boundary +
          "\r\nContent-Disposition: form-data; name=\"LicenseModuleResourceIdArray\"\r\n\r\nm2\r\n",
      "--" + boundary +
          "\r\nContent-Disposition: form-data; name=\"File\"; filename=\"logo.png\"\r\n"
          "Content-Type: image/png\r\n\r\n" + std::string("a\0b", 3) + "\r\n",
      "--" + boundary + "--\r\n"};
  std::size_t at = 0;
  for (const std::string& e : expect) {
    std::size_t found = body.find(e, at);
    CAPTURE(e);
    CHECK(found == at);
    if (found != std::string::npos) at = found + e.size();
  }
  CHECK(at == body.size());
}

}  // namespace
}  // namespace scimsync

namespace scimsync {
namespace {

// A batch over a list of requests, tagged 100, 101, ...: records what SendMany asked
// and answered, and checks the batch contract as it goes.
class ListBatch : public HttpBatch {
 public:
  ListBatch(std::vector<HttpRequest> requests, int width)
      : requests_(std::move(requests)), width_(width) {}
  int Width() override {
    ++width_calls;
    return width_;
  }
  bool Next(HttpRequest* request, std::uint64_t* tag) override {
    ++next_calls;
    CHECK_FALSE(ended_);  // never asked again after saying no
    CHECK(outstanding_ < std::max(1, width_));
    if (next_ == requests_.size()) {
      ended_ = true;
      return false;
    }
    *request = requests_[next_];
    *tag = 100 + next_++;
    ++outstanding_;
    max_outstanding = std::max(max_outstanding, outstanding_);
    return true;
  }
  void Done(std::uint64_t tag, HttpResponse response) override {
    --outstanding_;
    CHECK(answers.count(tag) == 0);  // exactly one answer each
    order.push_back(tag);
    answers[tag] = std::move(response);
    if (on_done) on_done(*this);
  }
  void set_width(int w) { width_ = w; }
  int outstanding() const { return outstanding_; }

  int width_calls = 0;
  int next_calls = 0;
  int max_outstanding = 0;
  std::vector<std::uint64_t> order;
  std::map<std::uint64_t, HttpResponse> answers;
  std::function<void(ListBatch&)> on_done;

 private:
  std::vector<HttpRequest> requests_;
  std::size_t next_ = 0;
  int width_;
  int outstanding_ = 0;
  bool ended_ = false;
};

std::vector<HttpRequest> Gets(const LoopbackServer& server, const std::vector<std::string>& paths) {
  std::vector<HttpRequest> out;
  for (const std::string& p : paths) out.push_back(Req("GET", server.url(p)));
  return out;
}

Reply Echo(const SeenRequest& r, std::chrono::milliseconds delay) {
  Reply reply;
  reply.delay = delay;
  reply.body = r.path;
  return reply;
}

TEST_CASE("CurlHttpClient::SendMany: one thread keeps Width() requests in flight") {
  LoopbackServer server([](const SeenRequest& r) { return Echo(r, 200ms); });
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 4;
  CurlHttpClient client(o);
  ListBatch batch(Gets(server, {"/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7"}), 4);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(client.SendMany(batch));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 390ms);  // two rounds of four
  CHECK(took < 700ms);   // not eight delays in a row
  CHECK(server.max_in_flight() == 4);
  CHECK(server.connections() == 4);  // the second round reuses the first's connections
  CHECK(batch.max_outstanding == 4);
  CHECK(batch.next_calls == 9);  // eight requests, then the "no more"
  REQUIRE(batch.answers.size() == 8);
  for (auto& [key, r] : batch.answers) {
    const std::uint64_t tag = key;  // a structured binding cannot be captured
    CAPTURE(tag);
    CHECK(r.error == HttpError::kNone);
    CHECK(r.body == "/" + std::to_string(tag - 100));
  }
}

TEST_CASE("CurlHttpClient::SendMany: answers arrive as they complete, each with its tag") {
  LoopbackServer server([](const SeenRequest& r) {
    return Echo(r, r.path == "/slow" ? 300ms : r.path == "/mid" ? 150ms : 0ms);
  });
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 3;
  CurlHttpClient client(o);
  ListBatch batch(Gets(server, {"/slow", "/mid", "/fast"}), 3);
  REQUIRE(client.SendMany(batch));
  CHECK(batch.order == std::vector<std::uint64_t>{102, 101, 100});
  CHECK(batch.answers[100].body == "/slow");
  CHECK(batch.answers[101].body == "/mid");
  CHECK(batch.answers[102].body == "/fast");
}

TEST_CASE("CurlHttpClient::SendMany: a Width() lowered during the batch is respected") {
  LoopbackServer server([](const SeenRequest& r) { return Echo(r, 60ms); });
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 3;
  CurlHttpClient client(o);
  ListBatch batch(Gets(server, {"/a", "/b", "/c", "/d", "/e", "/f"}), 3);
  int at_lowering = -1;
  batch.on_done = [&](ListBatch& b) {
    if (at_lowering < 0) at_lowering = b.next_calls;
    b.set_width(1);  // ListBatch::Next checks no start ever exceeds the width
  };
  REQUIRE(client.SendMany(batch));
  CHECK(batch.answers.size() == 6);
  CHECK(at_lowering == 3);
  // The two still in flight drained before the fourth started: one at a time after.
  CHECK(server.max_in_flight() == 3);
  CHECK(server.requests().size() == 6);
  CHECK(batch.max_outstanding == 3);
}

TEST_CASE("CurlHttpClient::SendMany: Next() saying no ends the batch once in-flight ones answer") {
  LoopbackServer server([](const SeenRequest& r) { return Echo(r, 100ms); });
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 4;
  CurlHttpClient client(o);
  ListBatch batch(Gets(server, {"/a", "/b"}), 4);
  REQUIRE(client.SendMany(batch));
  CHECK(batch.next_calls == 3);  // two, then no; never asked again
  CHECK(batch.answers.size() == 2);
  CHECK(batch.outstanding() == 0);

  ListBatch empty({}, 4);
  REQUIRE(client.SendMany(empty));
  CHECK(empty.next_calls == 1);
  CHECK(empty.answers.empty());
}

TEST_CASE("CurlHttpClient::SendMany: one request times out, the others are answered") {
  LoopbackServer server([](const SeenRequest& r) {
    Reply reply = Echo(r, 0ms);
    if (r.path == "/slow") {
      reply.kind = Reply::kStall;
      reply.delay = 900ms;
    }
    return reply;
  });
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 3;
  o.request_timeout = 300ms;
  CurlHttpClient client(o);
  ListBatch batch(Gets(server, {"/fast1", "/slow", "/fast2", "/fast3"}), 3);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(client.SendMany(batch));
  CHECK(std::chrono::steady_clock::now() - start < 800ms);
  REQUIRE(batch.answers.size() == 4);
  CHECK(batch.answers[101].error == HttpError::kTimeout);
  CHECK(batch.answers[101].error_text == "no complete response within 300 ms");
  for (std::uint64_t tag : {100, 102, 103}) {
    CAPTURE(tag);
    CHECK(batch.answers[tag].error == HttpError::kNone);
    CHECK(batch.answers[tag].status == 200);
  }
  CHECK(batch.order.back() == 101);
}

TEST_CASE("CurlHttpClient::SendMany: a refused port answers every request with kConnect") {
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 2;
  CurlHttpClient client(o);
  const std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x";
  ListBatch batch({Req("GET", url), Req("POST", url, "{}"), Req("PATCH", url, "{}")}, 2);
  REQUIRE(client.SendMany(batch));
  REQUIRE(batch.answers.size() == 3);
  for (auto& [key, r] : batch.answers) {
    const std::uint64_t tag = key;  // a structured binding cannot be captured
    CAPTURE(tag);
    CHECK(r.error == HttpError::kConnect);
    CHECK_FALSE(r.error_text.empty());
  }
}

TEST_CASE("CurlHttpClient::SendMany: cannot with a proxy, a rate cap or direct transfers off") {
  struct Row {
    const char* what;
    std::function<void(HttpClientOptions&)> set;
  };
  const Row rows[] = {
      {"proxy", [](HttpClientOptions& o) { o.proxy = "http://127.0.0.1:1"; }},
      {"rate cap", [](HttpClientOptions& o) { o.max_requests_per_second = 10; }},
      {"direct off", [](HttpClientOptions& o) { o.direct_transfers = false; }},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    HttpClientOptions o = Options<Direct>();
    row.set(o);
    CurlHttpClient client(o);
    ListBatch batch({Req("GET", "http://127.0.0.1:1/x")}, 1);
    CHECK_FALSE(client.SendMany(batch));
    CHECK(batch.width_calls == 0);
    CHECK(batch.next_calls == 0);
  }
}

TEST_CASE("CurlHttpClient::SendMany: Cancel stops new starts, in-flight requests finish") {
  LoopbackServer server([](const SeenRequest& r) { return Echo(r, 200ms); });
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 2;
  CurlHttpClient client(o);
  ListBatch batch(Gets(server, {"/a", "/b", "/c", "/d", "/e"}), 2);
  std::thread canceller([&] {
    std::this_thread::sleep_for(80ms);
    client.Cancel();
  });
  REQUIRE(client.SendMany(batch));
  canceller.join();
  CHECK(batch.next_calls == 2);  // no more asked once cancelled
  REQUIRE(batch.answers.size() == 2);
  CHECK(batch.answers[100].error == HttpError::kNone);
  CHECK(batch.answers[101].error == HttpError::kNone);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("CurlHttpClient::SendMany: shares max_connections with Send on other threads") {
  LoopbackServer server([](const SeenRequest& r) { return Echo(r, 150ms); });
  HttpClientOptions o = Options<Direct>();
  o.max_connections = 2;
  CurlHttpClient client(o);
  std::thread other([&] { CHECK(client.Send(Req("GET", server.url("/t"))).status == 200); });
  std::this_thread::sleep_for(40ms);  // the other thread holds one of the two slots
  ListBatch batch(Gets(server, {"/a", "/b", "/c"}), 2);
  REQUIRE(client.SendMany(batch));
  other.join();
  CHECK(batch.answers.size() == 3);
  CHECK(server.max_in_flight() == 2);
  CHECK(batch.max_outstanding >= 1);

  // All slots taken elsewhere and none of ours in flight: SendMany waits for one.
  client.SetMaxConcurrency(1);
  std::thread holder([&] { CHECK(client.Send(Req("GET", server.url("/h"))).status == 200); });
  std::this_thread::sleep_for(40ms);
  ListBatch one(Gets(server, {"/x"}), 2);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(client.SendMany(one));
  holder.join();
  // The holder's 150 ms (less the 40 already gone), then its own 150.
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);
  CHECK(one.answers[100].status == 200);
}

}  // namespace
}  // namespace scimsync
