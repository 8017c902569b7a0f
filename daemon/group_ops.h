// GroupOps: the group and membership operations of a plan, each one object from
// request to state row. Requests go through the RequestRunner; what an answer means
// is the Action of the policy table (daemon/response_policy.h); rows go to the
// StateOverlay.
//
//   Create        POST without members, the row marked uncertain first. done:
//                 synced. unconfirmed (2xx without an id): failed, left uncertain for
//                 the next cycle's lookup. adopt (409): find by externalId then
//                 displayName; one match: adopt it with the members it holds (those
//                 we know); else conflict with backoff. Without unique_group_names
//                 (ExecutorOptions) every group lookup here is by externalId only.
//                 A create whose answer was lost is looked up by externalId before
//                 it is sent again (RequestRunner::SendCreate), never repeated blindly.
//   Update        PATCH displayName.
//   AddMembers,   PATCH add / remove, `members_per_request` members a request;
//   RemoveMembers shrink-chunk (413) halves the chunk for the rest of the group.
//                 Members whose user is not (certainly) on the target wait for the
//                 next cycle (add) or need no request (remove).
//   Delete        DELETE; gone (404) is done. With op.replaced_id (a group that
//                 changed type, core/planner.h): DELETE that old id; the row (now the
//                 new group's) is left alone.
//   Resolve       an uncertain group: GET by id, else look up by externalId,
//                 displayName; none found: the row is forgotten (the next plan
//                 creates it).
// PATCH and DELETE: re-read-and-retry (412/428) GETs the group's ETag and retries
// once with If-Match; re-resolve (404 on a PATCH) forgets the group so the next plan
// creates it again with its members. reject -> failed with backoff; transient or
// throttle after the runner's retries -> deferred to the next cycle.
//
// Thread-safe: operations on different groups run concurrently.
#pragma once

#include <string>
#include <vector>

#include "connectors/target.h"
#include "core/clock.h"
#include "core/plan.h"
#include "daemon/executor_counters.h"
#include "daemon/executor_options.h"
#include "daemon/lookup.h"
#include "daemon/request_runner.h"
#include "daemon/state_overlay.h"

namespace scimsync {

class GroupOps {
 public:
  GroupOps(Target& target, RequestRunner& runner, StateOverlay& overlay,
           const ExecutorOptions& options, Clock& clock, ExecutorCounters& counters);

  // `stale_id`: the row's target id was deleted on the target; cleared (and the
  // member list) first.
  void Create(const Operation& op, bool stale_id = false);
  void Update(const Operation& op);
  // Three-sided planning (core/planner.h, "What the executor does"):
  void AdoptPlanned(const Operation& op);  // PATCH externalId / displayName, record
  void Bind(const Operation& op);          // record what the target holds
  void PlannedConflict(const Operation& op);
  void AddMembers(const Operation& op) { PatchMembers(op, /*add=*/true); }
  void RemoveMembers(const Operation& op) { PatchMembers(op, /*add=*/false); }
  void Delete(const Operation& op);
  void Resolve(const Operation& op);

 private:
  Lookup<RemoteGroup> LookUp(const std::string& key, const std::string& display_name);
  void PatchMembers(const Operation& op, bool add);
  // `remote` is the group on the target: take its id and the members we know.
  void Adopt(KnownGroup row, const RemoteGroup& remote, const std::string& fallback_name,
             const char* event);
  void Lost(const KnownGroup& row);
  void Fail(KnownGroup row, const TargetResponse& r, bool permanent);

  Target& target_;
  RequestRunner& runner_;
  StateOverlay& overlay_;
  const ExecutorOptions& options_;
  Clock& clock_;
  ExecutorCounters& counters_;
};

}  // namespace scimsync
