// MatchTargets: which existing target object each unbound source object is, from a
// target snapshot (DESIGN §3, issue 10). Pure; used by MakePlan for users and groups.
//
// Rules, in this order (each has a golden test in tests/core/planner_test.cc):
// 1. By externalId: a target object whose externalId equals the source key. Two or
//    more such objects: conflict. One that a state row of another key holds: conflict.
// 2. Then by name (userName / displayName), compared with FoldCase (SCIM declares
//    both caseExact=false). Candidates that another key already holds (a state row,
//    or a rule-1 match of this plan) are set aside first:
//    - none left: users conflict (the name is taken); groups get no match (a create:
//      two source groups with one name are two target groups);
//    - two or more left: conflict (never guessed);
//    - one left whose externalId is neither empty nor the source key: conflict.
// 3. A target object that several source objects match by name goes to the one
//    whose name is equal byte for byte, then to the lowest key; the others conflict
//    (users) or get no match (groups, as in 2).
// The result does not depend on the order of `seekers` or `targets`: rule 1 runs
// for all seekers before rule 2, and every tie is broken by key or id.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace scimsync {

// A target object as the matcher sees it.
struct MatchTarget {
  std::string_view id;
  std::string_view external_id;
  std::string_view name;
};

// A source object that is not bound to a target object yet.
struct MatchSeeker {
  std::string_view key;
  std::string_view name;
};

enum class MatchKind { kNone, kByExternalId, kByName, kConflict };

struct Match {
  MatchKind kind = MatchKind::kNone;
  std::size_t target = 0;  // index into `targets` (kByExternalId, kByName)
  std::string conflict;    // kConflict: why, naming both keys or the ids
};

struct MatchRules {
  std::string_view noun;       // "user" / "group", for conflict texts
  std::string_view name_attr;  // "userName" / "displayName"
  // Rules 2 and 3: a name already taken by another key is a create (groups), not a
  // conflict (users).
  bool taken_name_creates = false;
};

// `held`: target id -> source key of the state row that holds it. Returns one Match
// per seeker, in the order of `seekers`.
std::vector<Match> MatchTargets(const std::vector<MatchSeeker>& seekers,
                                const std::vector<MatchTarget>& targets,
                                const std::unordered_map<std::string_view, std::string_view>& held,
                                const MatchRules& rules);

}  // namespace scimsync
