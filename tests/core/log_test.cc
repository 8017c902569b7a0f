#include "core/log.h"

#include <doctest/doctest.h>

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
