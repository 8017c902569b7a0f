// RequestRunner: sends one request with the retry side of the response policies
// (daemon/response_policy.h) and decides when the whole run must stop. It knows
// nothing of users, groups or the state store.
//
// Per request (Send):
//   * transient (5xx, timeout, reset) and unreachable (refused connection): up to
//     `max_retries` retries, waiting retry_base * 2^n (+-50% jitter);
//   * throttle (429, 503): up to 3 * `max_retries` retries, waiting Retry-After if
//     the answer has one, else the same backoff; a throttle halves the worker
//     count (never below 1); once no throttle has come for `recover_after` (and as
//     long since the last raise), an answer raises it by one, never above
//     max_connections (additive increase, multiplicative decrease);
//   * every wait is capped at `max_retry_wait` and ends early when the run stops;
//   * anything else is returned at once with its Action.
//   The Answer carries the last response, or an earlier one whose outcome is unknown
//   (a timeout, a 5xx) when a later attempt was cancelled.
//
// Stopping the run (Stopping() becomes true; in-flight requests finish):
//   * the external stop flag (SIGTERM): Run reports kCancelled;
//   * stop-auth (401/403): at once, kAuth;
//   * unreachable after the retries of one request: kUnavailable;
//   * circuit breaker: `max_failures_per_cycle` requests in a row, across all
//     workers, failed transiently after their retries: kUnavailable;
//   * outage breaker: no usable answer (only 5xx, 429, timeouts, resets) for
//     `max_outage` since the last one (or since the start), checked after every
//     failed attempt and during every wait: kUnavailable. So a cycle against a
//     target that is down stops within max_outage plus one request timeout;
//   * Finish(): every request of the run failed transiently: kUnavailable.
//   * Stop(): a caller's reason (the state store failing).
//
// Thread-safe: Send is called from several workers at once.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <mutex>
#include <string>

#include "connectors/target.h"
#include "core/clock.h"
#include "core/result.h"
#include "daemon/executor_options.h"
#include "daemon/response_policy.h"

namespace scimsync {

struct Answer {
  TargetResponse response;
  Action action = Action::kCancelled;
  bool maybe_applied = false;  // this or an earlier attempt may have been applied
};

class RequestRunner {
 public:
  RequestRunner(Clock& clock, const ExecutorOptions& options);

  void SetStopFlag(const std::atomic<bool>* stop) { external_stop_ = stop; }

  // Sends `send()` under the policies above. `what` names the request in log lines
  // and stop reasons ("create user ann@example.com").
  Answer Send(Verb verb, const std::string& what, const std::function<TargetResponse()>& send,
              bool if_match_sent = false);

  // For a verb that is not Repeatable (the creates): before an attempt that may have
  // been applied is sent again, `find` looks for the object (by externalId). An
  // answer from it ends the request (kAdopt: it is there; anything else: the object
  // stays uncertain); nullopt means it is not there and the create is sent again.
  // Without `find`, such an attempt is never repeated.
  // `first`, when set, is the answer to a first attempt already sent by someone else
  // (Target::CreateUsers): it is taken as that attempt's answer even when the run
  // is stopping (the request went out), and consumed (moved from).
  using Finder = std::function<std::optional<Answer>()>;
  Answer SendCreate(Verb verb, const std::string& what, const std::function<TargetResponse()>& send,
                    const Finder& find, TargetResponse* first = nullptr);

 private:
  Answer SendCreate(Verb verb, const std::string& what, const std::function<TargetResponse()>& send,
                    const Finder& find, bool if_match_sent, TargetResponse* first);

 public:

  // Send, and on kRetryWithIfMatch: re-read the object with `reread` (a GET), then
  // send once more with its ETag ("*" when it has none). `send` gets the ETag ("" the
  // first time) and the re-read answer (nullptr the first time). A re-read that finds
  // the object gone is answered as a 404 to `verb` would be.
  Answer SendWithIfMatch(
      Verb verb, const std::string& what,
      const std::function<TargetResponse(const std::string& etag, const TargetResponse* current)>&
          send,
      const std::function<TargetResponse()>& reread);

  bool Stopping() const;
  // Stops the run (first reason wins) and logs `cycle_stopping`.
  void Stop(ErrorCode code, std::string reason);
  // Workers allowed now (lowered by throttling).
  int workers() const { return workers_.load(); }
  // The run's outcome: why it stopped, the all-failed rule, or ok.
  Status Finish();

 private:
  bool Sleep(Millis d);
  void NoteAnswer();
  void NoteFailedAttempt(const std::string& what, const TargetResponse& r);
  void NoteFailedRequest(const std::string& what, const TargetResponse& r, Action action);
  void CheckOutage();
  void Throttle(const TargetResponse& r);
  void MaybeRaise();

  Clock& clock_;
  const ExecutorOptions& options_;
  const std::atomic<bool>* external_stop_ = nullptr;

  std::atomic<int> workers_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> consecutive_failures_{0};
  std::atomic<int> answers_{0}, failed_requests_{0};
  mutable std::mutex mu_;  // guards the fields below
  ErrorCode stop_code_ = ErrorCode::kOk;
  std::string stop_reason_;
  std::string last_failure_;
  std::chrono::steady_clock::time_point last_answer_;
  bool failing_since_answer_ = false;
  std::chrono::steady_clock::time_point last_throttle_, last_raise_;
};

}  // namespace scimsync
