#include "daemon/keepnet_config_text.h"

#include <filesystem>

#include "core/text.h"

namespace scimsync {
namespace {

// The template written without --source: every line a comment, so the file says
// what to fill in and `check` names the missing [source] until it is.
constexpr char kSourceTemplate[] = R"(# --- source: fill in one of these (docs/configuration.md), then run
#     scimsync --config THIS_FILE check
# [source]
# type = "csv"                      # an HR export: one row per person
# users = "/srv/hr/people.csv"
# groups = "/srv/hr/groups.csv"     # optional: columns group,member
#
# [source]
# type = "ldap"                     # or Active Directory: dialect = "ad"
# url = "ldaps://ldap.example.com"
# bind_dn = "cn=scimsync,ou=services,dc=example,dc=com"
# base_dn = "dc=example,dc=com"
)";

std::string TomlString(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);  // a JSON string's escapes are all valid in a TOML basic string
  return out;
}

}  // namespace

std::string OnboardConfigText(const OnboardConfigInput& in) {
  std::string out;
  out += "# scimsync for the Keepnet company " + TomlString(in.company_name) + " (resourceId " +
         in.company_id + "),\n";
  out += "# SCIM integration " + TomlString(in.scim_name) +
         ". Written by `scimsync keepnet onboard`; docs/keepnet.md.\n\n";
  if (in.source_text.empty()) {
    out += kSourceTemplate;
  } else {
    out += in.source_text;
    if (out.back() != '\n') out += '\n';
  }
  out += "\n[target]\n";
  out += "url = " + TomlString(in.base_url) + "\n";
  out += "profile = \"keepnet\"\n";
  if (in.systemd_credential) {
    out += "# The SCIM token is in " + in.token_file_name +
           " next to this file (mode 0600). The scimsync@ unit passes it as\n"
           "# the systemd credential \"token\" (LoadCredential=token:/etc/scimsync/%i-token), which\n"
           "# scimsync reads when token_file and token_env are unset.\n";
  } else {
    out += "token_file = " + TomlString(in.token_file_name) +
           "   # the SCIM token, mode 0600; Keepnet shows it only once\n";
  }
  return out;
}

std::string TokenPathFor(const std::string& config_path) {
  std::filesystem::path p(config_path);
  return (p.parent_path() / (p.stem().string() + "-token")).string();
}

}  // namespace scimsync
