// A SourceWatcher tells the daemon that the source may have changed, so a cycle can
// start within seconds instead of at the next `interval` (DESIGN §8 `[source] watch`).
// It never reads the directory itself: a change only triggers a normal cycle, which
// reads the whole snapshot (connectors/source.h), so a watcher that reports a change
// too often costs a cycle and one that misses a change costs latency until the
// `interval` cycle, never correctness.
//
// Contract (the daemon's watch runner, daemon/watch_runner.h, drives it from its own
// thread; a watcher is used by one thread at a time):
// - Start() sets the watch up and takes the baseline (connects, binds, reads the
//   current marker). A retryable error (IsRetryable: server down, timeout) means
//   "try this method again later"; any other error means "this method cannot work
//   here" (no inotify, no syncprov, no such attribute) and the runner falls back to
//   the next method. Start() may be called again after Wait() failed (reconnect).
// - Wait(timeout) blocks at most about `timeout` (a poll may overrun by one server
//   round trip) and returns true if the source changed since Start() or since the
//   last true, false if nothing changed yet. An error means the watch broke (the
//   connection was lost); the runner calls Start() again with backoff.
// - Describe() says what is watched, for logs and STATUS=; never a secret.
#pragma once

#include <chrono>
#include <string>

#include "core/result.h"

namespace scimsync {

class SourceWatcher {
 public:
  virtual ~SourceWatcher() = default;
  virtual Status Start() = 0;
  virtual Result<bool> Wait(std::chrono::milliseconds timeout) = 0;
  // Short name of the method: "inotify", "mtime_poll", "syncrepl", "usn_poll",
  // "context_csn_poll", "modify_timestamp_poll".
  virtual std::string Method() const = 0;
  // "inotify on /srv/hr (people.csv, groups.csv)", "syncrepl on ldap://dc1".
  virtual std::string Describe() const = 0;
};

}  // namespace scimsync
