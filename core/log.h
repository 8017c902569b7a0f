// Structured logging (DESIGN §10): one event a line, logfmt by default or one JSON
// object a line. Every line carries `level`, `event` and the fields given; the
// current cycle id is added by the logger when set. Under systemd (JOURNAL_STREAM
// set) each line starts with the sd-daemon priority prefix "<N>".
//
// Secrets must never be passed as field values; the SCIM client leaves the
// Authorization header out of what it logs. As a second line, Render() passes every
// field value through Redact() (core/redact.h): a registered secret, or a
// "Bearer ..." / "Authorization: ..." echoed in a server's words, never reaches a line.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scimsync {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
std::string_view LogLevelName(LogLevel l);
std::optional<LogLevel> LogLevelByName(std::string_view name);

using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
 public:
  enum class Format { kLogfmt, kJson };

  // Writes to `fd` (2 = stderr).
  explicit Logger(Format format = Format::kLogfmt, LogLevel min_level = LogLevel::kInfo,
                  int fd = 2);

  void Log(LogLevel level, std::string_view event, const LogFields& fields = {});
  bool Enabled(LogLevel level) const { return level >= min_level_; }

  void SetFormat(Format f) { format_ = f; }
  void SetMinLevel(LogLevel l) { min_level_ = l; }
  // Prefix lines with "<N>" (journald priority); default: on when JOURNAL_STREAM set.
  void SetPriorityPrefix(bool on) { prefix_ = on; }
  // 0 clears it. Added as `cycle=<id>` to every line while set.
  void SetCycle(std::int64_t cycle_id) { cycle_ = cycle_id; }
  // Captures lines in memory instead of writing them (tests).
  void CaptureForTest(std::vector<std::string>* sink) { capture_ = sink; }

  // Renders one line without the trailing newline (exposed for tests).
  std::string Render(LogLevel level, std::string_view event, const LogFields& fields) const;

 private:
  enum Format format_;
  LogLevel min_level_;
  int fd_;
  bool prefix_;
  std::int64_t cycle_ = 0;
  std::vector<std::string>* capture_ = nullptr;
  std::mutex mu_;
};

// The process-wide logger. Replace its settings at start-up; never destroyed.
Logger& Log();

// Shorthands: LogInfo("event", {{"k","v"}}).
inline void LogDebug(std::string_view e, const LogFields& f = {}) { Log().Log(LogLevel::kDebug, e, f); }
inline void LogInfo(std::string_view e, const LogFields& f = {}) { Log().Log(LogLevel::kInfo, e, f); }
inline void LogWarn(std::string_view e, const LogFields& f = {}) { Log().Log(LogLevel::kWarn, e, f); }
inline void LogError(std::string_view e, const LogFields& f = {}) { Log().Log(LogLevel::kError, e, f); }

}  // namespace scimsync
