// The response policies of DESIGN §6 as one table: (verb, response) -> action.
// This is the only place where a target's answer is classified; the request runner
// and the user/group operations switch on the Action and never look at a status.
//
// Rows are tried in order; the first that matches decides. Every row names the
// verbs it applies to, and applies to each of them (tests/daemon/response_policy_test.cc
// walks every row for every verb). To add an outcome: add an Action, a row, and a
// case where the operations switch on it.
//
// The table in short (see kPolicyRows in response_policy.cc for the exact rows):
//   stop requested before sending                     cancelled
//   connection refused / DNS / TLS (nothing sent)     unreachable
//   timeout, connection reset                         transient (maybe applied)
//   2xx to a create, or a GET, without a parsed object unconfirmed
//   2xx                                               done
//   401, 403                                          stop-auth
//   404 on a DELETE, a disable, a GET                 gone
//   404 on any other PATCH                            re-resolve
//   409 on a create                                   adopt
//   400 noTarget on a member removal                  done (the member is not there)
//   428 on a create                                   seat-block
//   428 on a re-activation sent with If-Match         seat-block (the seat limit)
//   412, 428 on a PATCH or DELETE without If-Match    re-read-and-retry-with-If-Match
//   413 on a membership PATCH                         shrink-chunk
//   429                                               throttle
//   503                                               throttle (maybe applied)
//   other 5xx                                         transient (maybe applied)
//   anything else (400, 412 after If-Match, ...)      reject
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "connectors/target.h"

namespace scimsync {

// One kind of request, named after what it does to the object (a Target method,
// with the user PATCH split by purpose and the member PATCH by direction).
enum class Verb : std::uint8_t {
  kCreateUser,      // POST /Users
  kPatchUser,       // PATCH /Users/{id}: attribute changes
  kReactivateUser,  // PATCH /Users/{id} with active: true (a returning user)
  kDisableUser,     // PATCH /Users/{id} with active: false (a leaver)
  kDeleteUser,      // DELETE /Users/{id}
  kCreateGroup,     // POST /Groups
  kRenameGroup,     // PATCH /Groups/{id} displayName
  kAddMembers,      // PATCH /Groups/{id} add members
  kRemoveMembers,   // PATCH /Groups/{id} remove members[value eq ...]
  kDeleteGroup,     // DELETE /Groups/{id}
  kGet,             // GET /Users/{id} or /Groups/{id}
  kFind,            // GET /Users?filter= or /Groups?filter=
};
inline constexpr int kVerbCount = 12;
std::string_view VerbName(Verb v);
// False for the creates: sending a POST again after an attempt the target may have
// applied can make a second object on a target that does not enforce uniqueness.
// Such an attempt is not repeated; the object stays uncertain and is looked up by
// filter before it is written again (DESIGN §4).
bool Repeatable(Verb v);

enum class Action : std::uint8_t {
  kDone,              // applied (or nothing left to do): record it
  kGone,              // the object is not on the target: for a delete or disable, done
  kAdopt,             // it already exists: look it up by filter and adopt it
  kSeatBlock,         // no licence seat: seat-blocked, no more creates this cycle
  kRetryWithIfMatch,  // GET the object (its ETag), retry once with If-Match
  kReResolve,         // gone from the target: find it again, or create it again
  kReject,            // this object is refused: failed, with backoff
  kStopAuth,          // credentials refused: stop the cycle
  kThrottle,          // slow down: wait Retry-After, lower concurrency, retry
  kTransient,         // retry with backoff; then defer the object to the next cycle
  kShrinkChunk,       // the membership PATCH was too large: halve the chunk, retry
  kUnconfirmed,       // 2xx, but without the object: failed, left uncertain for a lookup
  kUnreachable,       // nothing reached the target: retry, then stop the cycle
  kCancelled,         // stop requested before the request was sent
};
inline constexpr int kActionCount = 14;
std::string_view ActionName(Action a);

struct Decision {
  Action action;
  bool maybe_applied;  // the target may have applied the request (mark uncertain)
};

// Which requests a row covers: a set of verbs.
using VerbSet = std::uint32_t;
constexpr VerbSet Verbs(std::initializer_list<Verb> verbs) {
  VerbSet s = 0;
  for (Verb v : verbs) s |= VerbSet{1} << static_cast<unsigned>(v);
  return s;
}
constexpr bool Has(VerbSet s, Verb v) { return (s >> static_cast<unsigned>(v)) & 1U; }

struct PolicyRow {
  enum class Body : std::uint8_t { kAny, kMissing };      // kMissing: 2xx without the object
  enum class IfMatch : std::uint8_t { kAny, kSent, kNotSent };

  VerbSet verbs;
  Transport transport;   // kOk: an HTTP answer, matched by status below
  int status_min = 0;    // inclusive range, for transport kOk
  int status_max = 0;
  std::string_view scim_type = {};  // non-empty: the SCIM error scimType must equal it
  Body body = Body::kAny;
  IfMatch if_match = IfMatch::kAny;
  Decision decision = {Action::kReject, false};
  std::string_view meaning = {};  // DESIGN §6 wording, for docs and test failures
};

// Every row, in the order Classify tries them. The last rows match anything.
std::span<const PolicyRow> PolicyRows();

// The row that decides `response` to a request of `verb`. `if_match_sent`: the
// request carried If-Match (the one retry after kRetryWithIfMatch).
const PolicyRow& ClassifyRow(Verb verb, const TargetResponse& response, bool if_match_sent = false);

inline Decision Classify(Verb verb, const TargetResponse& response, bool if_match_sent = false) {
  return ClassifyRow(verb, response, if_match_sent).decision;
}

}  // namespace scimsync
