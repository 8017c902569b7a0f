// ApplyScope: the `[scope]` table (DESIGN §8) applied to a source snapshot before
// planning, so identity, reconcile and the deletion guard see only the people and
// groups that should have the product. Pure: no I/O, no clock.
//
// Rules (each has a golden test in tests/core/scope_test.cc):
// - Users. With `groups` empty everyone is kept. Otherwise a user is kept when they
//   are a member of at least one scope group. Membership is the group's member list
//   as the source built it: direct members, and the members of nested groups when
//   the source resolved nesting (LDAP `flatten_nested`); nothing is expanded here.
// - A scope name names a group when it equals the group's display name with ASCII
//   letters compared without case, or, for a group with a DN (LDAP), when it equals
//   the DN after `dn_key` is applied to both (the daemon passes the LDAP source's
//   NormalizeDn, so spacing and case of the DN do not matter). One name may name
//   several groups (two "Staff" groups in two OUs): all of them count.
// - A scope name that names no group is reported in `missing`, in config order. The
//   caller must not plan from such a result: every member of a misspelled group
//   would look like a leaver (the cycle stops, like on an empty source).
// - Groups. A group is pushed when `include_groups` is empty or one of its patterns
//   matches the display name, and no `exclude_groups` pattern matches it (exclude
//   wins). Patterns are core/glob.h: fnmatch(3) syntax, ASCII case-insensitive. A
//   scope group is pushed only if these patterns let it through.
// - A pushed group carries only its kept members; a group left with no kept member
//   is still pushed (empty), since include/exclude, not membership, choose groups.
// - Counts: `users_out` users and `groups_out` groups of the source were left out.
// - The result is canonical when the input is (order is kept, nothing is added).
// - A user who leaves every scope group is simply absent from the result, so the
//   planner treats them as a leaver (deprovision, deletion guard) like any other.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/glob.h"
#include "core/model.h"

namespace scimsync {

// `[scope]` of the config; the default scopes nothing out.
struct Scope {
  std::vector<std::string> groups;   // scope groups by display name or DN; empty: everyone
  std::vector<Glob> include_groups;  // groups pushed; empty: every group
  std::vector<Glob> exclude_groups;  // groups not pushed, even if included

  // True if applying it cannot change a directory.
  bool Everything() const {
    return groups.empty() && include_groups.empty() && exclude_groups.empty();
  }
};

// Brings a DN to the form in which two spellings of one DN compare equal. nullptr:
// ASCII case folding only.
using DnKey = std::string (*)(std::string_view);

struct ScopeResult {
  Directory dir;                     // the in-scope snapshot
  std::size_t users_out = 0;         // users of the source left out
  std::size_t groups_out = 0;        // groups of the source not pushed
  std::vector<std::string> missing;  // scope groups naming no source group
};

ScopeResult ApplyScope(Directory dir, const Scope& scope, DnKey dn_key = nullptr);

}  // namespace scimsync
