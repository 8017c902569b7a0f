// ldap_read: reads a directory through LdapSource (the same code path as a sync) and
// prints what it read and how long it took. Used by bench/ldap_bench.sh to compare
// with `ldapsearch -E pr=500/noprompt`, and handy for trying a configuration by hand.
//
//   ldap_read --url ldap://127.0.0.1:3890 --base dc=example,dc=org
//             [--bind-dn DN --password-env VAR | --password-file FILE] [--group-base DN]
//             [--user-filter F] [--group-filter F] [--page-size N] [--dialect openldap|ad]
//             [--start-tls] [--ca-file FILE] [--flatten] [--member-of ATTR] [--print]
//             [--probe] [--timeout-ms N]
//
// Output (stdout): with --print one line per user "<key> <userName>" and per group
// "group <key> <displayName> <members>", then always
// "users=<n> groups=<n> memberships=<n> seconds=<s>". Exit 0 on success, 1 on a read
// error (the message on stderr), 2 on bad arguments.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "connectors/ldap/ldap_source.h"
#include "core/log.h"

namespace {

int Usage(const std::string& why) {
  std::cerr << "ldap_read: " << why << "\n"
            << "usage: ldap_read --url URI[,URI] --base DN [--group-base DN] [--bind-dn DN "
               "--password-env VAR|--password-file FILE] [--page-size N] [--dialect "
               "openldap|ad] [--start-tls] [--ca-file F] [--flatten] [--member-of ATTR] "
               "[--user-filter F] [--group-filter F] [--print] [--probe] [--timeout-ms N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using scimsync::LdapSourceOptions;
  LdapSourceOptions o;
  bool print = false, probe = false;
  std::string url, password_env, password_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::exit(Usage(a + " needs a value"));
      }
      return argv[++i];
    };
    if (a == "--url") url = next();
    else if (a == "--base") o.user_base = next();
    else if (a == "--group-base") o.group_base = next();
    else if (a == "--bind-dn") o.bind_dn = next();
    else if (a == "--password-env") password_env = next();
    else if (a == "--password-file") password_file = next();
    else if (a == "--user-filter") o.user_filter = next();
    else if (a == "--group-filter") o.group_filter = next();
    else if (a == "--page-size") o.page_size = std::atoi(next().c_str());
    else if (a == "--timeout-ms") o.timeout = std::chrono::milliseconds(std::atol(next().c_str()));
    else if (a == "--ca-file") o.ca_file = next();
    else if (a == "--member-of") o.member_of_attr = next();
    else if (a == "--start-tls") o.start_tls = true;
    else if (a == "--flatten") o.flatten_nested = true;
    else if (a == "--print") print = true;
    else if (a == "--probe") probe = true;
    else if (a == "--dialect") {
      std::string d = next();
      if (d == "ad") {
        o.dialect = scimsync::LdapServerDialect::kAd;
        o.mapping = scimsync::Mapping::AdDefaults();
      } else if (d != "openldap") {
        return Usage("unknown dialect " + d);
      }
    } else {
      return Usage("unknown argument " + a);
    }
  }
  if (url.empty() || o.user_base.empty()) return Usage("--url and --base are required");
  std::string cur;
  for (char c : url + ",") {
    if (c == ',' || c == ' ') {
      if (!cur.empty()) o.uris.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!password_env.empty()) {
    const char* v = std::getenv(password_env.c_str());
    if (v == nullptr) return Usage("environment variable " + password_env + " is not set");
    o.bind_password = v;
  } else if (!password_file.empty()) {
    std::ifstream f(password_file);
    if (!f) return Usage("cannot read " + password_file);
    std::getline(f, o.bind_password);
  }
  scimsync::Log().SetMinLevel(scimsync::LogLevel::kWarn);

  scimsync::LdapSource source(std::move(o));
  const auto start = std::chrono::steady_clock::now();
  if (probe) {
    auto r = source.Probe();
    if (!r.ok()) {
      std::cerr << "ldap_read: " << r.status().ToString() << "\n";
      return 1;
    }
    std::cout << *r << "\n";
    return 0;
  }
  auto dir = source.Read();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!dir.ok()) {
    std::cerr << "ldap_read: " << dir.status().ToString() << "\n";
    return 1;
  }
  std::size_t memberships = 0;
  for (const auto& g : dir->groups) memberships += g.members.size();
  if (print) {
    for (const auto& u : dir->users) {
      std::cout << u.key << " " << u.Get(scimsync::Attr::kUserName) << "\n";
    }
    for (const auto& g : dir->groups) {
      std::cout << "group " << g.key << " " << g.display_name << " " << g.members.size() << "\n";
    }
  }
  std::printf("users=%zu groups=%zu memberships=%zu seconds=%.3f\n", dir->users.size(),
              dir->groups.size(), memberships, seconds);
  return 0;
}
