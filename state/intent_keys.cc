#include "state/intent_keys.h"

#include <cstddef>

namespace scimsync {

std::string EncodeIntentKeys(const std::vector<std::string>& keys) {
  std::string out;
  for (const std::string& k : keys) {
    out += std::to_string(k.size());
    out += ':';
    out += k;
  }
  return out;
}

bool DecodeIntentKeys(std::string_view blob, std::vector<std::string>* keys) {
  // Nine digits at most: a key is far shorter, and the sum cannot overflow.
  constexpr std::size_t kMaxDigits = 9;
  while (!blob.empty()) {
    const std::size_t colon = blob.find(':');
    if (colon == 0 || colon == std::string_view::npos || colon > kMaxDigits) return false;
    if (blob[0] == '0' && colon > 1) return false;  // a leading zero: not our encoding
    std::size_t n = 0;
    for (char c : blob.substr(0, colon)) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    blob.remove_prefix(colon + 1);
    if (n > blob.size()) return false;
    keys->emplace_back(blob.substr(0, n));
    blob.remove_prefix(n);
  }
  return true;
}

}  // namespace scimsync
