// The SCIM target as the executor sees it: one call per SCIM request, each answered
// with a TargetResponse that keeps the HTTP status so the executor's response
// policies (DESIGN §6) can decide. The implementation (scim/scim_target.h) owns the
// URL layout, JSON encoding, filters and paging; it decides nothing.
//
// Thread-safety: implementations must allow concurrent calls from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/discovery.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/result.h"
#include "core/target_snapshot.h"

namespace scimsync {

enum class Transport {
  kOk,         // an HTTP response arrived (any status)
  kTimeout,    // request sent, no answer in time: outcome unknown
  kReset,      // connection dropped after sending: outcome unknown
  kConnect,    // could not connect / resolve / TLS handshake: nothing was sent
  kCancelled,  // stop requested before the request was sent
};
std::string_view TransportName(Transport t);

// Contract on `user` / `group`: they are set only when the answer carried a
// resource with a non-empty id. A 2xx to a create (or a read) without one (empty
// body, an HTML page, JSON without `id`, a body nested too deep) keeps its 2xx
// status, leaves `user`/`group` empty and says why in `detail` ("no id in the
// response: ..."). Ok() is then true, but the object was NOT confirmed: the
// executor treats a 2xx create without `user`/`group` as a failure of that object
// (the row stays uncertain and is resolved by lookup), never as a success.
struct TargetResponse {
  Transport transport = Transport::kOk;
  int status = 0;                 // HTTP status when transport == kOk
  std::string detail;             // SCIM error detail, or transport error text
  std::string scim_type;          // SCIM error scimType, if any
  std::optional<std::chrono::seconds> retry_after;  // parsed Retry-After
  std::string etag;
  std::optional<RemoteUser> user;    // parsed body of a user request, if any
  std::optional<RemoteGroup> group;  // parsed body of a group request, if any

  bool Ok() const { return transport == Transport::kOk && status >= 200 && status < 300; }
  // True when the server may have applied the request although we got no answer.
  bool OutcomeUnknown() const {
    return transport == Transport::kTimeout || transport == Transport::kReset ||
           (transport == Transport::kOk && status >= 500);
  }
  // "HTTP 409 uniqueness: Email already taken" / "timeout: ...". Redacted
  // (core/redact.h): the detail is the server's words and may echo the token.
  std::string Summary() const;
};

// A list read (filter or listing): either all matches, or the response that broke it.
struct UserQuery {
  TargetResponse response;         // last response; Ok() if the read completed
  std::vector<RemoteUser> users;
};
struct GroupQuery {
  TargetResponse response;
  std::vector<RemoteGroup> groups;
};

// How ReadSnapshot reads the target. Defaults suit any RFC 7644 server.
struct SnapshotOptions {
  // false: group members come inline with the group list (GET /Groups?startIndex=..).
  // true: the list asks for excludedAttributes=members and each group's members are
  // read with one GET /Groups/{id} (Keeper's advice for large teams).
  bool members_per_group = false;
  // `count` asked for per page; 0 = the target's own list page size (default 100).
  int page_size = 0;
  // false: no group is read (push_groups = false: groups are left to the target);
  // the snapshot's groups are empty.
  bool read_groups = true;
  // With members_per_group: how many of the per-group GETs run at once (the cycle
  // passes max_connections). Each group is still read whole or the read fails.
  int concurrency = 1;
};

// The caller's side of Target::CreateUsers: which users to create, and where the
// answers go. Every call is made on the thread that called CreateUsers.
class UserCreates {
 public:
  virtual ~UserCreates() = default;
  // How many creates may be in flight now (asked before every start).
  virtual int Width() = 0;
  // The next user to create and the tag its answer will carry; nullptr: start no
  // more (CreateUsers returns once every started create has been answered). The
  // user must stay valid until its answer.
  virtual const User* Next(std::uint64_t* tag) = 0;
  // The answer to the create tagged `tag`, as CreateUser would have returned it.
  virtual void Done(std::uint64_t tag, TargetResponse response) = 0;
};

class Target {
 public:
  virtual ~Target() = default;

  virtual TargetResponse CreateUser(const User& user) = 0;
  // Creates the users `batch` names, several at once from the calling thread (one
  // event loop over several connections, no thread per request); each answer is
  // what CreateUser would have given. false, without calling `batch`: this target
  // cannot (the caller then calls CreateUser from several threads). The default
  // cannot.
  virtual bool CreateUsers(UserCreates& batch) {
    (void)batch;
    return false;
  }
  virtual TargetResponse GetUser(const std::string& id) = 0;
  // PATCH with the given changes. Every PATCH and DELETE sends `if_match` as If-Match
  // when it is non-empty.
  virtual TargetResponse PatchUser(const std::string& id, const std::vector<AttrChange>& changes,
                                   const std::string& if_match = "") = 0;
  // One PATCH: replace externalId with `external_id` (when non-empty), then `changes`
  // (adopting a target user, or repairing an externalId changed on the target).
  virtual TargetResponse PatchUserExternalId(const std::string& id,
                                             const std::string& external_id,
                                             const std::vector<AttrChange>& changes,
                                             const std::string& if_match = "") = 0;
  virtual TargetResponse DeleteUser(const std::string& id, const std::string& if_match = "") = 0;
  // `attr` is "externalId" or "userName"; value is matched with `eq`.
  virtual UserQuery FindUsers(std::string_view attr, std::string_view value) = 0;

  // Creates the group without members (members are added by PatchGroupMembers).
  virtual TargetResponse CreateGroup(const Group& group) = 0;
  virtual TargetResponse GetGroup(const std::string& id) = 0;  // excludes members
  virtual TargetResponse RenameGroup(const std::string& id, const std::string& display_name,
                                     const std::string& if_match = "") = 0;
  // One PATCH: replace externalId (when non-empty) and displayName (when non-empty).
  virtual TargetResponse PatchGroupExternalId(const std::string& id,
                                              const std::string& external_id,
                                              const std::string& display_name,
                                              const std::string& if_match = "") = 0;
  // One PATCH: `add` of all of add_ids, then one `remove` with path
  // members[value eq "id"] per remove_id. Callers chunk.
  virtual TargetResponse PatchGroupMembers(const std::string& id,
                                           const std::vector<std::string>& add_ids,
                                           const std::vector<std::string>& remove_ids,
                                           const std::string& if_match = "") = 0;
  virtual TargetResponse DeleteGroup(const std::string& id, const std::string& if_match = "") = 0;
  // `attr` is "externalId" or "displayName".
  virtual GroupQuery FindGroups(std::string_view attr, std::string_view value) = 0;

  // Every user and every group (with members) the target holds, read whole: any
  // failed request or untrustworthy page fails the read (no partial snapshot).
  virtual Result<TargetSnapshot> ReadSnapshot(const SnapshotOptions& options) = 0;

  // GET /ServiceProviderConfig (or a users list of count=1): for `check`.
  virtual TargetResponse Probe() = 0;
  // GET {base}/ServiceProviderConfig read as core/discovery.h's Discovery (for
  // `check`): kServed, kNotServed on 404/501, kFailed on any other answer.
  virtual Discovery Discover() = 0;
  // Total requests sent so far, and write requests among them (POST/PATCH/PUT/DELETE).
  virtual long RequestCount() const = 0;
  virtual long WriteCount() const = 0;
};

}  // namespace scimsync
