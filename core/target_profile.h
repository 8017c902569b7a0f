// Target profiles as data (docs/targets.md): what a kind of SCIM target does that a
// client must adapt to. A profile is one row of kProfiles; every behaviour can be
// overridden by a [target] key, and EffectiveBehaviour() merges the two. `check`
// prints the merged values with where each came from (Describe).
//
// Where each value of the table comes from (vendor page or "assumed, verify per
// tenant") is written down in docs/targets.md; keep the two in step.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scimsync {

enum class TargetProfile { kGeneric, kKeeper, kKeepnet, kAws };

// How lookups find an object by externalId / userName / displayName.
enum class LookupMethod {
  kFilter,  // GET ...?filter=attr eq "v"; a target that refuses the filter (400
            // invalidFilter, 501) is answered by listing and matching instead
  kList,    // never filter: list every object and match locally
};

struct TargetBehaviour {
  int page_size = 100;          // `count` asked for on list reads
  int page_cap = 0;             // largest page the target is assumed to return (0: the server's)
  int members_per_request = 100;      // membership changes per group PATCH
  int members_per_request_cap = 0;    // hard cap of the target (0: none)
  LookupMethod lookup = LookupMethod::kFilter;
  // true: group lists ask excludedAttributes=members and each group's members are
  // read with GET /Groups/{id} (large teams); false: members come inline.
  bool exclude_members = false;
  bool unique_group_names = true;     // false: a displayName match is never an identity
  bool delete_locks = false;          // DELETE locks a user; a re-hire is PATCH active=true
  bool push_groups = true;            // false: groups and memberships are left to the target
  std::string role_prefix;            // displayName prefix that makes a group a role ("" none)
};

// One row per profile (the table of docs/targets.md).
struct ProfileRow {
  TargetProfile profile;
  std::string_view name;   // the config value: "generic", "keeper", ...
  TargetBehaviour behaviour;
};
const std::vector<ProfileRow>& Profiles();
const ProfileRow& ProfileOf(TargetProfile profile);

// [target] keys that override a profile's behaviour; unset keys keep the profile's.
struct BehaviourOverrides {
  std::optional<int> page_size;
  std::optional<int> members_per_request;
  std::optional<LookupMethod> lookup;
  std::optional<bool> exclude_members;
  std::optional<bool> unique_group_names;
  std::optional<bool> delete_locks;
  std::optional<bool> push_groups;
  std::optional<std::string> role_prefix;
};

// One effective value, for `check` and the docs: "page_size = 1000 (keeper)".
struct BehaviourLine {
  std::string key;     // the [target] key
  std::string value;   // as it would be written in the config
  std::string origin;  // the profile's name, "config", or a note such as "capped by the profile"
};

struct EffectiveTarget {
  TargetBehaviour behaviour;
  std::vector<BehaviourLine> lines;      // every behaviour, in table order
  std::vector<std::string> warnings;     // e.g. an override above a hard cap (then capped)
};

// The profile's row with the overrides applied. A value above a hard cap
// (members_per_request_cap, page_cap) is lowered to the cap with a warning.
EffectiveTarget EffectiveBehaviour(TargetProfile profile, const BehaviourOverrides& overrides);

std::string_view LookupMethodName(LookupMethod m);  // "filter" | "list"

}  // namespace scimsync
