// TargetReader: paged reads of SCIM lists (RFC 7644 §3.4.2.4), used by ScimTarget
// for both the filter lookups (FindUsers/FindGroups) and the whole-target snapshot
// of a reconciling cycle (ReadSnapshot; DESIGN §1, §3, §7). One paging loop serves
// both, so both get the same defences against what real servers do.
//
// Paging rules (one loop, every list read):
//   * GET <path>[?&]startIndex=S&count=C, S from 1. S advances by the number of
//     elements actually in `Resources`, never by `count` or `itemsPerPage`: servers
//     cap pages silently (Keeper 1000, Better Auth 100, AWS 50, SCIMMY 20) and some
//     echo the requested count as itemsPerPage.
//   * The read is complete when a page comes back empty, or when the positions read
//     (S - 1) reach the totalResults of the latest page (it may grow or shrink while
//     we read; the latest value wins). Without totalResults: at the first empty page.
//     An empty page before totalResults is reached ends the read too (servers that
//     overstate totalResults); ListRead::short_by says by how much.
//   * Servers keep no stable order between requests, so resources are de-duplicated
//     by id (the later copy wins, the first position is kept). A single id seen again
//     is tolerated: creates and deletes during the read shift the pages. A non-empty
//     page that brings no id not seen before (a page that repeats earlier results:
//     the server ignores startIndex, or does not page at all) FAILS the read: it can
//     hide resources, and for a lookup a second match (adopting the first would be a
//     guess). Resources without an id are skipped.
//   * Page guards: a hard cap (PagingOptions::max_pages) and, once the first page
//     gave totalResults T and n resources, at most 2 * ceil(T / n) + 10 pages (room
//     for the target to double during the read). Passing either FAILS the read.
//   * Any request that fails fails the whole read. A 2xx page that is not a
//     trustworthy ListResponse (scim_json.h ParseUserPage) or that trips a rule above is
//     reported as status 502 with detail "invalid ListResponse: ..." (so a lookup
//     never reads it as "no match", and the executor treats it as transient) and
//     `untrustworthy` set.
//   * A 404 on the first page is an empty list when `first_page_404_is_empty`
//     (lookups: some targets answer a filter without hits that way); a 404 on a
//     later page ends the list (a page past the end).
//
// Retries: each request (page or per-group GET) is tried up to PagingOptions::tries
// times when the answer is transient (timeout, reset, connect failure, 429, 5xx):
// waits Retry-After when the server sent one (at most kMaxRetryWait), else 1 s, 2 s,
// 4 s, ... A cancelled request is never retried. Lookups use tries = 1 (the
// executor retries them); the snapshot uses kSnapshotTries = 3 per page, because
// starting a read of thousands of pages over costs far more than one page.
//
// Snapshot (ReadSnapshot): all users (GET Users?startIndex..), then all groups
// (none, and no group request, when SnapshotOptions::read_groups is false).
// Members come inline with the group list by default; with
// SnapshotOptions::members_per_group the list asks for excludedAttributes=members
// and each group is then read with GET Groups/{id} (members from that answer; a 404
// there means the group was deleted during the read: it is left out), up to
// SnapshotOptions::concurrency of them at once; the first failure in list order
// fails the read, and once one failed no more are started. Users and
// groups come back sorted by id, member ids sorted and unique. The snapshot's hard
// cap is kSnapshotMaxPages pages per list. Any failure: an error Status naming the
// request, page and startIndex, and the HTTP summary (codes: 401/403 kAuth,
// timeout kTimeout, cancelled kCancelled, untrustworthy pages kParse, everything
// else kUnavailable). One info line `target_read` per completed snapshot.
//
// Thread-safety: a TargetReader holds no state between calls; it is as thread-safe
// as its fetch function.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "connectors/target.h"
#include "core/clock.h"
#include "core/defaults.h"
#include "core/result.h"
#include "core/target_snapshot.h"

namespace scimsync {

inline constexpr int kSnapshotTries = 3;
inline constexpr int kSnapshotMaxPages = 100000;  // 5,000,000 resources at AWS's 50 a page
inline constexpr std::chrono::seconds kMaxRetryWait{60};

// One GET answered: the converted response and the raw body.
struct Fetched {
  TargetResponse response;
  std::string body;
};
// Sends GET {base}/{path}; `path` is relative to the SCIM base and has its query.
using FetchFn = std::function<Fetched(const std::string& path)>;

struct PagingOptions {
  int page_size = defaults::kScimPageSize;  // `count` asked for per page
  int max_pages = 1000;  // hard cap on pages per list; reaching it fails the read
  int tries = 1;         // attempts per request when the answer is transient
  bool first_page_404_is_empty = true;
};

// A list read: every resource, or the answer that broke it.
template <typename Item>
struct ListRead {
  TargetResponse response;    // Ok() when the read completed
  std::vector<Item> items;    // de-duplicated by id
  std::string where;          // on failure: "page 3 (startIndex=201)"
  bool untrustworthy = false;  // failed on a 2xx page we cannot trust (status 502)
  int requests = 0;           // requests sent for this list, retries included
  long short_by = 0;          // positions the latest totalResults promised but never came
};

class TargetReader {
 public:
  // `fetch` and `clock` must outlive the reader.
  TargetReader(FetchFn fetch, Clock& clock);

  // Every page of `path_and_query` ("Users?filter=..." or "Users").
  ListRead<RemoteUser> ListUsers(const std::string& path_and_query, const PagingOptions& options);
  ListRead<RemoteGroup> ListGroups(const std::string& path_and_query,
                                   const PagingOptions& options);

  // The whole target (see "Snapshot" above); page_size 0 in `options` means
  // `default_page_size`.
  Result<TargetSnapshot> ReadSnapshot(const SnapshotOptions& options, int default_page_size);

 private:
  template <typename Page, typename Item>
  ListRead<Item> ReadList(const std::string& path_and_query, const PagingOptions& options);
  // One GET, tried up to `tries` times while the answer is transient.
  // `*attempts` receives the number of requests sent.
  Fetched Get(const std::string& path, int tries, int* attempts);

  FetchFn fetch_;
  Clock& clock_;
};

}  // namespace scimsync
