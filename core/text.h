#pragma once

// Small text helpers shared by every folder: ASCII case folding, JSON and logfmt
// escaping, ISO-8601 UTC time stamps and FNV-1a hashing. Standard library only.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace scimsync {

// ASCII letters lowered; every other byte (UTF-8 included) left as it is.
constexpr char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// True if a and b are equal with ASCII letters compared case-insensitively
// (SCIM attribute names, LDAP attribute names, HTTP header names, userName).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// s with ASCII letters lowered (the key form of a case-insensitive name).
std::string FoldCase(std::string_view s);

// s without spaces and tabs at both ends (HTTP's optional whitespace, RFC 9110
// §5.6.3: how header field values are trimmed).
std::string_view TrimOws(std::string_view s);

// True if s is non-empty and all ASCII digits.
bool AllDigits(std::string_view s);

// Appends v escaped for the inside of a JSON string (RFC 8259 §7): quote, backslash
// and control characters; '/' too if escape_slash (the form some encoders write).
void AppendJsonEscaped(std::string& out, std::string_view v, bool escape_slash = false);
// JSON string escaping of s, without the quotes.
std::string JsonEscape(std::string_view s, bool escape_slash = false);
// Appends v as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view v);

// Appends v as a logfmt value: bare if it has no space, control character, '"',
// '=' or '\\' and is not empty; else quoted with \" \\ \n \r \t and \xNN escapes.
void AppendLogfmtValue(std::string& out, std::string_view v);

// ISO-8601 / RFC 3339 UTC: "2026-11-28T21:17:08Z".
std::string IsoUtc(std::chrono::system_clock::time_point t);
// The same with milliseconds: "2026-11-28T21:17:08.123Z".
std::string IsoUtcMillis(std::chrono::system_clock::time_point t);

// 64-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/).
inline constexpr std::uint64_t kFnv1aOffsetBasis = 14695981039346656037ULL;
inline constexpr std::uint64_t kFnv1aPrime = 1099511628211ULL;

class Fnv1a64 {
 public:
  constexpr explicit Fnv1a64(std::uint64_t basis = kFnv1aOffsetBasis) : h_(basis) {}
  constexpr void AddByte(unsigned char b) { h_ = (h_ ^ b) * kFnv1aPrime; }
  constexpr void Add(std::string_view s) {
    for (char c : s) AddByte(static_cast<unsigned char>(c));
  }
  constexpr std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_;
};

// FNV-1a of s; of FoldCase(s) if fold.
std::uint64_t Fnv1a(std::string_view s, bool fold = false);

}  // namespace scimsync
