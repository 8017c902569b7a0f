// What `scimsync check` says about a configuration that a target profile needs and
// the mapping does not give (docs/targets.md): one table of (profile, attribute,
// why), so a new need is a row, not a branch.
#pragma once

#include <string>
#include <vector>

#include "core/mapping.h"
#include "core/target_profile.h"

namespace scimsync {

// One warning per row of the table whose profile is `profile` and whose attribute
// `mapping` leaves unmapped (no field and no constant):
//   keepnet, department: Keepnet groups users by department when its SCIM setting
//   says so; without one every user lands in the setting's target group.
std::vector<std::string> ProfileMappingWarnings(TargetProfile profile, const Mapping& mapping);

}  // namespace scimsync
