#include "core/target_profile.h"

#include <algorithm>
#include <string>

namespace scimsync {
namespace {

TargetBehaviour Generic() { return TargetBehaviour{}; }

TargetBehaviour Keeper() {
  TargetBehaviour b;
  b.page_size = 1000;
  b.page_cap = 1000;
  b.exclude_members = true;        // Keeper's advice for large teams
  b.unique_group_names = false;    // duplicate team names are allowed
  b.delete_locks = true;           // DELETE locks the user
  b.role_prefix = "ROLE_";         // the tenant's role-mapping prefix, verify per tenant
  return b;
}

TargetBehaviour Keepnet() { return TargetBehaviour{}; }

TargetBehaviour Aws() {
  TargetBehaviour b;
  b.page_size = 50;
  b.page_cap = 50;
  b.members_per_request_cap = 100;
  b.exclude_members = true;
  return b;
}

std::string Bool(bool b) { return b ? "true" : "false"; }
std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

const std::vector<ProfileRow>& Profiles() {
  static const std::vector<ProfileRow> rows = {
      {TargetProfile::kGeneric, "generic", Generic()},
      {TargetProfile::kKeeper, "keeper", Keeper()},
      {TargetProfile::kKeepnet, "keepnet", Keepnet()},
      {TargetProfile::kAws, "aws", Aws()},
  };
  return rows;
}

const ProfileRow& ProfileOf(TargetProfile profile) {
  for (const ProfileRow& r : Profiles()) {
    if (r.profile == profile) return r;
  }
  return Profiles().front();
}

std::string_view LookupMethodName(LookupMethod m) {
  return m == LookupMethod::kList ? "list" : "filter";
}

EffectiveTarget EffectiveBehaviour(TargetProfile profile, const BehaviourOverrides& o) {
  const ProfileRow& row = ProfileOf(profile);
  EffectiveTarget e;
  TargetBehaviour& b = e.behaviour;
  b = row.behaviour;
  const std::string profile_name(row.name);
  auto origin = [&](bool overridden) { return overridden ? std::string("config") : profile_name; };

  if (o.page_size) b.page_size = *o.page_size;
  std::string page_origin = origin(o.page_size.has_value());
  if (b.page_cap > 0 && b.page_size > b.page_cap) {
    e.warnings.push_back("target.page_size = " + std::to_string(b.page_size) + " is above the " +
                         profile_name + " page cap of " + std::to_string(b.page_cap) +
                         "; using " + std::to_string(b.page_cap));
    b.page_size = b.page_cap;
    page_origin = "capped by " + profile_name;
  }
  e.lines.push_back({"page_size", std::to_string(b.page_size), page_origin});

  if (o.members_per_request) b.members_per_request = *o.members_per_request;
  std::string members_origin = origin(o.members_per_request.has_value());
  if (b.members_per_request_cap > 0 && b.members_per_request > b.members_per_request_cap) {
    e.warnings.push_back("target.members_per_request = " + std::to_string(b.members_per_request) +
                         " is above the " + profile_name + " cap of " +
                         std::to_string(b.members_per_request_cap) + " per request; using " +
                         std::to_string(b.members_per_request_cap));
    b.members_per_request = b.members_per_request_cap;
    members_origin = "capped by " + profile_name;
  }
  e.lines.push_back({"members_per_request", std::to_string(b.members_per_request), members_origin});

  if (o.lookup) b.lookup = *o.lookup;
  e.lines.push_back(
      {"lookup", Quoted(std::string(LookupMethodName(b.lookup))), origin(o.lookup.has_value())});
  if (o.exclude_members) b.exclude_members = *o.exclude_members;
  e.lines.push_back(
      {"exclude_members", Bool(b.exclude_members), origin(o.exclude_members.has_value())});
  if (o.unique_group_names) b.unique_group_names = *o.unique_group_names;
  e.lines.push_back({"unique_group_names", Bool(b.unique_group_names),
                     origin(o.unique_group_names.has_value())});
  if (o.delete_locks) b.delete_locks = *o.delete_locks;
  e.lines.push_back({"delete_locks", Bool(b.delete_locks), origin(o.delete_locks.has_value())});
  if (o.push_groups) b.push_groups = *o.push_groups;
  e.lines.push_back({"push_groups", Bool(b.push_groups), origin(o.push_groups.has_value())});
  if (o.role_prefix) b.role_prefix = *o.role_prefix;
  e.lines.push_back({"role_prefix", Quoted(b.role_prefix), origin(o.role_prefix.has_value())});
  return e;
}

}  // namespace scimsync
