#include "core/glob.h"

#include <utility>

#include "core/model.h"

namespace scimsync {
namespace {

// Outside the Unicode range: an invalid byte of a name stands for itself and matches
// only `*`, `?` or the same invalid byte (which a valid pattern cannot hold).
constexpr char32_t kInvalidByteBase = 0x110000;

char32_t Fold(char32_t c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

// Decodes the code point at s[i] and advances i. The input need not be valid UTF-8.
char32_t Next(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size() || (len > 1 && !IsValidUtf8(s.substr(i, len)))) {
    ++i;
    return kInvalidByteBase + b;
  }
  char32_t c = len == 1 ? b : b & (0x7F >> len);
  for (int k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return c;
}

Status Bad(std::string_view pattern, std::string_view what, std::size_t at) {
  return Status(ErrorCode::kInvalidArgument, "invalid pattern \"" + std::string(pattern) +
                                                 "\": " + std::string(what) + " at character " +
                                                 std::to_string(at + 1));
}

}  // namespace

Result<Glob> Glob::Parse(std::string_view pattern) {
  if (pattern.empty()) return Status(ErrorCode::kInvalidArgument, "empty pattern");
  if (!IsValidUtf8(pattern)) {
    return Status(ErrorCode::kInvalidArgument, "pattern is not valid UTF-8");
  }
  Glob g;
  g.pattern_ = std::string(pattern);
  std::size_t i = 0;
  while (i < pattern.size()) {
    std::size_t at = i;
    char32_t c = Next(pattern, i);
    Token t{};
    if (c == '*') {
      // Runs of stars mean one star.
      if (!g.tokens_.empty() && g.tokens_.back().kind == Kind::kStar) continue;
      t.kind = Kind::kStar;
    } else if (c == '?') {
      t.kind = Kind::kAny;
    } else if (c == '\\') {
      if (i >= pattern.size()) return Bad(pattern, "trailing \\", at);
      t.kind = Kind::kChar;
      t.c = Fold(Next(pattern, i));
    } else if (c == '[') {
      t.kind = Kind::kSet;
      if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
        t.negated = true;
        ++i;
      }
      bool first = true;
      bool closed = false;
      while (i < pattern.size()) {
        std::size_t item = i;
        char32_t lo = Next(pattern, i);
        if (lo == ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (lo == '[' && i < pattern.size() && pattern[i] == ':') {
          return Bad(pattern, "character classes such as [:alpha:] are not supported", item);
        }
        if (lo == '\\') {
          if (i >= pattern.size()) break;
          lo = Next(pattern, i);
        }
        char32_t hi = lo;
        if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
          ++i;
          hi = Next(pattern, i);
          if (hi == '\\') {
            if (i >= pattern.size()) break;
            hi = Next(pattern, i);
          }
          if (hi < lo) return Bad(pattern, "range out of order", item);
        }
        // A range that spans letters folds to the lower-case range and keeps the
        // rest ("[A-z]" also holds "[\]^_`"); a single upper-case letter folds.
        if (lo <= 'Z' && hi >= 'A') {
          char32_t flo = lo < 'A' ? 'a' : Fold(lo);
          char32_t fhi = hi > 'Z' ? 'z' : Fold(hi);
          t.set.push_back({flo, fhi});
        }
        t.set.push_back({lo, hi});
      }
      if (!closed) return Bad(pattern, "unterminated [", at);
    } else {
      t.kind = Kind::kChar;
      t.c = Fold(c);
    }
    g.tokens_.push_back(std::move(t));
  }
  return g;
}

bool Glob::TokenMatches(const Token& t, char32_t c) const {
  switch (t.kind) {
    case Kind::kChar: return t.c == c;
    case Kind::kAny: return true;
    case Kind::kStar: return true;
    case Kind::kSet: {
      bool in = false;
      for (const Range& r : t.set) in = in || (c >= r.lo && c <= r.hi);
      return in != t.negated;
    }
  }
  return false;
}

bool Glob::Matches(std::string_view name) const {
  std::vector<char32_t> s;
  s.reserve(name.size());
  for (std::size_t i = 0; i < name.size();) s.push_back(Fold(Next(name, i)));
  // Every token but `*` takes exactly one character, so on a mismatch it is enough
  // to let the last `*` seen take one more character and go on from there.
  std::size_t p = 0, n = 0;
  std::size_t star = tokens_.size(), star_n = 0;
  while (n < s.size()) {
    if (p < tokens_.size() && tokens_[p].kind == Kind::kStar) {
      star = p++;
      star_n = n;
    } else if (p < tokens_.size() && TokenMatches(tokens_[p], s[n])) {
      ++p;
      ++n;
    } else if (star != tokens_.size()) {
      p = star + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < tokens_.size() && tokens_[p].kind == Kind::kStar) ++p;
  return p == tokens_.size();
}

bool MatchesAny(const std::vector<Glob>& globs, std::string_view name) {
  for (const Glob& g : globs) {
    if (g.Matches(name)) return true;
  }
  return false;
}

}  // namespace scimsync
