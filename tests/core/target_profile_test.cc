#include "core/target_profile.h"

#include <doctest/doctest.h>

#include <string>

namespace scimsync {
namespace {

std::string LineOf(const EffectiveTarget& e, const std::string& key) {
  for (const BehaviourLine& l : e.lines) {
    if (l.key == key) return l.value + " (" + l.origin + ")";
  }
  return "missing";
}

TEST_CASE("each profile's row is the table of docs/targets.md") {
  const TargetBehaviour g = ProfileOf(TargetProfile::kGeneric).behaviour;
  CHECK(g.page_size == 100);
  CHECK(g.page_cap == 0);
  CHECK(g.members_per_request == 100);
  CHECK(g.unique_group_names);
  CHECK_FALSE(g.delete_locks);
  CHECK(g.push_groups);
  CHECK(g.role_prefix.empty());

  const TargetBehaviour k = ProfileOf(TargetProfile::kKeeper).behaviour;
  CHECK(k.page_size == 1000);
  CHECK(k.page_cap == 1000);
  CHECK(k.exclude_members);
  CHECK_FALSE(k.unique_group_names);
  CHECK(k.delete_locks);
  CHECK(k.role_prefix == "ROLE_");

  const TargetBehaviour n = ProfileOf(TargetProfile::kKeepnet).behaviour;
  CHECK(n.page_size == 100);
  CHECK(n.push_groups);
  CHECK_FALSE(n.delete_locks);

  const TargetBehaviour a = ProfileOf(TargetProfile::kAws).behaviour;
  CHECK(a.page_size == 50);
  CHECK(a.page_cap == 50);
  CHECK(a.members_per_request_cap == 100);
  CHECK(a.exclude_members);
  CHECK(a.lookup == LookupMethod::kFilter);

  CHECK(ProfileOf(TargetProfile::kKeepnet).name == "keepnet");
  CHECK(Profiles().size() == 4);
}

TEST_CASE("overrides replace the profile's values and say so") {
  BehaviourOverrides o;
  o.push_groups = false;
  o.role_prefix = "KR_";
  o.page_size = 200;
  EffectiveTarget e = EffectiveBehaviour(TargetProfile::kKeeper, o);
  CHECK_FALSE(e.behaviour.push_groups);
  CHECK(e.behaviour.role_prefix == "KR_");
  CHECK(e.behaviour.page_size == 200);
  CHECK(e.warnings.empty());
  CHECK(LineOf(e, "push_groups") == "false (config)");
  CHECK(LineOf(e, "role_prefix") == "\"KR_\" (config)");
  CHECK(LineOf(e, "delete_locks") == "true (keeper)");
  CHECK(LineOf(e, "page_size") == "200 (config)");
  CHECK(LineOf(e, "lookup") == "\"filter\" (keeper)");
}

TEST_CASE("a value above a profile's hard cap is lowered to it with a warning") {
  BehaviourOverrides o;
  o.members_per_request = 250;
  o.page_size = 500;
  EffectiveTarget e = EffectiveBehaviour(TargetProfile::kAws, o);
  CHECK(e.behaviour.members_per_request == 100);
  CHECK(e.behaviour.page_size == 50);
  REQUIRE(e.warnings.size() == 2);
  CHECK(e.warnings[0] == "target.page_size = 500 is above the aws page cap of 50; using 50");
  CHECK(e.warnings[1] ==
        "target.members_per_request = 250 is above the aws cap of 100 per request; using 100");
  CHECK(LineOf(e, "members_per_request") == "100 (capped by aws)");

  // No cap on generic: the value stands.
  e = EffectiveBehaviour(TargetProfile::kGeneric, o);
  CHECK(e.behaviour.members_per_request == 250);
  CHECK(e.behaviour.page_size == 500);
  CHECK(e.warnings.empty());
}

}  // namespace
}  // namespace scimsync
