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
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace scimsync {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
std::string_view LogLevelName(LogLevel l);
std::optional<LogLevel> LogLevelByName(std::string_view name);

// One field value: text, or a number or a boolean, which the JSON format writes as
// JSON numbers and booleans ("users_created":3, not "3"). logfmt writes all three
// as they read. Text converts implicitly, so {"key", "E1"} and {"count", 3} both work.
class LogValue {
 public:
  enum class Kind { kText, kNumber, kBool };
  LogValue(std::string text) : text_(std::move(text)) {}  // NOLINT: implicit by design
  LogValue(std::string_view text) : text_(text) {}        // NOLINT
  LogValue(const char* text) : text_(text) {}             // NOLINT
  LogValue(bool b) : text_(b ? "true" : "false"), kind_(Kind::kBool) {}  // NOLINT
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N> &&
                                                    !std::is_same_v<N, bool>>>
  LogValue(N n) : text_(FormatNumber(n)), kind_(Kind::kNumber) {}  // NOLINT

  const std::string& text() const { return text_; }
  Kind kind() const { return kind_; }

 private:
  template <typename N>
  static std::string FormatNumber(N n) {
    if constexpr (std::is_integral_v<N>) {
      return std::to_string(n);
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", static_cast<double>(n));
      return buf;
    }
  }
  std::string text_;
  Kind kind_ = Kind::kText;
};

using LogFields = std::vector<std::pair<std::string, LogValue>>;

// True when `fd` is the journal stream systemd connected us to: JOURNAL_STREAM
// holds "device:inode" of that stream, and it is inherited by children whose
// stderr may since have been redirected to a file (sd_journal_stream_fd(3),
// systemd.exec(5) "$JOURNAL_STREAM"), so the variable alone proves nothing.
bool IsJournalStream(int fd);

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
  // Prefix lines with "<N>" (journald priority); default: on when `fd` is the
  // journal stream (IsJournalStream).
  void SetPriorityPrefix(bool on) { prefix_ = on; }
  // Start each written line with its time, `ts=2026-11-28T21:17:08.123Z` (RFC 3339,
  // UTC); default: on unless `fd` is the journal stream, which keeps its own.
  void SetTimestamps(bool on) { timestamps_ = on; }
  // 0 clears it. Added as `cycle=<id>` to every line while set.
  void SetCycle(std::int64_t cycle_id) { cycle_ = cycle_id; }
  // Captures lines in memory instead of writing them (tests).
  void CaptureForTest(std::vector<std::string>* sink) { capture_ = sink; }
  // A live line kept below the log lines (a terminal's progress line): written with
  // "\r" and erase-to-end, wiped before each log line and drawn again after it.
  // "" wipes it. Only for a terminal: the caller decides.
  void SetLiveLine(std::string text);

  // Renders one line without the trailing newline and without the timestamp,
  // which Log() adds when it writes (exposed for tests).
  std::string Render(LogLevel level, std::string_view event, const LogFields& fields) const;

 private:
  void WriteAll(const std::string& text);  // caller holds mu_

  enum Format format_;
  LogLevel min_level_;
  int fd_;
  bool prefix_;
  bool timestamps_;
  std::int64_t cycle_ = 0;
  std::vector<std::string>* capture_ = nullptr;
  std::string live_;
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
