// The onboarding's input files: required fields and kinds, errors word for word.
#include "config/keepnet_files.h"

#include <doctest/doctest.h>

#include <string>

namespace scimsync {
namespace {

const char kCompany[] = R"(# a new customer
Name = "Acme Corp"
CountryResourceId = "ctry"
IndustryResourceId = "ind"
LicenseTypeResourceId = "lic"
LicensePeriodTypeResourceId = "per"
NumberOfUsers = 250
TimeZoneId = "Europe/Berlin"
DateFormat = "dd.MM.yyyy"
TimeFormat = "HH:mm"
IsNumberOfUsersLimited = false
LicenseModuleResourceIdArray = ["m1", "m2"]
LicenseEndDate = 2027-01-31T00:00:00Z
LicenseStartDate = 2026-02-01
)";

std::string Err(const Result<KeepnetCompanyFile>& r) { return r.ok() ? "ok" : r.status().message(); }
std::string Err(const Result<KeepnetDecFile>& r) { return r.ok() ? "ok" : r.status().message(); }

TEST_CASE("company file: every field becomes form fields in table order") {
  auto c = ParseKeepnetCompany(kCompany, "acme.toml");
  REQUIRE(c.ok());
  CHECK(c->name == "Acme Corp");
  std::vector<std::pair<std::string, std::string>> want = {
      {"Name", "Acme Corp"}, {"CountryResourceId", "ctry"}, {"IndustryResourceId", "ind"},
      {"LicenseTypeResourceId", "lic"}, {"LicensePeriodTypeResourceId", "per"},
      {"NumberOfUsers", "250"}, {"TimeZoneId", "Europe/Berlin"}, {"DateFormat", "dd.MM.yyyy"},
      {"TimeFormat", "HH:mm"}, {"LicenseModuleResourceIdArray", "m1"},
      {"LicenseModuleResourceIdArray", "m2"}, {"LicenseStartDate", "2026-02-01"},
      {"LicenseEndDate", "2027-01-31T00:00:00Z"}, {"IsNumberOfUsersLimited", "false"}};
  CHECK(c->fields == want);
}

TEST_CASE("company file: required fields and kinds, as file:line: key: message") {
  auto drop = [](const std::string& key) {
    std::string t = kCompany;
    std::size_t at = t.find(key + " =");
    return t.erase(at, t.find('\n', at) - at + 1);
  };
  auto with = [](const std::string& line) { return std::string(kCompany) + line + "\n"; };
  struct Row {
    std::string text;
    std::string error;
  };
  const Row rows[] = {
      {drop("CountryResourceId"), "c.toml:1: CountryResourceId: missing required company field"},
      {drop("TimeFormat"), "c.toml:1: TimeFormat: missing required company field"},
      {"Name = \"A\"\n", "c.toml:1: CountryResourceId: missing required company field"},
      {with("name = \"x\""), "c.toml:15: name: unknown company field (did you mean Name?)"},
      {with("Colour = \"x\""),
       "c.toml:15: Colour: unknown company field; the fields are Keepnet's POST /api/companies form fields"},
      {std::string(kCompany).replace(std::string(kCompany).find("250"), 3, "\"250\""),
       "c.toml:7: NumberOfUsers: expected an integer"},
      {std::string(kCompany).replace(std::string(kCompany).find("250"), 3, "0"),
       "c.toml:7: NumberOfUsers: expected an integer from 1 to 2147483647"},
      {std::string(kCompany).replace(std::string(kCompany).find("Acme Corp"), 9, std::string(65, 'x')),
       "c.toml:2: Name: longer than 64 characters"},
      {std::string(kCompany).replace(std::string(kCompany).find("\"ctry\""), 6, "\"\""),
       "c.toml:3: CountryResourceId: must not be empty"},
      {std::string(kCompany).replace(std::string(kCompany).find("false"), 5, "\"no\""),
       "c.toml:11: IsNumberOfUsersLimited: expected true or false"},
      {std::string(kCompany).replace(std::string(kCompany).find("[\"m1\", \"m2\"]"), 12, "\"m1\""),
       "c.toml:12: LicenseModuleResourceIdArray: expected an array of strings"},
      {with("Description = \"" + std::string(301, 'd') + "\""), "c.toml:15: Description: longer than 300 characters"},
      {"Name = \"A\n", "c.toml:1: TOML syntax error: Error while parsing string: unescaped control characters "
                          "other than TAB (U+0009) are explicitly prohibited"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.text);
    CHECK(Err(ParseKeepnetCompany(r.text, "c.toml")) == r.error);
  }
  CHECK(Err(LoadKeepnetCompany("/nonexistent/c.toml")) == "/nonexistent/c.toml: cannot read: No such file or directory");
}

TEST_CASE("company fields: required first, names unique") {
  bool optional_seen = false;
  for (std::size_t i = 0; i < CompanyFields().size(); ++i) {
    const CompanyFieldSpec& f = CompanyFields()[i];
    if (!f.required) optional_seen = true;
    CHECK_FALSE((f.required && optional_seen));
    for (std::size_t j = i + 1; j < CompanyFields().size(); ++j) CHECK(f.name != CompanyFields()[j].name);
  }
}

const char kDec[] = R"(name = "Acme M365"
tenant_id = "6f1c0a4e"
domains = ["acme.example", "acme.test"]
type = "microsoft365"
test_address = "it@acme.example"
)";

TEST_CASE("DEC file: fields, type by name or number") {
  auto d = ParseKeepnetDec(kDec, "dec.toml");
  REQUIRE(d.ok());
  CHECK(d->name == "Acme M365");
  CHECK(d->tenant_id == "6f1c0a4e");
  CHECK(d->domains == std::vector<std::string>{"acme.example", "acme.test"});
  CHECK(d->type == 1);
  CHECK(d->test_address == "it@acme.example");
  std::string g = kDec;
  g.replace(g.find("\"microsoft365\""), 14, "2");
  CHECK(ParseKeepnetDec(g, "dec.toml")->type == 2);
  g.replace(g.find("type = 2"), 8, "type = \"google\"");
  CHECK(ParseKeepnetDec(g, "dec.toml")->type == 2);
}

TEST_CASE("DEC file: errors") {
  auto swap = [](const std::string& from, const std::string& to) {
    std::string t = kDec;
    return t.replace(t.find(from), from.size(), to);
  };
  struct Row {
    std::string text;
    std::string error;
  };
  const Row rows[] = {
      {swap("tenant_id = \"6f1c0a4e\"\n", ""), "d.toml:1: tenant_id: missing required key"},
      {swap("\"microsoft365\"", "3"), "d.toml:4: type: expected \"microsoft365\" (1) or \"google\" (2)"},
      {swap("\"microsoft365\"", "\"exchange\""), "d.toml:4: type: expected \"microsoft365\" (1) or \"google\" (2)"},
      {swap("[\"acme.example\", \"acme.test\"]", "[]"), "d.toml:3: domains: expected a non-empty array of domain names"},
      {swap("it@acme.example", "nobody"), "d.toml:5: test_address: expected an email address"},
      {std::string(kDec) + "sender = \"x\"\n",
       "d.toml:6: sender: unknown key; expected name, tenant_id, domains, type, test_address"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.text);
    CHECK(Err(ParseKeepnetDec(r.text, "d.toml")) == r.error);
  }
}

TEST_CASE("source section: kept as written; [source] required, [target] refused") {
  std::string text = "state = \"s.db\"\n[source]\ntype = \"csv\"   # HR\nusers = \"p.csv\"\n";
  auto ok = CheckSourceSection(text, "src.toml");
  REQUIRE(ok.ok());
  CHECK(*ok == text);
  auto target = CheckSourceSection(text + "[target]\nurl = \"https://x\"\n", "src.toml");
  CHECK(target.status().message() == "src.toml:5: target: not allowed here: the onboarding writes [target] itself");
  auto none = CheckSourceSection("state = \"s.db\"\n", "src.toml");
  CHECK(none.status().message() == "src.toml:1: source: missing required table [source]");
}

}  // namespace
}  // namespace scimsync
