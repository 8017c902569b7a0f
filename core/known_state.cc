#include "core/known_state.h"

#include <array>

#include "core/text.h"

namespace scimsync {
namespace {

constexpr std::array<std::string_view, 7> kStatusNames = {
    "synced", "pending", "conflict", "seat-blocked", "failed", "disabled", "deleted"};

// The basis SourceHash has always started from (not FNV's standard one); kept so
// that the hashes already stored in state files stay valid.
constexpr std::uint64_t kSourceHashBasis = 1469598103934665603ULL;

// One field of a source hash: its bytes, then a separator so ("ab","c") != ("a","bc").
void AddField(Fnv1a64& f, std::string_view s) {
  f.Add(s);
  f.AddByte(0xFF);
}

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
  Fnv1a64 f(kSourceHashBasis);
  AddField(f, u.key);
  for (const auto& v : u.values) AddField(f, v);
  return f.value();
}

std::uint64_t SourceHash(const Group& g) {
  Fnv1a64 f(kSourceHashBasis);
  AddField(f, g.key);
  AddField(f, g.display_name);
  return f.value();
}

}  // namespace scimsync
