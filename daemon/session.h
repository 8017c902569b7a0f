// Everything one run needs, built from a Config: the state lock, the state store,
// the source and the target. `sync`, `plan`, `check` and each daemon cycle open a
// session; the daemon opens one per cycle so a manual `sync` can take the lock
// between cycles.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "connectors/source.h"
#include "connectors/target.h"
#include "core/result.h"
#include "state/state_store.h"

namespace scimsync {

// Builds the source named by config.source (CSV or LDAP), reading its secrets.
Result<std::unique_ptr<Source>> MakeSource(const Config& config);
// Builds the SCIM target (curl client + ScimTarget), reading the token.
Result<std::unique_ptr<Target>> MakeTarget(const Config& config);

struct Session {
  std::unique_ptr<LockFile> lock;      // null for read-only sessions
  std::unique_ptr<StateStore> state;
  std::unique_ptr<Source> source;
  std::unique_ptr<Target> target;  // null only for read_only without a usable token
  std::string target_error;         // why `target` is null
};

struct SessionOptions {
  std::string who = "scimsync sync";  // written into the lock file
  bool wait_for_lock = true;          // false: fail at once with kLocked
  bool read_only = false;             // `plan`: no lock, state opened read-only if it exists;
                                      // a token that cannot be read leaves `target` null
};

// Errors: kLocked (exit 4), kSchema (state bound to another target / too new),
// kInvalidArgument (secrets), kIo.
Result<Session> OpenSession(const Config& config, const SessionOptions& options);

// Maps an error to the exit code of DESIGN §9 (2 config/usage, 3 stopped, 4 locked).
int ExitCodeFor(const Status& status);

}  // namespace scimsync
