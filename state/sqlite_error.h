// Translation of SQLite result codes into scimsync error codes: the one place
// where the SQLite error space meets ours (STYLE habit 3), with a table test.
//
//   kIo      the file or the file system: cannot open, permission, read-only, disk
//            full, I/O error, busy/locked past the busy timeout
//   kSchema  the file is not (or no longer) a state database this binary can use:
//            not a database, corrupt, schema changed under us
//   kInternal everything else (SQL errors, constraint violations, misuse): a bug
#pragma once

#include "core/result.h"

namespace scimsync {

// `rc` is a primary or extended SQLite result code (extended codes are reduced to
// their primary code). -1, which SQLiteCpp uses for its own errors, is kInternal.
ErrorCode ErrorCodeFromSqlite(int rc);

}  // namespace scimsync
