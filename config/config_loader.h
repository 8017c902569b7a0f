// TOML configuration loader (toml++) and secret readers.
#pragma once

#include <string>

#include "config/config.h"
#include "core/result.h"

namespace scimsync {

// Parses and validates the file. Errors (kInvalidArgument) read
// "<file>:<line>: <key>: <message>", e.g.
//   "/etc/scimsync/scimsync.toml:7: target.max_connections: expected an integer".
// Relative paths inside the file are resolved against the file's directory.
Result<Config> LoadConfig(const std::string& path);
// The same from a string (tests); `name` stands in for the file name in errors.
Result<Config> ParseConfig(const std::string& text, const std::string& name);

// Parses "90s", "40m", "2h", "1h30m", "500ms"; a bare number is seconds.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// Reads a secret from a file that must not be readable or writable by group or
// others (fails with a message naming the file and its mode), trims a trailing
// newline. Never puts the secret into an error message.
// Every secret these two functions return is registered for redaction
// (RegisterSecret, core/redact.h) before it is returned, so no log line, state
// file or command output can show it, even when a server echoes it back.
Result<std::string> ReadSecretFile(const std::string& path);
// Reads a secret: from `file` if set, else from the environment variable `env`,
// else from "$CREDENTIALS_DIRECTORY/<credential>" (systemd LoadCredential=).
// `what` names the secret in errors ("target token").
Result<std::string> ReadSecret(const std::string& file, const std::string& env,
                               const std::string& credential, const std::string& what);

}  // namespace scimsync
