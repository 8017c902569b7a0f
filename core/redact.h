// Secret redaction (DESIGN §7): a secret never appears in a log line, an error
// message, the state file or a command's output — including text that came back
// from a server, which may echo the Authorization header it was sent.
//
// Redactor::Apply(text) replaces with "[REDACTED]":
// 1. every occurrence of a secret given to Add(), and of its encoded forms where
//    they differ from it: percent-encoded (every byte but RFC 3986 unreserved
//    characters, upper- and lower-case hex) and JSON-escaped (with "/" kept and
//    with "/" written "\/");
// 2. whatever follows "Bearer" and blanks (any case): the RFC 6750 §2.1 token
//    characters, registered or not — a proxy may have sent a token of its own;
// 3. the value after "Authorization" (any case, also "Proxy-Authorization") and a
//    ":" or "=": up to its closing quote when the value is quoted (a JSON or
//    logfmt field), else up to the end of the line or an unescaped '"' (the end
//    of the JSON string it was quoted in).
// Rules 2 and 3 may redact a little more than a secret; that is the safe side.
//
// Secrets shorter than kMinSecretLength are ignored: replacing every "abc" in every
// line would make the logs unreadable and, by the pattern of the gaps, show the
// secret anyway. Such a value protects nothing; the length is the operator's to fix.
//
// The process-wide registry is what the program uses: secrets are registered where
// they are read (config/ ReadSecret), and every boundary where outside text leaves
// the process (the logger, the state store, `status`, `check`, sd_notify STATUS=)
// passes it through Redact(). A secret stays registered for the life of the
// process, so a token replaced by a reload is still redacted.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/text.h"
#include <vector>

namespace scimsync {

inline constexpr std::string_view kRedacted = "[REDACTED]";
inline constexpr std::size_t kMinSecretLength = 4;

class Redactor {
 public:
  // Adds `secret` and its encoded forms. Shorter than kMinSecretLength: ignored.
  void Add(std::string_view secret);
  // `text` with every secret form and pattern above replaced by kRedacted.
  std::string Apply(std::string_view text) const;
  // The literal forms matched by rule 1, longest first (for tests).
  const std::vector<std::string>& forms() const { return forms_; }

 private:
  std::vector<std::string> forms_;  // longest first, so a form never hides a longer one
};

// The percent-encoded form of `s` (RFC 3986 unreserved characters kept).
std::string PercentEncode(std::string_view s, bool lower_hex = false);
// JsonEscape lives in core/text.h.

// Process-wide registry; thread-safe.
void RegisterSecret(std::string_view secret);
// A snapshot of the registry, for a caller that redacts many values at once.
std::shared_ptr<const Redactor> Secrets();
// Secrets()->Apply(text).
std::string Redact(std::string_view text);

}  // namespace scimsync
