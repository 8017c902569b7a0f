// CreatePump: the user creates of one executor batch sent through
// Target::CreateUsers: one thread keeps several creates in flight over several
// connections, as a load generator does, instead of one worker thread blocked per
// request (issue 13: against a fast target the threads' wake-ups cost more than
// the request). What an answer means is decided where it always is: each answer
// goes to UserOps::Create as the answer of that create's first attempt.
//
// Only the plain success is handled inside the pump. The first answer that is
// anything else (a conflict, a refusal, a seat block, a throttle, a 5xx, a timeout,
// a lost connection, a cancelled request) stops new starts; the answers still in
// flight are taken as they come, and every create whose answer was not a plain
// success is handed back (deferred()) with that answer. The executor runs those
// on its workers, where retries, back-off, lookups and adoption run exactly as for
// a create sent by a worker, then starts a new pump at next(). So a throttle or an
// outage meets the same policies (AIMD, breakers, Retry-After) either way.
//
// Crash safety is that of the workers (DESIGN §4): a create is marked uncertain
// (`mark_through`, the executor's mark window) before Next() hands it out.
//
// Width() is the runner's current worker count: a throttle lowers it, quiet raises
// it, as for the workers. Next() starts nothing once the run is stopping or the
// licence has no seats left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "connectors/target.h"
#include "core/plan.h"
#include "daemon/request_runner.h"
#include "daemon/user_ops.h"

namespace scimsync {

class CreatePump final : public UserCreates {
 public:
  struct Deferred {
    const Operation* op;
    TargetResponse first;  // the answer to its POST
  };
  // Hooks into the executor: mark ops[i] (and ahead) uncertain before it is sent;
  // run `op` with its first answer (UserOps::Create through the executor's Execute).
  struct Hooks {
    std::function<void(std::size_t)> mark_through;
    std::function<void(const Operation&, TargetResponse*)> execute;
  };

  // Sends ops[begin, end): every op must be an OpKind::kCreateUser.
  CreatePump(const std::vector<const Operation*>& ops, std::size_t begin, RequestRunner& runner,
             const UserOps& users, Hooks hooks);

  int Width() override { return runner_.workers(); }
  const User* Next(std::uint64_t* tag) override;
  void Done(std::uint64_t tag, TargetResponse response) override;

  // The first op not handed out.
  std::size_t next() const { return next_; }
  // The creates whose answer was not a plain success, in the order they came.
  std::vector<Deferred>& deferred() { return deferred_; }

 private:
  const std::vector<const Operation*>& ops_;
  RequestRunner& runner_;
  const UserOps& users_;
  Hooks hooks_;
  std::size_t next_;
  bool halted_ = false;  // an answer was not a plain success: start no more
  std::vector<Deferred> deferred_;
};

}  // namespace scimsync
