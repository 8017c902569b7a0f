// scimsync_notify_listener SOCKET_PATH: binds an AF_UNIX datagram socket at
// SOCKET_PATH, like systemd's $NOTIFY_SOCKET, and prints every datagram it
// receives as one line on stdout, its newlines written as "\n" (backslash n).
// Prints "listening" once bound. Exits on SIGTERM/SIGINT or when stdin closes, and
// removes the socket. Test tool for tests/integration/systemd.test.js (Node has no
// unix datagram sockets).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {
volatile sig_atomic_t g_done = 0;
extern "C" void OnSignal(int) { g_done = 1; }
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
    return 2;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(argv[1]) >= sizeof addr.sun_path) {
    std::fprintf(stderr, "socket path too long\n");
    return 2;
  }
  std::strcpy(addr.sun_path, argv[1]);
  ::unlink(argv[1]);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("bind");
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  char buf[8192];
  while (!g_done) {
    struct pollfd fds[2] = {{fd, POLLIN, 0}, {0, POLLIN, 0}};
    int n = ::poll(fds, 2, 1000);
    if (n < 0) continue;  // EINTR: g_done is checked
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char c;
      if (::read(0, &c, 1) <= 0) break;  // stdin closed: the test is gone
    }
    if (fds[0].revents & POLLIN) {
      ssize_t len = ::recv(fd, buf, sizeof buf, 0);
      if (len <= 0) continue;
      std::string line;
      for (ssize_t i = 0; i < len; ++i) {
        if (buf[i] == '\n') line += "\\n";
        else line += buf[i];
      }
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  ::close(fd);
  ::unlink(argv[1]);
  return 0;
}
