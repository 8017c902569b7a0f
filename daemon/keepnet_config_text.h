// The scimsync config that `scimsync keepnet onboard --out FILE` writes for one
// Keepnet customer. Pure: text in, text out; the command writes the files.
//
// Layout: a header comment naming the company, then the --source file's text as
// it was written (comments kept) or, without one, a commented [source] template,
// then the [target] table:
//   url = the SCIM setting's baseUrl
//   profile = "keepnet"
//   token_file = "<stem>-token"      (the token next to the config, mode 0600)
// With `systemd_credential` token_file is left out and a comment says that the
// scimsync@<stem> unit passes that same file as the credential "token"
// (LoadCredential=token:/etc/scimsync/%i-token): the service's dynamic user cannot
// read a root-owned 0600 file itself (docs/systemd.md).
#pragma once

#include <string>

namespace scimsync {

struct OnboardConfigInput {
  std::string company_name;
  std::string company_id;
  std::string scim_name;
  std::string base_url;
  std::string token_file_name;  // "acme-token": relative to the config's directory
  std::string source_text;      // empty: the commented template
  bool systemd_credential = false;
};

std::string OnboardConfigText(const OnboardConfigInput& in);

// "<dir>/<stem>-token" for "<dir>/<stem>.toml" (any extension): the path the
// scimsync@<stem> unit loads the token from when <dir> is /etc/scimsync.
std::string TokenPathFor(const std::string& config_path);

}  // namespace scimsync
