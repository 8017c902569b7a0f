// LockFile (declared in state_store.h): an flock(2) on "<state>.lock".
//
// flock rather than fcntl locks: an flock belongs to the open file description, so
// it is released when the process dies (kill -9 included) and a second open in the
// same process conflicts with the first (which the tests rely on), while fcntl
// locks are per process and silently dropped by any close() of the file.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "state/state_store.h"
#include "core/text.h"

namespace scimsync {
namespace {

std::string ReadHolder(int fd) {
  char buf[512];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return {};
  std::string text(buf, static_cast<std::size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

// "pid=1234 who=scimsync daemon since=2026-01-02T03:04:05Z" ->
// "pid 1234 (scimsync daemon) since 2026-01-02T03:04:05Z". `who` may hold spaces,
// so it runs up to the last " since=".
std::string DescribeHolder(const std::string& text) {
  std::size_t who = text.find(" who=");
  std::size_t since = text.rfind(" since=");
  if (text.rfind("pid=", 0) != 0 || who == std::string::npos || since == std::string::npos ||
      since < who) {
    return {};
  }
  std::string pid = text.substr(4, who - 4);
  std::string name = text.substr(who + 5, since - who - 5);
  return "pid " + pid + " (" + name + ") since " + text.substr(since + 7);
}

}  // namespace

Result<std::unique_ptr<LockFile>> LockFile::Acquire(const std::string& state_path,
                                                    const std::string& who, bool wait) {
  const std::string path = state_path + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status(ErrorCode::kIo, "lock file " + path + ": " + std::strerror(errno));
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    std::string holder = ReadHolder(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string described = DescribeHolder(holder);
      if (described.empty()) {
        // The holder has not written its line yet, or an older format.
        return Status(
            ErrorCode::kLocked,
            "state file " + state_path + " is in use by another process (lock file " + path + ")");
      }
      return Status(ErrorCode::kLocked, "state file " + state_path + " is in use by " + described);
    }
    return Status(ErrorCode::kIo, "lock file " + path + ": " + std::strerror(err));
  }
  std::unique_ptr<LockFile> lock(new LockFile(fd));
  // The lock is what matters; the text only lets the next one name us. A failed
  // write leaves it empty, which the message above handles.
  std::string info =
      "pid=" + std::to_string(::getpid()) + " who=" + who + " since=" + IsoUtc(std::chrono::system_clock::now()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t w = ::pwrite(fd, info.data(), info.size(), 0);
    (void)w;
  }
  return lock;
}

bool LockFile::IsHeld(const std::string& state_path) {
  const std::string path = state_path + ".lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;  // never locked here
  // A shared lock conflicts only with an exclusive one, and is dropped at once.
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

LockFile::~LockFile() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace scimsync
