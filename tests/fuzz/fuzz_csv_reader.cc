// libFuzzer target: the RFC 4180 reader (connectors/csv/csv_reader.h) and the CSV
// source built on it (ParseCsvDirectory with the default mapping, the bytes as the
// users file and then as the groups file), on any bytes.
// The first byte picks the delimiter, so ';', '\t' and '|' files are covered too.
// Properties: the reader ends, every record has at least one field, record lines
// never go backwards, and an error is a kParse naming the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/csv/csv_reader.h"
#include "connectors/csv/csv_source.h"
#include "tests/fuzz/fuzz_check.h"

namespace {
constexpr char kDelimiters[] = {',', ';', '\t', '|'};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace scimsync;
  const char delimiter = kDelimiters[data[0] % sizeof kDelimiters];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  CsvReader reader(text, "users.csv", delimiter);
  int last_line = 0;
  std::size_t records = 0;
  for (;;) {
    Result<bool> r = reader.Next();
    if (!r.ok()) {
      FUZZ_CHECK(r.status().code() == ErrorCode::kParse);
      FUZZ_CHECK(r.status().message().rfind("users.csv:", 0) == 0);
      break;
    }
    if (!*r) break;
    FUZZ_CHECK(!reader.fields().empty());
    FUZZ_CHECK(reader.line() >= last_line);
    last_line = reader.line();
    FUZZ_CHECK(++records <= text.size());  // each record consumes input
  }
  (void)FirstInvalidUtf8Line(text);

  CsvSourceOptions options;
  options.delimiter = delimiter;
  Result<Directory> dir = ParseCsvDirectory(text, "users.csv", std::nullopt, "", options);
  if (!dir.ok()) FUZZ_CHECK(dir.status().message().rfind("users.csv", 0) == 0);

  // The same bytes as a groups file (group,member) beside a valid users file.
  std::string users = "externalId,userName\nE1,a@example.com\nE2,b@example.com\n";
  for (char& c : users) {
    if (c == ',') c = delimiter;
  }
  dir = ParseCsvDirectory(users, "users.csv", text, "groups.csv", options);
  if (!dir.ok()) FUZZ_CHECK(dir.status().message().rfind("groups.csv", 0) == 0);
  return 0;
}
