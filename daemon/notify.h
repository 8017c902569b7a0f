// The systemd notification protocol (sd_notify(3)) for `Type=notify` units.
//
// Every call is a no-op when the process was not started with NOTIFY_SOCKET (a
// daemon run by hand, tests): libsystemd's sd_notify returns 0 then and we ignore
// it. Failures to send are ignored too: a lost STATUS line must never stop a sync.
//
// Watchdog: when systemd set WATCHDOG_USEC (and WATCHDOG_PID is ours or unset),
// WatchdogInterval() is half of it, the ping period systemd recommends; the
// daemon's event loop calls Watchdog() at least that often, including while a
// cycle runs on its worker thread. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace scimsync {

class Notifier {
 public:
  // Reads NOTIFY_SOCKET / WATCHDOG_USEC once (sd_watchdog_enabled).
  Notifier();

  bool enabled() const { return enabled_; }
  // Half of WatchdogSec=, or nullopt when the watchdog is off.
  std::optional<std::chrono::microseconds> WatchdogInterval() const { return watchdog_; }

  void Ready(const std::string& status);        // READY=1 + STATUS=
  void SetStatus(const std::string& status);    // STATUS=
  void Watchdog();                              // WATCHDOG=1
  void Reloading();                             // RELOADING=1 + MONOTONIC_USEC=
  void Stopping(const std::string& status);     // STOPPING=1 + STATUS=

  // The last message (sent or, when disabled, that would have been sent).
  std::string last_message() const;

 private:
  void Send(const std::string& message);
  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
  mutable std::mutex mu_;  // STATUS= progress comes from the cycle's worker thread
  std::string last_;
};

}  // namespace scimsync
