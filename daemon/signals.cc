#include "daemon/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace scimsync {
namespace {

sigset_t DaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  return set;
}

}  // namespace

std::string_view SignalEventName(SignalEvent e) {
  switch (e) {
    case SignalEvent::kStop: return "stop";
    case SignalEvent::kReload: return "reload";
    case SignalEvent::kCycleNow: return "cycle_now";
  }
  return "?";
}

Result<std::unique_ptr<SignalWatcher>> SignalWatcher::Create() {
  sigset_t set = DaemonSignals();
  sigset_t old;
  if (int err = pthread_sigmask(SIG_BLOCK, &set, &old); err != 0) {
    return Status(ErrorCode::kInternal, std::string("cannot block signals: ") + std::strerror(err));
  }
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return Status(ErrorCode::kInternal, std::string("signalfd: ") + std::strerror(err));
  }
  ::signal(SIGPIPE, SIG_IGN);
  return std::unique_ptr<SignalWatcher>(new SignalWatcher(fd, old));
}

SignalWatcher::~SignalWatcher() {
  ::close(fd_);
  // Pending signals are dropped before unblocking, or the default action of a
  // late SIGTERM would kill the process after a graceful stop.
  sigset_t pending;
  sigpending(&pending);
  struct timespec zero {};
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) {
    if (sigismember(&pending, sig)) {
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, sig);
      sigtimedwait(&one, nullptr, &zero);
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::vector<SignalEvent> SignalWatcher::Drain() {
  std::vector<SignalEvent> events;
  signalfd_siginfo info;
  for (;;) {
    ssize_t n = ::read(fd_, &info, sizeof info);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof info)) break;  // EAGAIN: nothing left
    switch (info.ssi_signo) {
      case SIGTERM:
      case SIGINT: events.push_back(SignalEvent::kStop); break;
      case SIGHUP: events.push_back(SignalEvent::kReload); break;
      case SIGUSR1: events.push_back(SignalEvent::kCycleNow); break;
      default: break;
    }
  }
  return events;
}

}  // namespace scimsync
