#include "daemon/response_policy.h"

#include <array>

namespace scimsync {
namespace {

using Body = PolicyRow::Body;
using IfMatch = PolicyRow::IfMatch;

constexpr VerbSet kAll = (VerbSet{1} << kVerbCount) - 1;
constexpr VerbSet kCreates = Verbs({Verb::kCreateUser, Verb::kCreateGroup});
// Writes to an object that exists: PATCH and DELETE.
constexpr VerbSet kChanges =
    Verbs({Verb::kPatchUser, Verb::kReactivateUser, Verb::kDisableUser, Verb::kDeleteUser,
           Verb::kRenameGroup, Verb::kAddMembers, Verb::kRemoveMembers, Verb::kDeleteGroup});
// A 404 means the goal is met (the object is not there) or, for a read, "not found".
constexpr VerbSet kGoneIsFine =
    Verbs({Verb::kDeleteUser, Verb::kDisableUser, Verb::kDeleteGroup, Verb::kGet});
// A 404 means the object we meant to change is gone: find it again or re-create it.
constexpr VerbSet kGoneIsLost = Verbs({Verb::kPatchUser, Verb::kReactivateUser,
                                       Verb::kRenameGroup, Verb::kAddMembers,
                                       Verb::kRemoveMembers});
constexpr VerbSet kMembers = Verbs({Verb::kAddMembers, Verb::kRemoveMembers});

constexpr Decision D(Action a, bool maybe_applied = false) { return {a, maybe_applied}; }

constexpr PolicyRow Net(VerbSet verbs, Transport t, Decision d, std::string_view meaning) {
  PolicyRow r{};
  r.verbs = verbs;
  r.transport = t;
  r.decision = d;
  r.meaning = meaning;
  return r;
}

constexpr PolicyRow Http(VerbSet verbs, int lo, int hi, Decision d, std::string_view meaning,
                         Body body = Body::kAny, IfMatch if_match = IfMatch::kAny,
                         std::string_view scim_type = {}) {
  PolicyRow r{};
  r.verbs = verbs;
  r.transport = Transport::kOk;
  r.status_min = lo;
  r.status_max = hi;
  r.scim_type = scim_type;
  r.body = body;
  r.if_match = if_match;
  r.decision = d;
  r.meaning = meaning;
  return r;
}

// DESIGN §6, row by row. Order matters: the first match wins.
constexpr std::array kRows = {
    Net(kAll, Transport::kCancelled, D(Action::kCancelled), "stop requested before sending"),
    Net(kAll, Transport::kConnect, D(Action::kUnreachable), "nothing reached the target"),
    Net(kAll, Transport::kTimeout, D(Action::kTransient, true), "no answer in time"),
    Net(kAll, Transport::kReset, D(Action::kTransient, true), "connection dropped"),
    Http(kCreates, 200, 299, D(Action::kUnconfirmed, true),
         "created, but the answer carries no id: look it up next cycle", Body::kMissing),
    Http(Verbs({Verb::kGet}), 200, 299, D(Action::kUnconfirmed),
         "read, but the answer carries no object", Body::kMissing),
    Http(kAll, 200, 299, D(Action::kDone), "done"),
    Http(kAll, 401, 401, D(Action::kStopAuth), "credentials refused"),
    Http(kAll, 403, 403, D(Action::kStopAuth), "role refused"),
    Http(kGoneIsFine, 404, 404, D(Action::kGone), "already gone"),
    Http(kGoneIsLost, 404, 404, D(Action::kReResolve), "object gone from the target"),
    Http(Verbs({Verb::kFind}), 404, 404, D(Action::kDone), "no match"),
    Http(kCreates, 409, 409, D(Action::kAdopt), "already exists"),
    Http(Verbs({Verb::kRemoveMembers}), 400, 400, D(Action::kDone),
         "the member is not in the group", Body::kAny, IfMatch::kAny, "noTarget"),
    Http(kCreates, 428, 428, D(Action::kSeatBlock), "licensed seats exceeded"),
    // A re-activation takes a seat like a create. A 428 to it is first taken as
    // "precondition required" like on any PATCH; refused again with If-Match, it
    // is the seat limit.
    Http(Verbs({Verb::kReactivateUser}), 428, 428, D(Action::kSeatBlock),
         "licensed seats exceeded (refused with If-Match too)", Body::kAny, IfMatch::kSent),
    Http(kChanges, 412, 412, D(Action::kRetryWithIfMatch), "ETag mismatch", Body::kAny,
         IfMatch::kNotSent),
    Http(kChanges, 428, 428, D(Action::kRetryWithIfMatch), "precondition required",
         Body::kAny, IfMatch::kNotSent),
    Http(kMembers, 413, 413, D(Action::kShrinkChunk), "request too large"),
    Http(kAll, 429, 429, D(Action::kThrottle), "slow down"),
    Http(kAll, 503, 503, D(Action::kThrottle, true), "slow down (or down)"),
    Http(kAll, 500, 599, D(Action::kTransient, true), "server error"),
    Http(kAll, 0, 999, D(Action::kReject), "refused for this object"),
};

// The object a 2xx to `verb` must carry, with an id.
bool HasObject(Verb verb, const TargetResponse& r) {
  bool user = r.user && !r.user->id.empty();
  bool group = r.group && !r.group->id.empty();
  if (verb == Verb::kCreateUser) return user;
  if (verb == Verb::kCreateGroup) return group;
  return user || group;
}

bool Matches(const PolicyRow& row, Verb verb, const TargetResponse& r, bool if_match_sent) {
  if (!Has(row.verbs, verb) || row.transport != r.transport) return false;
  if (r.transport != Transport::kOk) return true;
  if (r.status < row.status_min || r.status > row.status_max) return false;
  if (!row.scim_type.empty() && row.scim_type != r.scim_type) return false;
  if (row.body == Body::kMissing && HasObject(verb, r)) return false;
  if (row.if_match == IfMatch::kSent && !if_match_sent) return false;
  if (row.if_match == IfMatch::kNotSent && if_match_sent) return false;
  return true;
}

}  // namespace

std::string_view VerbName(Verb v) {
  static constexpr std::array<std::string_view, kVerbCount> kNames = {
      "create user",  "patch user",  "reactivate user", "disable user",
      "delete user",  "create group", "rename group",   "add members",
      "remove members", "delete group", "get",          "find"};
  return kNames[static_cast<std::size_t>(v)];
}

std::string_view ActionName(Action a) {
  static constexpr std::array<std::string_view, kActionCount> kNames = {
      "done",     "gone",      "adopt",        "seat-block",  "retry-with-if-match",
      "re-resolve", "reject",  "stop-auth",    "throttle",    "transient",
      "shrink-chunk", "unconfirmed", "unreachable", "cancelled"};
  return kNames[static_cast<std::size_t>(a)];
}

std::span<const PolicyRow> PolicyRows() { return kRows; }

const PolicyRow& ClassifyRow(Verb verb, const TargetResponse& response, bool if_match_sent) {
  for (const PolicyRow& row : kRows) {
    if (Matches(row, verb, response, if_match_sent)) return row;
  }
  // Only an HTTP status outside 0..999 gets here.
  return kRows.back();
}

bool Repeatable(Verb v) { return v != Verb::kCreateUser && v != Verb::kCreateGroup; }

}  // namespace scimsync
