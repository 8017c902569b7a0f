// The watch methods for a Config's [source], best first (DESIGN §8 `[source] watch`;
// the daemon's WatchRunner tries them in this order, daemon/watch_runner.h):
//   csv:            inotify on the files' directories, then a stat poll every
//                   watch_interval;
//   ldap openldap:  RFC 4533 syncrepl, then contextCSN, then modifyTimestamp, both
//                   polled every watch_interval;
//   ldap ad:        highestCommittedUSN, then modifyTimestamp, polled every
//                   watch_interval.
// Errors: those of ToLdapOptions (the bind password cannot be read).
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "connectors/source_watch.h"
#include "core/result.h"

namespace scimsync {

// How long a CSV file must stay untouched after its writer closed it.
constexpr Millis kCsvWatchQuiet{500};

Result<std::vector<std::unique_ptr<SourceWatcher>>> MakeSourceWatchers(const Config& config);

}  // namespace scimsync
