#include "daemon/create_pump.h"

#include <utility>

#include "daemon/response_policy.h"

namespace scimsync {

CreatePump::CreatePump(const std::vector<const Operation*>& ops, std::size_t begin,
                       RequestRunner& runner, const UserOps& users, Hooks hooks)
    : ops_(ops), runner_(runner), users_(users), hooks_(std::move(hooks)), next_(begin) {}

const User* CreatePump::Next(std::uint64_t* tag) {
  if (halted_ || next_ >= ops_.size() || runner_.Stopping() || users_.seats_exhausted()) {
    return nullptr;
  }
  const std::size_t i = next_;
  hooks_.mark_through(i);
  // A failed marker commit stops the run; no seat left marks nothing: never sent.
  if (runner_.Stopping() || users_.seats_exhausted()) return nullptr;
  ++next_;
  *tag = i;
  return &ops_[i]->user;
}

void CreatePump::Done(std::uint64_t tag, TargetResponse response) {
  const Operation& op = *ops_[static_cast<std::size_t>(tag)];
  if (Classify(Verb::kCreateUser, response).action == Action::kDone) {
    hooks_.execute(op, &response);  // no further request: the row, the counters, the log
    return;
  }
  halted_ = true;
  deferred_.push_back({&op, std::move(response)});
}

}  // namespace scimsync
