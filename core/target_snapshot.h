// What the target holds, as read whole by a reconciling cycle (DESIGN §1, §3): the
// third input of planning besides the source (desired) and the state (known).
// A snapshot is complete or absent: a read that failed or was cut short yields no
// snapshot at all, never a partial one (the same whole-or-nothing rule as sources).
#pragma once

#include <string>
#include <vector>

#include "core/model.h"

namespace scimsync {

// A user as the target holds it.
struct RemoteUser {
  std::string id;
  std::string external_id;  // empty when the target has none
  AttrValues values;
};

// A group as the target holds it (member_ids: target ids of its members, when read).
struct RemoteGroup {
  std::string id;
  std::string external_id;
  std::string display_name;
  std::vector<std::string> member_ids;
};

struct TargetSnapshot {
  std::vector<RemoteUser> users;
  std::vector<RemoteGroup> groups;  // with members
};

}  // namespace scimsync
