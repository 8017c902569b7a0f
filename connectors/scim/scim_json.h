// SCIM 2.0 wire format (RFC 7643 / RFC 7644): the request bodies scimsync sends and
// lenient parsers for what targets send back. Pure functions, no I/O; RapidJSON is
// used only in scim_json.cc.
//
// Encoding rules (every shape has an exact-text unit test):
//   * User: schemas (core, plus the enterprise extension only when a department is
//     set), userName, externalId, name{givenName,familyName} (empty parts and an
//     empty name omitted), displayName, emails[{value,type:"work",primary:true}],
//     phoneNumbers[{value,type:"work"}], title, active (JSON boolean), then the
//     enterprise extension object {department}. Empty attributes are omitted.
//   * User PATCH: PatchOp schema, lowercase ops, one operation per AttrChange:
//     old empty -> "add", new empty -> "remove", otherwise "replace". Paths come
//     from core/model.h kAttrs (name.givenName, the enterprise URN path, ...), with
//     two exceptions that keep strict servers from answering 400 noTarget
//     (reference checklist item 15):
//       - emails/phoneNumbers "add" adds the whole element to the multi-valued
//         attribute ({"op":"add","path":"emails","value":[{...}]}), and "remove"
//         removes the whole element (path emails[type eq "work"]); "replace" uses
//         the value path emails[type eq "work"].value;
//       - active is always "replace" with a JSON boolean (an absent active means
//         true on every target we know, so there is nothing to add or remove).
//   * Group POST: schemas, displayName, externalId; never members (they are added
//     by PATCH in chunks).
//   * Group rename: one "replace" of displayName.
//   * Members PATCH: one "add" with path "members" and all added ids, then one
//     "remove" per id with path members[value eq "id"] (never a bare "members"
//     remove, which empties the group on many servers).
//
// Parsing: attribute names match case-insensitively (RFC 7643 §2.1); missing
// fields are empty; numbers are rendered as strings (some targets send numeric
// ids); objects/arrays where a string is expected count as absent; `active` may be
// a boolean or the string "true"/"false" (any case); unknown attributes are
// ignored. The work email is the element with type "work", else the primary one,
// else the first (the same for phone numbers).
//
// Every body is parsed by one iterative parser (RapidJSON's kParseIterativeFlag:
// no recursion, so no stack overflow) that stops at the first container opened
// deeper than kMaxJsonDepth levels ({} and [] each count one). Such a body, like
// any body that is not a JSON object, parses as nothing, with the reason
// "response body nests deeper than 64 levels". A SCIM resource needs fewer than
// 10 levels; the limit bounds the parser's work and the document's depth (its
// destructor recurses once per level).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/target.h"
#include "core/discovery.h"
#include "core/model.h"
#include "core/plan.h"

namespace scimsync {

inline constexpr std::string_view kCoreUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view kCoreGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr std::string_view kPatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

// Deepest nesting of objects and arrays accepted in a response body.
inline constexpr int kMaxJsonDepth = 64;

// --- request bodies ----------------------------------------------------------
std::string UserJson(const User& user);
// A non-empty `external_id` adds a replace of externalId before the changes.
std::string UserPatchJson(const std::vector<AttrChange>& changes,
                          std::string_view external_id = "");
std::string GroupJson(const Group& group);
// A replace of externalId (when non-empty), then of displayName (when non-empty).
std::string GroupRenameJson(std::string_view display_name, std::string_view external_id = "");
std::string MembersPatchJson(const std::vector<std::string>& add_ids,
                             const std::vector<std::string>& remove_ids);

// --- filters and URLs --------------------------------------------------------
// `attr eq "value"` with the value written as a JSON string literal (RFC 7644
// §3.4.2.2: `"` -> `\"`, `\` -> `\\`, control characters escaped).
std::string EqFilter(std::string_view attr, std::string_view value);
// Percent-encodes everything except the RFC 3986 unreserved characters
// (A-Z a-z 0-9 - . _ ~); used for query values and for ids in path segments.
std::string PercentEncode(std::string_view s);
// base + "/" + path, with exactly one slash between them whether or not `base`
// ends in one and `path` starts with one. Path segments in `base` are kept
// (Keeper: https://keepersecurity.com/api/rest/scim/v2/<node_id>).
std::string JoinUrl(std::string_view base, std::string_view path);

// --- responses ---------------------------------------------------------------
// A User resource; nullopt if `body` is not a JSON object. `version` (optional)
// receives meta.version, the resource's ETag when the server has them. `error`
// (optional) receives "" on success, else why the body is not an object:
// "empty body", "not JSON (<parser message> at byte <n>)", "not a JSON object" or
// "response body nests deeper than 64 levels" (never a piece of the body).
// A parsed resource may still lack an id; the caller decides what that means.
std::optional<RemoteUser> ParseUser(std::string_view body, std::string* version = nullptr,
                                    std::string* error = nullptr);
// A Group resource (members read from members[].value); nullopt if not an object.
std::optional<RemoteGroup> ParseGroup(std::string_view body, std::string* version = nullptr,
                                      std::string* error = nullptr);

// One page of a ListResponse. `valid` is false when the body is not a ListResponse
// we can trust: not a JSON object, `Resources` not an array, or `Resources` absent
// while totalResults is not 0 (RFC 7644 §3.4.2: Resources is required when
// totalResults is non-zero). A page we cannot trust must never read as "no match".
struct UserPage {
  bool valid = false;
  std::string error;  // why not valid: ParseUser's reasons, or what the envelope lacks
  std::optional<long> total_results;
  std::vector<RemoteUser> resources;  // elements that are not objects are skipped
  std::size_t returned = 0;           // elements in Resources, parsed or not
};
struct GroupPage {
  bool valid = false;
  std::string error;
  std::optional<long> total_results;
  std::vector<RemoteGroup> resources;
  std::size_t returned = 0;
};
UserPage ParseUserPage(std::string_view body);
GroupPage ParseGroupPage(std::string_view body);

// A ServiceProviderConfig body (RFC 7643 §5) as core/discovery.h's Discovery:
// outcome kServed with patch, filter (+maxResults), bulk (+maxOperations), etag and
// sort read leniently: names match case-insensitively, a missing capability or
// field stays nullopt, `supported` may be a boolean or the string "true"/"false",
// a limit may be a non-negative integer or a string of digits. Anything else is
// left out and named in `odd` ("filter.maxResults is not a non-negative integer",
// "patch is not an object"). A body that is not a JSON object, or an object with
// none of patch, filter, bulk, etag and sort, is outcome kFailed with `detail`
// saying why ("not a ServiceProviderConfig: ...").
Discovery ParseServiceProviderConfig(std::string_view body);

// A SCIM Error body: `detail` and `scimType`. Non-SCIM bodies (Keeper's plain
// text, AWS-style JSON) give detail = the `message` member if any, else the first
// 200 bytes of the body (cut at a UTF-8 boundary, line breaks turned into spaces);
// a body nested too deep gives "response body nests deeper than 64 levels".
struct ScimError {
  std::string detail;
  std::string scim_type;
};
ScimError ParseError(std::string_view body);

// "<why>: <the body's first 200 bytes>" for a body that is not what was expected
// (the snippet left out when it adds nothing), as ParseError renders a non-SCIM body.
std::string DescribeBadBody(const std::string& why, std::string_view body);

}  // namespace scimsync
