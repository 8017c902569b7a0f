#include "core/known_state.h"

#include <array>

namespace scimsync {
namespace {

constexpr std::array<std::string_view, 7> kStatusNames = {
    "synced", "pending", "conflict", "seat-blocked", "failed", "disabled", "deleted"};

struct Fnv {
  std::uint64_t h = 1469598103934665603ULL;
  void Add(std::string_view s) {
    for (unsigned char c : s) { h ^= c; h *= 1099511628211ULL; }
    h ^= 0xFF;  // field separator, so ("ab","c") != ("a","bc")
    h *= 1099511628211ULL;
  }
};

}  // namespace

std::string_view ObjectStatusName(ObjectStatus s) {
  return kStatusNames[static_cast<std::size_t>(s)];
}

std::optional<ObjectStatus> ObjectStatusByName(std::string_view name) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<ObjectStatus>(i);
  }
  return std::nullopt;
}

std::uint64_t SourceHash(const User& u) {
  Fnv f;
  f.Add(u.key);
  for (const auto& v : u.values) f.Add(v);
  return f.h;
}

std::uint64_t SourceHash(const Group& g) {
  Fnv f;
  f.Add(g.key);
  f.Add(g.display_name);
  return f.h;
}

}  // namespace scimsync
