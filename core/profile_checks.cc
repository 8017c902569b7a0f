#include "core/profile_checks.h"

#include <array>
#include <string_view>

namespace scimsync {
namespace {

struct Need {
  TargetProfile profile;
  Attr attr;
  std::string_view why;
};

constexpr std::array<Need, 1> kNeeds = {{
    {TargetProfile::kKeepnet, Attr::kDepartment,
     "Keepnet groups users by department when its SCIM setting's grouping criterion is "
     "Department; without one every user lands in the setting's target group"},
}};

}  // namespace

std::vector<std::string> ProfileMappingWarnings(TargetProfile profile, const Mapping& mapping) {
  std::vector<std::string> out;
  for (const Need& n : kNeeds) {
    const AttrMapping& m = mapping.at(n.attr);
    if (n.profile != profile || !m.field.empty() || !m.constant.empty()) continue;
    out.push_back("target.profile = \"" + std::string(ProfileOf(profile).name) +
                  "\" but the mapping sends no " + std::string(Info(n.attr).name) + " (set [mapping] " +
                  std::string(Info(n.attr).name) + "): " + std::string(n.why));
  }
  return out;
}

}  // namespace scimsync
