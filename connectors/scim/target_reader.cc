#include "connectors/scim/target_reader.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "connectors/scim/scim_json.h"
#include "core/log.h"

namespace scimsync {
namespace {

std::string ToStr(long v) { return std::to_string(v); }

// Worth asking again: the server was busy, failed, or never answered.
bool Transient(const TargetResponse& r) {
  switch (r.transport) {
    case Transport::kOk: return r.status == 429 || r.status >= 500;
    case Transport::kTimeout:
    case Transport::kReset:
    case Transport::kConnect: return true;
    case Transport::kCancelled: return false;
  }
  return false;
}

// The one translation of a failed read into an error code.
ErrorCode CodeOf(const TargetResponse& r, bool untrustworthy) {
  if (untrustworthy) return ErrorCode::kParse;
  switch (r.transport) {
    case Transport::kTimeout: return ErrorCode::kTimeout;
    case Transport::kCancelled: return ErrorCode::kCancelled;
    case Transport::kReset:
    case Transport::kConnect: return ErrorCode::kUnavailable;
    case Transport::kOk: break;
  }
  if (r.status == 401 || r.status == 403) return ErrorCode::kAuth;
  if (r.status == 429 || r.status >= 500) return ErrorCode::kUnavailable;
  return ErrorCode::kInvalidArgument;  // the target refuses the request as we send it
}

// A 2xx answer we cannot use: status 502 so that it never reads as success or "no match".
TargetResponse Untrustworthy(TargetResponse r, const std::string& why) {
  r.status = 502;
  r.detail = "invalid ListResponse: " + why;
  r.scim_type.clear();
  return r;
}

Status ReadFailed(const std::string& request, const TargetResponse& r, bool untrustworthy) {
  // The 502 of an untrustworthy page is ours, not the server's: say only why.
  std::string what = untrustworthy ? r.detail : r.Summary();
  return Status(CodeOf(r, untrustworthy), "target read failed: " + request + ": " + what);
}

template <typename Item>
void SortById(std::vector<Item>& v) {
  std::sort(v.begin(), v.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
}

}  // namespace

TargetReader::TargetReader(FetchFn fetch, Clock& clock) : fetch_(std::move(fetch)), clock_(clock) {}

Fetched TargetReader::Get(const std::string& path, int tries, int* attempts) {
  Fetched f;
  for (int attempt = 1;; ++attempt) {
    f = fetch_(path);
    ++*attempts;
    if (attempt >= tries || !Transient(f.response)) return f;
    Millis wait = f.response.retry_after
                      ? std::chrono::duration_cast<Millis>(
                            std::min<std::chrono::seconds>(*f.response.retry_after, kMaxRetryWait))
                      : Millis(1000L << std::min(attempt - 1, 5));
    LogWarn("target_read_retry", {{"path", path.substr(0, 200)},
                                  {"attempt", attempt},
                                  {"wait_ms", static_cast<long>(wait.count())},
                                  {"detail", f.response.Summary()}});
    clock_.SleepFor(wait);
  }
}

template <typename Page, typename Item>
ListRead<Item> TargetReader::ReadList(const std::string& path_and_query,
                                      const PagingOptions& options) {
  ListRead<Item> out;
  std::unordered_map<std::string, std::size_t> position;  // id -> index in out.items
  const char sep = path_and_query.find('?') == std::string::npos ? '?' : '&';
  const long count = std::max(1, options.page_size);
  long limit = std::max(1, options.max_pages);
  long start = 1;
  auto fail = [&](TargetResponse r, bool untrustworthy) {
    out.response = std::move(r);
    out.untrustworthy = untrustworthy;
    out.items.clear();  // whole or nothing
    return out;
  };
  for (long page_no = 1;; ++page_no) {
    out.where = "page " + ToStr(page_no) + " (startIndex=" + ToStr(start) + ")";
    if (page_no > limit) {
      return fail(Untrustworthy({}, "still not at the end after " + ToStr(limit) +
                                        " pages (startIndex=" + ToStr(start) + ")"),
                  true);
    }
    int attempts = 0;
    Fetched f = Get(path_and_query + sep + "startIndex=" + ToStr(start) + "&count=" + ToStr(count),
                    options.tries, &attempts);
    out.requests += attempts;
    TargetResponse& r = f.response;
    if (r.transport == Transport::kOk && r.status == 404 &&
        (page_no > 1 || options.first_page_404_is_empty)) {
      // A filter without hits, or a page past the end, on some targets.
      r.status = 200;
      r.detail.clear();
      r.scim_type.clear();
      out.response = std::move(r);
      out.where.clear();
      return out;
    }
    if (!r.Ok()) {
      if (attempts > 1) r.detail += " (after " + ToStr(attempts) + " tries)";
      return fail(std::move(r), false);
    }
    Page page;
    if constexpr (std::is_same_v<Item, RemoteUser>) {
      page = ParseUserPage(f.body);
    } else {
      page = ParseGroupPage(f.body);
    }
    if (!page.valid) return fail(Untrustworthy(std::move(r), DescribeBadBody(page.error, f.body)), true);
    bool fresh = false;
    for (auto& item : page.resources) {
      if (item.id.empty()) continue;
      auto [it, inserted] = position.try_emplace(item.id, out.items.size());
      if (inserted) {
        out.items.push_back(std::move(item));
        fresh = true;
      } else {
        out.items[it->second] = std::move(item);  // the later copy is the fresher one
      }
    }
    const std::optional<long>& total = page.total_results;
    if (page.returned == 0) {
      if (total && *total > start - 1) out.short_by = *total - (start - 1);
      out.response = std::move(r);
      out.where.clear();
      return out;
    }
    if (!fresh) {
      return fail(Untrustworthy(std::move(r), "the page at startIndex=" + ToStr(start) +
                                                  " repeats earlier results (" +
                                                  ToStr(static_cast<long>(page.returned)) +
                                                  " resources, no new id): the server ignores "
                                                  "startIndex or does not page"),
                  true);
    }
    const long returned = static_cast<long>(page.returned);
    if (page_no == 1 && total && *total > 0) {
      // Room for the target to double while we read; more means totalResults or paging lies.
      const long needed = *total / returned + 1;
      if (needed < limit / 2) limit = std::min(limit, 2 * needed + 10);
    }
    start += returned;
    if (total && start - 1 >= *total) {
      out.response = std::move(r);
      out.where.clear();
      return out;
    }
  }
}

ListRead<RemoteUser> TargetReader::ListUsers(const std::string& path_and_query,
                                             const PagingOptions& options) {
  return ReadList<UserPage, RemoteUser>(path_and_query, options);
}

ListRead<RemoteGroup> TargetReader::ListGroups(const std::string& path_and_query,
                                               const PagingOptions& options) {
  return ReadList<GroupPage, RemoteGroup>(path_and_query, options);
}

Result<TargetSnapshot> TargetReader::ReadSnapshot(const SnapshotOptions& options,
                                                  int default_page_size) {
  const auto started = clock_.Steady();
  PagingOptions paging;
  paging.page_size = options.page_size > 0 ? options.page_size : default_page_size;
  paging.max_pages = kSnapshotMaxPages;
  paging.tries = kSnapshotTries;
  paging.first_page_404_is_empty = false;  // no Users endpoint is not "no users"

  TargetSnapshot snap;
  ListRead<RemoteUser> users = ListUsers("Users", paging);
  if (!users.response.Ok()) {
    return ReadFailed("GET Users " + users.where, users.response, users.untrustworthy);
  }
  const std::string groups_path =
      options.members_per_group ? "Groups?excludedAttributes=members" : "Groups";
  ListRead<RemoteGroup> groups;
  groups.response.status = 200;  // not read at all: no groups, no request
  if (options.read_groups) groups = ListGroups(groups_path, paging);
  if (!groups.response.Ok()) {
    return ReadFailed("GET " + groups_path + " " + groups.where, groups.response,
                      groups.untrustworthy);
  }
  long requests = users.requests + groups.requests;
  snap.users = std::move(users.items);
  snap.groups = std::move(groups.items);

  if (options.members_per_group) {
    // One GET per group, up to options.concurrency at once. Groups are handed out in
    // list order and every one handed out is read to its end, so the ones read are a
    // prefix of the list; once a GET failed no more are handed out, and the first
    // failure in list order is the one reported, as when they ran one by one.
    const std::size_t n = snap.groups.size();
    std::vector<Fetched> fetched(n);
    std::vector<int> tries(n, 0);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    auto fetch = [&] {
      while (!failed.load()) {
        const std::size_t i = next.fetch_add(1);
        if (i >= n) return;
        fetched[i] = Get("Groups/" + PercentEncode(snap.groups[i].id), kSnapshotTries, &tries[i]);
        const TargetResponse& r = fetched[i].response;
        if (!r.Ok() && !(r.transport == Transport::kOk && r.status == 404)) failed = true;
      }
    };
    const std::size_t helpers =
        std::min<std::size_t>(n, static_cast<std::size_t>(std::clamp(options.concurrency, 1, 64))) -
        (n > 0 ? 1 : 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < helpers; ++t) threads.emplace_back(fetch);
    fetch();
    for (auto& t : threads) t.join();
    const std::size_t read = std::min(n, next.load());

    std::vector<RemoteGroup> kept;
    kept.reserve(read);
    for (std::size_t i = 0; i < read; ++i) {
      RemoteGroup& g = snap.groups[i];
      const std::string path = "Groups/" + PercentEncode(g.id);
      const int sent = tries[i];
      Fetched& f = fetched[i];
      requests += sent;
      if (f.response.transport == Transport::kOk && f.response.status == 404) continue;  // deleted
      if (!f.response.Ok()) {
        if (sent > 1) f.response.detail += " (after " + ToStr(sent) + " tries)";
        return ReadFailed("GET " + path, f.response, false);
      }
      std::optional<RemoteGroup> full = ParseGroup(f.body);
      if (!full || (!full->id.empty() && full->id != g.id)) {
        return Status(ErrorCode::kParse,
                      "target read failed: GET " + path + ": " +
                          (full ? "answered group \"" + full->id + "\""
                                : "not a Group: " + ParseError(f.body).detail));
      }
      g.member_ids = std::move(full->member_ids);
      kept.push_back(std::move(g));
    }
    snap.groups = std::move(kept);
  }

  SortById(snap.users);
  SortById(snap.groups);
  long memberships = 0;
  for (RemoteGroup& g : snap.groups) {
    std::sort(g.member_ids.begin(), g.member_ids.end());
    g.member_ids.erase(std::unique(g.member_ids.begin(), g.member_ids.end()), g.member_ids.end());
    memberships += static_cast<long>(g.member_ids.size());
  }
  if (users.short_by > 0 || groups.short_by > 0) {
    LogWarn("target_read_short", {{"users_short_by", users.short_by},
                                  {"groups_short_by", groups.short_by},
                                  {"detail", "an empty page came before totalResults"}});
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Steady() - started).count();
  LogInfo("target_read", {{"users", static_cast<long>(snap.users.size())},
                          {"groups", static_cast<long>(snap.groups.size())},
                          {"memberships", memberships},
                          {"requests", requests},
                          {"ms", static_cast<long>(ms)}});
  return snap;
}

}  // namespace scimsync
