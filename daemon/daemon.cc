#include "daemon/daemon.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "config/config_loader.h"
#include "core/log.h"
#include "daemon/cycle.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "daemon/schedule.h"
#include "daemon/session.h"
#include "daemon/signals.h"
#include "daemon/watch_config.h"
#include "daemon/watch_runner.h"
#include "scimsync_version.h"
#include "core/text.h"

namespace scimsync {
namespace {

using std::chrono::duration_cast;
using std::chrono::steady_clock;

constexpr Millis kLockRetry{1000};
constexpr Millis kProgressEvery{1000};  // STATUS= progress at most once a second

// Local time for STATUS=, which an operator reads next to `date`.
std::string LocalClock(SysTime t, bool seconds) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, seconds ? "%H:%M:%S" : "%H:%M", &tm);
  return buf;
}

std::string Ms(Millis d) { return std::to_string(d.count()); }

ScheduleOptions ScheduleOptionsFor(const Config& c) {
  ScheduleOptions o;
  o.interval = c.interval;
  o.jitter = c.interval_jitter;
  return o;
}

class Daemon {
 public:
  Daemon(std::string config_path, DaemonOptions options)
      : config_path_(std::move(config_path)), options_(std::move(options)),
        schedule_(ScheduleOptions{}, MakeRandomSource()) {}

  int Run();

 private:
  enum class Wake { kDeadline, kSignal, kFd, kWatch };

  // Sleeps in ppoll until `deadline`, a signal, `fd` readable or a watch event;
  // pings the watchdog on the way.
  Wake Wait(SteadyTime deadline, int fd = -1);
  void HandleSignals();
  // A watch event: a change goes to the schedule; a new watch state to STATUS=.
  void HandleWatch();
  // (Re)starts the source watch for config_ ([source] watch), or stops it.
  void RestartWatch();
  std::string WatchSuffix() const;
  void Reload();
  void ApplyConfig(Config config);
  // nullopt: stop requested, or the session could not be opened (logged and
  // recorded in the schedule as a stopped attempt).
  std::optional<Session> OpenCycleSession();
  void RunOneCycle(Session& session, Trigger trigger);
  void AfterCycle(Session& session, const CycleReport& report, SteadyTime start, SteadyTime end);
  void PublishIdle(const std::string& last_result, const std::string& reason, bool log = true);
  void ClearDaemonMeta();
  [[noreturn]] void ExitNow(const char* event, const std::string& why);

  SysTime WallTime(SteadyTime t) const {
    auto now_s = steady_clock::now();
    auto now_w = std::chrono::system_clock::now();
    if (t <= now_s) return now_w;
    return now_w + duration_cast<std::chrono::system_clock::duration>(t - now_s);
  }

  std::string config_path_;
  DaemonOptions options_;
  Config config_;
  std::optional<Config> pending_config_;  // loaded by SIGHUP during a cycle
  Schedule schedule_;
  Notifier notifier_;
  std::unique_ptr<SignalWatcher> signals_;
  std::unique_ptr<WatchRunner> watch_;  // null: [source] watch = false
  std::string last_result_ = "ok", last_reason_;  // for STATUS= refreshes between cycles
  std::optional<steady_clock::time_point> next_ping_;

  std::atomic<bool> stop_{false};   // given to the cycle (CycleHooks::stop)
  SteadyTime stop_deadline_{};
  bool in_cycle_ = false;
  bool cycle_again_ = false;        // SIGUSR1 during a cycle
  SysTime started_{};
  std::map<std::string, long> cycles_total_;
};

Daemon::Wake Daemon::Wait(SteadyTime deadline, int fd) {
  for (;;) {
    auto now = steady_clock::now();
    if (notifier_.WatchdogInterval()) {
      if (!next_ping_ || now >= *next_ping_) {
        notifier_.Watchdog();
        next_ping_ = now + *notifier_.WatchdogInterval();
      }
    }
    if (now >= deadline) return Wake::kDeadline;
    SteadyTime until = deadline;
    if (next_ping_) until = std::min(until, *next_ping_);
    auto left = until - now;
    auto sec = duration_cast<std::chrono::seconds>(left);
    struct timespec ts {};
    ts.tv_sec = static_cast<time_t>(sec.count());
    ts.tv_nsec = static_cast<long>(duration_cast<std::chrono::nanoseconds>(left - sec).count());
    struct pollfd fds[3] = {{signals_->fd(), POLLIN, 0},
                            {fd, POLLIN, 0},
                            {watch_ ? watch_->fd() : -1, POLLIN, 0}};
    int n = ::ppoll(fds, 3, &ts, nullptr);  // a negative fd is ignored
    if (n < 0) {
      if (errno == EINTR) continue;
      LogError("poll_error", {{"errno", errno}});
      return Wake::kDeadline;
    }
    if (n == 0) continue;  // a ping or the deadline; checked at the top
    if (fds[0].revents & POLLIN) return Wake::kSignal;
    if (fd >= 0 && (fds[1].revents & POLLIN)) return Wake::kFd;
    if (fds[2].fd >= 0 && (fds[2].revents & POLLIN)) return Wake::kWatch;
  }
}

void Daemon::HandleWatch() {
  if (!watch_) return;
  if (watch_->TakeChanged()) {
    LogDebug("source_changed", {{"in_cycle", in_cycle_ ? "true" : "false"}});
    schedule_.SourceChanged(steady_clock::now());
  }
  if (!in_cycle_) PublishIdle(last_result_, last_reason_, /*log=*/false);
}

void Daemon::RestartWatch() {
  watch_.reset();  // stops the old one
  if (!config_.source.watch) return;
  auto methods = MakeSourceWatchers(config_);
  if (!methods.ok()) {
    LogWarn("watch_unavailable", {{"error", methods.status().message()},
                                  {"action", "no watch; changes reach the target at the next "
                                             "interval cycle"}});
    return;
  }
  auto runner = std::make_unique<WatchRunner>(std::move(methods).value(), WatchRunnerOptions{});
  if (Status s = runner->Start(); !s.ok()) {
    LogWarn("watch_unavailable", {{"error", s.message()},
                                  {"action", "no watch; changes reach the target at the next "
                                             "interval cycle"}});
    return;
  }
  watch_ = std::move(runner);
}

std::string Daemon::WatchSuffix() const { return watch_ ? "; " + watch_->State() : ""; }

void Daemon::HandleSignals() {
  for (SignalEvent e : signals_->Drain()) {
    switch (e) {
      case SignalEvent::kStop:
        if (stop_) {
          // A second SIGTERM/SIGINT: the operator does not want to wait.
          if (in_cycle_) ExitNow("stop_forced", "second stop signal during a cycle");
          break;
        }
        stop_ = true;
        stop_deadline_ = steady_clock::now() + config_.stop_timeout;
        LogInfo("stop_requested",
                {{"in_cycle", in_cycle_ ? "true" : "false"},
                 {"stop_timeout_ms", Ms(config_.stop_timeout)}});
        notifier_.Stopping(in_cycle_ ? "stopping: letting in-flight requests finish"
                                     : "stopping");
        break;
      case SignalEvent::kReload:
        Reload();
        break;
      case SignalEvent::kCycleNow:
        LogInfo("cycle_now_requested", {{"in_cycle", in_cycle_ ? "true" : "false"}});
        if (in_cycle_) {
          cycle_again_ = true;
        } else {
          schedule_.RunNow(steady_clock::now());
        }
        break;
    }
  }
}

void Daemon::Reload() {
  notifier_.Reloading();
  Result<Config> loaded = LoadConfig(config_path_);
  if (!loaded.ok()) {
    LogError("config_reload_failed", {{"config", config_path_},
                                      {"error", loaded.status().message()},
                                      {"action", "keeping the previous configuration"}});
    notifier_.Ready(std::string("reload failed, keeping the previous configuration: ") +
                    loaded.status().message());
    return;
  }
  LogInfo("config_reloaded", {{"config", config_path_},
                              {"applies", in_cycle_ ? "after the running cycle" : "now"}});
  if (in_cycle_) {
    pending_config_ = std::move(loaded).value();
    notifier_.Ready("config reloaded; applies after the running cycle");
  } else {
    ApplyConfig(std::move(loaded).value());
    notifier_.Ready("config reloaded");
  }
}

void Daemon::ApplyConfig(Config config) {
  config_ = std::move(config);
  ApplyLogging(&config_, options_);
  schedule_.Reconfigure(ScheduleOptionsFor(config_));
  RestartWatch();  // the source (or the watch setting) may have changed
}

std::optional<Session> Daemon::OpenCycleSession() {
  SessionOptions so;
  so.who = "scimsync daemon";
  so.wait_for_lock = false;  // we wait here, interruptibly
  bool told = false;
  while (!stop_) {
    Result<Session> s = OpenSession(config_, so);
    if (s.ok()) {
      if (told) LogInfo("lock_acquired");
      return std::move(s).value();
    }
    if (s.status().code() != ErrorCode::kLocked) {
      auto now = steady_clock::now();
      LogError("session_error", {{"error", s.status().message()}});
      ++cycles_total_["stopped"];
      schedule_.CycleFinished(now, now, CycleResult::kStopped);
      PublishIdle("stopped", s.status().message());
      return std::nullopt;
    }
    if (!told) {
      // Once, not every second: a manual sync may hold the lock for minutes.
      LogInfo("waiting_for_lock", {{"holder", s.status().message()}});
      notifier_.SetStatus("waiting for the state lock: " + s.status().message());
      told = true;
    }
    Wake w = Wait(steady_clock::now() + kLockRetry);
    if (w == Wake::kSignal) HandleSignals();
    if (w == Wake::kWatch) HandleWatch();
  }
  return std::nullopt;
}

void Daemon::RunOneCycle(Session& session, Trigger trigger) {
  if (Status s = session.state->SetMeta("daemon_pid", std::to_string(::getpid())); !s.ok()) {
    LogWarn("state_meta_error", {{"error", s.message()}});
  }
  (void)session.state->SetMeta("daemon_next_cycle", "");  // none while one runs

  int done_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (done_fd < 0) ExitNow("internal_error", "eventfd failed");

  std::atomic<long long> last_progress{0};
  CycleHooks hooks;
  hooks.stop = &stop_;
  ProgressMeter meter;
  std::mutex meter_mu;
  hooks.on_progress = [this, &last_progress, &meter, &meter_mu](const Progress& p) {
    std::lock_guard lock(meter_mu);
    SteadyTime t = steady_clock::now();
    std::string line = meter.Line(p, t);  // every report: the meter measures rates
    long long now = duration_cast<Millis>(t.time_since_epoch()).count();
    long long prev = last_progress.load();
    if (now - prev < kProgressEvery.count() && prev != 0 && p.done != p.total) return;
    last_progress = now;
    notifier_.SetStatus("cycle " + std::to_string(p.cycle) + ": " + line + WatchSuffix());
  };

  CycleReport report;
  CycleRequest request;
  request.trigger = TriggerName(trigger);
  SteadyTime start = steady_clock::now();
  in_cycle_ = true;
  std::thread worker([&] {
    report = RunCycle(config_, *session.source, session.target.get(), *session.state,
                      SystemClock::Instance(), request, hooks);
    std::uint64_t one = 1;
    while (::write(done_fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
  });
  for (;;) {
    SteadyTime deadline = stop_ ? stop_deadline_ : SteadyTime::max();
    Wake w = Wait(deadline, done_fd);
    if (w == Wake::kFd) break;
    if (w == Wake::kSignal) HandleSignals();
    if (w == Wake::kWatch) HandleWatch();
    if (stop_ && steady_clock::now() >= stop_deadline_) {
      ExitNow("stop_timeout", "the cycle did not end within stop_timeout (" +
                                  Ms(config_.stop_timeout) + " ms)");
    }
  }
  worker.join();
  ::close(done_fd);
  in_cycle_ = false;
  AfterCycle(session, report, start, steady_clock::now());
}

void Daemon::AfterCycle(Session& session, const CycleReport& report, SteadyTime start,
                        SteadyTime end) {
  std::string result(CycleResultName(report.result));
  ++cycles_total_[result];
  schedule_.CycleFinished(start, end, report.result);
  if (cycle_again_) {
    cycle_again_ = false;
    schedule_.RunNow(end);
  }
  if (pending_config_) {
    ApplyConfig(std::move(*pending_config_));
    pending_config_.reset();
  }
  SysTime next_wall = WallTime(schedule_.NextStart());
  if (!stop_) {
    if (Status s = session.state->SetMeta("daemon_next_cycle", IsoUtc(next_wall)); !s.ok()) {
      LogWarn("state_meta_error", {{"error", s.message()}});
    }
  }

  if (!config_.metrics_file.empty()) {
    MetricsSnapshot m;
    m.last = report.record;
    m.cycles_total = cycles_total_;
    m.consecutive_stops = schedule_.consecutive_stops();
    m.next_cycle = stop_ ? SysTime{} : next_wall;
    m.daemon_start = started_;
    if (auto items = session.state->NeedsAttention(); items.ok()) {
      for (const AttentionItem& a : *items) ++m.attention[a.status];
    }
    if (auto measured = session.state->LastMeasuredCycle(); measured.ok()) {
      m.last_measured = std::move(*measured);
    }
    if (auto cycles = session.state->RecentCycles(50); cycles.ok()) {
      for (const CycleRecord& c : *cycles) {
        if (c.result == "ok" || c.result == "partial") {
          m.last_success = c.ended;
          break;
        }
      }
    }
    Status s = WriteFileAtomically(config_.metrics_file, RenderMetrics(m));
    if (!s.ok()) LogWarn("metrics_error", {{"error", s.message()}});
  }
  PublishIdle(result, report.stop_reason);
}

void Daemon::PublishIdle(const std::string& last_result, const std::string& reason, bool log) {
  if (stop_) return;
  last_result_ = last_result;
  last_reason_ = reason;
  SteadyTime next = schedule_.NextStart();
  auto delay = std::max(Millis(0), duration_cast<Millis>(next - steady_clock::now()));
  SysTime wall = WallTime(next);
  std::string at = LocalClock(wall, delay < std::chrono::minutes(2));
  LogFields f = {{"at", IsoUtc(wall)}, {"in_ms", Ms(delay)}};
  if (schedule_.consecutive_stops() > 0) {
    f.push_back({"backoff_ms", Ms(schedule_.backoff())});
    f.push_back({"consecutive_stops", schedule_.consecutive_stops()});
  }
  if (log) LogInfo("next_cycle", f);
  if (last_result == "stopped") {
    notifier_.SetStatus("idle, last cycle stopped (" + reason + "), retrying at " + at +
                        WatchSuffix());
  } else {
    notifier_.SetStatus("idle, next cycle at " + at + WatchSuffix());
  }
}

void Daemon::ClearDaemonMeta() {
  // Best effort, and only if nobody else holds the lock: `status` checks the pid
  // anyway, this just keeps it from naming a dead process.
  if (::access(config_.state.c_str(), F_OK) != 0) return;
  auto lock = LockFile::Acquire(config_.state, "scimsync daemon", false);
  if (!lock.ok()) return;
  auto store = StateStore::Open(config_.state, config_.target.url);
  if (!store.ok()) return;
  (void)(*store)->SetMeta("daemon_pid", "");
  (void)(*store)->SetMeta("daemon_next_cycle", "");
}

void Daemon::ExitNow(const char* event, const std::string& why) {
  // The worker may still be inside a request: no destructors, no atexit. Every
  // confirmed object is already in the state file; an in-flight one is marked
  // uncertain and is re-read next time (DESIGN §4). The lock dies with us.
  LogWarn(event, {{"reason", why}, {"action", "exiting without waiting for the cycle"}});
  notifier_.Stopping("stopping now: " + why);
  std::_Exit(0);
}

int Daemon::Run() {
  started_ = std::chrono::system_clock::now();
  // Before any thread exists (signals.h).
  Result<std::unique_ptr<SignalWatcher>> sig = SignalWatcher::Create();
  if (!sig.ok()) {
    LogError("daemon_error", {{"error", sig.status().message()}});
    return 3;
  }
  signals_ = std::move(sig).value();

  ApplyLogging(nullptr, options_);
  Result<Config> loaded = LoadConfig(config_path_);
  if (!loaded.ok()) {
    LogError("config_error", {{"error", loaded.status().message()}});
    return 2;
  }
  ApplyConfig(std::move(loaded).value());
  LogFields start = {{"version", SCIMSYNC_VERSION},
                     {"config", config_path_},
                     {"pid", ::getpid()},
                     {"interval_ms", Ms(config_.interval)},
                     {"jitter", config_.interval_jitter},
                     {"watch", config_.source.watch},
                     {"state", config_.state}};
  if (auto wd = notifier_.WatchdogInterval()) {
    start.push_back({"watchdog_ping_ms", Ms(duration_cast<Millis>(*wd))});
  }
  LogInfo("daemon_start", start);
  notifier_.Ready("started, first cycle now");

  while (!stop_) {
    while (!stop_ && steady_clock::now() < schedule_.NextStart()) {
      Wake w = Wait(schedule_.NextStart());
      if (w == Wake::kSignal) HandleSignals();
      if (w == Wake::kWatch) HandleWatch();
    }
    if (stop_) break;
    Trigger trigger = schedule_.NextTrigger();
    std::optional<Session> session = OpenCycleSession();
    if (!session) continue;  // stop, or the error was logged and a retry scheduled
    RunOneCycle(*session, trigger);
  }

  watch_.reset();
  notifier_.Stopping("stopping");
  ClearDaemonMeta();
  LogInfo("daemon_stop", {{"cycles", cycles_total_["ok"] +
                                                    cycles_total_["partial"] +
                                                    cycles_total_["stopped"]}});
  return 0;
}

}  // namespace

// [log] from the config unless the command line said otherwise.
void ApplyLogging(const Config* config, const DaemonOptions& options) {
  Logger& log = Log();
  LogFormat format = config ? config->log.format : LogFormat::kLogfmt;
  if (options.log_format == "json") format = LogFormat::kJson;
  if (options.log_format == "logfmt") format = LogFormat::kLogfmt;
  log.SetFormat(format == LogFormat::kJson ? Logger::Format::kJson : Logger::Format::kLogfmt);
  LogLevel level = config ? config->log.level : LogLevel::kInfo;
  if (auto l = LogLevelByName(options.log_level)) level = *l;
  log.SetMinLevel(level);
}

int RunDaemon(const std::string& config_path, const DaemonOptions& options) {
  Daemon daemon(config_path, options);
  return daemon.Run();
}

}  // namespace scimsync
