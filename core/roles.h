// Role groups ([target] roles, role_prefix): on Keeper a SCIM group whose
// displayName starts with the tenant's role-mapping prefix becomes a role, any other
// group a team (docs/targets.md, Keeper). ApplyRoles turns the source Directory into
// what the target must hold before planning, so identity, renames and memberships
// are planned as for any group: only the displayName changes, never the key.
//
// Rules (tests/core/roles_test.cc):
// - A source group whose displayName equals a name of `roles` regardless of case is a
//   role: its displayName becomes `prefix` + its source displayName (the source's
//   case kept, so a case-only rename in the source is a case-only rename of the role).
// - Every other group keeps its displayName. One that already starts with `prefix`
//   is a role on the target all the same; RolesByName reports them so that the
//   cycle can warn.
// - A role group renamed in the source to a name that is not in `roles` is no longer
//   a role: its target name loses the prefix, which the planner turns into a
//   delete-and-create (core/planner.h, "Target behaviours"). So is a name added to or
//   removed from `roles`.
// - Empty `roles` or empty `prefix`: nothing changes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace scimsync {

// Applies the rules above to `dir` in place.
void ApplyRoles(const std::vector<std::string>& roles, std::string_view prefix, Directory& dir);

// Display names (after ApplyRoles) of groups that start with `prefix` though no name
// of `roles` made them so: source groups named like roles. Sorted.
std::vector<std::string> RolesByName(const std::vector<std::string>& roles,
                                     std::string_view prefix, const Directory& dir);

}  // namespace scimsync
