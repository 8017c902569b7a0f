#include "core/text.h"

#include <algorithm>

#include <time.h>

#include <cstdio>
#include <ctime>

namespace scimsync {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

std::string FoldCase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = LowerAscii(c);
  return out;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void AppendJsonEscaped(std::string& out, std::string_view v, bool escape_slash) {
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '/': out += escape_slash ? "\\/" : "/"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

std::string JsonEscape(std::string_view s, bool escape_slash) {
  std::string out;
  AppendJsonEscaped(out, s, escape_slash);
  return out;
}

void AppendJsonString(std::string& out, std::string_view v) {
  out += '"';
  AppendJsonEscaped(out, v);
  out += '"';
}

namespace {

bool NeedsLogfmtQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F) return true;
  }
  return false;
}

// "%Y-%m-%dT%H:%M:%S" of a UTC second into buf; returns the length written.
std::size_t FormatUtcSeconds(std::time_t secs, char* buf, std::size_t size) {
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return std::strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

}  // namespace

void AppendLogfmtValue(std::string& out, std::string_view v) {
  if (!NeedsLogfmtQuoting(v)) {
    out += v;
    return;
  }
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string IsoUtc(std::chrono::system_clock::time_point t) {
  char buf[40];
  std::size_t n = FormatUtcSeconds(std::chrono::system_clock::to_time_t(t), buf, sizeof buf);
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

std::string IsoUtcMillis(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  auto secs = ms / 1000, rem = ms % 1000;
  if (rem < 0) { secs -= 1; rem += 1000; }
  char buf[40];
  std::size_t n = FormatUtcSeconds(static_cast<std::time_t>(secs), buf, sizeof buf);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(rem));
  return buf;
}

std::uint64_t Fnv1a(std::string_view s, bool fold) {
  Fnv1a64 h;
  for (char c : s) h.AddByte(static_cast<unsigned char>(fold ? LowerAscii(c) : c));
  return h.value();
}

}  // namespace scimsync
