#include "daemon/group_ops.h"

#include <algorithm>

#include "core/log.h"

namespace scimsync {

GroupOps::GroupOps(Target& target, RequestRunner& runner, StateOverlay& overlay,
                   const ExecutorOptions& options, Clock& clock, ExecutorCounters& counters)
    : target_(target),
      runner_(runner),
      overlay_(overlay),
      options_(options),
      clock_(clock),
      counters_(counters) {}

void GroupOps::Fail(KnownGroup row, const TargetResponse& r, bool permanent) {
  row.last_error = r.Summary();
  row.attempts += 1;
  if (permanent) {
    row.status = ObjectStatus::kFailed;
    row.next_retry = FailedRetryAt(options_, clock_.Now(), row.attempts);
  }
  counters_.Add(Counter::kFailed);
  LogWarn(permanent ? "group_failed" : "group_deferred",
          {{"key", row.key}, {"group", row.display_name}, {"error", row.last_error}});
  overlay_.PutGroup(row);
}

void GroupOps::Lost(const KnownGroup& row) {
  LogWarn("group_missing_on_target", {{"key", row.key}, {"id", row.target_id}});
  overlay_.ForgetGroup(row.key);  // the next plan creates it again with its members
}

void GroupOps::Adopt(KnownGroup row, const RemoteGroup& remote, const std::string& fallback_name,
                     const char* event) {
  row.target_id = remote.id;
  row.display_name = remote.display_name.empty() ? fallback_name : remote.display_name;
  // What the target holds is the truth; ids we cannot map are not ours.
  row.members = overlay_.UserKeys(remote.member_ids);
  row.status = ObjectStatus::kSynced;
  row.uncertain = false;
  row.last_error.clear();
  row.attempts = 0;
  overlay_.PutGroup(row);
  t_op_succeeded = true;
  LogInfo(event, {{"key", row.key}, {"group", row.display_name}, {"id", row.target_id}});
}

// Matching a group that may already exist (DESIGN §3): by externalId first, then by
// displayName. Stops at the first attribute that matches anything. Where group names
// are not unique (Keeper teams), a displayName is no identity: externalId only.
Lookup<RemoteGroup> GroupOps::LookUp(const std::string& key, const std::string& display_name) {
  return LookUpByKeyThenName<RemoteGroup>(
      runner_, "group", "displayName", key, options_.unique_group_names ? display_name : "",
      [&](std::string_view attr, const std::string& v) {
        GroupQuery q = target_.FindGroups(attr, v);
        return std::make_pair(q.response, std::move(q.groups));
      });
}

void GroupOps::Create(const Operation& op, bool stale_id) {
  KnownGroup row = overlay_.Group(op.key);
  const KnownGroup before = row;
  if (runner_.Stopping()) return;
  if (row.display_name.empty()) row.display_name = op.group.display_name;
  row.uncertain = true;
  if (row.status == ObjectStatus::kDeleted) row.target_id.clear();
  if (stale_id) {
    row.target_id.clear();
    row.members.clear();
  }
  overlay_.PutGroup(row);

  // As for users: a create whose answer was lost is sent again only after a lookup
  // by externalId shows that it did not land.
  auto find = [&] { return CreateFoundBy(LookUp(op.key, "")); };
  Answer a = runner_.SendCreate(Verb::kCreateGroup, "create group " + op.label,
                                [&] { return target_.CreateGroup(op.group); }, find);
  const TargetResponse& r = a.response;
  switch (a.action) {
    case Action::kDone: {
      counters_.Add(Counter::kGroupsCreated);
      RemoteGroup g = *r.group;
      g.member_ids.clear();  // created without members
      g.display_name = op.group.display_name;
      Adopt(row, g, op.group.display_name, "group_created");
      return;
    }
    case Action::kUnconfirmed:
      // Created, but we cannot tell its id: a failure of this group, left
      // uncertain so the next cycle finds it by filter.
      row.last_error = "the target answered " + r.Summary() +
                       " to the create but no group id could be read from the response; "
                       "the group will be looked up next cycle";
      row.attempts += 1;
      counters_.Add(Counter::kFailed);
      LogWarn("group_failed",
              {{"key", row.key}, {"group", row.display_name}, {"error", row.last_error}});
      overlay_.PutGroup(row);
      return;
    case Action::kAdopt: {
      // The row stays uncertain (as marked) until the lookup says which group it is:
      // one cut short by a stop, or failed, leaves it to the next cycle (DESIGN §4).
      Lookup<RemoteGroup> q = LookUp(op.key, op.group.display_name);
      if (q.answer.action != Action::kDone) {
        if (q.answer.action == Action::kStopAuth || q.answer.action == Action::kCancelled) {
          overlay_.PutGroup(row);
          return;
        }
        Fail(row, q.answer.response, q.answer.action == Action::kReject);
        return;
      }
      // The identity rule of the planner (core/target_match.h): never merge two
      // source groups into one target group.
      std::string why = options_.unique_group_names
                            ? "lookup by externalId and displayName found no single group"
                            : "lookup by externalId found no single group (group names are not "
                              "unique on this target)";
      if (q.found.size() == 1) {
        const RemoteGroup& g = q.found[0];
        const std::string holder = overlay_.GroupKeyHolding(g.id, op.key);
        if (!g.external_id.empty() && g.external_id != op.key) {
          why = "target group " + g.id + " has externalId \"" + g.external_id + "\"; not adopted";
        } else if (!holder.empty()) {
          why = "target group " + g.id + " is held by group " + holder + "; not adopted";
        } else {
          counters_.Add(Counter::kGroupsAdopted);
          Adopt(row, g, op.group.display_name, "group_adopted");
          return;
        }
      }
      row.uncertain = false;
      row.status = ObjectStatus::kConflict;
      row.last_error = r.Summary() + "; " + why;
      row.next_retry = FailedRetryAt(options_, clock_.Now(), ++row.attempts);
      counters_.Add(Counter::kConflicts);
      LogWarn("group_conflict", {{"key", row.key}, {"error", row.last_error}});
      overlay_.PutGroup(row);
      return;
    }
    case Action::kSeatBlock:
      // Tried again next cycle, like a seat-blocked user.
      row.status = ObjectStatus::kSeatBlocked;
      row.uncertain = false;
      row.last_error = r.Summary();
      counters_.Add(Counter::kSeatBlocked);
      overlay_.PutGroup(row);
      return;
    case Action::kTransient:
    case Action::kThrottle:
      row.uncertain = a.maybe_applied;
      Fail(row, r, /*permanent=*/false);
      return;
    case Action::kUnreachable:
    case Action::kStopAuth:
    case Action::kCancelled:
      if (!a.maybe_applied) {
        overlay_.PutGroup(before);  // nothing reached the target
        return;
      }
      Fail(row, r, /*permanent=*/false);  // stays uncertain
      return;
    case Action::kReject:
    case Action::kGone:
    case Action::kReResolve:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      row.uncertain = a.maybe_applied;
      Fail(row, r, /*permanent=*/true);
      return;
  }
}

void GroupOps::Update(const Operation& op) {
  KnownGroup row = overlay_.Group(op.key);
  if (row.target_id.empty()) return Create(op);
  // Planned from a snapshot, an update may only repair the externalId.
  const bool rename = op.external_id.empty() || !op.changes.empty();
  Answer a = runner_.SendWithIfMatch(
      Verb::kRenameGroup, "rename group " + op.label,
      [&](const std::string& etag, const TargetResponse*) {
        if (!op.external_id.empty()) {
          return target_.PatchGroupExternalId(row.target_id, op.external_id,
                                              rename ? op.group.display_name : "", etag);
        }
        return target_.RenameGroup(row.target_id, op.group.display_name, etag);
      },
      [&] { return target_.GetGroup(row.target_id); });
  switch (a.action) {
    case Action::kDone:
      row.display_name = op.group.display_name;
      if (op.target_members) row.members = *op.target_members;
      row.status = ObjectStatus::kSynced;
      row.last_error.clear();
      row.attempts = 0;
      overlay_.PutGroup(row);
      t_op_succeeded = true;
      counters_.Add(Counter::kGroupsUpdated);
      LogInfo("group_renamed", {{"key", row.key}, {"group", row.display_name}});
      return;
    case Action::kReResolve:
    case Action::kGone:
      return Lost(row);
    case Action::kTransient:
    case Action::kThrottle:
    case Action::kUnreachable:
      return Fail(row, a.response, /*permanent=*/false);
    case Action::kStopAuth:
    case Action::kCancelled:
      return;
    case Action::kReject:
    case Action::kUnconfirmed:
    case Action::kAdopt:
    case Action::kSeatBlock:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      return Fail(row, a.response, /*permanent=*/true);
  }
}

void GroupOps::PatchMembers(const Operation& op, bool add) {
  const KnownGroup row = overlay_.Group(op.key);
  if (row.target_id.empty() || row.uncertain) return;  // create failed: next cycle
  std::vector<std::string> keys, ids, absent;
  for (const auto& k : op.members) {
    // Add: only users certainly on the target (others: next cycle). Remove: a user
    // not on the target is in no group there.
    std::string id = add ? overlay_.LiveUserId(k) : overlay_.User(k).target_id;
    if (id.empty()) {
      if (!add) absent.push_back(k);
      continue;
    }
    keys.push_back(k);
    ids.push_back(id);
  }
  if (!absent.empty()) overlay_.RemoveMembers(row.key, absent);
  if (!add) {
    // Members no source key is bound to: removed by id; they have no row.
    for (const auto& id : op.member_ids) {
      keys.emplace_back();
      ids.push_back(id);
    }
  }
  const Verb verb = add ? Verb::kAddMembers : Verb::kRemoveMembers;
  const std::string what = std::string(add ? "add members to " : "remove members from ") + op.label;
  std::size_t chunk = static_cast<std::size_t>(std::max(1, options_.members_per_request));
  std::size_t i = 0;
  while (i < ids.size() && !runner_.Stopping()) {
    const std::size_t n = std::min(chunk, ids.size() - i);
    const auto from = static_cast<std::ptrdiff_t>(i), to = static_cast<std::ptrdiff_t>(i + n);
    const std::vector<std::string> part_ids(ids.begin() + from, ids.begin() + to);
    const std::vector<std::string> part_keys(keys.begin() + from, keys.begin() + to);
    Answer a = runner_.SendWithIfMatch(
        verb, what,
        [&](const std::string& etag, const TargetResponse*) {
          return add ? target_.PatchGroupMembers(row.target_id, part_ids, {}, etag)
                     : target_.PatchGroupMembers(row.target_id, {}, part_ids, etag);
        },
        [&] { return target_.GetGroup(row.target_id); });
    switch (a.action) {
      case Action::kDone:
        if (add) {
          overlay_.AddMembers(row.key, part_keys);
          counters_.Add(Counter::kMembersAdded, static_cast<std::int64_t>(n));
        } else {
          std::vector<std::string> known;
          for (const auto& k : part_keys) {
            if (!k.empty()) known.push_back(k);
          }
          overlay_.RemoveMembers(row.key, known);
          counters_.Add(Counter::kMembersRemoved, static_cast<std::int64_t>(n));
        }
        i += n;
        continue;
      case Action::kShrinkChunk:
        if (chunk > 1) {
          chunk = std::max<std::size_t>(1, chunk / 2);
          LogWarn("request_too_large", {{"group", row.display_name},
                                        {"members_per_request", chunk}});
          continue;
        }
        return Fail(overlay_.Group(op.key), a.response, /*permanent=*/true);
      case Action::kReResolve:
      case Action::kGone:
        return Lost(row);
      case Action::kTransient:
      case Action::kThrottle:
      case Action::kUnreachable:
        return Fail(overlay_.Group(op.key), a.response, /*permanent=*/false);
      case Action::kStopAuth:
      case Action::kCancelled:
        return;
      case Action::kReject:
      case Action::kUnconfirmed:
      case Action::kAdopt:
      case Action::kSeatBlock:
      case Action::kRetryWithIfMatch:
        return Fail(overlay_.Group(op.key), a.response, /*permanent=*/true);
    }
  }
  if (i == ids.size()) t_op_succeeded = true;
  if (i > 0) {
    LogInfo(add ? "members_added" : "members_removed",
            {{"group", row.display_name}, {"count", i}});
  }
}

void GroupOps::Delete(const Operation& op) {
  KnownGroup row = overlay_.Group(op.key);
  // A group that changed type: its old target group goes; the row is the new one's.
  const bool replaced = !op.replaced_id.empty();
  const std::string id = replaced ? op.replaced_id : row.target_id;
  if (id.empty()) return overlay_.ForgetGroup(row.key);
  Answer a = runner_.SendWithIfMatch(
      Verb::kDeleteGroup, "delete group " + op.label,
      [&](const std::string& etag, const TargetResponse*) {
        return target_.DeleteGroup(id, etag);
      },
      [&] { return target_.GetGroup(id); });
  if (replaced && a.action != Action::kDone && a.action != Action::kGone) {
    // The row is no longer this group's: report, and leave the row alone. The old
    // group stays on the target, unmanaged (listed as such by the next reconcile).
    if (a.action == Action::kStopAuth || a.action == Action::kCancelled) return;
    counters_.Add(Counter::kFailed);
    LogWarn("group_failed", {{"key", row.key},
                             {"group", op.label},
                             {"id", id},
                             {"error", "the old group of a type change was not deleted: " +
                                           a.response.Summary()}});
    return;
  }
  switch (a.action) {
    case Action::kDone:
    case Action::kGone:
      if (replaced) {
        t_op_succeeded = true;
        counters_.Add(Counter::kGroupsDeleted);
        LogInfo("group_deleted", {{"key", row.key}, {"group", op.label}, {"id", id},
                                  {"reason", op.detail}});
        return;
      }
      overlay_.ForgetGroup(row.key);
      t_op_succeeded = true;
      counters_.Add(Counter::kGroupsDeleted);
      LogInfo("group_deleted", {{"key", row.key}, {"group", row.display_name}});
      return;
    case Action::kTransient:
    case Action::kThrottle:
    case Action::kUnreachable:
      return Fail(row, a.response, /*permanent=*/false);
    case Action::kStopAuth:
    case Action::kCancelled:
      return;
    case Action::kReject:
    case Action::kUnconfirmed:
    case Action::kAdopt:
    case Action::kSeatBlock:
    case Action::kReResolve:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      return Fail(row, a.response, /*permanent=*/true);
  }
}

void GroupOps::AdoptPlanned(const Operation& op) {
  KnownGroup row = overlay_.Group(op.key);
  const std::string name = op.changes.empty() ? "" : op.group.display_name;
  Answer a = runner_.SendWithIfMatch(
      Verb::kRenameGroup, "adopt group " + op.label,
      [&](const std::string& etag, const TargetResponse*) {
        if (name.empty() && op.external_id.empty()) {
          TargetResponse nothing;  // nothing to send
          nothing.status = 204;
          return nothing;
        }
        return target_.PatchGroupExternalId(op.target_id, op.external_id, name, etag);
      },
      [&] { return target_.GetGroup(op.target_id); });
  switch (a.action) {
    case Action::kDone:
      row.key = op.key;
      row.target_id = op.target_id;
      row.display_name = op.group.display_name;
      if (op.target_members) row.members = *op.target_members;
      row.status = ObjectStatus::kSynced;
      row.uncertain = false;
      row.last_error.clear();
      row.attempts = 0;
      row.next_retry = SysTime{};
      row.failed_hash = 0;
      overlay_.RekeyGroup(op.previous_key, row);
      t_op_succeeded = true;
      if (!op.previous_key.empty() && op.previous_key != op.key) {
        // Our own group under a new key (a case-only rename): an update, not an adoption.
        counters_.Add(Counter::kGroupsUpdated);
        LogInfo("group_rekeyed", {{"old_key", op.previous_key}, {"key", op.key}});
        return;
      }
      counters_.Add(Counter::kGroupsAdopted);
      LogInfo("group_adopted", {{"key", row.key}, {"group", row.display_name},
                                {"id", row.target_id}, {"reason", op.detail}});
      return;
    case Action::kReResolve:
    case Action::kGone:
      // Vanished since the read: pending without a target id; the next cycle creates it.
      LogWarn("group_missing_on_target", {{"key", row.key}, {"id", op.target_id}});
      row.key = op.key;
      if (row.display_name.empty()) row.display_name = op.group.display_name;
      row.target_id.clear();
      row.members.clear();
      row.uncertain = false;
      row.status = ObjectStatus::kPending;
      overlay_.PutGroup(row);
      return;
    case Action::kTransient:
    case Action::kThrottle:
    case Action::kUnreachable:
      // The row of previous_key stays as it was: the next plan pairs them again.
      if (!op.previous_key.empty()) return;
      return Fail(row, a.response, /*permanent=*/false);
    case Action::kStopAuth:
    case Action::kCancelled:
      return;
    case Action::kReject:
    case Action::kUnconfirmed:
    case Action::kAdopt:
    case Action::kSeatBlock:
    case Action::kRetryWithIfMatch:
    case Action::kShrinkChunk:
      row.key = op.key;
      if (row.display_name.empty()) row.display_name = op.group.display_name;
      return Fail(row, a.response, /*permanent=*/true);
  }
}

void GroupOps::Bind(const Operation& op) {
  KnownGroup row = overlay_.Group(op.key);
  if (op.target_id.empty()) {
    overlay_.ForgetGroup(row.key);  // as delete-group of a row without a target id
    t_op_succeeded = true;
    return;
  }
  row.target_id = op.target_id;
  row.display_name = op.group.display_name.empty() ? row.display_name : op.group.display_name;
  if (op.target_members) row.members = *op.target_members;
  row.status = ObjectStatus::kSynced;
  row.uncertain = false;
  row.last_error.clear();
  row.attempts = 0;
  row.next_retry = SysTime{};
  row.failed_hash = 0;
  overlay_.PutGroup(row);
  t_op_succeeded = true;
  LogInfo("group_bound", {{"key", row.key}, {"id", row.target_id}, {"detail", op.detail}});
}

void GroupOps::PlannedConflict(const Operation& op) {
  KnownGroup row = overlay_.Group(op.key);
  if (row.display_name.empty()) row.display_name = op.group.display_name;
  row.target_id.clear();
  row.status = ObjectStatus::kConflict;
  row.uncertain = false;
  row.last_error = op.detail;
  row.attempts += 1;
  row.next_retry = FailedRetryAt(options_, clock_.Now(), row.attempts);
  row.failed_hash = SourceHash(op.group);
  counters_.Add(Counter::kConflicts);
  LogWarn("group_conflict", {{"key", row.key}, {"error", op.detail}});
  overlay_.PutGroup(row);
}

void GroupOps::Resolve(const Operation& op) {
  KnownGroup row = overlay_.Group(op.key);
  std::optional<RemoteGroup> remote;
  auto unresolved = [&](const Answer& a) {
    // Stays uncertain; the next cycle tries again.
    if (a.action == Action::kStopAuth || a.action == Action::kCancelled) return;
    row.last_error = a.response.Summary();
    overlay_.PutGroup(row);
  };
  if (!row.target_id.empty()) {
    Answer a = runner_.Send(Verb::kGet, "read group " + op.label,
                            [&] { return target_.GetGroup(row.target_id); });
    if (a.action == Action::kDone) {
      remote = a.response.group;
    } else if (a.action != Action::kGone) {
      return unresolved(a);
    }
  }
  if (!remote) {
    Lookup<RemoteGroup> q = LookUp(row.key, row.display_name);
    if (q.answer.action != Action::kDone) return unresolved(q.answer);
    if (q.found.size() == 1) remote = q.found[0];
  }
  if (!remote) {
    overlay_.ForgetGroup(row.key);  // never created: the next plan creates it
    LogInfo("group_resolved", {{"key", row.key}, {"found", "0"}});
    return;
  }
  const bool same = row.target_id == remote->id;
  row.target_id = remote->id;
  row.uncertain = false;
  row.status = ObjectStatus::kSynced;
  // Reads exclude members: keep what we know of the same group.
  if (!same || !remote->member_ids.empty()) row.members = overlay_.UserKeys(remote->member_ids);
  if (!remote->display_name.empty()) row.display_name = remote->display_name;
  overlay_.PutGroup(row);
  LogInfo("group_resolved", {{"key", row.key}, {"id", row.target_id}});
}

}  // namespace scimsync
