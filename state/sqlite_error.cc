#include "state/sqlite_error.h"

#include <sqlite3.h>

namespace scimsync {

ErrorCode ErrorCodeFromSqlite(int rc) {
  if (rc < 0) return ErrorCode::kInternal;
  switch (rc & 0xff) {
    case SQLITE_OK:
      return ErrorCode::kOk;
    case SQLITE_PERM:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_AUTH:
      return ErrorCode::kIo;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_SCHEMA:
    case SQLITE_FORMAT:
      return ErrorCode::kSchema;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace scimsync
