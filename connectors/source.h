// A Source reads the whole directory snapshot, or fails. It never returns a partial
// directory: a truncated read must not look like "these people left" (DESIGN §1, §7).
#pragma once

#include <string>

#include "core/model.h"
#include "core/result.h"

namespace scimsync {

class Source {
 public:
  virtual ~Source() = default;
  // Reads everything. Errors name the file and line (CSV) or the LDAP result code
  // and server message (LDAP). On success the directory is Canonicalize()d.
  virtual Result<Directory> Read() = 0;
  // Cheap reachability/credentials check for `check`: returns a one-line summary
  // of what was found ("users file: 212 rows" / "bind ok, 1 user, 1 group").
  virtual Result<std::string> Probe() = 0;
  // "csv:/path/people.csv", "ldap://host" — for logs. Never contains a secret.
  virtual std::string Describe() const = 0;
};

}  // namespace scimsync
