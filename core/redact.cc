#include "core/redact.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <utility>

namespace scimsync {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsQuote(char c) { return c == '"' || c == '\''; }
// RFC 6750 §2.1 b64token, without the trailing "=" padding.
bool IsTokenChar(char c) {
  return IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// Position of `word` (lower case) in `s` at or after `from`, ignoring ASCII case,
// where it starts a word (nothing alphanumeric right before it).
std::size_t FindWord(std::string_view s, std::string_view word, std::size_t from) {
  for (std::size_t i = from; i + word.size() <= s.size(); ++i) {
    if (i > 0 && IsAlnum(s[i - 1])) continue;
    std::size_t k = 0;
    while (k < word.size() && LowerAscii(s[i + k]) == word[k]) ++k;
    if (k == word.size()) return i;
  }
  return std::string_view::npos;
}

// Rule 1: literal forms, longest first at each position.
std::string ReplaceForms(std::string_view s, const std::vector<std::string>& forms) {
  if (forms.empty()) return std::string(s);
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    bool hit = false;
    for (const auto& f : forms) {
      if (s.compare(i, f.size(), f) == 0) {
        out += kRedacted;
        i += f.size();
        hit = true;
        break;
      }
    }
    if (!hit) out += s[i++];
  }
  return out;
}

// Rule 3: the value after "Authorization" ":" or "=".
std::string ReplaceAuthorization(std::string&& text) {
  constexpr std::string_view kWord = "authorization";
  std::string_view s = text;
  if (FindWord(s, kWord, 0) == std::string_view::npos) return std::move(text);
  std::string out;
  std::size_t i = 0;
  for (;;) {
    std::size_t at = FindWord(s, kWord, i);
    if (at == std::string_view::npos) break;
    std::size_t k = at + kWord.size();
    if (k < s.size() && IsQuote(s[k])) ++k;  // the closing quote of a key: "Authorization": ...
    while (k < s.size() && IsBlank(s[k])) ++k;
    if (k >= s.size() || (s[k] != ':' && s[k] != '=')) {
      out.append(s, i, at + kWord.size() - i);
      i = at + kWord.size();
      continue;
    }
    ++k;
    while (k < s.size() && IsBlank(s[k])) ++k;
    // Up to the end of the value's own quotes if it has them, else up to the end
    // of the line or of the quoted string around it (a JSON body on one line).
    std::size_t begin = k;
    char quote = '"';
    if (k < s.size() && IsQuote(s[k])) {
      quote = s[k];
      begin = k + 1;
    }
    std::size_t end = begin;
    while (end < s.size() && s[end] != quote && s[end] != '\n' && s[end] != '\r') {
      end += (s[end] == '\\') ? 2 : 1;  // an escaped quote does not end it
    }
    end = std::min(end, s.size());
    out.append(s, i, begin - i);
    if (end > begin) out += kRedacted;
    i = end;
  }
  out.append(s, i, std::string_view::npos);
  return out;
}

// Rule 2: the token after "Bearer".
std::string ReplaceBearer(std::string&& text) {
  constexpr std::string_view kWord = "bearer";
  std::string_view s = text;
  if (FindWord(s, kWord, 0) == std::string_view::npos) return std::move(text);
  std::string out;
  std::size_t i = 0;
  for (;;) {
    std::size_t at = FindWord(s, kWord, i);
    if (at == std::string_view::npos) break;
    std::size_t k = at + kWord.size();
    while (k < s.size() && IsBlank(s[k])) ++k;
    std::size_t begin = k;
    while (k < s.size() && IsTokenChar(s[k])) ++k;
    while (k < s.size() && s[k] == '=') ++k;
    if (begin == at + kWord.size() || k == begin) {  // no blank, or no token
      out.append(s, i, begin - i);
      i = begin;
      continue;
    }
    out.append(s, i, begin - i);
    out += kRedacted;
    i = k;
  }
  out.append(s, i, std::string_view::npos);
  return out;
}

struct Registry {
  std::mutex mu;
  std::shared_ptr<const Redactor> current = std::make_shared<const Redactor>();
};

// Never destroyed, like the logger: a line logged during exit still redacts.
Registry& TheRegistry() {
  static Registry* r = new Registry();
  return *r;
}

}  // namespace

std::string PercentEncode(std::string_view s, bool lower_hex) {
  const char* digits = lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (IsAlnum(static_cast<char>(c)) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xF];
    }
  }
  return out;
}

void Redactor::Add(std::string_view secret) {
  if (secret.size() < kMinSecretLength) return;
  for (std::string form : {std::string(secret), PercentEncode(secret), PercentEncode(secret, true),
                           JsonEscape(secret), JsonEscape(secret, true)}) {
    if (std::find(forms_.begin(), forms_.end(), form) == forms_.end()) {
      forms_.push_back(std::move(form));
    }
  }
  std::stable_sort(forms_.begin(), forms_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string Redactor::Apply(std::string_view text) const {
  if (text.empty()) return {};
  return ReplaceBearer(ReplaceAuthorization(ReplaceForms(text, forms_)));
}

void RegisterSecret(std::string_view secret) {
  if (secret.size() < kMinSecretLength) return;
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  // Copy on write: readers keep the snapshot they took, without a lock while they scan.
  auto next = std::make_shared<Redactor>(*r.current);
  next->Add(secret);
  r.current = std::move(next);
}

std::shared_ptr<const Redactor> Secrets() {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  return r.current;
}

std::string Redact(std::string_view text) {
  if (text.empty()) return {};
  return Secrets()->Apply(text);
}

}  // namespace scimsync
