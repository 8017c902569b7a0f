// What we believe the target holds, as loaded from the state store. Plain values,
// no I/O: the StateStore fills these, the Planner reads them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/model.h"

namespace scimsync {

enum class ObjectStatus : std::uint8_t {
  kSynced = 0,    // target matches `values`
  kPending,       // planned, not yet confirmed
  kConflict,      // 409 with 0 or >1 matches, or ambiguous lookup
  kSeatBlocked,   // 428 on create: waits for a free licence seat
  kFailed,        // 400 or retries exhausted
  kDisabled,      // deprovisioned with active=false; row kept for re-activation
  kDeleted,       // deprovisioned with DELETE
};
std::string_view ObjectStatusName(ObjectStatus s);
std::optional<ObjectStatus> ObjectStatusByName(std::string_view name);

// A million of these are loaded at once: fields ordered so that none pads (128 bytes
// with libstdc++).
struct KnownUser {
  std::string key;
  std::string target_id;   // empty: not (known to be) on the target
  AttrValues values;       // last representation the target confirmed
  ObjectStatus status = ObjectStatus::kPending;
  bool uncertain = false;  // an outcome was unknown: re-read before the next write
  int attempts = 0;
  std::string last_error;
  SysTime next_retry{};    // epoch = no wait
  std::uint64_t failed_hash = 0;  // SourceHash() of the desired user when it failed
};

struct KnownGroup {
  std::string key;
  std::string target_id;
  std::string display_name;
  std::vector<std::string> members;  // user keys the target holds, sorted
  ObjectStatus status = ObjectStatus::kPending;
  bool uncertain = false;
  std::string last_error;
  int attempts = 0;
  SysTime next_retry{};
  std::uint64_t failed_hash = 0;
};

struct KnownState {
  std::vector<KnownUser> users;    // sorted by key
  std::vector<KnownGroup> groups;  // sorted by key
};

// Stable 64-bit FNV-1a hash of a user's key and values / a group's key and name,
// used to tell whether a failed object's source changed since it failed.
std::uint64_t SourceHash(const User& u);
std::uint64_t SourceHash(const Group& g);

}  // namespace scimsync
