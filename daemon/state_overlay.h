// StateOverlay: the rows this run changed, over the KnownState the plan was made
// from, written through to the StateStore (whose write grouping, set by the
// executor, decides when they are committed: state_store.h).
//
// The known state is not copied: rows changed in this run go to a small overlay, so a
// cycle over a million users with a handful of changes costs a handful of rows. The
// target-id -> user-key index is built on first use (adopting or resolving a group).
//
// A state store error is handed to `on_error` (the executor stops the run: without
// the store we would lose track of what the target holds); the overlay is updated
// all the same, so the rest of the run stays consistent with what was sent.
//
// Thread-safe: every method may be called from several workers at once.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/known_state.h"
#include "core/result.h"
#include "state/state_store.h"

namespace scimsync {

class StateOverlay {
 public:
  // `store` and `known` must outlive the overlay.
  StateOverlay(StateStore& store, const KnownState& known,
               std::function<void(const Status&)> on_error);

  // The row of `key`, or a row with only the key when it is not known.
  KnownUser User(const std::string& key) const;
  bool HasUser(const std::string& key) const;
  // The row of `key`, or nullopt when it is not known (User and HasUser at once).
  std::optional<KnownUser> FindUser(const std::string& key) const;
  KnownGroup Group(const std::string& key) const;
  // The target id of a user that is on the target and not uncertain, else "".
  std::string LiveUserId(const std::string& key) const;
  // The user keys of `ids` (target ids), sorted; ids of users we do not know are
  // not ours and are left out.
  std::vector<std::string> UserKeys(const std::vector<std::string>& ids);

  void PutUser(const KnownUser& row);
  // The uncertain markers of the next creates, committed together before it returns
  // (the executor's mark window): `known` are rows the state had, `fresh` rows of
  // users it did not know (only their keys reach the file: StateStore::MarkCreates).
  void MarkCreates(const std::vector<KnownUser>& known, const std::vector<KnownUser>& fresh);
  // Removes a row that did not exist before this run (a create that sent nothing).
  void DropUser(const std::string& key);
  void PutGroup(const KnownGroup& row);
  void ForgetGroup(const std::string& key);
  // PutGroup, and the row of `old_key` forgotten, in one store transaction.
  void RekeyGroup(const std::string& old_key, const KnownGroup& row);
  // The key of the group row (other than `except`) that holds target id `id`, or "".
  std::string GroupKeyHolding(const std::string& id, const std::string& except) const;

  // Memberships the target confirmed: added to / removed from the group's row.
  void AddMembers(const std::string& group_key, const std::vector<std::string>& user_keys);
  void RemoveMembers(const std::string& group_key, const std::vector<std::string>& user_keys);
  // A user deleted on the target leaves every group with it.
  void RemoveFromAllGroups(const std::string& user_key);

 private:
  const KnownUser* FindUserLocked(const std::string& key) const;
  std::optional<KnownGroup> FindGroupLocked(const std::string& key) const;
  void Check(const Status& s);
  void KeepUserLocked(const KnownUser& row);

  StateStore& store_;
  const KnownState& known_;
  std::function<void(const Status&)> on_error_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, KnownUser> users_;                   // changed rows
  std::unordered_map<std::string, std::optional<KnownGroup>> groups_;  // nullopt: forgotten
  bool id_index_built_ = false;
  std::unordered_map<std::string, std::string> user_key_by_id_;
};

}  // namespace scimsync
