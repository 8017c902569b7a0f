// Runs the source watch (connectors/source_watch.h) on its own thread for the daemon
// (DESIGN §8 `[source] watch`): the daemon's event loop only sees a file descriptor
// that becomes readable, then asks TakeChanged() and State().
//
// Rules:
// - The methods are tried in the order given (best first: inotify before a polled
//   mtime; syncrepl before a polled change marker). Start() failing with an error a
//   retry cannot cure moves to the next method with one WARN line
//   `event=watch_fallback method=... next=... error=...`; when none is left,
//   `event=watch_unavailable` (WARN) says that only the `interval` cycle remains.
//   The watch never goes silent without a warning.
// - A retryable Start() error (server down) retries the same method after a
//   backoff: first_backoff, doubling, capped at max_backoff; one WARN line
//   `event=watch_error` per outage, `event=watch_resumed` when it is back.
// - Wait() failing (connection lost) logs `event=watch_lost` (WARN) and restarts the
//   method with the same backoff. A successful Start() after a lost watch or a
//   retryable error counts as a change: what happened while the watch was down is
//   unknown, and a cycle reads the whole source anyway, so nothing is lost. The
//   first start is no such gap, also when it got there by falling back (syncrepl
//   refused, then a polled marker): its baseline is read alongside the daemon's
//   first cycle. Reporting it anyway would start a cycle that reads the source
//   ahead of a polled marker's baseline, and a change undone before the next poll
//   (an add, then its delete) would then restore that baseline and go unseen.
// - Stop() ends the thread within about `slice` (each Wait() is that long); a
//   method stuck in a server round trip longer than `stop_grace` is left behind
//   (detached) so that a shutdown is never held up by the watch.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "connectors/source_watch.h"
#include "core/clock.h"

namespace scimsync {

struct WatchRunnerOptions {
  Millis slice{500};           // Wait() timeout: the stop latency
  Millis first_backoff{1000};  // after a lost watch or a retryable Start() error
  Millis max_backoff{60000};
  Millis stop_grace{3000};
};

class WatchRunner {
 public:
  // `methods` must not be empty.
  WatchRunner(std::vector<std::unique_ptr<SourceWatcher>> methods, WatchRunnerOptions options);
  ~WatchRunner();  // Stop()
  WatchRunner(const WatchRunner&) = delete;
  WatchRunner& operator=(const WatchRunner&) = delete;

  // Creates the notification fd and starts the thread. Errors: kInternal.
  Status Start();
  void Stop();

  // Readable when a change was seen or the state text changed.
  int fd() const;
  // Empties fd(); true if a change was seen since the last call.
  bool TakeChanged();
  // For STATUS=: "watching (inotify on /srv/hr)", "watch reconnecting (syncrepl): ...",
  // "watch off: ...".
  std::string State() const;

  struct Shared;  // shared with the thread, which may outlive Stop() (stop_grace)

 private:
  std::shared_ptr<Shared> shared_;
  WatchRunnerOptions options_;
  bool started_ = false;
};

}  // namespace scimsync
