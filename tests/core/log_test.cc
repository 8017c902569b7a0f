#include "core/log.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/redact.h"

using namespace scimsync;

TEST_CASE("the logger redacts every field value, in both formats") {
  const std::string secret = "log-test-token/0815";
  RegisterSecret(secret);
  const LogFields fields = {
      {"error", "HTTP 401: You sent: Bearer " + secret},
      {"response_body", R"({"detail":"token tok\/x log-test-token\/0815 refused"})"},
      {"reason", "bad credential " + secret + " (log-test-token%2F0815)"},
      {"key", "E1"},
  };

  Logger text(Logger::Format::kLogfmt, LogLevel::kDebug);
  CHECK(text.Render(LogLevel::kWarn, "user_failed", fields) ==
        "level=warn event=user_failed error=\"HTTP 401: You sent: Bearer [REDACTED]\" "
        "response_body=\"{\\\"detail\\\":\\\"token tok\\\\/x [REDACTED] refused\\\"}\" "
        "reason=\"bad credential [REDACTED] ([REDACTED])\" key=E1");

  Logger json(Logger::Format::kJson, LogLevel::kDebug);
  std::string line = json.Render(LogLevel::kWarn, "user_failed", fields);
  CHECK(line.find("log-test-token") == std::string::npos);
  CHECK(line.find(R"("error":"HTTP 401: You sent: Bearer [REDACTED]")") != std::string::npos);

  // What Log() writes is what Render() returns.
  std::vector<std::string> sink;
  text.CaptureForTest(&sink);
  text.Log(LogLevel::kError, "cycle_stopping", {{"reason", "refused: " + secret}});
  REQUIRE(sink.size() == 1);
  CHECK(sink[0] == "level=error event=cycle_stopping reason=\"refused: [REDACTED]\"");
}

TEST_CASE("JSON lines write numbers and booleans as JSON, text as strings") {
  Logger json(Logger::Format::kJson, LogLevel::kDebug);
  json.SetCycle(42);
  CHECK(json.Render(LogLevel::kInfo, "cycle_end",
                    {{"result", "ok"}, {"users_created", 3}, {"requests", 1234567890123L},
                     {"ratio", 0.5}, {"dry_run", false}, {"key", "1001"}}) ==
        R"({"level":"info","event":"cycle_end","cycle":42,"result":"ok","users_created":3,)"
        R"("requests":1234567890123,"ratio":0.5,"dry_run":false,"key":"1001"})");
  Logger text(Logger::Format::kLogfmt, LogLevel::kDebug);
  CHECK(text.Render(LogLevel::kInfo, "cycle_end", {{"users_created", 3}, {"dry_run", true}}) ==
        "level=info event=cycle_end users_created=3 dry_run=true");
}

namespace {

// What a Logger writes to a pipe, read back.
std::string WrittenLine(Logger::Format format, bool journal_env_matches) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  struct stat st {};
  REQUIRE(::fstat(fds[1], &st) == 0);
  std::string stream = journal_env_matches
                           ? std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)
                           : "1:2";  // systemd's stream, but stderr went elsewhere
  ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
  {
    Logger logger(format, LogLevel::kInfo, fds[1]);
    logger.Log(LogLevel::kWarn, "seats_exhausted", {{"seat_blocked", 2}});
  }
  ::unsetenv("JOURNAL_STREAM");
  ::close(fds[1]);
  char buf[512];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  REQUIRE(n > 0);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace

TEST_CASE("journal stream: priority prefix and no timestamp only when stderr is the journal") {
  CHECK(WrittenLine(Logger::Format::kLogfmt, true) ==
        "<4>level=warn event=seats_exhausted seat_blocked=2\n");
  // JOURNAL_STREAM inherited, but the stream was redirected to a file or pipe:
  // a plain line with its own RFC 3339 UTC timestamp.
  std::string plain = WrittenLine(Logger::Format::kLogfmt, false);
  CAPTURE(plain);
  CHECK(plain.rfind("ts=", 0) == 0);
  CHECK(plain.size() == std::string("ts=2026-11-28T21:17:08.123Z ").size() +
                            std::string("level=warn event=seats_exhausted seat_blocked=2\n").size());
  CHECK(plain.substr(13, 1) == "T");
  CHECK(plain.substr(26, 2) == "Z ");
  std::string json = WrittenLine(Logger::Format::kJson, false);
  CAPTURE(json);
  CHECK(json.rfind("{\"ts\":\"", 0) == 0);
  CHECK(json.find("\",\"level\":\"warn\",\"event\":\"seats_exhausted\",\"seat_blocked\":2}\n") !=
        std::string::npos);
}
