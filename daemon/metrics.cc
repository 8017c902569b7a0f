#include "daemon/metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

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
  void Header(const std::string& name, const char* type, std::string_view help) {
    out_ += "# HELP " + name + " ";
    out_ += help;
    out_ += "\n# TYPE " + name + " " + type + "\n";
  }
  void Sample(const std::string& name, const std::string& value) {
    out_ += name + " " + value + "\n";
  }
  void Sample(const std::string& name, const char* label, const std::string& label_value,
              const std::string& value) {
    out_ += name + "{" + label + "=\"" + EscapeLabel(label_value) + "\"} " + value + "\n";
  }
  void Gauge(const std::string& name, std::string_view help, const std::string& value) {
    Header(name, "gauge", help);
    Sample(name, value);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Num(long v) { return std::to_string(v); }

// `v / scale`: an integer as it is, otherwise with three decimals (ms -> seconds).
std::string Scaled(std::int64_t v, int scale) {
  if (scale == 1) return std::to_string(v);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(v) / scale);
  return buf;
}

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
  // One gauge per counter (core/cycle_counters.h). A gauge counter comes from the
  // newest cycle that measured it, and is left out while none has.
  for (const CounterInfo& k : kCounters) {
    const CycleCounts* from = &c.counts;
    if (!Measured(k.counter, *from)) {
      if (!s.last_measured || !Measured(k.counter, s.last_measured->counts)) continue;
      from = &s.last_measured->counts;
    }
    w.Gauge(std::string(k.metric), k.help,
            Scaled((*from)[k.counter], k.metric_scale));
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
