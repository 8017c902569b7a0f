#include "config/config_loader.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/redact.h"

namespace scimsync {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// A minimal valid configuration; tests append to it or write their own.
const std::string kBase =
    "[source]\n"                                  // 1
    "type = \"csv\"\n"                            // 2
    "users = \"people.csv\"\n"                    // 3
    "\n"                                          // 4
    "[target]\n"                                  // 5
    "url = \"https://scim.example.com/scim/v2\"\n"  // 6
    "token_env = \"SCIMSYNC_TOKEN\"\n";           // 7

std::string ErrorOf(const std::string& text) {
  auto r = ParseConfig(text, "scimsync.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ErrorCode::kInvalidArgument);
  return r.status().message();
}

Config Parse(const std::string& text, const std::string& name = "scimsync.toml") {
  auto r = ParseConfig(text, name);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return *r;
}

// A fresh directory under $TMPDIR, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "scimsync-config-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << content;
    REQUIRE(::chmod(p.c_str(), mode) == 0);
    return p;
  }
};

// Sets an environment variable for the scope of a test and restores it after.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    if (const char* o = std::getenv(name.c_str())) old = o;
    if (value) {
      ::setenv(name.c_str(), value, 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  ~ScopedEnv() {
    if (old) {
      ::setenv(name.c_str(), old->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
};

TEST_CASE("defaults of every key (DESIGN §8)") {
  ScopedEnv state_dir("STATE_DIRECTORY", nullptr);
  Config c = Parse(kBase);
  CHECK(c.path == "scimsync.toml");
  CHECK(c.state == (fs::current_path() / "scimsync.db").string());
  CHECK(c.interval == minutes(40));
  CHECK(c.interval_jitter == doctest::Approx(0.05));
  CHECK(c.stop_timeout == seconds(30));
  CHECK(c.metrics_file.empty());
  CHECK(c.source.type == SourceType::kCsv);
  CHECK(c.source.csv.users == "people.csv");
  CHECK(c.source.csv.groups.empty());
  CHECK(c.source.csv.key == "externalId");
  CHECK(c.source.csv.delimiter == ',');
  CHECK(c.source.csv.groups_column == "groups");
  CHECK(c.source.csv.group_separator == ";");
  CHECK(c.target.url == "https://scim.example.com/scim/v2");
  CHECK(c.target.token_file.empty());
  CHECK(c.target.token_env == "SCIMSYNC_TOKEN");
  CHECK(c.target.ca_file.empty());
  CHECK(c.target.timeout == seconds(30));
  CHECK(c.target.max_connections == 4);
  CHECK(c.target.max_requests_per_second == 0);
  CHECK(!c.target.behaviour.members_per_request);
  CHECK(c.target.deprovision == DeprovisionMode::kDisable);
  CHECK(c.target.profile == TargetProfile::kGeneric);
  CHECK(c.target.max_retries == 3);
  CHECK(c.target.max_response_size == 8 * 1024 * 1024);
  CHECK(c.safety.max_deletions == 500);
  CHECK(c.safety.max_deletion_percent == doctest::Approx(10.0));
  CHECK_FALSE(c.safety.allow_empty_source);
  CHECK(c.safety.max_failures_per_cycle == 50);
  CHECK(c.scope.groups.empty());
  CHECK(c.scope.include_groups.empty());
  CHECK(c.scope.exclude_groups.empty());
  CHECK(c.scope.Everything());
  CHECK(c.log.format == LogFormat::kLogfmt);
  CHECK(c.log.level == LogLevel::kInfo);
  Mapping csv = Mapping::CsvDefaults();
  CHECK(c.mapping.key_field == "externalId");
  for (const auto& info : kAttrs) {
    CHECK(c.mapping.at(info.attr).field == csv.at(info.attr).field);
    CHECK(c.mapping.at(info.attr).constant.empty());
    CHECK_FALSE(c.mapping.at(info.attr).keep);
  }
}

TEST_CASE("default state path honours $STATE_DIRECTORY (first entry)") {
  ScopedEnv state_dir("STATE_DIRECTORY", "/var/lib/scimsync:/var/lib/other");
  CHECK(Parse(kBase).state == "/var/lib/scimsync/state.db");
}

TEST_CASE("every key can be set") {
  Config c = Parse(
      "state = \"/var/lib/x/state.db\"\n"
      "interval = \"1h30m\"\n"
      "interval_jitter = \"10%\"\n"
      "stop_timeout = 45\n"
      "metrics_file = \"/run/scimsync/metrics.prom\"\n"
      "[source]\n"
      "type = \"csv\"\n"
      "users = \"/srv/hr/people.csv\"\n"
      "groups = \"/srv/hr/groups.csv\"\n"
      "key = \"employeeId\"\n"
      "delimiter = \"\\t\"\n"
      "groups_column = \"teams\"\n"
      "group_separator = \"|\"\n"
      "[target]\n"
      "url = \"http://127.0.0.1:8099/scim/v2\"\n"
      "token_file = \"/etc/scimsync/token\"\n"
      "ca_file = \"/etc/ssl/ca.pem\"\n"
      "timeout = \"10s\"\n"
      "max_connections = 64\n"
      "max_requests_per_second = 12.5\n"
      "members_per_request = 50\n"
      "deprovision = \"delete\"\n"
      "profile = \"keeper\"\n"
      "max_retries = 5\n"
      "max_response_size = \"32MiB\"\n"
      "[safety]\n"
      "max_deletions = 0\n"
      "max_deletion_percent = 2.5\n"
      "allow_empty_source = true\n"
      "max_failures_per_cycle = 7\n"
      "[log]\n"
      "format = \"json\"\n"
      "level = \"debug\"\n");
  CHECK(c.state == "/var/lib/x/state.db");
  CHECK(c.interval == minutes(90));
  CHECK(c.interval_jitter == doctest::Approx(0.10));
  CHECK(c.stop_timeout == seconds(45));
  CHECK(c.metrics_file == "/run/scimsync/metrics.prom");
  CHECK(c.source.csv.users == "/srv/hr/people.csv");
  CHECK(c.source.csv.groups == "/srv/hr/groups.csv");
  CHECK(c.source.csv.key == "employeeId");
  CHECK(c.mapping.key_field == "employeeId");
  CHECK(c.source.csv.delimiter == '\t');
  CHECK(c.source.csv.groups_column == "teams");
  CHECK(c.source.csv.group_separator == "|");
  CHECK(c.target.url == "http://127.0.0.1:8099/scim/v2");
  CHECK(c.target.token_file == "/etc/scimsync/token");
  CHECK(c.target.ca_file == "/etc/ssl/ca.pem");
  CHECK(c.target.timeout == seconds(10));
  CHECK(c.target.max_connections == 64);
  CHECK(c.target.max_requests_per_second == doctest::Approx(12.5));
  CHECK(c.target.behaviour.members_per_request == 50);
  CHECK(c.target.deprovision == DeprovisionMode::kDelete);
  CHECK(c.target.profile == TargetProfile::kKeeper);
  CHECK(c.target.max_retries == 5);
  CHECK(c.target.max_response_size == 32 * 1024 * 1024);
  CHECK(c.safety.max_deletions == 0);
  CHECK(c.safety.max_deletion_percent == doctest::Approx(2.5));
  CHECK(c.safety.allow_empty_source);
  CHECK(c.safety.max_failures_per_cycle == 7);
  CHECK(c.log.format == LogFormat::kJson);
  CHECK(c.log.level == LogLevel::kDebug);
}

TEST_CASE("ldap source keys and mapping defaults by dialect") {
  const std::string ldap =
      "[source]\n"
      "type = \"ldap\"\n"
      "url = \"ldaps://ldap1.example.com ldaps://ldap2.example.com\"\n"
      "start_tls = false\n"
      "ca_file = \"ca.pem\"\n"
      "bind_dn = \"cn=scimsync,dc=example,dc=com\"\n"
      "bind_password_file = \"bind.pw\"\n"
      "base_dn = \"dc=example,dc=com\"\n"
      "user_base = \"ou=people,dc=example,dc=com\"\n"
      "user_filter = \"(objectClass=inetOrgPerson)\"\n"
      "user_scope = \"one\"\n"
      "group_base = \"ou=groups,dc=example,dc=com\"\n"
      "group_filter = \"(objectClass=groupOfNames)\"\n"
      "page_size = 1000\n"
      "flatten_nested = true\n"
      "timeout = \"1m\"\n"
      "group_name_attr = \"cn\"\n"
      "member_attr = \"member\"\n"
      "member_of_attr = \"memberOf\"\n"
      "[target]\n"
      "url = \"https://scim.example.com/scim/v2\"\n";
  Config c = Parse(ldap, "/etc/scimsync/scimsync.toml");
  CHECK(c.source.type == SourceType::kLdap);
  const LdapSourceConfig& l = c.source.ldap;
  CHECK(l.url == "ldaps://ldap1.example.com ldaps://ldap2.example.com");
  CHECK(l.ca_file == "/etc/scimsync/ca.pem");
  CHECK(l.bind_password_file == "/etc/scimsync/bind.pw");
  CHECK(l.bind_dn == "cn=scimsync,dc=example,dc=com");
  CHECK(l.user_scope == LdapScope::kOne);
  CHECK(l.page_size == 1000);
  CHECK(l.flatten_nested);
  CHECK(l.timeout == minutes(1));
  CHECK(l.member_of_attr == "memberOf");
  CHECK(l.dialect == LdapDialect::kOpenLdap);
  CHECK(l.key == "entryUUID");
  CHECK(c.mapping.key_field == "entryUUID");
  CHECK(c.mapping.at(Attr::kUserName).field == "mail");
  CHECK(c.target.token_env.empty());
  CHECK(c.target.token_file.empty());  // neither: ReadSecret falls back to credentials

  Config ad = Parse(
      "[source]\ntype = \"ldap\"\nurl = \"ldaps://dc1\"\nbase_dn = \"dc=corp\"\n"
      "dialect = \"ad\"\n[target]\nurl = \"https://x.example/scim\"\n");
  CHECK(ad.source.ldap.dialect == LdapDialect::kAd);
  CHECK(ad.mapping.key_field == "objectGUID");
  CHECK(ad.source.ldap.key == "objectGUID");
  CHECK(ad.mapping.at(Attr::kUserName).field == "userPrincipalName");

  Config keyed = Parse(
      "[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nbase_dn = \"dc=x\"\n"
      "key = \"nsUniqueId\"\n[target]\nurl = \"https://x.example/scim\"\n");
  CHECK(keyed.mapping.key_field == "nsUniqueId");
  CHECK(keyed.source.ldap.key == "nsUniqueId");

  // base_dn may be left out when both bases are set.
  CHECK(ParseConfig("[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nuser_base = \"ou=p\"\n"
                    "group_base = \"ou=g\"\n[target]\nurl = \"https://x.example/scim\"\n",
                    "s.toml")
            .ok());
}

TEST_CASE("relative paths: resolution") {
  std::string text =
      "state = \"state/scimsync.db\"\n"
      "metrics_file = \"../run/metrics.prom\"\n"
      "[source]\ntype = \"csv\"\nusers = \"hr/people.csv\"\ngroups = \"/srv/groups.csv\"\n"
      "[target]\nurl = \"https://x.example/scim\"\ntoken_file = \"secrets/token\"\n"
      "ca_file = \"ca.pem\"\n";
  Config c = Parse(text, "/etc/scimsync/scimsync.toml");
  CHECK(c.state == "/etc/scimsync/state/scimsync.db");
  CHECK(c.metrics_file == "/etc/run/metrics.prom");
  CHECK(c.source.csv.users == "/etc/scimsync/hr/people.csv");
  CHECK(c.source.csv.groups == "/srv/groups.csv");
  CHECK(c.target.token_file == "/etc/scimsync/secrets/token");
  CHECK(c.target.ca_file == "/etc/scimsync/ca.pem");

  // LoadConfig resolves against the directory of the file it read.
  TempDir dir;
  std::string path = dir.Write("scimsync.toml", text, 0600);
  auto loaded = LoadConfig(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->path == path);
  CHECK(loaded->source.csv.users == (dir.path / "hr/people.csv").string());
  CHECK(loaded->state == (dir.path / "state/scimsync.db").string());
}

TEST_CASE("LoadConfig of a missing file") {
  auto r = LoadConfig("/nonexistent/scimsync.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == ErrorCode::kInvalidArgument);
  CHECK(r.status().message() ==
        "/nonexistent/scimsync.toml: cannot read configuration: No such file or directory");
}

TEST_CASE("durations") {
  CHECK(*ParseDuration("90s") == seconds(90));
  CHECK(*ParseDuration("40m") == minutes(40));
  CHECK(*ParseDuration("2h") == minutes(120));
  CHECK(*ParseDuration("1h30m") == minutes(90));
  CHECK(*ParseDuration("500ms") == milliseconds(500));
  CHECK(*ParseDuration("1m30s500ms") == milliseconds(90500));
  CHECK(*ParseDuration("1d") == std::chrono::hours(24));
  CHECK(*ParseDuration("90") == seconds(90));
  CHECK(*ParseDuration("0") == seconds(0));
  for (const char* bad : {"", "m", "10x", "1h30", "-5s", "1.5h", " 5s", "5 s", "10M",
                          "9999999999s"}) {
    CAPTURE(bad);
    auto r = ParseDuration(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "invalid duration \"" + std::string(bad) +
                                      "\" (expected e.g. \"90s\", \"40m\", \"2h\", \"1h30m\", "
                                      "\"500ms\")");
  }
  // In the file: strings or integers (seconds).
  CHECK(Parse("interval = \"2h\"\n" + kBase).interval == minutes(120));
  CHECK(Parse("interval = 600\n" + kBase).interval == minutes(10));
  CHECK(ErrorOf("interval = \"soon\"\n" + kBase) ==
        "scimsync.toml:1: interval: invalid duration \"soon\" (expected e.g. \"90s\", \"40m\", "
        "\"2h\", \"1h30m\", \"500ms\")");
  CHECK(ErrorOf("interval = 1.5\n" + kBase) ==
        "scimsync.toml:1: interval: expected a duration such as \"90s\", \"40m\" or \"2h\"");
  CHECK(ErrorOf("interval = \"500ms\"\n" + kBase) ==
        "scimsync.toml:1: interval: must be at least 1s");
  CHECK(ErrorOf(kBase + "timeout = \"0s\"\n") ==
        "scimsync.toml:8: target.timeout: must be at least 1ms");
}

TEST_CASE("target.reconcile: a period, always or never") {
  CHECK(Parse(kBase).target.reconcile == std::optional<milliseconds>(std::chrono::hours(24)));
  CHECK(Parse(kBase + "reconcile = \"6h\"\n").target.reconcile ==
        std::optional<milliseconds>(std::chrono::hours(6)));
  CHECK(Parse(kBase + "reconcile = \"always\"\n").target.reconcile ==
        std::optional<milliseconds>(milliseconds(0)));
  CHECK_FALSE(Parse(kBase + "reconcile = \"never\"\n").target.reconcile.has_value());
  CHECK(Parse(kBase).target.foreign_members == ForeignMembers::kRemove);
  CHECK(Parse(kBase + "foreign_members = \"keep\"\n").target.foreign_members ==
        ForeignMembers::kKeep);
  CHECK(ErrorOf(kBase + "foreign_members = \"drop\"\n") ==
        "scimsync.toml:8: target.foreign_members: must be \"remove\" or \"keep\", not \"drop\"");
  CHECK(ErrorOf(kBase + "reconcile = \"10s\"\n") ==
        "scimsync.toml:8: target.reconcile: must be at least 60s");
  CHECK(ErrorOf(kBase + "reconcile = \"sometimes\"\n") ==
        "scimsync.toml:8: target.reconcile: invalid duration \"sometimes\" (expected e.g. "
        "\"90s\", \"40m\", \"2h\", \"1h30m\", \"500ms\")");
}

TEST_CASE("target.max_response_size: a size with a binary unit, or bytes") {
  struct Row {
    const char* value;  // as written in the file
    std::size_t want;
  };
  for (Row row : {Row{"\"8MiB\"", 8u << 20}, Row{"\"512KiB\"", 512u << 10}, Row{"\"1GiB\"", 1u << 30},
                  Row{"\"4096B\"", 4096}, Row{"\"1KiB\"", 1024}, Row{"65536", 65536}}) {
    CAPTURE(std::string(row.value));
    CHECK(Parse(kBase + "max_response_size = " + row.value + "\n").target.max_response_size ==
          row.want);
  }
  const std::string expected = "expected a size such as \"8MiB\", \"512KiB\" or a number of bytes";
  for (const char* bad : {"8MB", "8 MiB", "8mib", "MiB", "-1MiB", "1.5MiB", "8M", ""}) {
    CAPTURE(std::string(bad));
    CHECK(ErrorOf(kBase + "max_response_size = \"" + bad + "\"\n") ==
          "scimsync.toml:8: target.max_response_size: " + expected + ", not \"" + bad + "\"");
  }
  CHECK(ErrorOf(kBase + "max_response_size = 1.5\n") ==
        "scimsync.toml:8: target.max_response_size: " + expected);
  for (const char* out : {"1023", "0", "-5", "\"2GiB\"", "\"1073741825B\"",
                          "\"999999999999999999GiB\""}) {
    CAPTURE(std::string(out));
    CHECK(ErrorOf(kBase + "max_response_size = " + out + "\n") ==
          "scimsync.toml:8: target.max_response_size: must be between 1KiB and 1GiB");
  }
}

TEST_CASE("target.proxy and no_proxy") {
  CHECK(Parse(kBase).target.proxy.empty());
  CHECK(Parse(kBase + "proxy = \"http://proxy.corp:3128\"\n").target.proxy ==
        "http://proxy.corp:3128");
  CHECK(Parse(kBase + "proxy = \"none\"\n").target.proxy == "none");
  CHECK(Parse(kBase + "no_proxy = \"scim.internal,.corp\"\n").target.no_proxy ==
        "scim.internal,.corp");
  CHECK(ErrorOf(kBase + "proxy = \"proxy.corp:3128\"\n") ==
        "scimsync.toml:8: target.proxy: expected \"none\" or a proxy URL such as "
        "\"http://proxy.example:3128\", not \"proxy.corp:3128\"");
  CHECK(ErrorOf(kBase + "proxy = \"http://me:pw@proxy.corp:3128\"\n") ==
        "scimsync.toml:8: target.proxy: credentials in the proxy URL would put a secret in the "
        "config; use a proxy that admits this host, or https_proxy in the service's environment");
}

TEST_CASE("interval_jitter: percent or fraction") {
  CHECK(Parse("interval_jitter = \"5%\"\n" + kBase).interval_jitter == doctest::Approx(0.05));
  CHECK(Parse("interval_jitter = \"12.5%\"\n" + kBase).interval_jitter ==
        doctest::Approx(0.125));
  CHECK(Parse("interval_jitter = 0.2\n" + kBase).interval_jitter == doctest::Approx(0.2));
  CHECK(Parse("interval_jitter = 0\n" + kBase).interval_jitter == 0);
  CHECK(ErrorOf("interval_jitter = \"5\"\n" + kBase) ==
        "scimsync.toml:1: interval_jitter: expected a percentage such as \"5%\" or a fraction "
        "such as 0.05");
  CHECK(ErrorOf("interval_jitter = \"60%\"\n" + kBase) ==
        "scimsync.toml:1: interval_jitter: must be between 0% and 50%");
  CHECK(ErrorOf("interval_jitter = 5\n" + kBase) ==
        "scimsync.toml:1: interval_jitter: must be between 0% and 50%");
}

TEST_CASE("source.watch and watch_interval: defaults, both source types, minimum") {
  Config d = Parse(kBase);
  CHECK_FALSE(d.source.watch);
  CHECK(d.source.watch_interval == seconds(30));
  const std::string csv =
      "[source]\ntype = \"csv\"\nusers = \"p.csv\"\nwatch = true\nwatch_interval = \"5s\"\n"
      "[target]\nurl = \"https://scim.example.com/scim/v2\"\ntoken_env = \"T\"\n";
  Config c = Parse(csv);
  CHECK(c.source.watch);
  CHECK(c.source.watch_interval == seconds(5));
  const std::string ldap =
      "[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nbase_dn = \"dc=x\"\nwatch = true\n"
      "[target]\nurl = \"https://scim.example.com/scim/v2\"\ntoken_env = \"T\"\n";
  CHECK(Parse(ldap).source.watch);
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\nwatch_interval = \"500ms\"\n"
                "[target]\nurl = \"https://scim.example.com/scim/v2\"\ntoken_env = \"T\"\n")
            .find("scimsync.toml:4: source.watch_interval: ") == 0);
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\nwatch = \"yes\"\n"
                "[target]\nurl = \"https://scim.example.com/scim/v2\"\ntoken_env = \"T\"\n")
            .find("scimsync.toml:4: source.watch: ") == 0);
}

TEST_CASE("unknown keys anywhere") {
  CHECK(ErrorOf("intervall = \"40m\"\n" + kBase) == "scimsync.toml:1: intervall: unknown key");
  CHECK(ErrorOf(kBase + "tokenfile = \"x\"\n") == "scimsync.toml:8: target.tokenfile: unknown key");
  CHECK(ErrorOf(kBase + "[safety]\nmax_deletes = 3\n") ==
        "scimsync.toml:9: safety.max_deletes: unknown key");
  CHECK(ErrorOf(kBase + "[log]\ncolor = true\n") == "scimsync.toml:9: log.color: unknown key");
  CHECK(ErrorOf(kBase + "[sources]\n") == "scimsync.toml:8: sources: unknown key");
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\nencoding = \"latin1\"\n"
                "[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:4: source.encoding: unknown key");
}

TEST_CASE("scope: groups by name or DN, include and exclude patterns") {
  Config c = Parse(kBase +
                   "[scope]\n"
                   "groups = [\"Keeper Users\", \" cn=IT Admins,ou=groups,dc=example,dc=org \"]\n"
                   "include_groups = [\"Team *\", \"Keeper *\"]\n"
                   "exclude_groups = [\"*-legacy\"]\n");
  CHECK(c.scope.groups ==
        std::vector<std::string>{"Keeper Users", "cn=IT Admins,ou=groups,dc=example,dc=org"});
  REQUIRE(c.scope.include_groups.size() == 2);
  CHECK(c.scope.include_groups[0].pattern() == "Team *");
  CHECK(c.scope.include_groups[1].Matches("keeper admins"));
  REQUIRE(c.scope.exclude_groups.size() == 1);
  CHECK(c.scope.exclude_groups[0].Matches("crm-legacy"));
  CHECK_FALSE(c.scope.Everything());
  // Empty lists are the defaults spelled out.
  CHECK(Parse(kBase + "[scope]\ngroups = []\ninclude_groups = []\n").scope.Everything());
}

TEST_CASE("scope errors, word for word") {
  CHECK(ErrorOf(kBase + "[scope]\ngroup = [\"Keeper Users\"]\n") ==
        "scimsync.toml:9: scope.group: unknown key");
  CHECK(ErrorOf(kBase + "[scope]\ngroups = \"Keeper Users\"\n") ==
        "scimsync.toml:9: scope.groups: expected an array of group names, such as "
        "[\"Keeper Users\"]");
  CHECK(ErrorOf(kBase + "[scope]\ngroups = [\"Keeper Users\", 3]\n") ==
        "scimsync.toml:9: scope.groups: entry 2: expected a string");
  CHECK(ErrorOf(kBase + "[scope]\ngroups = [\n  \"Keeper Users\",\n  \"  \",\n]\n") ==
        "scimsync.toml:11: scope.groups: entry 2: must not be empty");
  CHECK(ErrorOf(kBase + "[scope]\ninclude_groups = \"Team *\"\n") ==
        "scimsync.toml:9: scope.include_groups: expected an array of patterns, such as "
        "[\"Team *\"]");
  CHECK(ErrorOf(kBase + "[scope]\ninclude_groups = [\"Team [A-\"]\n") ==
        "scimsync.toml:9: scope.include_groups: entry 1: invalid pattern \"Team [A-\": "
        "unterminated [ at character 6");
  CHECK(ErrorOf(kBase + "[scope]\nexclude_groups = [\"ok\", \"\"]\n") ==
        "scimsync.toml:9: scope.exclude_groups: entry 2: empty pattern");
  CHECK(ErrorOf(kBase + "[scope]\nexclude_groups = [[\"x\"]]\n") ==
        "scimsync.toml:9: scope.exclude_groups: entry 1: expected a string");
  CHECK(ErrorOf(kBase + "scope = [\"Keeper Users\"]\n") ==
        "scimsync.toml:8: target.scope: unknown key");
  CHECK(ErrorOf("scope = \"Keeper Users\"\n" + kBase) == "scimsync.toml:1: scope: expected a table");
}

TEST_CASE("the first problem in the file is reported") {
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = 1\nbogus = 2\n[target]\n"
                "url = \"ftp://x\"\n") == "scimsync.toml:3: source.users: expected a string");
}

TEST_CASE("wrong types") {
  CHECK(ErrorOf(kBase + "max_connections = \"4\"\n") ==
        "scimsync.toml:8: target.max_connections: expected an integer");
  CHECK(ErrorOf(kBase + "max_requests_per_second = \"fast\"\n") ==
        "scimsync.toml:8: target.max_requests_per_second: expected a number");
  CHECK(ErrorOf(kBase + "[safety]\nallow_empty_source = \"yes\"\n") ==
        "scimsync.toml:9: safety.allow_empty_source: expected true or false");
  CHECK(ErrorOf("state = 5\n" + kBase) == "scimsync.toml:1: state: expected a string");
  CHECK(ErrorOf("target = \"https://x\"\n[source]\ntype = \"csv\"\nusers = \"p.csv\"\n") ==
        "scimsync.toml:1: target: expected a table");
  CHECK(ErrorOf(kBase + "ca_file = \"\"\n") == "scimsync.toml:8: target.ca_file: must not be empty");
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\ndelimiter = \";;\"\n[target]\n"
                "url = \"https://x.example/scim\"\n") ==
        "scimsync.toml:4: source.delimiter: expected one character other than a quote or a line "
        "break");
}

TEST_CASE("bad enum values") {
  CHECK(ErrorOf(kBase + "deprovision = \"remove\"\n") ==
        "scimsync.toml:8: target.deprovision: must be \"disable\" or \"delete\", not \"remove\"");
  CHECK(ErrorOf(kBase + "profile = \"okta\"\n") ==
        "scimsync.toml:8: target.profile: must be \"generic\", \"keeper\", \"keepnet\" or "
        "\"aws\", not \"okta\"");
  CHECK(ErrorOf(kBase + "[log]\nformat = \"xml\"\n") ==
        "scimsync.toml:9: log.format: must be \"logfmt\" or \"json\", not \"xml\"");
  CHECK(ErrorOf(kBase + "[log]\nlevel = \"trace\"\n") ==
        "scimsync.toml:9: log.level: must be \"debug\", \"info\", \"warn\" or \"error\", not "
        "\"trace\"");
  CHECK(ErrorOf("[source]\ntype = \"sql\"\n[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:2: source.type: must be \"csv\" or \"ldap\", not \"sql\"");
  CHECK(ErrorOf("[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nbase_dn = \"dc=x\"\n"
                "dialect = \"389\"\n[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:5: source.dialect: must be \"openldap\" or \"ad\", not \"389\"");
  CHECK(ErrorOf("[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nbase_dn = \"dc=x\"\n"
                "user_scope = \"subtree\"\n[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:5: source.user_scope: must be \"base\", \"one\" or \"sub\", not "
        "\"subtree\"");
}

TEST_CASE("missing required keys: line of the table header, or 1") {
  CHECK(ErrorOf("\n[source]\ntype = \"csv\"\n[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:2: source.users: missing required key");
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\n") ==
        "scimsync.toml:1: target.url: missing required key");
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\n\n[target]\n"
                "token_env = \"T\"\n") ==
        "scimsync.toml:5: target.url: missing required key");
  CHECK(ErrorOf("interval = \"1h\"\n\n[source]\nusers = \"p.csv\"\n[target]\n"
                "url = \"https://x.example/scim\"\n") ==
        "scimsync.toml:3: source.type: missing required key");
  CHECK(ErrorOf("[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:1: source.type: missing required key");
  CHECK(ErrorOf("[source]\ntype = \"ldap\"\nbase_dn = \"dc=x\"\n[target]\n"
                "url = \"https://x.example/scim\"\n") ==
        "scimsync.toml:1: source.url: missing required key");
  CHECK(ErrorOf("[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nuser_base = \"ou=p\"\n[target]\n"
                "url = \"https://x.example/scim\"\n") ==
        "scimsync.toml:1: source.base_dn: missing required key (or set both user_base and "
        "group_base)");
}

TEST_CASE("source.type decides which source keys are allowed") {
  CHECK(ErrorOf("[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nbase_dn = \"dc=x\"\n"
                "users = \"p.csv\"\n[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:5: source.users: only valid when source.type = \"csv\"");
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\nbase_dn = \"dc=x\"\n[target]\n"
                "url = \"https://x.example/scim\"\n") ==
        "scimsync.toml:4: source.base_dn: only valid when source.type = \"ldap\"");
}

TEST_CASE("validation of values") {
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\n[target]\nurl = \"scim.example.com\"\n") ==
        "scimsync.toml:5: target.url: must start with https:// or http://");
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\n[target]\nurl = \"https://\"\n") ==
        "scimsync.toml:5: target.url: must start with https:// or http://");
  CHECK(ErrorOf(kBase + "max_connections = 0\n") ==
        "scimsync.toml:8: target.max_connections: must be between 1 and 64");
  CHECK(ErrorOf(kBase + "max_connections = 65\n") ==
        "scimsync.toml:8: target.max_connections: must be between 1 and 64");
  CHECK(ErrorOf(kBase + "members_per_request = 0\n") ==
        "scimsync.toml:8: target.members_per_request: must be at least 1");
  CHECK(ErrorOf(kBase + "max_requests_per_second = -1\n") ==
        "scimsync.toml:8: target.max_requests_per_second: must be at least 0");
  CHECK(ErrorOf(kBase + "[safety]\nmax_deletion_percent = 150\n") ==
        "scimsync.toml:9: safety.max_deletion_percent: must be between 0 and 100");
  CHECK(ErrorOf(kBase + "[safety]\nmax_deletions = -1\n") ==
        "scimsync.toml:9: safety.max_deletions: must be at least 0");
  CHECK(ErrorOf("[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nbase_dn = \"dc=x\"\n"
                "page_size = 0\n[target]\nurl = \"https://x.example/scim\"\n") ==
        "scimsync.toml:5: source.page_size: must be at least 1");
  CHECK(ErrorOf(kBase + "token_file = \"token\"\n") ==
        "scimsync.toml:8: target.token_env: set only one of token_file and token_env");
  CHECK(ErrorOf("[source]\ntype = \"ldap\"\nurl = \"ldap://h\"\nbase_dn = \"dc=x\"\n"
                "bind_password_env = \"PW\"\nbind_password_file = \"pw\"\n[target]\n"
                "url = \"https://x.example/scim\"\n") ==
        "scimsync.toml:6: source.bind_password_env: set only one of bind_password_file and "
        "bind_password_env");
}

TEST_CASE("TOML syntax errors carry file and line") {
  CHECK(ErrorOf(kBase + "timeout = \n") ==
        "scimsync.toml:8: TOML syntax error: Error while parsing key-value pair: expected value, saw '\\n'");
  std::string dup = ErrorOf(kBase + "url = \"https://y\"\n");
  CHECK(dup.rfind("scimsync.toml:8: TOML syntax error: ", 0) == 0);
}

TEST_CASE("mapping: string, quoted key, nested table, dotted key") {
  Config c = Parse(kBase +
                   "[mapping]\n"
                   "userName = \"login\"\n"
                   "\"name.givenName\" = \"first\"\n"
                   "emails.work = \"mail\"\n"
                   "title = \"\"\n"
                   "[mapping.name]\n"
                   "familyName = \"last\"\n"
                   "[mapping.phoneNumbers]\n"
                   "work = \"tel\"\n");
  CHECK(c.mapping.at(Attr::kUserName).field == "login");
  CHECK(c.mapping.at(Attr::kGivenName).field == "first");
  CHECK(c.mapping.at(Attr::kFamilyName).field == "last");
  CHECK(c.mapping.at(Attr::kEmail).field == "mail");
  CHECK(c.mapping.at(Attr::kPhone).field == "tel");
  CHECK(c.mapping.at(Attr::kTitle).field.empty());  // "" unmaps
  CHECK(c.mapping.at(Attr::kDepartment).field == "department");  // default kept
}

TEST_CASE("mapping: table form") {
  Config c = Parse(kBase +
                   "[mapping]\n"
                   "userName = { field = \"mail\", transform = \"lower\" }\n"
                   "department = { constant = \"Sales\" }\n"
                   "title = { keep = true }\n"
                   "active = { constant = false }\n"
                   "[mapping.name]\n"
                   "familyName = { field = \"surname\", transform = \"upper\", keep = true }\n");
  const Mapping& m = c.mapping;
  CHECK(m.at(Attr::kUserName).field == "mail");
  CHECK(m.at(Attr::kUserName).transform == Transform::kLower);
  CHECK(m.at(Attr::kDepartment).constant == "Sales");
  CHECK(m.at(Attr::kDepartment).field.empty());
  CHECK(m.at(Attr::kTitle).field == "title");
  CHECK(m.at(Attr::kTitle).keep);
  CHECK(m.at(Attr::kActive).constant == "false");
  CHECK(m.at(Attr::kFamilyName).field == "surname");
  CHECK(m.at(Attr::kFamilyName).transform == Transform::kUpper);
  CHECK(m.at(Attr::kFamilyName).keep);
  CHECK(Parse(kBase + "[mapping]\nactive = { constant = \"No\" }\n")
            .mapping.at(Attr::kActive)
            .constant == "false");
}

TEST_CASE("mapping: the example of docs/configuration.md") {
  Config c = Parse(kBase +
                   "[mapping]\n"
                   "externalId = \"employee_number\"\n"
                   "userName = { field = \"email\", transform = \"lower\" }\n"
                   "department = { constant = \"Sales\" }\n"
                   "title = { keep = true }\n"
                   "phoneNumbers.work = \"\"\n"
                   "active = { constant = true }\n");
  const Mapping& m = c.mapping;
  CHECK(m.key_field == "employee_number");
  CHECK(m.at(Attr::kPhone).field.empty());
  CHECK(m.at(Attr::kPhone).constant.empty());
  CHECK(m.at(Attr::kActive).constant == "true");
  CHECK(m.at(Attr::kActive).field.empty());
  CHECK(m.at(Attr::kDepartment).constant == "Sales");
  CHECK(m.at(Attr::kTitle).keep);
}

TEST_CASE("mapping: externalId sets the key column") {
  Config c = Parse(kBase + "[mapping]\nexternalId = \"employee_number\"\n");
  CHECK(c.mapping.key_field == "employee_number");
  CHECK(c.source.csv.key == "employee_number");
  // The same value in both places is fine; different values are not.
  CHECK(Parse("[source]\ntype = \"csv\"\nusers = \"p.csv\"\nkey = \"id\"\n[target]\n"
              "url = \"https://x.example/scim\"\n[mapping]\nexternalId = \"id\"\n")
            .mapping.key_field == "id");
  CHECK(ErrorOf("[source]\ntype = \"csv\"\nusers = \"p.csv\"\nkey = \"id\"\n[target]\n"
                "url = \"https://x.example/scim\"\n[mapping]\nexternalId = \"emp\"\n") ==
        "scimsync.toml:8: mapping.externalId: conflicts with source.key = \"id\"");
}

TEST_CASE("mapping errors") {
  CHECK(ErrorOf(kBase + "[mapping]\nsurname = \"sn\"\n") ==
        "scimsync.toml:9: mapping.surname: unknown attribute (known: externalId, userName, "
        "name.givenName, name.familyName, displayName, emails.work, phoneNumbers.work, title, "
        "department, active)");
  CHECK(ErrorOf(kBase + "[mapping.name]\nmiddleName = \"mn\"\n").rfind(
            "scimsync.toml:9: mapping.name.middleName: unknown attribute (known: ", 0) == 0);
  CHECK(ErrorOf(kBase + "[mapping]\ntitle = { field = \"t\", constant = \"x\" }\n") ==
        "scimsync.toml:9: mapping.title: set field or constant, not both");
  CHECK(ErrorOf(kBase + "[mapping]\ntitle = { field = \"t\", transform = \"title\" }\n") ==
        "scimsync.toml:9: mapping.title.transform: must be \"none\", \"lower\" or \"upper\", "
        "not \"title\"");
  CHECK(ErrorOf(kBase + "[mapping]\ntitle = { column = \"t\" }\n") ==
        "scimsync.toml:9: mapping.title.column: unknown key (expected field, constant, "
        "transform or keep)");
  CHECK(ErrorOf(kBase + "[mapping]\ntitle = { keep = \"yes\" }\n") ==
        "scimsync.toml:9: mapping.title.keep: expected true or false");
  CHECK(ErrorOf(kBase + "[mapping]\nactive = { constant = \"maybe\" }\n") ==
        "scimsync.toml:9: mapping.active.constant: not a boolean: \"maybe\"");
  CHECK(ErrorOf(kBase + "[mapping]\ntitle = 5\n") ==
        "scimsync.toml:9: mapping.title: expected a source field name or a table {field, "
        "constant, transform, keep}");
  CHECK(ErrorOf(kBase + "[mapping]\nexternalId = \"\"\n") ==
        "scimsync.toml:9: mapping.externalId: must not be empty");
}

// --- secrets ---

TEST_CASE("ReadSecretFile: mode check, trimming, empty file") {
  TempDir dir;
  const std::string secret = "s3cr3t-token-value";
  std::string ok = dir.Write("token", secret + "\r\n", 0600);
  auto r = ReadSecretFile(ok);
  REQUIRE(r.ok());
  CHECK(*r == secret);
  CHECK(*ReadSecretFile(dir.Write("ro", secret, 0400)) == secret);

  std::string open = dir.Write("open", secret + "\n", 0644);
  auto bad = ReadSecretFile(open);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == ErrorCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        open + ": mode 0644 is readable by group or others; chmod 600 it");
  CHECK(bad.status().message().find(secret) == std::string::npos);

  std::string group_read = dir.Write("g", secret, 0640);
  CHECK(ReadSecretFile(group_read).status().message() ==
        group_read + ": mode 0640 is readable by group or others; chmod 600 it");
  std::string group_write = dir.Write("gw", secret, 0620);
  CHECK(ReadSecretFile(group_write).status().message() ==
        group_write + ": mode 0620 gives group or others access; chmod 600 it");

  std::string empty = dir.Write("empty", "\n", 0600);
  CHECK(ReadSecretFile(empty).status().message() ==
        empty + ": empty; expected the secret on one line");
  std::string two = dir.Write("two", "line1\nline2\n", 0600);
  CHECK(ReadSecretFile(two).status().message() ==
        two + ": holds more than one line; expected the secret on one line");
  std::string missing = (dir.path / "missing").string();
  CHECK(ReadSecretFile(missing).status().message() ==
        missing + ": cannot open: No such file or directory");
  CHECK(ReadSecretFile(dir.path.string()).status().message() ==
        dir.path.string() + ": not a regular file (a directory)");
}

TEST_CASE("ReadSecretFile: a FIFO is refused without waiting for a writer") {
  TempDir dir;
  std::string fifo = (dir.path / "token").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // In a child with an alarm: a read that blocks on the FIFO kills the child
  // instead of hanging the test binary.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(5);
    auto r = ReadSecretFile(fifo);
    ::_exit(!r.ok() && r.status().message() == fifo + ": not a regular file (a FIFO)" ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK_MESSAGE(WIFEXITED(status), "ReadSecretFile blocked on a FIFO (killed by the alarm)");
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("ReadSecret: file, then env, then systemd credential") {
  TempDir dir;
  std::string file = dir.Write("token", "from-file\n", 0600);
  ScopedEnv env("SCIMSYNC_TEST_TOKEN", "from-env\n");
  ScopedEnv creds("CREDENTIALS_DIRECTORY", dir.path.c_str());
  dir.Write("cred", "from-credential\n", 0400);

  CHECK(*ReadSecret(file, "SCIMSYNC_TEST_TOKEN", "cred", "target token") == "from-file");
  CHECK(*ReadSecret("", "SCIMSYNC_TEST_TOKEN", "cred", "target token") == "from-env");
  CHECK(*ReadSecret("", "", "cred", "target token") == "from-credential");
  // systemd controls access to its credentials (possibly through an ACL, which shows
  // as group bits): their mode is not checked.
  dir.Write("acl", "from-acl-credential\n", 0440);
  CHECK(*ReadSecret("", "", "acl", "target token") == "from-acl-credential");

  // Errors name the secret and where it was looked for, never its value.
  std::string open = dir.Write("open", "from-file\n", 0604);
  CHECK(ReadSecret(open, "", "token", "target token").status().message() ==
        "target token: " + open + ": mode 0604 is readable by group or others; chmod 600 it");
  CHECK(ReadSecret("", "SCIMSYNC_TEST_UNSET_VAR", "token", "target token").status().message() ==
        "target token: environment variable SCIMSYNC_TEST_UNSET_VAR is not set");
  {
    ScopedEnv empty("SCIMSYNC_TEST_EMPTY", "");
    CHECK(ReadSecret("", "SCIMSYNC_TEST_EMPTY", "token", "target token").status().message() ==
          "target token: environment variable SCIMSYNC_TEST_EMPTY is empty");
  }
  CHECK(ReadSecret("", "", "nope", "LDAP bind password").status().message() ==
        "LDAP bind password: not configured (no file or environment variable set, and no "
        "systemd credential \"nope\" in $CREDENTIALS_DIRECTORY)");
  {
    ScopedEnv no_creds("CREDENTIALS_DIRECTORY", nullptr);
    auto r = ReadSecret("", "", "token", "target token");
    CHECK(r.status().code() == ErrorCode::kInvalidArgument);
    CHECK(r.status().message() ==
          "target token: not configured (set a file or an environment variable, or pass a "
          "systemd credential \"token\")");
  }
}

TEST_CASE("target behaviours: overrides of the profile, roles") {
  auto c = ParseConfig(kBase + "profile = \"keeper\"\npush_groups = false\nlookup = \"list\"\n"
                               "page_size = 250\nrole_prefix = \"KR_\"\n",
                       "scimsync.toml");
  REQUIRE(c.ok());
  CHECK(c->target.behaviour.push_groups == false);
  CHECK(c->target.behaviour.lookup == LookupMethod::kList);
  CHECK(c->target.behaviour.page_size == 250);
  CHECK(c->target.behaviour.role_prefix == "KR_");
  CHECK(!c->target.behaviour.delete_locks);  // unset: the profile's

  c = ParseConfig(kBase + "profile = \"keeper\"\nroles = [\"Admins\", \"Auditors\"]\n",
                  "scimsync.toml");
  REQUIRE(c.ok());
  CHECK(c->target.roles == std::vector<std::string>{"Admins", "Auditors"});

  CHECK(ErrorOf(kBase + "roles = [\"Admins\"]\n") ==
        "scimsync.toml:8: target.roles: needs a role_prefix (the generic profile has none): set "
        "target.role_prefix");
  CHECK(ErrorOf(kBase + "profile = \"keeper\"\nroles = [\"A\", \" \"]\n") ==
        "scimsync.toml:9: target.roles: entry 2: must not be empty");
  CHECK(ErrorOf(kBase + "profile = \"keeper\"\nroles = [\"A\", 3]\n") ==
        "scimsync.toml:9: target.roles: entry 2: expected a string");
  CHECK(ErrorOf(kBase + "profile = \"keeper\"\nroles = \"A\"\n") ==
        "scimsync.toml:9: target.roles: expected an array of group names, such as [\"Keeper "
        "Users\"]");
  CHECK(ErrorOf(kBase + "profile = \"keeper\"\nroles = [\"A\"]\npush_groups = false\n") ==
        "scimsync.toml:9: target.roles: roles are groups, and push_groups = false pushes none");
  CHECK(ErrorOf(kBase + "lookup = \"scan\"\n") ==
        "scimsync.toml:8: target.lookup: must be \"filter\" or \"list\", not \"scan\"");
  CHECK(ErrorOf(kBase + "page_size = 0\n") ==
        "scimsync.toml:8: target.page_size: must be between 1 and 10000");
}

}  // namespace
}  // namespace scimsync

namespace scimsync {
namespace {

// The shipped examples must load (paths relative to this test file: tests/config/).
std::filesystem::path RepoRoot() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

TEST_CASE("examples/demo/scimsync.toml and examples/scimsync.toml load") {
  std::filesystem::path demo = RepoRoot() / "examples/demo/scimsync.toml";
  auto c = LoadConfig(demo.string());
  INFO(c.status().message());
  REQUIRE(c.ok());
  // Resolved paths are absolute; __FILE__ may be relative (ccache base_dir, -ffile-prefix-map).
  std::filesystem::path dir = std::filesystem::absolute(demo.parent_path());
  CHECK(c->source.csv.users == (dir / "people.csv").lexically_normal().string());
  CHECK(c->source.csv.groups == (dir / "groups.csv").lexically_normal().string());
  CHECK(c->state == (dir / "demo-state.db").lexically_normal().string());
  CHECK(c->target.url == "http://127.0.0.1:8099/scim/v2");
  CHECK(c->target.token_env == "SCIMSYNC_TOKEN");

  auto prod = LoadConfig((RepoRoot() / "examples/scimsync.toml").string());
  INFO(prod.status().message());
  REQUIRE(prod.ok());
  CHECK(prod->mapping.at(Attr::kUserName).field == "email");
  CHECK(prod->mapping.at(Attr::kUserName).transform == Transform::kLower);
  CHECK(prod->mapping.at(Attr::kTitle).keep);
  CHECK(prod->safety.max_deletions == 50);
}

TEST_CASE("every secret read is registered for redaction: file, env, credential") {
  TempDir dir;
  // Unlike the other tests' secrets: the registry is process-wide.
  const std::string from_file = "zq7-file-secret";
  const std::string from_env = "zq7-env-secret";
  const std::string from_cred = "zq7-credential-secret";
  for (const auto& s : {from_file, from_env, from_cred}) CHECK(Redact(s) == s);

  std::string file = dir.Write("token", from_file + "\n", 0600);
  ScopedEnv env("SCIMSYNC_TEST_REDACT", from_env.c_str());
  ScopedEnv creds("CREDENTIALS_DIRECTORY", dir.path.c_str());
  dir.Write("ldap_password", from_cred + "\n", 0400);
  REQUIRE(ReadSecret(file, "", "token", "target token").ok());
  REQUIRE(ReadSecret("", "SCIMSYNC_TEST_REDACT", "token", "target token").ok());
  REQUIRE(ReadSecret("", "", "ldap_password", "LDAP bind password").ok());

  for (const auto& s : {from_file, from_env, from_cred}) {
    CHECK(Redact("401: bad credential " + s) == "401: bad credential [REDACTED]");
  }
  // A file that is refused registers nothing.
  std::string open = dir.Write("open", "zq7-not-read\n", 0644);
  CHECK(!ReadSecretFile(open).ok());
  CHECK(Redact("zq7-not-read") == "zq7-not-read");
}

}  // namespace
}  // namespace scimsync
