#include "core/log.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/redact.h"
#include "core/text.h"

namespace scimsync {
namespace {

// RFC 3339 UTC with milliseconds: 2026-11-28T21:17:08.123Z.
std::string Timestamp() { return IsoUtcMillis(std::chrono::system_clock::now()); }

int SyslogPriority(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return 7;
    case LogLevel::kInfo: return 6;
    case LogLevel::kWarn: return 4;
    case LogLevel::kError: return 3;
  }
  return 6;
}

}  // namespace

std::string_view LogLevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

std::optional<LogLevel> LogLevelByName(std::string_view name) {
  for (auto l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (LogLevelName(l) == name) return l;
  }
  return std::nullopt;
}

bool IsJournalStream(int fd) {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

Logger::Logger(Format format, LogLevel min_level, int fd)
    : format_(format),
      min_level_(min_level),
      fd_(fd),
      prefix_(IsJournalStream(fd)),
      timestamps_(!prefix_) {}

std::string Logger::Render(LogLevel level, std::string_view event, const LogFields& fields) const {
  std::string out;
  out.reserve(128);
  // Every value is redacted here, so no caller can forget it: field values carry
  // text from outside (a server's error body, a source's message).
  std::shared_ptr<const Redactor> secrets = Secrets();
  if (format_ == Format::kJson) {
    out += "{\"level\":";
    AppendJsonString(out, LogLevelName(level));
    out += ",\"event\":";
    AppendJsonString(out, event);
    if (cycle_ != 0) out += ",\"cycle\":" + std::to_string(cycle_);
    for (const auto& [k, v] : fields) {
      out += ',';
      AppendJsonString(out, k);
      out += ':';
      if (v.kind() == LogValue::Kind::kText) {
        AppendJsonString(out, secrets->Apply(v.text()));
      } else {
        out += v.text();  // a number or true/false, rendered by LogValue
      }
    }
    out += '}';
  } else {
    out += "level=";
    out += LogLevelName(level);
    out += " event=";
    AppendLogfmtValue(out, event);
    if (cycle_ != 0) out += " cycle=" + std::to_string(cycle_);
    for (const auto& [k, v] : fields) {
      out += ' ';
      out += k;
      out += '=';
      AppendLogfmtValue(out, v.kind() == LogValue::Kind::kText ? secrets->Apply(v.text()) : v.text());
    }
  }
  return out;
}

void Logger::Log(LogLevel level, std::string_view event, const LogFields& fields) {
  if (!Enabled(level)) return;
  std::string line = Render(level, event, fields);
  std::lock_guard<std::mutex> lock(mu_);
  if (capture_ != nullptr) {
    capture_->push_back(std::move(line));
    return;
  }
  if (timestamps_) {
    line = format_ == Format::kJson ? "{\"ts\":\"" + Timestamp() + "\"," + line.substr(1)
                                    : "ts=" + Timestamp() + " " + line;
  }
  if (prefix_) line = "<" + std::to_string(SyslogPriority(level)) + ">" + line;
  line += '\n';
  if (!live_.empty()) line = "\r\x1b[K" + line + live_;
  WriteAll(line);
}

void Logger::SetLiveLine(std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capture_ != nullptr || text == live_) return;
  live_ = std::move(text);
  WriteAll("\r\x1b[K" + live_);
}

void Logger::WriteAll(const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n <= 0) break;  // nowhere to report a failed log write
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

Logger& Log() {
  static Logger* logger = new Logger();
  return *logger;
}

}  // namespace scimsync
