// The key list of a create intent (state_store.h, "Create intents"): how the user
// keys of one window of creates are stored in one create_intents row.
//
// Each key is written as its length in decimal, ':', then its bytes, so a key may
// hold any byte (':' and NUL included). The length has no leading zero (a lone "0"
// is the empty key): every list has exactly one encoding, and DecodeIntentKeys
// accepts only that one, so a damaged row is refused, never read as other keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scimsync {

std::string EncodeIntentKeys(const std::vector<std::string>& keys);
// Appends the keys of `blob` to `keys`; false (keys then hold what came before the
// damage) when `blob` is not an encoding EncodeIntentKeys gives.
bool DecodeIntentKeys(std::string_view blob, std::vector<std::string>* keys);

}  // namespace scimsync
