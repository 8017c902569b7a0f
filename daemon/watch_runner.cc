#include "daemon/watch_runner.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/log.h"

namespace scimsync {

struct WatchRunner::Shared {
  std::vector<std::unique_ptr<SourceWatcher>> methods;
  int efd = -1;
  std::atomic<bool> changed{false};
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  bool exited = false;
  std::string state = "watch starting";
  std::thread thread;

  ~Shared() {
    if (efd >= 0) ::close(efd);
  }

  void Poke() {
    std::uint64_t one = 1;
    while (::write(efd, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }
  void SetState(std::string s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (state == s) return;
      state = std::move(s);
    }
    Poke();
  }
  void Changed() {
    changed = true;
    Poke();
  }
  // Sleeps `d` unless stopped first; returns false when stopped.
  bool Sleep(Millis d) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, d, [this] { return stop; });
  }
  bool Stopped() {
    std::lock_guard<std::mutex> lock(mu);
    return stop;
  }
};

namespace {

std::string Ms(Millis d) { return std::to_string(d.count()); }

void Run(const std::shared_ptr<WatchRunner::Shared>& sh, const WatchRunnerOptions& o);

}  // namespace

WatchRunner::WatchRunner(std::vector<std::unique_ptr<SourceWatcher>> methods,
                         WatchRunnerOptions options)
    : shared_(std::make_shared<Shared>()), options_(options) {
  shared_->methods = std::move(methods);
}

WatchRunner::~WatchRunner() { Stop(); }

Status WatchRunner::Start() {
  if (started_) return Status::Ok();
  if (shared_->methods.empty()) return Status(ErrorCode::kInternal, "watch: no method");
  shared_->efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (shared_->efd < 0) return Status(ErrorCode::kInternal, "watch: eventfd failed");
  std::shared_ptr<Shared> sh = shared_;
  WatchRunnerOptions o = options_;
  shared_->thread = std::thread([sh, o] { Run(sh, o); });
  started_ = true;
  return Status::Ok();
}

void WatchRunner::Stop() {
  if (!started_) return;
  started_ = false;
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->stop = true;
  shared_->cv.notify_all();
  bool done = shared_->cv.wait_for(lock, options_.stop_grace, [this] { return shared_->exited; });
  lock.unlock();
  if (done) {
    shared_->thread.join();
  } else {
    // Stuck in a server round trip: it owns a reference to the shared state and
    // ends on its own; the process does not wait for it.
    LogWarn("watch_stop_slow", {{"action", "leaving the watch thread behind"}});
    shared_->thread.detach();
  }
}

int WatchRunner::fd() const { return shared_->efd; }

bool WatchRunner::TakeChanged() {
  std::uint64_t v;
  while (::read(shared_->efd, &v, sizeof v) < 0 && errno == EINTR) {
  }
  return shared_->changed.exchange(false);
}

std::string WatchRunner::State() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return shared_->state;
}

namespace {

void Run(const std::shared_ptr<WatchRunner::Shared>& sh, const WatchRunnerOptions& o) {
  std::size_t index = 0;
  Millis backoff = o.first_backoff;
  // No watch has run yet: the first start's baseline is read alongside the first
  // cycle, so it is no gap. Falling back to the next method keeps it so (the
  // methods tried before saw nothing either); only a retry after a server error
  // or a lost watch leaves a stretch of time nobody watched.
  bool gap = false;
  bool in_outage = false;  // one watch_error line per outage
  while (!sh->Stopped()) {
    SourceWatcher& w = *sh->methods[index];
    Status st = w.Start();
    if (!st.ok()) {
      if (!st.Retryable()) {
        if (index + 1 < sh->methods.size()) {
          LogWarn("watch_fallback", {{"method", w.Method()},
                                     {"error", st.message()},
                                     {"next", sh->methods[index + 1]->Method()}});
          ++index;
          continue;
        }
        LogWarn("watch_unavailable",
                {{"method", w.Method()},
                 {"error", st.message()},
                 {"action", "no watch; changes reach the target at the next interval cycle"}});
        sh->SetState("watch off (" + w.Method() + ": " + st.message() + ")");
        break;
      }
      if (!in_outage) {
        LogWarn("watch_error", {{"method", w.Method()},
                                {"error", st.message()},
                                {"retry_in_ms", Ms(backoff)}});
        in_outage = true;
      }
      sh->SetState("watch retrying (" + w.Method() + ": " + st.message() + ")");
      gap = true;
      if (!sh->Sleep(backoff)) break;
      backoff = std::min(backoff * 2, o.max_backoff);
      continue;
    }
    LogInfo(in_outage ? "watch_resumed" : "watch_start",
            {{"method", w.Method()}, {"watching", w.Describe()}});
    sh->SetState("watching (" + w.Describe() + ")");
    in_outage = false;
    backoff = o.first_backoff;
    if (gap) sh->Changed();  // what happened in the gap is unknown: one cycle reads it all
    gap = false;
    while (!sh->Stopped()) {
      Result<bool> r = w.Wait(o.slice);
      if (!r.ok()) {
        gap = true;
        LogWarn("watch_lost", {{"method", w.Method()},
                               {"error", r.status().message()},
                               {"retry_in_ms", Ms(backoff)}});
        in_outage = true;
        sh->SetState("watch reconnecting (" + w.Method() + ": " + r.status().message() + ")");
        if (!sh->Sleep(backoff)) break;
        backoff = std::min(backoff * 2, o.max_backoff);
        break;
      }
      if (*r) sh->Changed();
    }
  }
  std::lock_guard<std::mutex> lock(sh->mu);
  sh->exited = true;
  sh->cv.notify_all();
}

}  // namespace
}  // namespace scimsync
