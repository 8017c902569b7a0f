// Decoding of Active Directory attribute values (pure functions, no libldap).
//
// objectGUID is 16 raw bytes. Its standard string form (as shown by AD tools and
// .NET's Guid.ToString) is "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" where the first three
// groups are the little-endian fields Data1 (4 bytes), Data2 and Data3 (2 bytes each),
// and the last two groups are the remaining 8 bytes in order. We render lower case,
// without braces. A value that is not 16 bytes is not a GUID (nullopt).
//
// userAccountControl is a decimal 32-bit flag word; bit 0x2 (ACCOUNTDISABLE) means
// the account is disabled. AD may send it as a negative number when bit 31 is set.
//
// accountExpires is a decimal count of 100-nanosecond intervals since 1601-01-01 UTC.
// 0 and 9223372036854775807 (0x7FFFFFFFFFFFFFFF) mean "never expires".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace scimsync {

std::optional<std::string> RenderGuid(std::string_view bytes);

// True if the ACCOUNTDISABLE bit is set; nullopt if the value is not an integer.
std::optional<bool> UacAccountDisabled(std::string_view value);

// True if the account has expired at `now` (an expiry exactly at `now` counts as
// expired); false for "never" and future times; nullopt if malformed.
std::optional<bool> AccountExpired(std::string_view value, SysTime now);

}  // namespace scimsync
