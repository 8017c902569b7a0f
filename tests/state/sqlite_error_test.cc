#include "state/sqlite_error.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

using namespace scimsync;

TEST_CASE("SQLite result codes map to scimsync error codes") {
  struct Row {
    int rc;
    ErrorCode want;
  };
  const Row rows[] = {
      {SQLITE_OK, ErrorCode::kOk},
      {SQLITE_PERM, ErrorCode::kIo},
      {SQLITE_BUSY, ErrorCode::kIo},
      {SQLITE_BUSY_SNAPSHOT, ErrorCode::kIo},  // extended: reduced to its primary code
      {SQLITE_LOCKED, ErrorCode::kIo},
      {SQLITE_READONLY, ErrorCode::kIo},
      {SQLITE_IOERR, ErrorCode::kIo},
      {SQLITE_IOERR_FSYNC, ErrorCode::kIo},
      {SQLITE_FULL, ErrorCode::kIo},
      {SQLITE_CANTOPEN, ErrorCode::kIo},
      {SQLITE_PROTOCOL, ErrorCode::kIo},
      {SQLITE_NOLFS, ErrorCode::kIo},
      {SQLITE_AUTH, ErrorCode::kIo},
      {SQLITE_CORRUPT, ErrorCode::kSchema},
      {SQLITE_NOTADB, ErrorCode::kSchema},
      {SQLITE_SCHEMA, ErrorCode::kSchema},
      {SQLITE_FORMAT, ErrorCode::kSchema},
      {SQLITE_ERROR, ErrorCode::kInternal},
      {SQLITE_INTERNAL, ErrorCode::kInternal},
      {SQLITE_NOMEM, ErrorCode::kInternal},
      {SQLITE_CONSTRAINT, ErrorCode::kInternal},
      {SQLITE_CONSTRAINT_PRIMARYKEY, ErrorCode::kInternal},
      {SQLITE_MISMATCH, ErrorCode::kInternal},
      {SQLITE_MISUSE, ErrorCode::kInternal},
      {SQLITE_RANGE, ErrorCode::kInternal},
      {SQLITE_TOOBIG, ErrorCode::kInternal},
      {-1, ErrorCode::kInternal},  // SQLiteCpp's own errors
  };
  for (const Row& r : rows) {
    INFO("rc " << r.rc);
    CHECK(ErrorCodeFromSqlite(r.rc) == r.want);
  }
}
