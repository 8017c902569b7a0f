#include "daemon/ldap_config.h"

#include "config/config_loader.h"
#include "core/text.h"

namespace scimsync {
namespace {

std::vector<std::string> SplitUris(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == ',' || c == '\t' || c == '\n') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

LdapSearchScope ScopeOf(LdapScope s) {
  switch (s) {
    case LdapScope::kBase: return LdapSearchScope::kBase;
    case LdapScope::kOne: return LdapSearchScope::kOne;
    case LdapScope::kSub: return LdapSearchScope::kSub;
  }
  return LdapSearchScope::kSub;
}

}  // namespace

Result<LdapSourceOptions> ToLdapOptions(const Config& config) {
  const LdapSourceConfig& c = config.source.ldap;
  LdapSourceOptions o;
  o.uris = SplitUris(c.url);
  if (o.uris.empty()) return Status(ErrorCode::kInvalidArgument, "source.url: no LDAP URI");
  for (const auto& u : o.uris) {
    std::string lower = FoldCase(u.substr(0, 8));
    if (lower.rfind("ldap://", 0) != 0 && lower.rfind("ldaps://", 0) != 0 &&
        lower.rfind("ldapi://", 0) != 0) {
      return Status(ErrorCode::kInvalidArgument,
                    "source.url: \"" + u + "\" is not an ldap://, ldaps:// or ldapi:// URI");
    }
  }
  o.start_tls = c.start_tls;
  o.ca_file = c.ca_file;
  o.bind_dn = c.bind_dn;
  if (!c.bind_dn.empty()) {
    auto pw = ReadSecret(c.bind_password_file, c.bind_password_env, "ldap_password",
                         "LDAP bind password");
    if (!pw.ok()) return pw.status();
    o.bind_password = std::move(*pw);
  }
  o.user_base = c.user_base.empty() ? c.base_dn : c.user_base;
  o.group_base = c.group_base.empty() ? c.base_dn : c.group_base;
  o.user_filter = c.user_filter;
  o.group_filter = c.group_filter;
  o.user_scope = ScopeOf(c.user_scope);
  o.page_size = c.page_size;
  o.dialect = c.dialect == LdapDialect::kAd ? LdapServerDialect::kAd : LdapServerDialect::kOpenLdap;
  o.flatten_nested = c.flatten_nested;
  o.timeout = c.timeout;
  o.group_name_attr = c.group_name_attr;
  o.member_attr = c.member_attr;
  o.member_of_attr = c.member_of_attr;
  o.mapping = config.mapping;
  if (o.mapping.key_field.empty()) {
    o.mapping.key_field = !c.key.empty() ? c.key
                          : o.dialect == LdapServerDialect::kAd ? "objectGUID" : "entryUUID";
  }
  return o;
}

}  // namespace scimsync
