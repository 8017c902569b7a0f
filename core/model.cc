#include "core/model.h"
#include "core/text.h"

#include <algorithm>
#include <unordered_set>

namespace scimsync {

std::optional<Attr> AttrByName(std::string_view name) {
  for (const auto& info : kAttrs) {
    if (info.name == name) return info.attr;
  }
  return std::nullopt;
}

bool SameAttrValue(Attr attr, std::string_view a, std::string_view b) {
  switch (Info(attr).kind) {
    case AttrKind::kString: return a == b;
    case AttrKind::kEmailAddress: return EqualsIgnoreCase(a, b);
    case AttrKind::kBoolean: return (a.empty() ? "true" : a) == (b.empty() ? "true" : b);
  }
  return a == b;
}

std::size_t Canonicalize(Directory& dir) {
  auto by_key = [](const auto& a, const auto& b) { return a.key < b.key; };
  std::sort(dir.users.begin(), dir.users.end(), by_key);
  std::sort(dir.groups.begin(), dir.groups.end(), by_key);
  std::unordered_set<std::string_view> keys;
  keys.reserve(dir.users.size());
  for (const auto& u : dir.users) keys.insert(u.key);
  std::size_t dropped = 0;
  for (auto& g : dir.groups) {
    std::sort(g.members.begin(), g.members.end());
    g.members.erase(std::unique(g.members.begin(), g.members.end()), g.members.end());
    auto before = g.members.size();
    std::erase_if(g.members, [&](const std::string& m) { return !keys.contains(m); });
    dropped += before - g.members.size();
  }
  return dropped;
}

std::string_view Trim(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    int n;
    unsigned int cp;
    if (c < 0x80) { ++p; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (end - p <= n) return false;  // truncated sequence
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong encodings, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

std::optional<bool> ParseBool(std::string_view s, bool empty_value) {
  s = Trim(s);
  if (s.empty()) return empty_value;
  std::string f = FoldCase(s);
  if (f == "true" || f == "1" || f == "yes" || f == "y") return true;
  if (f == "false" || f == "0" || f == "no" || f == "n") return false;
  return std::nullopt;
}

}  // namespace scimsync
