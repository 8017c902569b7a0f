#include "connectors/ldap/ldap_dn.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "core/model.h"
#include "core/text.h"

namespace scimsync {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One parsed value character: escaped ones are never trimmed or collapsed.
struct ValueChar {
  char c;
  bool escaped;
};

std::string CanonicalValue(const std::vector<ValueChar>& raw) {
  std::size_t b = 0, e = raw.size();
  while (b < e && raw[b].c == ' ' && !raw[b].escaped) ++b;
  while (e > b && raw[e - 1].c == ' ' && !raw[e - 1].escaped) --e;
  std::string v;
  bool prev_space = false;
  for (std::size_t i = b; i < e; ++i) {
    char c = raw[i].c;
    // caseIgnoreMatch treats any run of spaces as one, escaped or not.
    if (c == ' ') {
      if (prev_space) continue;
      prev_space = true;
    } else {
      prev_space = false;
    }
    v.push_back(LowerAscii(c));
  }
  std::string out;
  static const char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < v.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(v[i]);
    bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                   c == ';' || c == '=' || c == 0 || (i == 0 && (c == '#' || c == ' ')) ||
                   (i + 1 == v.size() && c == ' ');
    if (special) {
      out.push_back('\\');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// Parses the DN; nullopt when it is not well-formed.
std::optional<std::string> Parse(std::string_view dn) {
  std::vector<std::string> rdns;
  std::vector<std::string> avas;
  std::size_t i = 0;
  const std::size_t n = dn.size();
  auto skip_spaces = [&] {
    while (i < n && dn[i] == ' ') ++i;
  };
  skip_spaces();
  if (i == n) return std::string();  // the root DSE / empty DN
  for (;;) {
    // attribute type
    skip_spaces();
    std::size_t t0 = i;
    while (i < n && dn[i] != '=' && dn[i] != ',' && dn[i] != ';' && dn[i] != '+') ++i;
    if (i == n || dn[i] != '=') return std::nullopt;
    std::string type(Trim(dn.substr(t0, i - t0)));
    if (type.empty()) return std::nullopt;
    for (char& c : type) c = LowerAscii(c);
    ++i;  // '='
    skip_spaces();
    std::string value;
    if (i < n && dn[i] == '#') {
      // hex string (BER encoding): compare as lower-case hex
      std::size_t v0 = i;
      while (i < n && dn[i] != ',' && dn[i] != ';' && dn[i] != '+') ++i;
      value = std::string(Trim(dn.substr(v0, i - v0)));
      for (char& c : value) c = LowerAscii(c);
    } else if (i < n && dn[i] == '"') {
      // legacy quoted value (RFC 1779)
      ++i;
      std::vector<ValueChar> raw;
      while (i < n && dn[i] != '"') {
        if (dn[i] == '\\' && i + 1 < n) ++i;
        raw.push_back({dn[i], true});
        ++i;
      }
      if (i == n) return std::nullopt;
      ++i;
      skip_spaces();
      value = CanonicalValue(raw);
    } else {
      std::vector<ValueChar> raw;
      while (i < n && dn[i] != ',' && dn[i] != ';' && dn[i] != '+') {
        if (dn[i] == '\\') {
          if (i + 1 >= n) return std::nullopt;
          int h1 = HexDigit(dn[i + 1]);
          int h2 = i + 2 < n ? HexDigit(dn[i + 2]) : -1;
          if (h1 >= 0 && h2 >= 0) {
            raw.push_back({static_cast<char>(h1 * 16 + h2), true});
            i += 3;
          } else {
            raw.push_back({dn[i + 1], true});
            i += 2;
          }
        } else {
          raw.push_back({dn[i], false});
          ++i;
        }
      }
      value = CanonicalValue(raw);
    }
    avas.push_back(type + "=" + value);
    if (i == n || dn[i] == ',' || dn[i] == ';') {
      std::sort(avas.begin(), avas.end());
      std::string rdn;
      for (std::size_t k = 0; k < avas.size(); ++k) {
        if (k) rdn += '+';
        rdn += avas[k];
      }
      rdns.push_back(std::move(rdn));
      avas.clear();
      if (i == n) break;
    }
    ++i;  // ',' ';' or '+'
    if (i == n) return std::nullopt;  // trailing separator
  }
  std::string out;
  for (std::size_t k = 0; k < rdns.size(); ++k) {
    if (k) out += ',';
    out += rdns[k];
  }
  return out;
}

}  // namespace

std::string NormalizeDn(std::string_view dn) {
  if (auto parsed = Parse(dn)) return *parsed;
  std::string fallback(Trim(dn));
  for (char& c : fallback) c = LowerAscii(c);
  return fallback;
}

}  // namespace scimsync
