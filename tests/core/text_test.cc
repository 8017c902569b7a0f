#include "core/text.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace scimsync;

TEST_CASE("EqualsIgnoreCase folds ASCII letters only") {
  CHECK(EqualsIgnoreCase("userName", "USERNAME"));
  CHECK(EqualsIgnoreCase("", ""));
  CHECK_FALSE(EqualsIgnoreCase("user", "users"));
  CHECK_FALSE(EqualsIgnoreCase("a[", "A{"));  // '[' is not a folded 'a'-range letter
  CHECK_FALSE(EqualsIgnoreCase("\xC3\x89", "\xC3\xA9"));  // É / é: bytes compared as they are
  CHECK(FoldCase("Ab-Z\xC3\x89") == "ab-z\xC3\x89");
  CHECK(LowerAscii('@') == '@');
  CHECK(LowerAscii('Q') == 'q');
}

TEST_CASE("JSON escaping") {
  CHECK(JsonEscape("a\"b\\c/d\n\x01") == "a\\\"b\\\\c/d\\n\\u0001");
  CHECK(JsonEscape("a/b", true) == "a\\/b");
  CHECK(JsonEscape("\b\f\r\t\x1f") == "\\b\\f\\r\\t\\u001f");
  CHECK(JsonEscape("\xC3\xA9") == "\xC3\xA9");
  std::string out = "x=";
  AppendJsonString(out, "say \"hi\"");
  CHECK(out == "x=\"say \\\"hi\\\"\"");
}

TEST_CASE("logfmt values are bare when safe, else quoted and escaped") {
  auto fmt = [](std::string_view v) {
    std::string out;
    AppendLogfmtValue(out, v);
    return out;
  };
  CHECK(fmt("plain") == "plain");
  CHECK(fmt("") == "\"\"");
  CHECK(fmt("a b") == "\"a b\"");
  CHECK(fmt("k=v") == "\"k=v\"");
  CHECK(fmt("q\"\\") == "\"q\\\"\\\\\"");
  CHECK(fmt("l1\nl2\r\t") == "\"l1\\nl2\\r\\t\"");
  CHECK(fmt("\x01\x7f") == "\"\\x01\\x7f\"");
}

TEST_CASE("ISO-8601 UTC") {
  using namespace std::chrono;
  system_clock::time_point t{seconds{1795900628}};  // 2026-11-28T21:17:08Z
  CHECK(IsoUtc(t) == "2026-11-28T21:17:08Z");
  CHECK(IsoUtc(t + milliseconds{999}) == "2026-11-28T21:17:08Z");
  CHECK(IsoUtcMillis(t + milliseconds{123}) == "2026-11-28T21:17:08.123Z");
  CHECK(IsoUtcMillis(t) == "2026-11-28T21:17:08.000Z");
  CHECK(IsoUtc(system_clock::time_point{}) == "1970-01-01T00:00:00Z");
}

TEST_CASE("FNV-1a 64 matches the published test vectors") {
  CHECK(Fnv1a("") == 0xcbf29ce484222325ULL);
  CHECK(Fnv1a("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(Fnv1a("foobar") == 0x85944171f73967e8ULL);
  CHECK(Fnv1a("FooBar", /*fold=*/true) == Fnv1a("foobar"));
  CHECK(Fnv1a("FooBar") != Fnv1a("foobar"));
  Fnv1a64 h;
  h.Add("foo");
  h.Add("bar");
  CHECK(h.value() == Fnv1a("foobar"));
  CHECK(Fnv1a64(1).value() == 1);
}
