// Watching CSV files for the daemon (connectors/source_watch.h, DESIGN §8
// `[source] watch`). Both watch the users file and the groups file, if any.
//
// MakeInotifyWatcher: inotify on each file's DIRECTORY, not on the file, so both
// ways of replacing an export are seen: an in-place rewrite (IN_MODIFY ...
// IN_CLOSE_WRITE) and a new file renamed over the old one (IN_MOVED_TO). Events for
// other names in the directory are ignored. A file is never handed over while it is
// being written:
//   - IN_CREATE or IN_MODIFY on a watched name means "a writer is at work"; nothing
//     is reported until that writer closes the file (IN_CLOSE_WRITE) or another file
//     is renamed over it (IN_MOVED_TO). A writer that pauses mid-file, even at a line
//     boundary, therefore never triggers a cycle;
//   - after the close or rename, `quiet` must pass without any further event on the
//     name before Wait() reports the change (a burst of edits is one change).
//   - IN_DELETE / IN_MOVED_FROM of a watched name, and an event-queue overflow,
//     count as a change (after `quiet`); the cycle then reads or fails honestly.
// Start() errors: kIo when inotify is unavailable or out of watches (no retry helps:
// the runner falls back to MakeMtimePollWatcher), kNotFound when a directory does
// not exist. Wait() fails (kUnavailable) when a watched directory is removed or
// renamed, so the runner sets the watch up again.
//
// MakeMtimePollWatcher: the fallback. Every `interval` it stats the files (inode,
// size, mtime in ns; a missing file is a state too); a difference is reported once
// the stat has stayed the same for `quiet`. It cannot see an open writer, so a
// writer that pauses longer than `quiet` mid-file can be read half-way (the deletion
// guard is the net); the inotify watch does not have this weakness.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/source_watch.h"
#include "core/clock.h"

namespace scimsync {

std::unique_ptr<SourceWatcher> MakeInotifyWatcher(std::vector<std::string> files, Millis quiet);
std::unique_ptr<SourceWatcher> MakeMtimePollWatcher(std::vector<std::string> files,
                                                    Millis interval, Millis quiet);

}  // namespace scimsync
