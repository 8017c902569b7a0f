#include "connectors/csv/csv_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

namespace scimsync {
namespace {

using std::chrono::steady_clock;
using SteadyPoint = steady_clock::time_point;

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class InotifyWatcher final : public SourceWatcher {
 public:
  InotifyWatcher(std::vector<std::string> files, Millis quiet) : quiet_(quiet) {
    for (const auto& f : files) {
      if (f.empty()) continue;
      auto [dir, name] = SplitPath(f);
      dirs_[dir].names[name] = FileState{};
    }
  }
  ~InotifyWatcher() override { Close(); }

  Status Start() override {
    Close();
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return Status(ErrorCode::kIo, std::string("inotify_init1: ") + std::strerror(errno));
    for (auto& [dir, d] : dirs_) {
      constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY |
                                      IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF |
                                      IN_MOVE_SELF | IN_ONLYDIR;
      d.wd = ::inotify_add_watch(fd_, dir.c_str(), kMask);
      if (d.wd < 0) {
        int e = errno;
        Close();
        return Status(e == ENOENT || e == ENOTDIR ? ErrorCode::kNotFound : ErrorCode::kIo,
                      "inotify_add_watch " + dir + ": " + std::strerror(e));
      }
      for (auto& [name, st] : d.names) st = FileState{};
    }
    return Status::Ok();
  }

  Result<bool> Wait(Millis timeout) override {
    SteadyPoint deadline = steady_clock::now() + timeout;
    for (;;) {
      SteadyPoint now = steady_clock::now();
      if (Ready(now)) return true;
      if (now >= deadline) return false;
      SteadyPoint until = deadline;
      if (auto q = QuietEnds(); q && *q > now) until = std::min(until, *q);
      int ms = static_cast<int>(std::chrono::duration_cast<Millis>(until - now).count()) + 1;
      struct pollfd p = {fd_, POLLIN, 0};
      int n = ::poll(&p, 1, ms);
      if (n < 0 && errno != EINTR) {
        return Status(ErrorCode::kUnavailable, std::string("poll: ") + std::strerror(errno));
      }
      if (n > 0) {
        if (Status s = Drain(); !s.ok()) return s;
      }
    }
  }

  std::string Method() const override { return "inotify"; }
  std::string Describe() const override {
    std::vector<std::string> parts;
    for (const auto& [dir, d] : dirs_) {
      std::vector<std::string> names;
      for (const auto& [n, st] : d.names) names.push_back(n);
      parts.push_back(dir + " (" + Join(names) + ")");
    }
    return "inotify on " + Join(parts);
  }

 private:
  struct FileState {
    bool writing = false;   // created/modified, not yet closed
    bool pending = false;   // changed, not yet reported
    SteadyPoint last{};     // last event on the name
  };
  struct Dir {
    int wd = -1;
    std::map<std::string, FileState> names;
  };

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // When the quiet time of every changed file has passed; none while a file is
  // being written (only its close can end that).
  std::optional<SteadyPoint> QuietEnds() const {
    std::optional<SteadyPoint> out;
    for (const auto& [dir, d] : dirs_) {
      for (const auto& [n, st] : d.names) {
        if (st.writing) return std::nullopt;
        if (st.pending && (!out || st.last + quiet_ > *out)) out = st.last + quiet_;
      }
    }
    return out;
  }

  // True (and clears the pending marks) when some file changed, no watched file is
  // being written, and every changed one has been quiet for `quiet`.
  bool Ready(SteadyPoint now) {
    bool any = false;
    for (const auto& [dir, d] : dirs_) {
      for (const auto& [n, st] : d.names) {
        if (st.writing) return false;
        if (st.pending) {
          if (now - st.last < quiet_) return false;
          any = true;
        }
      }
    }
    if (!any) return false;
    for (auto& [dir, d] : dirs_) {
      for (auto& [n, st] : d.names) st.pending = false;
    }
    return true;
  }

  Status Drain() {
    alignas(struct inotify_event) std::array<char, 16384> buf;
    for (;;) {
      ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return Status::Ok();
        return Status(ErrorCode::kUnavailable, std::string("inotify read: ") + std::strerror(errno));
      }
      SteadyPoint now = steady_clock::now();
      for (ssize_t off = 0; off < n;) {
        const auto* ev = reinterpret_cast<const struct inotify_event*>(buf.data() + off);
        off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
        if (Status s = Handle(*ev, now); !s.ok()) return s;
      }
    }
  }

  Status Handle(const struct inotify_event& ev, SteadyPoint now) {
    if (ev.mask & IN_Q_OVERFLOW) {
      // Events were lost: something may have changed; wait for quiet and report.
      for (auto& [dir, d] : dirs_) {
        for (auto& [n, st] : d.names) {
          st.pending = true;
          st.last = now;
        }
      }
      return Status::Ok();
    }
    for (auto& [dir, d] : dirs_) {
      if (d.wd != ev.wd) continue;
      if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        return Status(ErrorCode::kUnavailable, "watched directory " + dir + " was removed or moved");
      }
      if (ev.len == 0) return Status::Ok();
      auto it = d.names.find(ev.name);
      if (it == d.names.end()) return Status::Ok();
      FileState& st = it->second;
      st.pending = true;
      st.last = now;
      if (ev.mask & (IN_CREATE | IN_MODIFY)) st.writing = true;
      if (ev.mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM)) st.writing = false;
    }
    return Status::Ok();
  }

  Millis quiet_;
  std::map<std::string, Dir> dirs_;
  int fd_ = -1;
};

struct FileStat {
  bool exists = false;
  ino_t ino = 0;
  off_t size = 0;
  long long mtime_ns = 0;
  bool operator==(const FileStat&) const = default;
};

class MtimePollWatcher final : public SourceWatcher {
 public:
  MtimePollWatcher(std::vector<std::string> files, Millis interval, Millis quiet)
      : interval_(interval), quiet_(quiet) {
    for (auto& f : files) {
      if (!f.empty()) files_.push_back(std::move(f));
    }
  }

  Status Start() override {
    baseline_ = StatAll();
    candidate_.reset();
    next_ = steady_clock::now() + interval_;
    return Status::Ok();
  }

  Result<bool> Wait(Millis timeout) override {
    SteadyPoint deadline = steady_clock::now() + timeout;
    for (;;) {
      SteadyPoint now = steady_clock::now();
      if (now < next_) {
        if (deadline <= now) return false;
        std::this_thread::sleep_for(std::min(next_, deadline) - now);
        continue;
      }
      std::vector<FileStat> s = StatAll();
      if (s == baseline_) {
        candidate_.reset();
        next_ = now + interval_;
      } else if (!candidate_ || candidate_->first != s) {
        candidate_ = {s, now};  // changed, or still changing: wait for it to settle
        next_ = now + quiet_;
      } else if (now - candidate_->second >= quiet_) {
        baseline_ = s;
        candidate_.reset();
        next_ = now + interval_;
        return true;
      } else {
        next_ = candidate_->second + quiet_;
      }
    }
  }

  std::string Method() const override { return "mtime_poll"; }
  std::string Describe() const override {
    return "stat of " + Join(files_) + " every " + std::to_string(interval_.count()) + " ms";
  }

 private:
  std::vector<FileStat> StatAll() const {
    std::vector<FileStat> out;
    for (const auto& f : files_) {
      struct stat st {};
      FileStat fs;
      if (::stat(f.c_str(), &st) == 0) {
        fs.exists = true;
        fs.ino = st.st_ino;
        fs.size = st.st_size;
        fs.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
      }
      out.push_back(fs);
    }
    return out;
  }

  std::vector<std::string> files_;
  Millis interval_, quiet_;
  std::vector<FileStat> baseline_;
  std::optional<std::pair<std::vector<FileStat>, SteadyPoint>> candidate_;
  SteadyPoint next_{};
};

}  // namespace

std::unique_ptr<SourceWatcher> MakeInotifyWatcher(std::vector<std::string> files, Millis quiet) {
  return std::make_unique<InotifyWatcher>(std::move(files), quiet);
}

std::unique_ptr<SourceWatcher> MakeMtimePollWatcher(std::vector<std::string> files,
                                                    Millis interval, Millis quiet) {
  return std::make_unique<MtimePollWatcher>(std::move(files), interval, quiet);
}

}  // namespace scimsync
