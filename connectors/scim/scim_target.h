// ScimTarget: the Target interface (connectors/target.h) spoken as SCIM 2.0 over an
// HttpClient. It owns URLs, headers, JSON, filters and paging, and reports every
// answer as a TargetResponse; it decides nothing (policies live in the executor).
//
// Requests
//   POST   {base}/Users                      CreateUser    (body: scim_json.h UserJson)
//   GET    {base}/Users/{id}                 GetUser
//   PATCH  {base}/Users/{id}                 PatchUser
//   DELETE {base}/Users/{id}                 DeleteUser
//   GET    {base}/Users?filter=..&startIndex=..&count=..            FindUsers
//   GET    {base}/Users?startIndex=..&count=..     FindUsers when it lists (below)
//   POST   {base}/Groups                     CreateGroup   (no members)
//   GET    {base}/Groups/{id}?excludedAttributes=members            GetGroup
//   PATCH  {base}/Groups/{id}                RenameGroup, PatchGroupMembers
//   DELETE {base}/Groups/{id}                DeleteGroup
// PATCH and DELETE send If-Match when given one.
//   GET    {base}/Groups?filter=..&excludedAttributes=members&...   FindGroups
//   GET    {base}/Groups?excludedAttributes=members&...   FindGroups when it lists
//   GET    {base}/Users?startIndex=1&count=1 Probe (proves URL, token and node id)
//   GET    {base}/ServiceProviderConfig      Discover (scim_json.h ParseServiceProviderConfig)
// Every request carries Accept: application/scim+json; requests with a body also
// Content-Type: application/scim+json. Ids are percent-encoded as path segments.
// A PatchUser with no changes or a PatchGroupMembers with no ids sends nothing and
// answers status 204.
//
// Responses
//   * transport errors map one to one (HttpError -> Transport), detail = the
//     client's error text;
//   * non-2xx: detail/scim_type from the SCIM Error body (scim_json.h ParseError);
//     for a redirect the client refused, detail = its error_text ("redirect to
//     other-host.example refused: ...");
//   * Retry-After (delta-seconds or HTTP-date, relative to clock.Now()) on any
//     response that has one; ETag header (else meta.version) into `etag`;
//   * a 2xx user/group body fills `user`/`group` only when it is a JSON object
//     with a non-empty `id`. A 2xx to a POST or GET without one (empty body, HTML,
//     JSON without `id`, a body nested too deep) keeps its status, leaves
//     `user`/`group` empty and sets detail = "no id in the response: <why>: <first
//     200 bytes>" (see TargetResponse in connectors/target.h for what the executor
//     makes of it). A PATCH may answer without a body: no detail then;
//   * 429 and 503 are reported like any status: slowing down is the executor's
//     decision (it runs fewer workers).
//
// List reads (FindUsers/FindGroups, ReadSnapshot) page through TargetReader
// (target_reader.h), which holds every paging rule: startIndex advances by the
// resources actually returned, results are de-duplicated by id, and a page that
// repeats earlier results, a page that is not a trustworthy ListResponse, or more
// than `max_pages` pages FAIL the read (status 502, detail "invalid ListResponse:
// ...") so that a lookup never guesses from a list it could not see whole. A 404 on
// a lookup means zero matches (some targets answer a filter without hits that way).
// Lookups send each page once (the executor retries); ReadSnapshot retries each
// page up to 3 times on transient answers.
//   GET    {base}/Users?startIndex=..&count=..                       ReadSnapshot
//   GET    {base}/Groups?startIndex=..&count=..  (members inline)    ReadSnapshot
//   GET    {base}/Groups?excludedAttributes=members&... then GET {base}/Groups/{id}
//                                                 (SnapshotOptions::members_per_group)
//
// How lookups find (ScimTargetOptions::lookup, core/target_profile.h):
//   * kFilter: one `attr eq "value"` filter read. A target that refuses the filter
//     (FilterRefused below) is answered by listing instead, and every later lookup
//     of the same collection and attribute lists at once; one LogWarn
//     "lookup_filter_refused" per collection and attribute for the life of the
//     target names the answer.
//   * kList: never filter: list the whole collection and match locally.
//   A listing is read like any list (whole or nothing, LookupPaging's rules, up to
//   kSnapshotMaxPages pages) and matched as the filter would have been
//   (MatchesLookup): externalId exactly (RFC 7643 caseExact), userName and
//   displayName without regard to case (caseExact=false). A 404 on the first page of
//   a listing is a failed read (502), never "no match".
//
// Logging: one LogDebug "scim_request" line per request with method, path, status
// (or transport error) and ms; at debug level also the request and response
// bodies. The bearer token never reaches this class (the HttpClient adds it), and
// RedactHeaders() masks credentials in any header list before it is logged.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/scim/http_client.h"
#include "connectors/scim/target_reader.h"
#include "connectors/target.h"
#include "core/clock.h"
#include "core/defaults.h"
#include "core/target_profile.h"

namespace scimsync {

struct ScimTargetOptions {
  std::string base_url;     // SCIM base, e.g. https://host/scim/v2 or Keeper's .../v2/<node_id>
  int page_size = defaults::kScimPageSize;  // `count` asked for on list reads
  int max_pages = 1000;     // safety cap on pages per lookup (ReadSnapshot: kSnapshotMaxPages)
  LookupMethod lookup = LookupMethod::kFilter;  // how FindUsers/FindGroups find (above)
};

// A lookup answer that says "this target does not do filters": 501, or 400 with
// scimType invalidFilter, or a 400 whose detail says filters are not supported
// ("filter not supported", "unsupported filter", "filtering is not implemented").
// Conservative: any other 400 is the lookup's failure, not a reason to list.
bool FilterRefused(const TargetResponse& r);

// Whether a listed user / group answers `attr eq value` ("externalId", "userName",
// "displayName"; any other attribute matches nothing).
bool MatchesLookup(const RemoteUser& u, std::string_view attr, std::string_view value);
bool MatchesLookup(const RemoteGroup& g, std::string_view attr, std::string_view value);

// Parses a Retry-After value: delta-seconds ("120") or an HTTP-date in IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") or
// asctime ("Sun Nov  6 08:49:37 1994") form (RFC 9110 §10.2.3, §5.6.7), each
// strictly (commas, hyphens and digits only where the form has them). A date is
// turned into seconds from `now` (rounded up; 0 if already past). Anything else
// is nullopt, i.e. "absent": negative or fractional numbers, garbage, impossible
// dates, dates before 1970, and any value more than kMaxRetryAfter ahead.
inline constexpr std::chrono::seconds kMaxRetryAfter{24 * 3600};
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, SysTime now);

// Copies `headers` with the values of Authorization, Proxy-Authorization and
// Cookie replaced by "[redacted]" (names compared case-insensitively).
std::vector<std::pair<std::string, std::string>> RedactHeaders(
    std::vector<std::pair<std::string, std::string>> headers);

class ScimTarget final : public Target {
 public:
  // `http` and `clock` must outlive the target.
  ScimTarget(HttpClient& http, ScimTargetOptions options, Clock& clock);
  // Owns the client (what MakeTarget wants: one unique_ptr<Target> for both).
  ScimTarget(std::unique_ptr<HttpClient> http, ScimTargetOptions options, Clock& clock);

  TargetResponse CreateUser(const User& user) override;
  // Over HttpClient::SendMany when the client can (false otherwise).
  bool CreateUsers(UserCreates& creates) override;
  TargetResponse GetUser(const std::string& id) override;
  TargetResponse PatchUser(const std::string& id, const std::vector<AttrChange>& changes,
                           const std::string& if_match = "") override;
  TargetResponse PatchUserExternalId(const std::string& id, const std::string& external_id,
                                     const std::vector<AttrChange>& changes,
                                     const std::string& if_match = "") override;
  TargetResponse DeleteUser(const std::string& id, const std::string& if_match = "") override;
  UserQuery FindUsers(std::string_view attr, std::string_view value) override;

  TargetResponse CreateGroup(const Group& group) override;
  TargetResponse GetGroup(const std::string& id) override;
  TargetResponse RenameGroup(const std::string& id, const std::string& display_name,
                             const std::string& if_match = "") override;
  TargetResponse PatchGroupExternalId(const std::string& id, const std::string& external_id,
                                      const std::string& display_name,
                                      const std::string& if_match = "") override;
  TargetResponse PatchGroupMembers(const std::string& id, const std::vector<std::string>& add_ids,
                                   const std::vector<std::string>& remove_ids,
                                   const std::string& if_match = "") override;
  TargetResponse DeleteGroup(const std::string& id, const std::string& if_match = "") override;
  GroupQuery FindGroups(std::string_view attr, std::string_view value) override;

  Result<TargetSnapshot> ReadSnapshot(const SnapshotOptions& options) override;

  TargetResponse Probe() override;
  Discovery Discover() override;
  long RequestCount() const override { return requests_.load(); }
  long WriteCount() const override { return writes_.load(); }

 private:
  enum class Body { kNone, kUser, kGroup };
  // Sends one request and converts the answer; `parse` says which body to read on 2xx.
  TargetResponse Call(std::string_view method, const std::string& path, std::string body,
                      Body parse, const std::string& if_match = "");
  HttpResponse Exchange(std::string_view method, const std::string& path, std::string body,
                        const std::string& if_match);
  // The request Exchange sends (counted in RequestCount/WriteCount), and its debug lines.
  HttpRequest MakeRequest(std::string_view method, const std::string& path, std::string body,
                          const std::string& if_match);
  void LogExchange(const HttpRequest& req, const std::string& path, const HttpResponse& resp,
                   std::chrono::milliseconds ms);
  TargetResponse Convert(const HttpResponse& http, Body parse, bool required = false);
  PagingOptions LookupPaging() const;
  // Whether lookups of `what` ("Users:userName") skip the filter, and the note that
  // the target refused it (logged once per `what`).
  bool Lists(const std::string& what) const;
  void NoteRefused(const std::string& what, const TargetResponse& r);

  std::unique_ptr<HttpClient> owned_http_;  // set by the owning constructor only
  HttpClient& http_;
  ScimTargetOptions options_;
  Clock& clock_;
  std::atomic<long> requests_{0};
  std::atomic<long> writes_{0};
  TargetReader reader_;  // pages through lists with Exchange/Convert
  mutable std::mutex refused_mu_;
  std::set<std::string> refused_;  // "Users:userName": the target refused that filter
};

}  // namespace scimsync
