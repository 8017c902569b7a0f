// The signal watcher (signalfd) and the sd_notify wrapper, with real signals and a
// real AF_UNIX datagram socket standing in for systemd's notify socket.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "daemon/notify.h"
#include "daemon/signals.h"

namespace scimsync {
namespace {

TEST_CASE("signals: TERM, INT, HUP and USR1 are read from the fd in order") {
  auto w = SignalWatcher::Create();
  REQUIRE(w.ok());
  CHECK((*w)->Drain().empty());
  // raise() targets this thread, where the signals are blocked: they wait in the fd.
  ::raise(SIGHUP);
  ::raise(SIGUSR1);
  struct pollfd p = {(*w)->fd(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 1000) == 1);
  std::vector<SignalEvent> got = (*w)->Drain();
  REQUIRE(got.size() == 2);
  CHECK(got[0] == SignalEvent::kReload);
  CHECK(got[1] == SignalEvent::kCycleNow);
  ::raise(SIGTERM);
  got = (*w)->Drain();
  REQUIRE(got.size() == 1);
  CHECK(got[0] == SignalEvent::kStop);
  ::raise(SIGINT);
  got = (*w)->Drain();
  REQUIRE(got.size() == 1);
  CHECK(got[0] == SignalEvent::kStop);
  CHECK(SignalEventName(SignalEvent::kCycleNow) == "cycle_now");
}

TEST_CASE("signals: a signal left unread is dropped, not delivered, when the watcher goes") {
  {
    auto w = SignalWatcher::Create();
    REQUIRE(w.ok());
    ::raise(SIGTERM);
  }
  // Still alive: the default action of SIGTERM did not run.
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  CHECK(!sigismember(&mask, SIGTERM));  // and the mask is restored
}

// A bound datagram socket in a temp dir, like systemd's $NOTIFY_SOCKET.
struct NotifySocket {
  NotifySocket() {
    char tmpl[] = "/tmp/scimsync-notify-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/notify";
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~NotifySocket() {
    ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
  std::string Receive() {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return "<nothing>";
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
  }
  bool Empty() {
    struct pollfd p = {fd, POLLIN, 0};
    return ::poll(&p, 1, 50) == 0;
  }
  std::string dir, path;
  int fd = -1;
};

struct Env {
  Env(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~Env() { ::unsetenv(name_); }
  const char* name_;
};

TEST_CASE("notify: READY, STATUS, WATCHDOG, RELOADING and STOPPING reach the socket") {
  NotifySocket sock;
  Env e("NOTIFY_SOCKET", sock.path);
  Notifier n;
  CHECK(n.enabled());
  n.Ready("started");
  CHECK(sock.Receive() == "READY=1\nSTATUS=started");
  n.SetStatus("cycle 4: 10/20 operations\nsecond line");
  CHECK(sock.Receive() == "STATUS=cycle 4: 10/20 operations second line");
  n.Watchdog();
  CHECK(sock.Receive() == "WATCHDOG=1");
  n.Reloading();
  std::string r = sock.Receive();
  CHECK(r.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  CHECK(std::atoll(r.c_str() + r.find('=', 12) + 1) > 0);
  n.Stopping("stopping");
  CHECK(sock.Receive() == "STOPPING=1\nSTATUS=stopping");
}

TEST_CASE("notify: without NOTIFY_SOCKET nothing is sent and nothing fails") {
  ::unsetenv("NOTIFY_SOCKET");
  Notifier n;
  CHECK(!n.enabled());
  n.Ready("x");
  n.Watchdog();
  CHECK(n.last_message() == "WATCHDOG=1");
}

TEST_CASE("notify: the watchdog interval is half of WATCHDOG_USEC, only for our pid") {
  {
    Env e("WATCHDOG_USEC", "10000000");
    Env p("WATCHDOG_PID", std::to_string(::getpid()));
    Notifier n;
    REQUIRE(n.WatchdogInterval().has_value());
    CHECK(n.WatchdogInterval()->count() == 5000000);
  }
  {
    Env e("WATCHDOG_USEC", "10000000");
    Env p("WATCHDOG_PID", "1");  // meant for another process
    Notifier n;
    CHECK(!n.WatchdogInterval().has_value());
  }
  {
    Notifier n;
    CHECK(!n.WatchdogInterval().has_value());
  }
}

}  // namespace
}  // namespace scimsync
