// `scimsync daemon`: a sync cycle at start, then one every `interval` (schedule.h),
// until SIGTERM/SIGINT. Meant to run as a systemd `Type=notify` service
// (systemd/scimsync.service) but works the same from a shell.
//
// Contract:
// - Loads the config (exit 2 with a config_error line if it is invalid), sets up
//   logging from [log] unless DaemonOptions override it, sends READY=1.
// - Each cycle opens its own session (daemon/session.h) with the state lock taken
//   without blocking; while a manual `scimsync sync` holds the lock the daemon
//   retries every second, still answering signals, so a long manual sync delays
//   the cycle but never a shutdown.
// - The cycle runs on a worker thread; the main thread keeps reading signals and
//   feeding the watchdog. SIGTERM/SIGINT set the cycle's stop flag (no new
//   requests; in-flight ones finish; every confirmed object is already recorded,
//   one row at a time). If the cycle has not ended `stop_timeout` after the
//   signal, or a second SIGTERM/SIGINT arrives, the daemon logs `stop_timeout` /
//   `stop_forced` and exits at once: the state stays consistent because each
//   object's row is written in its own transaction and a request in flight is
//   marked uncertain before it is sent (DESIGN §4).
// - SIGHUP reloads the config. A valid new config applies from the next cycle
//   (interval, jitter, source, target, logging); an invalid one is logged as
//   `config_reload_failed` (ERROR) and the old one stays.
// - SIGUSR1 runs a cycle now; during a cycle, one more right after it.
// - [source] watch = true: a WatchRunner (watch_runner.h) watches the source on its
//   own thread; a change goes to the schedule (schedule.h: debounced, one cycle at a
//   time) and STATUS= ends with the watch state. `event=cycle_start` says what
//   started the cycle (trigger=start|interval|watch|signal). SIGHUP restarts the watch.
// - After each cycle: state meta `daemon_pid` and `daemon_next_cycle` (ISO 8601
//   UTC, shown by `status`), the optional metrics_file (metrics.h), STATUS=
//   "idle, next cycle at HH:MM", and an `event=next_cycle` log line.
// - Between cycles the process sleeps in ppoll(2) until the next start, a signal
//   or a watchdog ping is due: no busy loop, ~0 CPU.
// Returns 0 after a graceful stop, 2 on an invalid config at start, 3 if the
// event loop cannot be set up.
#pragma once

#include <string>

namespace scimsync {

struct DaemonOptions {
  std::string log_format;  // "logfmt" or "json"; empty: [log] format of the config
  std::string log_level;   // "debug", "info", "warn", "error"; empty: [log] level
};

int RunDaemon(const std::string& config_path, const DaemonOptions& options);

// Sets the process logger from the config's [log] table (defaults when null),
// with the command line's --log-format / --log-level (in `options`) taking precedence.
// Used by every command, not only the daemon.
struct Config;  // config/config.h
void ApplyLogging(const Config* config, const DaemonOptions& options);

}  // namespace scimsync
