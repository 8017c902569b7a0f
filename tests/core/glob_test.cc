// The `[scope]` group patterns: fnmatch(3) syntax, ASCII case-insensitive.
#include "core/glob.h"

#include <doctest/doctest.h>

#include <string>

namespace scimsync {
namespace {

bool Match(const std::string& pattern, const std::string& name) {
  Result<Glob> g = Glob::Parse(pattern);
  REQUIRE_MESSAGE(g.ok(), g.status().message());
  return g->Matches(name);
}

std::string ParseError(const std::string& pattern) {
  Result<Glob> g = Glob::Parse(pattern);
  return g.ok() ? "ok" : g.status().message();
}

TEST_CASE("patterns match like fnmatch without flags, letters without case") {
  struct Row {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Row rows[] = {
      {"Team *", "Team Sales", true},
      {"Team *", "Team ", true},
      {"Team *", "Teams", false},
      {"Team *", "team sales", true},  // case-insensitive
      {"TEAM*", "team-x", true},
      {"*-legacy", "crm-legacy", true},
      {"*-legacy", "crm-LEGACY", true},
      {"*-legacy", "crm-legacy-2", false},
      {"*", "", true},
      {"*", "anything at all", true},
      {"**x", "x", true},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"a*b*c", "abcbc", true},
      {"?", "a", true},
      {"?", "", false},
      {"?", "ab", false},
      {"?", "\xC3\xA9", true},       // é is one character
      {"caf?", "caf\xC3\xA9", true},
      {"Staff", "staff", true},
      {"Staff", "Staff ", false},
      {"[abc]x", "bx", true},
      {"[abc]x", "Bx", true},
      {"[abc]x", "dx", false},
      {"[!abc]x", "dx", true},
      {"[^abc]x", "ax", false},
      {"[!abc]x", "Ax", false},     // negation after folding
      {"[a-c]1", "B1", true},
      {"[A-C]1", "b1", true},
      {"[A-C]1", "d1", false},
      {"[]]", "]", true},
      {"[!]]", "a", true},
      {"[a-]", "-", true},
      {"[*?]", "?", true},
      {"[*?]", "x", false},
      {"\\*", "*", true},
      {"\\*", "a", false},
      {"a\\?", "a?", true},
      {"a\\?", "ab", false},
      {"ou=*,dc=x", "ou=Keeper,dc=x", true},
      {"a/b*", "a/b/c", true},       // '/' is ordinary
      {"*x", ".x", true},            // so is a leading '.'
      {"\xC3\xA9quipe", "\xC3\x89QUIPE", false},  // non-ASCII letters keep their case
  };
  for (const Row& r : rows) {
    CAPTURE(r.pattern);
    CAPTURE(r.name);
    CHECK(Match(r.pattern, r.name) == r.match);
  }
}

TEST_CASE("a name that is not valid UTF-8 still matches stars and question marks") {
  CHECK(Match("*", "a\xFF"));
  CHECK(Match("a?", "a\xFF"));
  CHECK_FALSE(Match("a", "a\xFF"));
}

TEST_CASE("malformed patterns are errors, word for word") {
  CHECK(ParseError("Team *") == "ok");
  CHECK(ParseError("") == "empty pattern");
  CHECK(ParseError("Team [A-") == "invalid pattern \"Team [A-\": unterminated [ at character 6");
  CHECK(ParseError("[abc") == "invalid pattern \"[abc\": unterminated [ at character 1");
  CHECK(ParseError("[]") == "invalid pattern \"[]\": unterminated [ at character 1");
  CHECK(ParseError("x\\") == "invalid pattern \"x\\\": trailing \\ at character 2");
  CHECK(ParseError("[z-a]") == "invalid pattern \"[z-a]\": range out of order at character 2");
  CHECK(ParseError("[[:alpha:]]") ==
        "invalid pattern \"[[:alpha:]]\": character classes such as [:alpha:] are not "
        "supported at character 2");
  CHECK(ParseError("a\xFF") == "pattern is not valid UTF-8");
}

TEST_CASE("MatchesAny: any pattern, none for an empty list") {
  std::vector<Glob> globs;
  CHECK_FALSE(MatchesAny(globs, "x"));
  globs.push_back(*Glob::Parse("a*"));
  globs.push_back(*Glob::Parse("*z"));
  CHECK(MatchesAny(globs, "abc"));
  CHECK(MatchesAny(globs, "xyz"));
  CHECK_FALSE(MatchesAny(globs, "xyy"));
}

}  // namespace
}  // namespace scimsync
