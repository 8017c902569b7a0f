// The daemon's signals, read synchronously from a signalfd(2) in its event loop:
//   SIGTERM, SIGINT  -> kStop      (graceful stop; a second one: stop at once)
//   SIGHUP           -> kReload    (reload the config; invalid -> keep the old one)
//   SIGUSR1          -> kCycleNow  ("sync now")
//
// Create() blocks these signals in the calling thread before any other thread
// exists, so every thread started later (the cycle worker, libcurl's resolver
// threads) inherits the mask and no handler ever runs asynchronously: there is no
// async-signal-safety to get wrong, and a signal arriving during a cycle waits in
// the fd until the event loop reads it. SIGPIPE is ignored (a peer closing a
// socket is an I/O error, not a reason to die).
#pragma once

#include <signal.h>

#include <memory>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scimsync {

enum class SignalEvent { kStop, kReload, kCycleNow };
std::string_view SignalEventName(SignalEvent e);  // "stop", "reload", "cycle_now"

class SignalWatcher {
 public:
  static Result<std::unique_ptr<SignalWatcher>> Create();
  // Restores the previous signal mask and closes the fd; signals that arrived
  // and were not read are discarded.
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // Readable (poll POLLIN) while a signal is pending.
  int fd() const { return fd_; }
  // Reads every pending signal, in arrival order; never blocks.
  std::vector<SignalEvent> Drain();

 private:
  SignalWatcher(int fd, const sigset_t& old_mask) : fd_(fd), old_mask_(old_mask) {}
  int fd_;
  sigset_t old_mask_;
};

}  // namespace scimsync
