// scimsync: keeps a SCIM 2.0 target in step with an LDAP directory or a CSV export.
#include <cstdio>
#include <exception>

#include "core/redact.h"
#include "daemon/cli.h"

int main(int argc, char** argv) {
  try {
    return scimsync::RunCli(argc, argv);
  } catch (const std::exception& e) {
    // Last resort: every adapter turns its exceptions into Status values.
    std::fprintf(stderr, "level=error event=internal_error error=\"%s\"\n",
                 scimsync::Redact(e.what()).c_str());
    return 3;
  }
}
