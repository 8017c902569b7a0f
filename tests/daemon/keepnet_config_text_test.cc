// The config `keepnet onboard` writes: exact text, and that it loads.
#include "daemon/keepnet_config_text.h"

#include <doctest/doctest.h>

#include "config/config_loader.h"

namespace scimsync {
namespace {

OnboardConfigInput Input() {
  OnboardConfigInput in;
  in.company_name = "Acme \"Corp\"";
  in.company_id = "xC5kfGz7w2Nz";
  in.scim_name = "scimsync";
  in.base_url = "https://api.keepnetlabs.com/scim/v2/abc";
  in.token_file_name = "acme-token";
  in.source_text = "[source]\ntype = \"csv\"    # HR export\nusers = \"/srv/hr/people.csv\"";
  return in;
}

TEST_CASE("OnboardConfigText: header, the source as written, [target] with token_file") {
  CHECK(OnboardConfigText(Input()) ==
        "# scimsync for the Keepnet company \"Acme \\\"Corp\\\"\" (resourceId xC5kfGz7w2Nz),\n"
        "# SCIM integration \"scimsync\". Written by `scimsync keepnet onboard`; docs/keepnet.md.\n"
        "\n"
        "[source]\n"
        "type = \"csv\"    # HR export\n"
        "users = \"/srv/hr/people.csv\"\n"
        "\n"
        "[target]\n"
        "url = \"https://api.keepnetlabs.com/scim/v2/abc\"\n"
        "profile = \"keepnet\"\n"
        "token_file = \"acme-token\"   # the SCIM token, mode 0600; Keepnet shows it only once\n");
  auto c = ParseConfig(OnboardConfigText(Input()), "/etc/scimsync/acme.toml");
  REQUIRE(c.ok());
  CHECK(c->target.url == "https://api.keepnetlabs.com/scim/v2/abc");
  CHECK(c->target.token_file == "/etc/scimsync/acme-token");
  CHECK(c->target.profile == TargetProfile::kKeepnet);
}

TEST_CASE("OnboardConfigText: --systemd leaves token_file out; no --source writes a template") {
  OnboardConfigInput in = Input();
  in.systemd_credential = true;
  std::string text = OnboardConfigText(in);
  CHECK(text.find("token_file =") == std::string::npos);
  CHECK(text.find("LoadCredential=token:/etc/scimsync/%i-token") != std::string::npos);
  auto c = ParseConfig(text, "/etc/scimsync/acme.toml");
  REQUIRE(c.ok());
  CHECK(c->target.token_file.empty());
  CHECK(c->target.token_env.empty());

  in.source_text.clear();
  text = OnboardConfigText(in);
  CHECK(text.find("\n# [source]\n# type = \"csv\"") != std::string::npos);
  // Until the template is filled in, the config says what is missing.
  CHECK(ParseConfig(text, "acme.toml").status().message() == "acme.toml:1: source.type: missing required key");
}

TEST_CASE("TokenPathFor: <dir>/<stem>-token, as the scimsync@ unit loads it") {
  CHECK(TokenPathFor("/etc/scimsync/acme.toml") == "/etc/scimsync/acme-token");
  CHECK(TokenPathFor("acme.toml") == "acme-token");
  CHECK(TokenPathFor("/x/acme.conf") == "/x/acme-token");
}

}  // namespace
}  // namespace scimsync
