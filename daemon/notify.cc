#include "daemon/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <cstdlib>

#include "core/redact.h"

namespace scimsync {
namespace {

// A STATUS= value is one line: a newline would start another assignment. It is
// redacted first: a stop reason may quote a server (`systemctl status` shows it).
std::string OneLine(const std::string& s) {
  std::string out = Redact(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

Notifier::Notifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  // 0: do not unset the variables; child processes never get them anyway
  // (we exec nothing), and a re-exec would need them.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_ = std::chrono::microseconds(usec / 2);
  }
}

std::string Notifier::last_message() const {
  std::lock_guard lock(mu_);
  return last_;
}

void Notifier::Send(const std::string& message) {
  std::lock_guard lock(mu_);
  last_ = message;
  if (!enabled_) return;
  // The return value is ignored by design (see header).
  (void)sd_notify(0, message.c_str());
}

void Notifier::Ready(const std::string& status) { Send("READY=1\nSTATUS=" + OneLine(status)); }

void Notifier::SetStatus(const std::string& status) { Send("STATUS=" + OneLine(status)); }

void Notifier::Watchdog() { Send("WATCHDOG=1"); }

void Notifier::Reloading() {
  // systemd >= 253 (Type=notify-reload) wants MONOTONIC_USEC with RELOADING=1 to
  // tell this reload from an older one; older versions ignore the field.
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  std::uint64_t usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
                       static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
  Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void Notifier::Stopping(const std::string& status) {
  Send("STOPPING=1\nSTATUS=" + OneLine(status));
}

}  // namespace scimsync
