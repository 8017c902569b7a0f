// A Source that reads people (and optionally groups) from CSV files, as exported by
// an HR system (DESIGN §8).
//
// Users file: UTF-8 (a BOM is allowed), RFC 4180 quoting (see csv_reader.h), CRLF or
// LF, a header row naming the columns. Each row is one user, built by ApplyMapping
// (core/mapping.h) from the columns named in `mapping`. The key column is required
// in the header and in every row. A mapped column that is not in the header is an
// error, except the default CSV columns of kAttrs (a file without a `phone` column
// simply has no phone numbers).
//
// Groups come from the `groups_column` of the users file (group names separated by
// `group_separator`, trimmed, empty names ignored) and/or from a groups file with the
// columns `group,member`, where member is a user key; a row with an empty member
// declares a group without adding anyone. CSV has no immutable group id, so a
// group's key is its display name: renaming a group in the CSV deletes the old
// group on the target and creates a new one.
//
// The whole files are read or the read fails; there is never a partial directory.
// A users file with a header and no rows gives an empty directory (the sync cycle
// decides what to do with that, see safety.allow_empty_source).
//
// Errors name the file and the line: kIo when a file cannot be read, kParse for
// broken CSV (unterminated quote, wrong field count, invalid UTF-8), and
// kInvalidArgument for bad content (missing column, empty key, duplicate key,
// two userNames equal ignoring case, unknown group member, bad boolean).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "connectors/source.h"
#include "core/mapping.h"

namespace scimsync {

struct CsvSourceOptions {
  std::string users;                  // path of the users file (required)
  std::string groups;                 // path of the groups file; empty: none
  char delimiter = ',';               // for both files
  std::string groups_column = "groups";  // empty: no groups column
  std::string group_separator = ";";
  Mapping mapping = Mapping::CsvDefaults();  // key_field = the key column
};

// Parses file contents that were already read; `users_name` and `groups_name`
// appear in error messages. `groups` is the groups file's content, if any.
Result<Directory> ParseCsvDirectory(std::string_view users, const std::string& users_name,
                                    std::optional<std::string_view> groups,
                                    const std::string& groups_name,
                                    const CsvSourceOptions& options);

class CsvSource : public Source {
 public:
  explicit CsvSource(CsvSourceOptions options) : options_(std::move(options)) {}

  Result<Directory> Read() override;
  // Reads everything: "users file <path>: 212 rows, 9 groups".
  Result<std::string> Probe() override;
  // "csv:<users path>".
  std::string Describe() const override;

 private:
  CsvSourceOptions options_;
};

}  // namespace scimsync
