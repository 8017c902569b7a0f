// What the executor and its parts (daemon/executor.h) count: one per object, not per
// request. Written by several worker threads.
#pragma once

#include <atomic>

namespace scimsync {

struct ExecutorCounters {
  std::atomic<int> users_created{0}, users_updated{0}, users_disabled{0}, users_deleted{0};
  std::atomic<int> users_adopted{0};
  std::atomic<int> groups_created{0}, groups_updated{0}, groups_deleted{0};
  std::atomic<int> members_added{0}, members_removed{0};
  std::atomic<int> resolved{0};
  std::atomic<int> failed{0}, conflicts{0}, seat_blocked{0};
  std::atomic<int> drift{0};  // operations with op.drift that succeeded (repaired)
};

// Set by UserOps/GroupOps when the operation running on this worker thread reached
// its goal (an operation runs start to end on one thread); the executor resets it
// before each operation and reads it after, to log and count a repaired drift.
inline thread_local bool t_op_succeeded = false;

}  // namespace scimsync
