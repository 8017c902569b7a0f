// The `scimsync keepnet ...` subcommands (DESIGN §9), kept apart from cli.cc so the
// Keepnet flags live next to the command they feed (keepnet_onboard.h).
#pragma once

#include <memory>

#include "daemon/keepnet_onboard.h"

namespace CLI {
class App;
}

namespace scimsync {

struct KeepnetCli {
  CLI::App* keepnet = nullptr;
  CLI::App* onboard = nullptr;
  OnboardOptions onboard_options;
};

// Adds `keepnet onboard` and its flags to `app`.
std::unique_ptr<KeepnetCli> AddKeepnetCommands(CLI::App& app);

// After parsing: the exit code of the keepnet command that ran, or -1 if none did.
int RunKeepnetCommand(const KeepnetCli& cli);

}  // namespace scimsync
