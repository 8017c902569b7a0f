// FakeHttpClient: a recording, scriptable HttpClient for unit tests of anything that
// talks HTTP through connectors/scim/http_client.h (ScimTarget, the executor over a
// real ScimTarget, ...). It fakes OUR interface, never a protocol.
//
// Answers, in this order of precedence:
//   1. a handler set with SetHandler(fn): fn(request) answers every request
//      (use it for servers with state, or to route by method/path);
//   2. otherwise the next scripted response from the queue (Push / PushStatus /
//      PushError), first in, first out;
//   3. otherwise an error response (kConnect, error_text "FakeHttpClient: no
//      scripted response for <METHOD> <url>"), counted in unscripted(), so a test
//      can CHECK(fake.unscripted() == 0).
// Every request is recorded (requests(), last()) before it is answered.
// SendMany: only after EnableSendMany() (see there).
// SetMaxConcurrency and Cancel are recorded; after Cancel, Send answers kCancelled
// without consulting the handler or the queue (the request is still recorded).
//
// Thread-safe: concurrent Send() calls are fine; the handler runs outside the lock.
//
// Example:
//   FakeHttpClient http;
//   http.PushStatus(201, R"({"id":"u1","userName":"alice"})");
//   ScimTarget target(http, {.base_url = "https://t/scim/v2"}, clock);
//   auto r = target.CreateUser(alice);
//   CHECK(http.last().method == "POST");
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "connectors/scim/http_client.h"

namespace scimsync {

class FakeHttpClient : public HttpClient {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // A response with this status, body and headers (header names given lowercase,
  // as the real client delivers them).
  static HttpResponse Response(int status, std::string body = "", Headers headers = {}) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }
  // A transport failure (timeout, reset, connect, cancelled).
  static HttpResponse Failure(HttpError error, std::string text = "fake transport error") {
    HttpResponse r;
    r.error = error;
    r.error_text = std::move(text);
    return r;
  }

  void Push(HttpResponse response) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(response));
  }
  void PushStatus(int status, std::string body = "", Headers headers = {}) {
    Push(Response(status, std::move(body), std::move(headers)));
  }
  void PushError(HttpError error, std::string text = "fake transport error") {
    Push(Failure(error, std::move(text)));
  }
  void SetHandler(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }

  HttpResponse Send(const HttpRequest& request) override {
    Handler handler;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      if (cancelled_) return Failure(HttpError::kCancelled, "cancelled before sending");
      if (!handler_) {
        if (!queue_.empty()) {
          HttpResponse r = std::move(queue_.front());
          queue_.pop_front();
          return r;
        }
        ++unscripted_;
        return Failure(HttpError::kConnect, "FakeHttpClient: no scripted response for " +
                                                request.method + " " + request.url);
      }
      handler = handler_;
    }
    return handler(request);
  }

  // With EnableSendMany(): SendMany starts up to Width() requests (Next), sends them
  // in start order through Send above, and hands the answers back in the REVERSE
  // order (answers complete out of order on a real client). Off by default.
  void EnableSendMany() { send_many_ = true; }
  bool SendMany(HttpBatch& batch) override {
    if (!send_many_) return false;
    ++send_many_calls_;
    bool more = true;
    while (more) {
      std::vector<std::pair<std::uint64_t, HttpRequest>> started;
      const int width = std::max(1, batch.Width());
      while (static_cast<int>(started.size()) < width) {
        HttpRequest req;
        std::uint64_t tag = 0;
        if (!batch.Next(&req, &tag)) {
          more = false;
          break;
        }
        started.emplace_back(tag, std::move(req));
      }
      std::vector<std::pair<std::uint64_t, HttpResponse>> answers;
      for (const auto& [tag, req] : started) answers.emplace_back(tag, Send(req));
      for (auto it = answers.rbegin(); it != answers.rend(); ++it) {
        batch.Done(it->first, std::move(it->second));
      }
    }
    return true;
  }
  int send_many_calls() const { return send_many_calls_; }

  void SetMaxConcurrency(int n) override {
    std::lock_guard lock(mu_);
    concurrency_calls_.push_back(n);
  }
  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }

  // --- inspection ------------------------------------------------------------
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  // The most recent request (a default one if none was sent).
  HttpRequest last() const {
    std::lock_guard lock(mu_);
    return requests_.empty() ? HttpRequest{} : requests_.back();
  }
  // Every value passed to SetMaxConcurrency, in order.
  std::vector<int> concurrency_calls() const {
    std::lock_guard lock(mu_);
    return concurrency_calls_;
  }
  bool cancelled() const {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  std::size_t unscripted() const {
    std::lock_guard lock(mu_);
    return unscripted_;
  }
  std::size_t pending() const {  // scripted responses not yet consumed
    std::lock_guard lock(mu_);
    return queue_.size();
  }
  void ClearRequests() {
    std::lock_guard lock(mu_);
    requests_.clear();
  }

  // Value of the first request header with that name (case-insensitive), or "".
  static std::string HeaderOf(const HttpRequest& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
      if (k.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < k.size() && same; ++i) {
        same = Fold(k[i]) == Fold(name[i]);
      }
      if (same) return v;
    }
    return "";
  }

 private:
  static char Fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

  mutable std::mutex mu_;
  Handler handler_;
  std::deque<HttpResponse> queue_;
  std::vector<HttpRequest> requests_;
  std::vector<int> concurrency_calls_;
  bool send_many_ = false;   // set before use, read by the calling thread only
  int send_many_calls_ = 0;
  std::size_t unscripted_ = 0;
  bool cancelled_ = false;
};

}  // namespace scimsync
