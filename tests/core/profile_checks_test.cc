#include "core/profile_checks.h"

#include <doctest/doctest.h>

namespace scimsync {

TEST_CASE("ProfileMappingWarnings: keepnet without a department mapping") {
  Mapping m = Mapping::CsvDefaults();
  CHECK(ProfileMappingWarnings(TargetProfile::kKeepnet, m).empty());
  m.at(Attr::kDepartment).field.clear();
  const std::vector<std::string> want = {
      "target.profile = \"keepnet\" but the mapping sends no department (set [mapping] "
      "department): Keepnet groups users by department when its SCIM setting's grouping "
      "criterion is Department; without one every user lands in the setting's target group"};
  CHECK(ProfileMappingWarnings(TargetProfile::kKeepnet, m) == want);
  // Other profiles do not need it.
  CHECK(ProfileMappingWarnings(TargetProfile::kGeneric, m).empty());
  CHECK(ProfileMappingWarnings(TargetProfile::kKeeper, m).empty());
  CHECK(ProfileMappingWarnings(TargetProfile::kAws, m).empty());
  // A constant is a department too.
  m.at(Attr::kDepartment).constant = "Sales";
  CHECK(ProfileMappingWarnings(TargetProfile::kKeepnet, m).empty());
}

}  // namespace scimsync
