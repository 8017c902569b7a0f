// Shell-style name patterns for `[scope] include_groups` / `exclude_groups`.
//
// The syntax and meaning of fnmatch(3) without flags (POSIX.1-2017 §2.13.1), with one
// difference: letters compare without case, ASCII only, like userName and every other
// case-insensitive name in scimsync (core/text.h FoldCase).
//   *        any run of characters, the empty one included ('/' and a leading '.'
//            are ordinary characters)
//   ?        exactly one character (one UTF-8 code point)
//   [abc]    one of the characters listed; ranges "a-z"; "[!...]" or "[^...]" negates;
//            a ']' right after "[" or "[!" is listed, a '-' first or last is listed
//   \c       the character c itself ("\*" is a star)
// Anything else matches itself. A pattern must be non-empty, valid UTF-8, and have no
// unterminated "[" and no trailing "\" (fnmatch would take those literally; here they
// are errors, since they are almost always typos in a config file).
// Character classes ("[[:alpha:]]") are not supported and are rejected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scimsync {

class Glob {
 public:
  // Compiles `pattern`; the error says what is wrong and where ("unterminated [ at
  // character 6").
  static Result<Glob> Parse(std::string_view pattern);

  // True if the whole of `name` matches. A name that is not valid UTF-8 is compared
  // byte by byte for its invalid bytes.
  bool Matches(std::string_view name) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Range {
    char32_t lo, hi;  // folded
  };
  enum class Kind : std::uint8_t { kChar, kAny, kStar, kSet };
  struct Token {
    Kind kind;
    char32_t c = 0;            // kChar, folded
    bool negated = false;      // kSet
    std::vector<Range> set;    // kSet
  };

  bool TokenMatches(const Token& t, char32_t c) const;

  std::string pattern_;
  std::vector<Token> tokens_;
};

// True if `name` matches any of `globs` (false for none).
bool MatchesAny(const std::vector<Glob>& globs, std::string_view name);

}  // namespace scimsync
