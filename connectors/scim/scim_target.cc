#include "connectors/scim/scim_target.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>
#include <unordered_map>

#include "connectors/scim/scim_json.h"
#include "core/log.h"
#include "core/text.h"

namespace scimsync {
namespace {

constexpr std::string_view kScimJson = "application/scim+json";

std::optional<int> Number(std::string_view s) {
  if (!AllDigits(s) || s.size() > 9) return std::nullopt;
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::optional<unsigned> MonthNumber(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (s == kMonths[i]) return i + 1;
  }
  return std::nullopt;
}

bool IsWeekday(std::string_view s) {
  static constexpr std::array<std::string_view, 14> kDays = {
      "Mon",    "Tue",     "Wed",       "Thu",      "Fri",    "Sat",      "Sun",
      "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
  return std::find(kDays.begin(), kDays.end(), s) != kDays.end();
}

// "hh:mm:ss" -> seconds of the day.
std::optional<int> TimeOfDay(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  auto h = Number(s.substr(0, 2)), m = Number(s.substr(3, 2)), sec = Number(s.substr(6, 2));
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return *h * 3600 + *m * 60 + *sec;
}

// Words separated by spaces; a run of spaces counts as one (asctime pads the day).
std::vector<std::string_view> Words(std::string_view v) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && v[i] == ' ') ++i;
    std::size_t j = i;
    while (j < v.size() && v[j] != ' ') ++j;
    if (j > i) out.push_back(v.substr(i, j - i));
    i = j;
  }
  return out;
}

// "Sun," -> true; the comma is required and nothing else may follow the name.
bool IsWeekdayWithComma(std::string_view s) {
  return s.size() > 1 && s.back() == ',' && IsWeekday(s.substr(0, s.size() - 1));
}

std::optional<int> DayOfMonth(std::string_view s) {
  return s.size() <= 2 ? Number(s) : std::nullopt;
}

std::optional<int> FourDigitYear(std::string_view s) {
  return s.size() == 4 ? Number(s) : std::nullopt;
}

// The three forms of RFC 9110 §5.6.7, each word in its place: commas only after
// the weekday, hyphens only inside the RFC 850 date, digits only where numbers
// go (so "-1994" or "-Sun" is no date at all).
std::optional<std::chrono::sys_seconds> ParseHttpDate(std::string_view v) {
  std::vector<std::string_view> t = Words(v);
  std::optional<int> day, year, secs;
  std::optional<unsigned> month;
  if (t.size() == 6 && IsWeekdayWithComma(t[0]) && t[5] == "GMT") {
    // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT".
    day = DayOfMonth(t[1]);
    month = MonthNumber(t[2]);
    year = FourDigitYear(t[3]);
    secs = TimeOfDay(t[4]);
  } else if (t.size() == 4 && IsWeekdayWithComma(t[0]) && t[3] == "GMT") {
    // RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT".
    std::string_view d = t[1];
    if (d.size() == 9 && d[2] == '-' && d[6] == '-') {
      day = DayOfMonth(d.substr(0, 2));
      month = MonthNumber(d.substr(3, 3));
      // Two-digit years: 70-99 are 19xx, 00-69 are 20xx (RFC 9110 §5.6.7 reads
      // years more than 50 years ahead as past).
      if (std::optional<int> yy = Number(d.substr(7, 2))) year = *yy + (*yy < 70 ? 2000 : 1900);
    }
    secs = TimeOfDay(t[2]);
  } else if (t.size() == 5 && IsWeekday(t[0])) {
    // asctime "Sun Nov  6 08:49:37 1994".
    month = MonthNumber(t[1]);
    day = DayOfMonth(t[2]);
    secs = TimeOfDay(t[3]);
    year = FourDigitYear(t[4]);
  }
  if (!day.has_value() || !month.has_value() || !year.has_value() || !secs.has_value()) {
    return std::nullopt;
  }
  const int y = year.value(), d = day.value(), sod = secs.value();
  const unsigned m = month.value();
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  // Seconds, not SysTime: a year like 9999 overflows the nanosecond clock (it
  // wrapped into the past and read as "retry now").
  return std::chrono::sys_days(ymd) + std::chrono::seconds(sod);
}

std::string_view PathForLog(const std::string& path) {
  return std::string_view(path).substr(0, 500);
}

}  // namespace

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, SysTime now) {
  value = TrimOws(value);
  // Invalid or implausible values are treated as absent, so that the caller's own
  // backoff decides rather than a broken or hostile server.
  if (AllDigits(value)) {
    if (value.size() > 9) return std::nullopt;
    std::chrono::seconds delta(*Number(value));
    if (delta > kMaxRetryAfter) return std::nullopt;
    return delta;
  }
  std::optional<std::chrono::sys_seconds> when = ParseHttpDate(value);
  if (!when) return std::nullopt;
  if (when->time_since_epoch().count() < 0) return std::nullopt;  // before 1970
  std::chrono::sys_seconds now_s = std::chrono::floor<std::chrono::seconds>(now);
  if (*when - now_s > kMaxRetryAfter) return std::nullopt;
  if (*when <= now) return std::chrono::seconds(0);
  return std::chrono::ceil<std::chrono::seconds>(*when - now);
}

std::vector<std::pair<std::string, std::string>> RedactHeaders(
    std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "authorization") || EqualsIgnoreCase(name, "proxy-authorization") ||
        EqualsIgnoreCase(name, "cookie")) {
      value = "[redacted]";
    }
  }
  return headers;
}

ScimTarget::ScimTarget(HttpClient& http, ScimTargetOptions options, Clock& clock)
    : http_(http),
      options_(std::move(options)),
      clock_(clock),
      reader_(
          [this](const std::string& path) {
            HttpResponse http = Exchange("GET", path, "", "");
            Fetched f{Convert(http, Body::kNone), std::move(http.body)};
            return f;
          },
          clock) {
  if (options_.page_size < 1) options_.page_size = 100;
  if (options_.max_pages < 1) options_.max_pages = 1;
}

ScimTarget::ScimTarget(std::unique_ptr<HttpClient> http, ScimTargetOptions options, Clock& clock)
    : ScimTarget(*http, std::move(options), clock) {
  owned_http_ = std::move(http);
}

HttpRequest ScimTarget::MakeRequest(std::string_view method, const std::string& path,
                                    std::string body, const std::string& if_match) {
  HttpRequest req;
  req.method = std::string(method);
  req.url = JoinUrl(options_.base_url, path);
  req.headers.emplace_back("Accept", kScimJson);
  if (!body.empty()) req.headers.emplace_back("Content-Type", kScimJson);
  if (!if_match.empty()) req.headers.emplace_back("If-Match", if_match);
  req.body = std::move(body);
  requests_++;
  if (method != "GET") writes_++;
  return req;
}

void ScimTarget::LogExchange(const HttpRequest& req, const std::string& path,
                             const HttpResponse& resp, std::chrono::milliseconds ms) {
  if (!Log().Enabled(LogLevel::kDebug)) return;
  std::string status = resp.error == HttpError::kNone
                           ? std::to_string(resp.status)
                           : std::string(resp.error == HttpError::kTimeout   ? "timeout"
                                         : resp.error == HttpError::kReset   ? "reset"
                                         : resp.error == HttpError::kConnect ? "connect_failed"
                                                                             : "cancelled");
  LogDebug("scim_request", {{"method", req.method},
                            {"path", std::string(PathForLog(path))},
                            {"status", status},
                            {"ms", ms.count()}});
  std::string headers;
  for (const auto& [k, v] : RedactHeaders(req.headers)) {
    if (!headers.empty()) headers += "; ";
    headers += k + ": " + v;
  }
  LogDebug("scim_exchange", {{"method", req.method},
                             {"path", std::string(PathForLog(path))},
                             {"request_headers", headers},
                             {"request_body", req.body},
                             {"response_body", resp.body}});
}

HttpResponse ScimTarget::Exchange(std::string_view method, const std::string& path,
                                  std::string body, const std::string& if_match) {
  HttpRequest req = MakeRequest(method, path, std::move(body), if_match);
  auto start = clock_.Steady();
  HttpResponse resp = http_.Send(req);
  LogExchange(req, path, resp,
              std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Steady() - start));
  return resp;
}

TargetResponse ScimTarget::Convert(const HttpResponse& http, Body parse, bool required) {
  TargetResponse t;
  switch (http.error) {
    case HttpError::kNone: t.transport = Transport::kOk; break;
    case HttpError::kTimeout: t.transport = Transport::kTimeout; break;
    case HttpError::kReset: t.transport = Transport::kReset; break;
    case HttpError::kConnect: t.transport = Transport::kConnect; break;
    case HttpError::kCancelled: t.transport = Transport::kCancelled; break;
  }
  if (t.transport != Transport::kOk) {
    t.detail = http.error_text;
    return t;
  }
  t.status = http.status;
  if (std::string ra = http.Header("retry-after"); !ra.empty()) {
    t.retry_after = ParseRetryAfter(ra, clock_.Now());
  }
  t.etag = http.Header("etag");
  if (t.Ok()) {
    std::string version, why;
    std::string_view id;
    if (parse == Body::kUser && (required || !http.body.empty())) {
      t.user = ParseUser(http.body, &version, &why);
      if (t.user) id = t.user->id;
    } else if (parse == Body::kGroup && (required || !http.body.empty())) {
      t.group = ParseGroup(http.body, &version, &why);
      if (t.group) id = t.group->id;
    } else {
      return t;
    }
    if (t.etag.empty()) t.etag = version;
    if (id.empty()) {
      // The TargetResponse contract (connectors/target.h): a resource without an
      // id is no resource. Kept as its 2xx status so that the caller sees the
      // server's answer; `detail` says what was wrong with it.
      if (why.empty()) why = "no \"id\" member";
      t.user.reset();
      t.group.reset();
      if (required) t.detail = "no id in the response: " + DescribeBadBody(why, http.body);
    }
    return t;
  }
  if (!http.error_text.empty()) {
    t.detail = http.error_text;  // a redirect the client refused: where to, and why
  } else if (!http.body.empty()) {
    ScimError e = ParseError(http.body);
    t.detail = std::move(e.detail);
    t.scim_type = std::move(e.scim_type);
  }
  return t;
}

TargetResponse ScimTarget::Call(std::string_view method, const std::string& path, std::string body,
                                Body parse, const std::string& if_match) {
  // POST and GET answer with the resource; a PATCH may answer 204, or 200 without
  // a body (RFC 7644 §3.5.2).
  bool required = method == "POST" || method == "GET";
  return Convert(Exchange(method, path, std::move(body), if_match), parse, required);
}

TargetResponse ScimTarget::CreateUser(const User& user) {
  return Call("POST", "Users", UserJson(user), Body::kUser);
}

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// CreateUsers over HttpClient::SendMany: each user's POST built and each answer
// converted exactly as CreateUser does (MakeRequest, Convert), on the caller's thread.
class CreateUsersBatch final : public HttpBatch {
 public:
  using Build = std::function<HttpRequest(const User&)>;
  using Finish = std::function<void(std::uint64_t, const HttpRequest&, HttpResponse, SteadyTime)>;
  CreateUsersBatch(UserCreates& creates, Clock& clock, Build build, Finish finish)
      : creates_(creates), clock_(clock), build_(std::move(build)), finish_(std::move(finish)) {}

  int Width() override { return creates_.Width(); }
  bool Next(HttpRequest* request, std::uint64_t* tag) override {
    const User* user = creates_.Next(tag);
    if (user == nullptr) return false;
    *request = build_(*user);
    if (Log().Enabled(LogLevel::kDebug)) sent_[*tag] = {*request, clock_.Steady()};
    return true;
  }
  void Done(std::uint64_t tag, HttpResponse response) override {
    auto it = sent_.find(tag);
    if (it == sent_.end()) {
      finish_(tag, HttpRequest{}, std::move(response), SteadyTime{});
      return;
    }
    auto [request, start] = std::move(it->second);
    sent_.erase(it);
    finish_(tag, request, std::move(response), start);
  }

 private:
  UserCreates& creates_;
  Clock& clock_;
  Build build_;
  Finish finish_;
  // Only at debug level, for the scim_request and scim_exchange lines.
  std::unordered_map<std::uint64_t, std::pair<HttpRequest, SteadyTime>> sent_;
};

}  // namespace

bool ScimTarget::CreateUsers(UserCreates& creates) {
  CreateUsersBatch batch(
      creates, clock_, [&](const User& u) { return MakeRequest("POST", "Users", UserJson(u), ""); },
      [&](std::uint64_t tag, const HttpRequest& req, HttpResponse resp, SteadyTime start) {
        if (start != SteadyTime{}) {
          LogExchange(req, "Users", resp,
                      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Steady() - start));
        }
        creates.Done(tag, Convert(resp, Body::kUser, /*required=*/true));
      });
  return http_.SendMany(batch);
}

TargetResponse ScimTarget::GetUser(const std::string& id) {
  return Call("GET", "Users/" + PercentEncode(id), "", Body::kUser);
}

TargetResponse ScimTarget::PatchUser(const std::string& id, const std::vector<AttrChange>& changes,
                                     const std::string& if_match) {
  if (changes.empty()) {
    TargetResponse t;
    t.status = 204;
    return t;
  }
  return Call("PATCH", "Users/" + PercentEncode(id), UserPatchJson(changes), Body::kUser, if_match);
}

TargetResponse ScimTarget::PatchUserExternalId(const std::string& id,
                                               const std::string& external_id,
                                               const std::vector<AttrChange>& changes,
                                               const std::string& if_match) {
  if (external_id.empty()) return PatchUser(id, changes, if_match);
  return Call("PATCH", "Users/" + PercentEncode(id), UserPatchJson(changes, external_id),
              Body::kUser, if_match);
}

TargetResponse ScimTarget::DeleteUser(const std::string& id, const std::string& if_match) {
  return Call("DELETE", "Users/" + PercentEncode(id), "", Body::kNone, if_match);
}

PagingOptions ScimTarget::LookupPaging() const {
  PagingOptions p;
  p.page_size = options_.page_size;
  p.max_pages = options_.max_pages;
  p.tries = 1;  // the executor retries a failed lookup as a whole
  p.first_page_404_is_empty = true;
  return p;
}

bool FilterRefused(const TargetResponse& r) {
  if (r.transport != Transport::kOk) return false;
  if (r.status == 501) return true;  // Not Implemented: no filtering at all
  if (r.status != 400) return false;
  if (EqualsIgnoreCase(r.scim_type, "invalidFilter")) return true;
  const std::string d = FoldCase(r.detail);
  if (d.find("filter") == std::string::npos) return false;
  for (std::string_view says : {"not supported", "unsupported", "not implemented"}) {
    if (d.find(says) != std::string::npos) return true;
  }
  return false;
}

bool MatchesLookup(const RemoteUser& u, std::string_view attr, std::string_view value) {
  if (attr == "externalId") return u.external_id == value;
  if (attr == "userName") {
    return EqualsIgnoreCase(u.values[static_cast<std::size_t>(Attr::kUserName)], value);
  }
  return false;
}

bool MatchesLookup(const RemoteGroup& g, std::string_view attr, std::string_view value) {
  if (attr == "externalId") return g.external_id == value;
  if (attr == "displayName") return EqualsIgnoreCase(g.display_name, value);
  return false;
}

bool ScimTarget::Lists(const std::string& what) const {
  if (options_.lookup == LookupMethod::kList) return true;
  std::lock_guard lock(refused_mu_);
  return refused_.count(what) > 0;
}

void ScimTarget::NoteRefused(const std::string& what, const TargetResponse& r) {
  {
    std::lock_guard lock(refused_mu_);
    if (!refused_.insert(what).second) return;
  }
  LogWarn("lookup_filter_refused",
          {{"lookup", what},
           {"detail", r.Summary()},
           {"action", "these lookups list the collection and match locally from now on; "
                      "target.lookup = \"list\" skips the filter"}});
}

namespace {

// The filter read, and on a refusal the listing matched locally (see the header).
template <typename Item, typename ListFn>
ListRead<Item> FindBy(std::string_view collection, std::string_view attr, std::string_view value,
                      bool lists, ListFn list, const PagingOptions& paging,
                      const std::function<void(const TargetResponse&)>& refused) {
  const std::string base(collection);
  const std::string members = collection == "Groups" ? "excludedAttributes=members" : "";
  if (!lists) {
    ListRead<Item> read =
        list(base + "?filter=" + PercentEncode(EqFilter(attr, value)) +
                 (members.empty() ? "" : "&" + members),
             paging);
    if (!FilterRefused(read.response)) return read;
    refused(read.response);
  }
  PagingOptions all = paging;
  all.max_pages = std::max(paging.max_pages, kSnapshotMaxPages);
  all.first_page_404_is_empty = false;  // no collection is not "no match"
  ListRead<Item> read = list(members.empty() ? base : base + "?" + members, all);
  if (read.response.Ok()) {
    std::erase_if(read.items, [&](const Item& i) { return !MatchesLookup(i, attr, value); });
  } else if (read.response.transport == Transport::kOk && read.response.status == 404) {
    read.response.status = 502;  // TargetResponse::Ok() must not read as "no match"
    read.response.detail = "invalid ListResponse: 404 on the list of " + base;
  }
  return read;
}

}  // namespace

UserQuery ScimTarget::FindUsers(std::string_view attr, std::string_view value) {
  const std::string what = "Users:" + std::string(attr);
  ListRead<RemoteUser> read = FindBy<RemoteUser>(
      "Users", attr, value, Lists(what),
      [&](const std::string& path, const PagingOptions& p) { return reader_.ListUsers(path, p); },
      LookupPaging(), [&](const TargetResponse& r) { NoteRefused(what, r); });
  UserQuery q;
  q.response = std::move(read.response);
  q.users = std::move(read.items);
  return q;
}

TargetResponse ScimTarget::CreateGroup(const Group& group) {
  return Call("POST", "Groups", GroupJson(group), Body::kGroup);
}

TargetResponse ScimTarget::GetGroup(const std::string& id) {
  return Call("GET", "Groups/" + PercentEncode(id) + "?excludedAttributes=members", "", Body::kGroup);
}

TargetResponse ScimTarget::RenameGroup(const std::string& id, const std::string& display_name,
                                       const std::string& if_match) {
  return Call("PATCH", "Groups/" + PercentEncode(id), GroupRenameJson(display_name), Body::kGroup,
              if_match);
}

TargetResponse ScimTarget::PatchGroupExternalId(const std::string& id,
                                                const std::string& external_id,
                                                const std::string& display_name,
                                                const std::string& if_match) {
  if (external_id.empty() && display_name.empty()) {
    TargetResponse t;
    t.status = 204;
    return t;
  }
  return Call("PATCH", "Groups/" + PercentEncode(id), GroupRenameJson(display_name, external_id),
              Body::kGroup, if_match);
}

TargetResponse ScimTarget::PatchGroupMembers(const std::string& id,
                                             const std::vector<std::string>& add_ids,
                                             const std::vector<std::string>& remove_ids,
                                             const std::string& if_match) {
  if (add_ids.empty() && remove_ids.empty()) {
    TargetResponse t;
    t.status = 204;
    return t;
  }
  return Call("PATCH", "Groups/" + PercentEncode(id), MembersPatchJson(add_ids, remove_ids),
              Body::kGroup, if_match);
}

TargetResponse ScimTarget::DeleteGroup(const std::string& id, const std::string& if_match) {
  return Call("DELETE", "Groups/" + PercentEncode(id), "", Body::kNone, if_match);
}

GroupQuery ScimTarget::FindGroups(std::string_view attr, std::string_view value) {
  const std::string what = "Groups:" + std::string(attr);
  ListRead<RemoteGroup> read = FindBy<RemoteGroup>(
      "Groups", attr, value, Lists(what),
      [&](const std::string& path, const PagingOptions& p) { return reader_.ListGroups(path, p); },
      LookupPaging(), [&](const TargetResponse& r) { NoteRefused(what, r); });
  GroupQuery q;
  q.response = std::move(read.response);
  q.groups = std::move(read.items);
  return q;
}

Result<TargetSnapshot> ScimTarget::ReadSnapshot(const SnapshotOptions& options) {
  return reader_.ReadSnapshot(options, options_.page_size);
}

TargetResponse ScimTarget::Probe() {
  return Call("GET", "Users?startIndex=1&count=1", "", Body::kNone);
}

Discovery ScimTarget::Discover() {
  HttpResponse http = Exchange("GET", "ServiceProviderConfig", "", "");
  TargetResponse r = Convert(http, Body::kNone);
  if (r.Ok()) return ParseServiceProviderConfig(http.body);
  Discovery d;
  d.detail = r.Summary();
  // Not served: the endpoint is optional in practice (RFC 7644 §4 makes it
  // mandatory, many targets skip it).
  if (r.transport == Transport::kOk && (r.status == 404 || r.status == 501)) {
    d.outcome = Discovery::Outcome::kNotServed;
  }
  return d;
}

}  // namespace scimsync
