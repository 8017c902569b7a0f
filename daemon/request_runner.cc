#include "daemon/request_runner.h"

#include <algorithm>
#include <optional>
#include <random>

#include "core/log.h"

namespace scimsync {
namespace {

// Jitter in [0.5, 1.5): spreads retries of many workers and many instances.
double Jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.5, 1.5)(rng);
}

std::string FormatMillis(Millis d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
}

bool Retried(Action a) {
  return a == Action::kTransient || a == Action::kThrottle || a == Action::kUnreachable;
}

}  // namespace

RequestRunner::RequestRunner(Clock& clock, const ExecutorOptions& options)
    : clock_(clock),
      options_(options),
      workers_(std::max(1, options.max_connections)),
      last_answer_(clock.Steady()) {}

bool RequestRunner::Stopping() const {
  return stopped_.load() || (external_stop_ && external_stop_->load());
}

void RequestRunner::Stop(ErrorCode code, std::string reason) {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  stop_code_ = code;
  stop_reason_ = std::move(reason);
  LogError("cycle_stopping", {{"reason", stop_reason_}});
}

bool RequestRunner::Sleep(Millis d) {
  auto until = clock_.Steady() + d;
  while (!Stopping()) {
    CheckOutage();
    auto now = clock_.Steady();
    if (now >= until) return true;
    clock_.SleepFor(std::min<Millis>(Millis(200),
                                     std::chrono::duration_cast<Millis>(until - now)));
  }
  return false;
}

void RequestRunner::NoteAnswer() {
  consecutive_failures_ = 0;
  ++answers_;
  {
    std::lock_guard lock(mu_);
    last_answer_ = clock_.Steady();
    failing_since_answer_ = false;
  }
  MaybeRaise();
}

void RequestRunner::MaybeRaise() {
  const int max = std::max(1, options_.max_connections);
  if (workers_.load() >= max) return;
  int raised = 0;
  {
    std::lock_guard lock(mu_);
    auto now = clock_.Steady();
    if (now - last_throttle_ < options_.recover_after ||
        now - last_raise_ < options_.recover_after) {
      return;
    }
    int cur = workers_.load();
    if (cur >= max) return;
    raised = cur + 1;
    workers_.store(raised);
    last_raise_ = now;
  }
  LogInfo("concurrency_raised", {{"concurrency", raised}});
}

void RequestRunner::NoteFailedAttempt(const std::string& what, const TargetResponse& r) {
  {
    std::lock_guard lock(mu_);
    last_failure_ = what + ": " + r.Summary();
    failing_since_answer_ = true;
  }
  CheckOutage();
}

void RequestRunner::CheckOutage() {
  std::string reason;
  {
    std::lock_guard lock(mu_);
    if (!failing_since_answer_ || stopped_) return;
    Millis quiet = std::chrono::duration_cast<Millis>(clock_.Steady() - last_answer_);
    if (quiet < options_.max_outage) return;
    reason = "target unavailable: no usable answer for " + FormatMillis(quiet) +
             ", last: " + last_failure_;
  }
  Stop(ErrorCode::kUnavailable, std::move(reason));
}

void RequestRunner::NoteFailedRequest(const std::string& what, const TargetResponse& r,
                                      Action action) {
  int n = ++consecutive_failures_;
  ++failed_requests_;
  if (action == Action::kUnreachable) {
    // Nothing reached the server, even after retries: every other request would
    // fail the same way.
    Stop(ErrorCode::kUnavailable, "target unreachable: " + r.detail);
    return;
  }
  if (n >= options_.max_failures_per_cycle) {
    Stop(ErrorCode::kUnavailable, "circuit breaker: " + std::to_string(n) +
                                      " requests in a row failed, last: " + what + ": " +
                                      r.Summary());
  }
}

void RequestRunner::Throttle(const TargetResponse& r) {
  {
    std::lock_guard lock(mu_);
    last_throttle_ = clock_.Steady();
  }
  int now = workers_.load();
  int lower = std::max(1, now / 2);
  if (lower < now && workers_.compare_exchange_strong(now, lower)) {
    LogWarn("rate_limited", {{"concurrency", lower}, {"detail", r.Summary()}});
  }
}

Answer RequestRunner::Send(Verb verb, const std::string& what,
                           const std::function<TargetResponse()>& send, bool if_match_sent) {
  return SendCreate(verb, what, send, nullptr, if_match_sent, nullptr);
}

Answer RequestRunner::SendCreate(Verb verb, const std::string& what,
                                 const std::function<TargetResponse()>& send, const Finder& find,
                                 TargetResponse* first) {
  return SendCreate(verb, what, send, find, false, first);
}

Answer RequestRunner::SendCreate(Verb verb, const std::string& what,
                                 const std::function<TargetResponse()>& send, const Finder& find,
                                 bool if_match_sent, TargetResponse* first) {
  std::optional<TargetResponse> lost;  // an attempt the target may have applied
  int retries = 0, throttles = 0;
  // The last attempt failed in a way that may have applied it (5xx other than 503,
  // timeout, reset). A 429 or 503 says the request was not handled (RFC 9110 §15.6.4).
  bool may_exist = false;
  for (;;) {
    if (may_exist && !Repeatable(verb)) {
      // Never a second POST for what may already exist (DESIGN §4): look first.
      if (!find) return {*lost, Action::kTransient, true};
      if (std::optional<Answer> seen = find()) return *seen;
    }
    if (Stopping() && first == nullptr) {
      if (lost) return {*lost, Action::kTransient, true};
      TargetResponse r;
      r.transport = Transport::kCancelled;
      r.detail = "stop requested";
      return {r, Action::kCancelled, false};
    }
    TargetResponse r = first != nullptr ? std::move(*first) : send();
    first = nullptr;
    Decision d = Classify(verb, r, if_match_sent);
    if (!Retried(d.action)) {
      if (d.action == Action::kCancelled) {
        if (lost) return {*lost, Action::kTransient, true};
        return {r, d.action, false};
      }
      NoteAnswer();
      if (d.action == Action::kStopAuth) {
        Stop(ErrorCode::kAuth, "target refused the credentials: " + r.Summary() +
                                   " (check target.token_file / token_env and the token's role)");
      }
      return {r, d.action, d.maybe_applied || lost.has_value()};
    }
    if (d.maybe_applied) lost = r;
    may_exist = d.maybe_applied && d.action == Action::kTransient;
    NoteFailedAttempt(what, r);
    Millis wait;
    if (d.action == Action::kThrottle) {
      // The server asks us to slow down (429), or is overloaded or down (503): run
      // fewer requests at once until it has been quiet a while, and honour Retry-After.
      Throttle(r);
      if (++throttles > options_.max_retries * 3) {
        NoteFailedRequest(what, r, d.action);
        return {r, d.action, lost.has_value()};
      }
      wait = r.retry_after ? std::chrono::duration_cast<Millis>(*r.retry_after)
                           : Millis(static_cast<long>(options_.retry_base.count() *
                                                      (1L << std::min(throttles - 1, 16)) *
                                                      Jitter()));
    } else {
      if (retries >= options_.max_retries) {
        NoteFailedRequest(what, r, d.action);
        return {r, d.action, lost.has_value()};
      }
      wait = Millis(static_cast<long>(options_.retry_base.count() *
                                      (1L << std::min(retries, 16)) * Jitter()));
      ++retries;
    }
    wait = std::min(wait, options_.max_retry_wait);
    LogDebug("request_retry", {{"attempt", retries + throttles},
                               {"wait_ms", wait.count()},
                               {"detail", r.Summary()}});
    if (!Sleep(wait)) {
      // Stopped while waiting: report what we had.
      return {lost ? *lost : r, d.action, lost.has_value()};
    }
  }
}

Answer RequestRunner::SendWithIfMatch(
    Verb verb, const std::string& what,
    const std::function<TargetResponse(const std::string&, const TargetResponse*)>& send,
    const std::function<TargetResponse()>& reread) {
  Answer first = Send(verb, what, [&] { return send("", nullptr); });
  if (first.action != Action::kRetryWithIfMatch) return first;
  LogInfo("precondition_retry", {{"request", what}, {"detail", first.response.Summary()}});
  Answer current = Send(Verb::kGet, what, reread);
  if (current.action == Action::kGone) {
    // Gone between the two requests: what a 404 means depends on the verb.
    current.action = Classify(verb, current.response).action;
    return current;
  }
  if (current.action != Action::kDone) {
    // The re-read failed: report the write's refusal unless the read has its own
    // reason to stop or defer.
    if (current.action == Action::kUnconfirmed) return {first.response, Action::kReject, false};
    return current;
  }
  std::string etag = current.response.etag.empty() ? "*" : current.response.etag;
  return Send(verb, what, [&] { return send(etag, &current.response); }, /*if_match_sent=*/true);
}

Status RequestRunner::Finish() {
  if (!Stopping() && answers_ == 0 && failed_requests_ > 0) {
    std::string last;
    {
      std::lock_guard lock(mu_);
      last = last_failure_;
    }
    Stop(ErrorCode::kUnavailable, "target unavailable: all " +
                                      std::to_string(failed_requests_.load()) +
                                      " requests failed after retries, last: " + last);
  }
  std::lock_guard lock(mu_);
  if (stop_code_ != ErrorCode::kOk) return Status(stop_code_, stop_reason_);
  if (external_stop_ && external_stop_->load()) {
    return Status(ErrorCode::kCancelled, "stop requested");
  }
  return Status::Ok();
}

}  // namespace scimsync
