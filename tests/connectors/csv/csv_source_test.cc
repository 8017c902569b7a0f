#include "connectors/csv/csv_source.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/csv/csv_reader.h"

namespace scimsync {
namespace {

namespace fs = std::filesystem;

const char* kHeader =
    "externalId,userName,givenName,familyName,displayName,email,phone,department,title,active,"
    "groups\n";

Result<Directory> ParseUsers(const std::string& users, CsvSourceOptions options = {},
                             std::optional<std::string> groups = std::nullopt) {
  return ParseCsvDirectory(users, "people.csv",
                           groups ? std::optional<std::string_view>(*groups) : std::nullopt,
                           "groups.csv", options);
}

Directory Ok(const std::string& users, CsvSourceOptions options = {},
             std::optional<std::string> groups = std::nullopt) {
  auto r = ParseUsers(users, std::move(options), std::move(groups));
  INFO(r.status().message());
  REQUIRE(r.ok());
  return *r;
}

std::string ErrorOf(const std::string& users, CsvSourceOptions options = {},
                    std::optional<std::string> groups = std::nullopt) {
  auto r = ParseUsers(users, std::move(options), std::move(groups));
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

ErrorCode CodeOf(const std::string& users) { return ParseUsers(users).status().code(); }

std::vector<std::string> Fields(std::string_view data, char delim = ',') {
  CsvReader r(data, "t.csv", delim);
  auto more = r.Next();
  REQUIRE(more.ok());
  REQUIRE(*more);
  return {r.fields().begin(), r.fields().end()};
}

TEST_CASE("reader: RFC 4180 quoting") {
  CHECK(Fields("a,b,c") == std::vector<std::string>{"a", "b", "c"});
  CHECK(Fields("\"a,b\",c") == std::vector<std::string>{"a,b", "c"});
  CHECK(Fields("\"say \"\"hi\"\"\",x") == std::vector<std::string>{"say \"hi\"", "x"});
  CHECK(Fields("\"\"\"\"") == std::vector<std::string>{"\""});
  CHECK(Fields("\"line1\nline2\",x\n") == std::vector<std::string>{"line1\nline2", "x"});
  CHECK(Fields("\"line1\r\nline2\"\r\n") == std::vector<std::string>{"line1\r\nline2"});
  CHECK(Fields("a,,\"\",") == std::vector<std::string>{"a", "", "", ""});
  CHECK(Fields("5'11\",x") == std::vector<std::string>{"5'11\"", "x"});
  CHECK(Fields("a;b\tc", ';') == std::vector<std::string>{"a", "b\tc"});
  CHECK(Fields("a\tb", '\t') == std::vector<std::string>{"a", "b"});
  CHECK(Fields("\xEF\xBB\xBF" "a,b\r\n") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("reader: line numbers across quoted line breaks, CRLF and blank lines") {
  CsvReader r("h1,h2\r\n\"a\nb\nc\",1\r\n\r\n\nx,2\n\n", "t.csv");
  std::vector<int> lines;
  for (;;) {
    auto more = r.Next();
    REQUIRE(more.ok());
    if (!*more) break;
    lines.push_back(r.line());
  }
  CHECK(lines == std::vector<int>{1, 2, 7});
}

TEST_CASE("users: default columns, values trimmed, sorted by key, displayName fallback") {
  Directory d = Ok(std::string(kHeader) +
                   "E2,bob@example.com,Bob,Builder,,bob@example.com,,Ops,Engineer,no,\n"
                   "E1, alice@example.com ,Alice,Liddell,Alice L.,alice@example.com,+1 555 0100,"
                   "Sales,Manager,,\n");
  REQUIRE(d.users.size() == 2);
  const User& a = d.users[0];
  CHECK(a.key == "E1");
  CHECK(a.Get(Attr::kUserName) == "alice@example.com");
  CHECK(a.Get(Attr::kGivenName) == "Alice");
  CHECK(a.Get(Attr::kFamilyName) == "Liddell");
  CHECK(a.Get(Attr::kDisplayName) == "Alice L.");
  CHECK(a.Get(Attr::kEmail) == "alice@example.com");
  CHECK(a.Get(Attr::kPhone) == "+1 555 0100");
  CHECK(a.Get(Attr::kDepartment) == "Sales");
  CHECK(a.Get(Attr::kTitle) == "Manager");
  CHECK(a.Get(Attr::kActive) == "true");  // empty = active
  const User& b = d.users[1];
  CHECK(b.key == "E2");
  CHECK(b.Get(Attr::kDisplayName) == "Bob Builder");
  CHECK(b.Get(Attr::kActive) == "false");
  CHECK(d.groups.empty());
}

TEST_CASE("users: BOM, CRLF, quoted fields, trailing blank line, no final newline") {
  std::string csv =
      "\xEF\xBB\xBF" "externalId,userName,displayName,title\r\n"
      "E1,a@x.org,\"Liddell, Alice\",\"Head of \"\"Wonder\"\"\"\r\n"
      "E2,b@x.org,\"Bob\nBuilder\",Eng\r\n"
      "\r\n";
  Directory d = Ok(csv);
  REQUIRE(d.users.size() == 2);
  CHECK(d.users[0].Get(Attr::kDisplayName) == "Liddell, Alice");
  CHECK(d.users[0].Get(Attr::kTitle) == "Head of \"Wonder\"");
  CHECK(d.users[1].Get(Attr::kDisplayName) == "Bob\nBuilder");
  CHECK(Ok("externalId,userName\nE1,a@x.org").users.size() == 1);
}

TEST_CASE("users: a header without rows is an empty directory; an empty file is an error") {
  Directory d = Ok("externalId,userName,email\n");
  CHECK(d.users.empty());
  CHECK(d.groups.empty());
  CHECK(ErrorOf("") == "people.csv:1: empty file; expected a header row");
  CHECK(ErrorOf("\xEF\xBB\xBF\n\n") == "people.csv:1: empty file; expected a header row");
}

TEST_CASE("errors name file and line, word for word") {
  // Unterminated quote: reported at the last line, naming where it opened.
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\nE2,\"b@x.org\nE3,c@x.org\nE4,d@x.org\n") ==
        "people.csv:5: unterminated quoted field (opened on line 3)");
  CHECK(CodeOf("externalId,userName\nE1,\"a") == ErrorCode::kParse);
  CHECK(ErrorOf("externalId,userName\nE1,\"a\"b\n") ==
        "people.csv:2: unexpected character after the closing quote of a field (opened on line "
        "2)");
  CHECK(ErrorOf("externalId,userName,email\nE1,a@x.org,a@x.org\nE2,b@x.org\n") ==
        "people.csv:3: 2 fields, header has 3");
  CHECK(CodeOf("externalId,userName,email\nE2,b@x.org\n") == ErrorCode::kParse);
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org,extra\n") ==
        "people.csv:2: 3 fields, header has 2");
  CHECK(ErrorOf("id,userName\n1,a@x.org\n") ==
        "people.csv:1: key column \"externalId\" not in header");
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\n ,b@x.org\n") ==
        "people.csv:3: missing key (externalId)");
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\nE2,b@x.org\nE3,\xC3(bad\n") ==
        "people.csv:4: invalid UTF-8");
  CHECK(CodeOf("externalId,userName\nE3,\xFF\n") == ErrorCode::kParse);
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\nE2,b@x.org\nE1,c@x.org\n") ==
        "people.csv:4: duplicate externalId \"E1\" (first on line 2)");
  CHECK(ErrorOf("externalId,userName\nE1,Alice@x.org\nE2,b@x.org\nE3,alice@X.org\n") ==
        "people.csv:4: userName \"alice@X.org\" differs only in case from \"Alice@x.org\" on "
        "line 2");
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\nE2,a@x.org\n") ==
        "people.csv:3: duplicate userName \"a@x.org\" (first on line 2)");
  CHECK(ErrorOf("externalId,userName\nE1,\n") == "people.csv:2: empty userName");
  CHECK(ErrorOf("externalId,userName,active\nE1,a@x.org,maybe\n") ==
        "people.csv:2: active: not a boolean: \"maybe\"");
  CHECK(ErrorOf("externalId,userName,email,email\n") ==
        "people.csv:1: duplicate column \"email\" in header");
  // A multi-line record: errors carry the line on which the record starts.
  CHECK(ErrorOf("externalId,userName,title\nE1,a@x.org,\"multi\nline\"\nE1,b@x.org,x\n") ==
        "people.csv:4: duplicate externalId \"E1\" (first on line 2)");
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\nE1,b@x.org\n", {}) ==
        ParseUsers("externalId,userName\nE1,a@x.org\nE1,b@x.org\n").status().message());
  CHECK(CodeOf("externalId,userName\nE1,a@x.org\nE1,b@x.org\n") == ErrorCode::kInvalidArgument);
}

TEST_CASE("mapping: remapped columns, missing mapped column, absent optional columns") {
  CsvSourceOptions o;
  o.mapping.key_field = "employee_id";
  o.mapping.at(Attr::kUserName) = {"mail", "", Transform::kLower, false};
  o.mapping.at(Attr::kDepartment) = {"", "Sales", Transform::kNone, false};
  Directory d = Ok("employee_id,mail,givenName\n7,Carol@Example.com,Carol\n", o);
  REQUIRE(d.users.size() == 1);
  CHECK(d.users[0].key == "7");
  CHECK(d.users[0].Get(Attr::kUserName) == "carol@example.com");
  CHECK(d.users[0].Get(Attr::kDepartment) == "Sales");
  CHECK(d.users[0].Get(Attr::kPhone).empty());  // no phone column: unmapped
  CHECK(d.users[0].Get(Attr::kDisplayName) == "Carol");

  o.mapping.at(Attr::kFamilyName).field = "surname";
  CHECK(ErrorOf("employee_id,mail\n7,c@x.org\n", o) ==
        "people.csv:1: column \"surname\" (mapped to name.familyName) not in header");
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\n", o) ==
        "people.csv:1: key column \"employee_id\" not in header");
}

TEST_CASE("groups from the groups column") {
  std::string csv =
      "externalId,userName,groups\n"
      "E1,a@x.org,Engineering; VPN users ;\n"
      "E2,b@x.org,VPN users\n"
      "E3,c@x.org,\n";
  Directory d = Ok(csv);
  REQUIRE(d.groups.size() == 2);
  CHECK(d.groups[0].key == "Engineering");
  CHECK(d.groups[0].display_name == "Engineering");
  CHECK(d.groups[0].members == std::vector<std::string>{"E1"});
  CHECK(d.groups[1].key == "VPN users");
  CHECK(d.groups[1].members == std::vector<std::string>{"E1", "E2"});

  CsvSourceOptions o;
  o.groups_column = "teams";
  o.group_separator = "|";
  d = Ok("externalId,userName,teams\nE1,a@x.org,A|B\nE2,b@x.org,B\n", o);
  REQUIRE(d.groups.size() == 2);
  CHECK(d.groups[1].members == std::vector<std::string>{"E1", "E2"});
  // A groups column that was configured by name must exist.
  CHECK(ErrorOf("externalId,userName\nE1,a@x.org\n", o) ==
        "people.csv:1: groups column \"teams\" not in header");
  // The default one is optional, and an empty name turns it off.
  CHECK(Ok("externalId,userName\nE1,a@x.org\n").groups.empty());
  o.groups_column = "";
  CHECK(Ok("externalId,userName,teams\nE1,a@x.org,A\n", o).groups.empty());
}

TEST_CASE("groups file: group,member") {
  std::string users =
      "externalId,userName,groups\n"
      "E1,a@x.org,Engineering\n"
      "E2,b@x.org,\n"
      "E3,c@x.org,\n";
  std::string groups =
      "group,member\n"
      "Engineering,E2\n"
      "Engineering,E1\n"  // also in the groups column: counted once
      "\"Finance, EMEA\",E3\n"
      "Empty group,\n";
  Directory d = Ok(users, {}, groups);
  REQUIRE(d.groups.size() == 3);
  CHECK(d.groups[0].key == "Empty group");
  CHECK(d.groups[0].members.empty());
  CHECK(d.groups[1].key == "Engineering");
  CHECK(d.groups[1].members == std::vector<std::string>{"E1", "E2"});
  CHECK(d.groups[2].key == "Finance, EMEA");
  CHECK(d.groups[2].members == std::vector<std::string>{"E3"});

  // Extra columns and another column order are fine.
  d = Ok(users, {}, std::string("member,note,group\nE3,x,Ops\n"));
  REQUIRE(d.groups.size() == 2);
  CHECK(d.groups[1].key == "Ops");

  CHECK(ErrorOf(users, {}, std::string("group,member\nOps,E1\nOps,E9\n")) ==
        "groups.csv:3: unknown member \"E9\" (no user with that externalId in people.csv)");
  CHECK(ErrorOf(users, {}, std::string("group,user\nOps,E1\n")) ==
        "groups.csv:1: missing column \"member\" (expected a header group,member)");
  CHECK(ErrorOf(users, {}, std::string("name,member\nOps,E1\n")) ==
        "groups.csv:1: missing column \"group\" (expected a header group,member)");
  CHECK(ErrorOf(users, {}, std::string("group,member\n,E1\n")) ==
        "groups.csv:2: empty group name");
  CHECK(ErrorOf(users, {}, std::string("group,member\nOps\n")) ==
        "groups.csv:2: 1 fields, header has 2");
  CHECK(ErrorOf(users, {}, std::string("group,member\n\"Ops,E1\n")) ==
        "groups.csv:2: unterminated quoted field (opened on line 2)");
  CHECK(ErrorOf(users, {}, std::string("group,member\nOps\xC0,E1\n")) ==
        "groups.csv:2: invalid UTF-8");
  CHECK(ErrorOf(users, {}, std::string("")) == "groups.csv:1: empty file; expected a header row");
}

TEST_CASE("canonical order: users by key (long shared prefixes), members sorted and unique") {
  std::string users = "externalId,userName,groups\n";
  const char* keys[] = {"employee-000000010", "employee-000000002", "employee-00000001",
                        "employee-000000010x", "b", "a", "employee-0"};
  for (const char* k : keys) users += std::string(k) + "," + k + "@x.org,All;" + k + "\n";
  Directory d = Ok(users, {}, std::string("group,member\nAll,a\nAll,b\nZ,b\nZ,a\n"));
  std::vector<std::string> got;
  for (const User& u : d.users) got.push_back(u.key);
  std::vector<std::string> want(std::begin(keys), std::end(keys));
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  for (const User& u : d.users) CHECK(u.Get(Attr::kUserName) == u.key + "@x.org");
  REQUIRE(d.groups.size() == 9);
  CHECK(d.groups[0].key == "All");
  CHECK(d.groups[0].members == want);
  CHECK(d.groups[1].key == "Z");  // ASCII order: upper case first
  CHECK(d.groups[1].members == std::vector<std::string>{"a", "b"});
  for (std::size_t i = 1; i < d.groups.size(); ++i) CHECK(d.groups[i - 1].key < d.groups[i].key);
}

TEST_CASE("delimiter") {
  CsvSourceOptions o;
  o.delimiter = ';';
  Directory d = Ok("externalId;userName;groups\nE1;a@x.org;\"A;B\"\n", o);
  REQUIRE(d.users.size() == 1);
  REQUIRE(d.groups.size() == 2);
}

// --- the Source over real files ---

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "scimsync-csv-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
};

TEST_CASE("CsvSource reads files, probes and describes itself") {
  TempDir dir;
  CsvSourceOptions o;
  o.users = dir.Write("people.csv", "externalId,userName,groups\nE1,a@x.org,A;B\nE2,b@x.org,B\n");
  o.groups = dir.Write("groups.csv", "group,member\nC,E2\n");
  CsvSource source(o);
  auto d = source.Read();
  REQUIRE(d.ok());
  CHECK(d->users.size() == 2);
  CHECK(d->groups.size() == 3);
  auto p = source.Probe();
  REQUIRE(p.ok());
  CHECK(*p == "users file " + o.users + ": 2 rows, 3 groups");
  CHECK(source.Describe() == "csv:" + o.users);

  dir.Write("people.csv", "externalId,userName\nE1,\"a@x.org\n");
  auto broken = source.Read();
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().message() == o.users + ":2: unterminated quoted field (opened on line 2)");

  CsvSourceOptions missing;
  missing.users = (dir.path / "nope.csv").string();
  auto m = CsvSource(missing).Read();
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == ErrorCode::kIo);
  CHECK(m.status().message() == missing.users + ": cannot open: No such file or directory");
  missing.users = o.users;
  missing.groups = (dir.path / "nope.csv").string();
  CHECK(CsvSource(missing).Read().status().message() ==
        missing.groups + ": cannot open: No such file or directory");
}

TEST_CASE("a large file parses quickly") {
  // 200,000 rows here; the 1,000,000-row figure is in the report.
  std::string csv = kHeader;
  csv.reserve(200000 * 120);
  for (int i = 0; i < 200000; ++i) {
    std::string n = std::to_string(i);
    csv += "K" + n + ",user" + n + "@example.com,Given" + n + ",Family" + n + ",,user" + n +
           "@example.com,+1 555 " + n + ",Dept" + std::to_string(i % 50) + ",\"Title, " + n +
           "\",true,Group" + std::to_string(i % 100) + ";All\n";
  }
  auto start = std::chrono::steady_clock::now();
  Directory d = Ok(csv);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  MESSAGE("200000 rows parsed in " << ms << " ms");
  CHECK(d.users.size() == 200000);
  CHECK(d.groups.size() == 101);
#ifndef SCIMSYNC_SANITIZED  // ASan/UBSan run several times slower: no time bound there
  CHECK(ms < 5000);
#endif
}

}  // namespace
}  // namespace scimsync

namespace scimsync {
namespace {

TEST_CASE("examples/demo CSV files read") {
  fs::path demo = fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path() /
                  "examples/demo";
  CsvSourceOptions o;
  o.users = (demo / "people.csv").string();
  o.groups = (demo / "groups.csv").string();
  auto d = CsvSource(o).Read();
  INFO(d.status().message());
  REQUIRE(d.ok());
  CHECK(d->users.size() == 40);
  int inactive = 0;
  for (const User& u : d->users) inactive += u.Active() ? 0 : 1;
  CHECK(inactive == 1);
  CHECK(d->groups.size() >= 9);
}

}  // namespace
}  // namespace scimsync
