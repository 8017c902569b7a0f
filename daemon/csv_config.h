// Translates the [source] part of a Config into the CSV connector's own options
// (connectors never include config/). Used by MakeSource (daemon/session.h).
#pragma once

#include "config/config.h"
#include "connectors/csv/csv_source.h"

namespace scimsync {

// Paths are taken as the loader resolved them; the mapping is the merged one
// (CSV defaults + [mapping]), whose key_field is the key column.
CsvSourceOptions ToCsvOptions(const Config& config);

}  // namespace scimsync
