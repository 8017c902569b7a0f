// The command line (DESIGN §9): plan, sync, daemon, status, check. Parses the
// arguments with CLI11, loads the config, sets up logging and returns the exit code:
// 0 ok, 1 partial, 2 usage or configuration error, 3 stopped, 4 locked.
#pragma once

namespace scimsync {

int RunCli(int argc, char** argv);

}  // namespace scimsync
