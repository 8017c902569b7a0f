#include "daemon/metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace scimsync {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string Seconds(SysTime t) {
  double s = std::chrono::duration<double>(t.time_since_epoch()).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

class Writer {
 public:
  void Header(const std::string& name, const char* type, const char* help) {
    out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const std::string& name, const std::string& value) {
    out_ += name + " " + value + "\n";
  }
  void Sample(const std::string& name, const char* label, const std::string& label_value,
              const std::string& value) {
    out_ += name + "{" + label + "=\"" + EscapeLabel(label_value) + "\"} " + value + "\n";
  }
  void Gauge(const std::string& name, const char* help, const std::string& value) {
    Header(name, "gauge", help);
    Sample(name, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Num(long v) { return std::to_string(v); }

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status(ErrorCode::kIo, what + " " + path + ": " + std::strerror(err));
}

}  // namespace

std::string RenderMetrics(const MetricsSnapshot& s) {
  Writer w;
  const CycleRecord& c = s.last;

  w.Header("scimsync_last_cycle_result", "gauge",
           "1 for the result of the last cycle (ok, partial, stopped), 0 for the others.");
  for (const char* r : {"ok", "partial", "stopped"}) {
    w.Sample("scimsync_last_cycle_result", "result", r, c.result == r ? "1" : "0");
  }
  w.Gauge("scimsync_last_cycle_timestamp_seconds", "Unix time the last cycle ended.",
          Seconds(c.ended));
  w.Gauge("scimsync_last_cycle_start_timestamp_seconds", "Unix time the last cycle started.",
          Seconds(c.started));
  char dur[64];
  std::snprintf(dur, sizeof dur, "%.3f", static_cast<double>(c.duration_ms) / 1000.0);
  w.Gauge("scimsync_last_cycle_duration_seconds", "How long the last cycle took.", dur);

  struct Counter {
    const char* name;
    long value;
    const char* help;
  };
  const Counter counters[] = {
      {"users_created", c.users_created, "Users created on the target by the last cycle."},
      {"users_updated", c.users_updated, "Users updated (or adopted) by the last cycle."},
      {"users_disabled", c.users_disabled, "Users deactivated by the last cycle."},
      {"users_deleted", c.users_deleted, "Users deleted by the last cycle."},
      {"groups_created", c.groups_created, "Groups created by the last cycle."},
      {"groups_updated", c.groups_updated, "Groups updated by the last cycle."},
      {"groups_deleted", c.groups_deleted, "Groups deleted by the last cycle."},
      {"members_added", c.members_added, "Group memberships added by the last cycle."},
      {"members_removed", c.members_removed, "Group memberships removed by the last cycle."},
      {"failed", c.failed, "Objects that failed in the last cycle."},
      {"conflicts", c.conflicts, "Objects in conflict in the last cycle."},
      {"seat_blocked", c.seat_blocked, "Creates held back for lack of licensed seats."},
      {"deferred", c.deferred, "Objects deferred to a later cycle by their backoff."},
      {"requests", c.requests, "HTTP requests sent by the last cycle."},
  };
  for (const Counter& k : counters) {
    w.Gauge(std::string("scimsync_last_cycle_") + k.name, k.help, Num(k.value));
  }

  if (s.last_success != SysTime{}) {
    w.Gauge("scimsync_last_success_timestamp_seconds",
            "Unix time the newest cycle that ran to its end (ok or partial) ended.",
            Seconds(s.last_success));
  }

  w.Header("scimsync_cycles_total", "counter", "Cycles run by this daemon process, by result.");
  for (const char* r : {"ok", "partial", "stopped"}) {
    auto it = s.cycles_total.find(r);
    w.Sample("scimsync_cycles_total", "result", r, Num(it == s.cycles_total.end() ? 0 : it->second));
  }

  w.Header("scimsync_objects_needing_attention", "gauge",
           "Users and groups that need an operator's attention, by status.");
  std::map<std::string, long> attention = s.attention;
  for (const char* st : {"failed", "conflict", "seat-blocked", "uncertain"}) attention[st] += 0;
  for (const auto& [status, n] : attention) {
    w.Sample("scimsync_objects_needing_attention", "status", status, Num(n));
  }

  w.Gauge("scimsync_consecutive_stopped_cycles",
          "Stopped cycles in a row; the retry backoff doubles with each.",
          Num(s.consecutive_stops));
  if (s.next_cycle != SysTime{}) {
    w.Gauge("scimsync_next_cycle_timestamp_seconds", "Unix time the next cycle is due.",
            Seconds(s.next_cycle));
  }
  if (s.daemon_start != SysTime{}) {
    w.Gauge("scimsync_daemon_start_timestamp_seconds", "Unix time the daemon started.",
            Seconds(s.daemon_start));
  }
  return w.Take();
}

Status WriteFileAtomically(const std::string& path, const std::string& text, int mode) {
  // The temp file must be in the same directory: rename(2) is atomic only within
  // one file system.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", tmp, errno);
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return IoError(what, tmp, err);
  };
  // fchmod: the mode must not depend on the umask (UMask=0077 under systemd).
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("cannot chmod");
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot close", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot rename to", path, err);
  }
  return Status::Ok();
}

}  // namespace scimsync
