#include "connectors/ldap/ldap_source.h"

#include <chrono>
#include <utility>

#include "connectors/ldap/ldap_range.h"
#include "core/log.h"
#include "core/text.h"

namespace scimsync {
namespace {

constexpr const char* kOpenLdapUserFilter = "(objectClass=inetOrgPerson)";
constexpr const char* kOpenLdapGroupFilter =
    "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))";
constexpr const char* kAdUserFilter = "(&(objectCategory=person)(objectClass=user))";
constexpr const char* kAdGroupFilter = "(objectClass=group)";

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (EqualsIgnoreCase(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

// AD answers a subtree search at the domain root with continuation references to its
// application partitions. They hold DNS records and configuration, never people, so
// skipping them loses nothing; any other referral might hold people and fails the read.
bool IsAdNonPeoplePartition(const std::vector<std::string>& urls) {
  if (urls.empty()) return false;
  for (const auto& u : urls) {
    if (!ContainsNoCase(u, "DC=DomainDnsZones") && !ContainsNoCase(u, "DC=ForestDnsZones") &&
        !ContainsNoCase(u, "CN=Configuration")) {
      return false;
    }
  }
  return true;
}

DirectoryBuildOptions MakeBuildOptions(const LdapSourceOptions& o) {
  DirectoryBuildOptions b;
  const bool ad = o.dialect == LdapServerDialect::kAd;
  b.mapping = o.mapping;
  b.ad = ad;
  if (!o.group_key_attr.empty()) {
    b.group_key_attr = o.group_key_attr;
  } else if (EqualsIgnoreCase(o.mapping.key_field, "entryUUID") ||
             EqualsIgnoreCase(o.mapping.key_field, "objectGUID") ||
             EqualsIgnoreCase(o.mapping.key_field, "nsUniqueId")) {
    b.group_key_attr = o.mapping.key_field;
  } else {
    b.group_key_attr = ad ? "objectGUID" : "entryUUID";
  }
  b.group_name_attr = o.group_name_attr.empty() ? "cn" : o.group_name_attr;
  b.member_dn_attrs.clear();
  b.member_uid_attrs.clear();
  if (!o.member_attr.empty()) {
    if (EqualsIgnoreCase(o.member_attr, "memberUid")) {
      b.member_uid_attrs = {o.member_attr};
    } else {
      b.member_dn_attrs = {o.member_attr};
    }
  } else if (o.member_of_attr.empty()) {
    if (ad) {
      b.member_dn_attrs = {"member"};
    } else {
      b.member_dn_attrs = {"member", "uniqueMember"};
      b.member_uid_attrs = {"memberUid"};
    }
  }
  b.member_of_attr = o.member_of_attr;
  b.flatten_nested = o.flatten_nested;
  return b;
}

}  // namespace

LdapSource::LdapSource(LdapSourceOptions options) : options_(std::move(options)) {
  const bool ad = options_.dialect == LdapServerDialect::kAd;
  user_filter_ = !options_.user_filter.empty() ? options_.user_filter
                                               : (ad ? kAdUserFilter : kOpenLdapUserFilter);
  group_filter_ = !options_.group_filter.empty() ? options_.group_filter
                                                 : (ad ? kAdGroupFilter : kOpenLdapGroupFilter);
  build_ = MakeBuildOptions(options_);
}

LdapConnOptions LdapSource::ConnOptions() const {
  LdapConnOptions c;
  c.uris = options_.uris;
  c.start_tls = options_.start_tls;
  c.ca_file = options_.ca_file;
  c.bind_dn = options_.bind_dn;
  c.bind_password = options_.bind_password;
  c.timeout = options_.timeout;
  return c;
}

LdapSearch LdapSource::UserSearch() const {
  LdapSearch s;
  s.base = options_.user_base;
  s.scope = options_.user_scope;
  s.filter = user_filter_;
  s.attrs = UserSearchAttrs(build_);
  s.page_size = options_.page_size;
  if (build_.ad) s.accept_reference = IsAdNonPeoplePartition;
  return s;
}

LdapSearch LdapSource::GroupSearch() const {
  LdapSearch s;
  s.base = options_.group_base;
  s.scope = LdapSearchScope::kSub;
  s.filter = group_filter_;
  s.attrs = GroupSearchAttrs(build_);
  s.page_size = options_.page_size;
  if (build_.ad) s.accept_reference = IsAdNonPeoplePartition;
  return s;
}

Status LdapSource::CompleteRanges(LdapConn& conn, std::vector<LdapEntry>& groups) const {
  for (LdapEntry& e : groups) {
    for (std::size_t ai = 0; ai < e.attrs.size(); ++ai) {
      auto first = ParseRangeAttr(e.attrs[ai].name);
      if (!first) continue;
      RangeCursor cursor(first->base);
      Status s = cursor.Add(*first);
      if (!s.ok()) return Status(s.code(), e.dn + ": " + s.message());
      std::vector<std::string> values = std::move(e.attrs[ai].values);
      while (!cursor.done()) {
        LdapSearch q;
        q.base = e.dn;
        q.scope = LdapSearchScope::kBase;
        q.filter = "(objectClass=*)";
        q.attrs = {cursor.NextRequest()};
        q.page_size = 0;
        bool got = false;
        auto r = conn.Search(q, [&](LdapEntry&& chunk) -> Status {
          for (LdapAttribute& a : chunk.attrs) {
            auto range = ParseRangeAttr(a.name);
            if (!range || !EqualsIgnoreCase(range->base, first->base)) continue;
            Status st = cursor.Add(*range);
            if (!st.ok()) return st;
            for (auto& v : a.values) values.push_back(std::move(v));
            got = true;
          }
          return Status::Ok();
        });
        if (!r.ok()) return Status(r.status().code(), e.dn + ": " + r.status().message());
        if (!got) {
          return Status(ErrorCode::kParse, e.dn + ": range retrieval of " + first->base +
                                               ": the server sent no values for " +
                                               q.attrs[0]);
        }
      }
      LogDebug("ldap_range_retrieved", {{"group", e.dn},
                                        {"attribute", first->base},
                                        {"values", values.size()}});
      e.attrs[ai].name = first->base;
      e.attrs[ai].values = std::move(values);
    }
  }
  return Status::Ok();
}

Result<Directory> LdapSource::Read() {
  const auto start = std::chrono::steady_clock::now();
  auto conn = LdapConn::Connect(ConnOptions());
  if (!conn.ok()) return conn.status();
  DirectoryBuildOptions build = build_;
  build.now = options_.clock != nullptr ? options_.clock->Now() : std::chrono::system_clock::now();
  DirectoryBuilder builder(std::move(build));
  // Users are mapped as they arrive, while the server prepares the next page.
  auto us = (*conn)->Search(UserSearch(), [&](LdapEntry&& e) { return builder.AddUser(std::move(e)); });
  if (!us.ok()) return us.status();
  LdapSearchStats gs;
  if (!options_.group_base.empty()) {
    std::vector<LdapEntry> groups;
    auto r = (*conn)->Search(GroupSearch(), [&](LdapEntry&& e) {
      groups.push_back(std::move(e));
      return Status::Ok();
    });
    if (!r.ok()) return r.status();
    gs = *r;
    Status s = CompleteRanges(**conn, groups);
    if (!s.ok()) return s;
    for (LdapEntry& g : groups) {
      s = builder.AddGroup(std::move(g));
      if (!s.ok()) return s;
    }
  }
  auto dir = builder.Finish();
  if (!dir.ok()) return dir.status();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  LogInfo("ldap_read", {{"uri", (*conn)->uri()},
                        {"user_entries", us->entries},
                        {"group_entries", gs.entries},
                        {"users", dir->users.size()},
                        {"groups", dir->groups.size()},
                        {"pages", us->pages + gs.pages},
                        {"duration_ms", ms}});
  return dir;
}

Result<std::string> LdapSource::Probe() {
  auto conn = LdapConn::Connect(ConnOptions());
  if (!conn.ok()) return conn.status();
  std::string out = "bind ok as " + (*conn)->WhoAmI();
  auto count = [](std::size_t* n) {
    return [n](LdapEntry&&) {
      ++*n;
      return Status::Ok();
    };
  };
  std::size_t users = 0, groups = 0;
  LdapSearch us = UserSearch();
  us.probe_limit = 1;
  us.page_size = 0;
  auto r = (*conn)->Search(us, count(&users));
  if (!r.ok()) return r.status();
  out += users > 0 ? ", users found" : ", no users found";
  if (!options_.group_base.empty()) {
    LdapSearch gq = GroupSearch();
    gq.probe_limit = 1;
    gq.page_size = 0;
    auto g = (*conn)->Search(gq, count(&groups));
    if (!g.ok()) return g.status();
    out += groups > 0 ? ", groups found" : ", no groups found";
  }
  return out;
}

std::string LdapSource::Describe() const {
  std::string d = "ldap:";
  for (std::size_t i = 0; i < options_.uris.size(); ++i) {
    if (i) d += ' ';
    d += options_.uris[i];
  }
  if (options_.start_tls) d += " (starttls)";
  return d;
}

}  // namespace scimsync
