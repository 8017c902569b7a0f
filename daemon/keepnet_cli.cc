#include "daemon/keepnet_cli.h"

#include <CLI/CLI.hpp>

#include "connectors/keepnet/keepnet_client.h"

namespace scimsync {

std::unique_ptr<KeepnetCli> AddKeepnetCommands(CLI::App& app) {
  auto cli = std::make_unique<KeepnetCli>();
  OnboardOptions& o = cli->onboard_options;
  o.api_url = std::string(kKeepnetDefaultApi);
  cli->keepnet = app.add_subcommand("keepnet", "Keepnet Labs reseller tasks");
  cli->keepnet->require_subcommand(1);
  CLI::App* on = cli->keepnet->add_subcommand(
      "onboard", "set up a customer: company, SCIM integration, optional DEC, and a scimsync config");
  cli->onboard = on;
  on->add_option("--credentials", o.credentials_file,
                 "file holding CLIENT_ID:CLIENT_SECRET of a Reseller REST API client (mode 0600; "
                 "default: $CREDENTIALS_DIRECTORY/keepnet)");
  on->add_option("--api", o.api_url, "Keepnet API base URL")->capture_default_str();
  auto* cid = on->add_option("--company-id", o.company_id, "an existing company's resourceId");
  auto* nc = on->add_option("--new-company", o.new_company_file,
                            "TOML file with the company's fields (created unless one has its Name)");
  cid->excludes(nc);
  nc->excludes(cid);
  on->add_option("--scim-name", o.scim_name, "name of the SCIM integration (at most 30 characters)")
      ->capture_default_str();
  on->add_option("--group", o.group_id, "resourceId of the Keepnet target group new users join");
  on->add_option("--map", o.field_maps,
                 "KEEPNET_FIELD=SCIM_ATTRIBUTE field mapping (repeatable; names from GET /api/scim/fields)");
  on->add_option("--dec", o.dec_file,
                 "TOML file of a Direct Email Creation setting: created, tested, made default if the test passes");
  on->add_option("--out", o.out, "the scimsync config to write; the token goes to <dir>/<stem>-token")
      ->required();
  on->add_option("--source", o.source_file, "TOML file with the [source] section for the config");
  on->add_flag("--force", o.force, "replace the config and token files if they exist");
  on->add_flag("--systemd", o.systemd_credential,
               "for scimsync@NAME: leave token_file out; the unit passes <stem>-token as its credential");
  return cli;
}

int RunKeepnetCommand(const KeepnetCli& cli) {
  if (cli.onboard != nullptr && cli.onboard->parsed()) return KeepnetOnboard(cli.onboard_options);
  return -1;
}

}  // namespace scimsync
