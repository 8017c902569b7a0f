// reconcile_read: times one Target::ReadSnapshot (the reconciling read of DESIGN §12:
// every user and every group with members) against a running SCIM server, through
// the real CurlHttpClient and ScimTarget. bench/reconcile_read_bench.sh runs it
// beside a plain paged read with curl of the same server.
//
//   reconcile_read URL TOKEN [PAGE_SIZE] [members_per_group]
//
// Prints: users=<n> groups=<n> memberships=<n> seconds=<s>; exit 1 if the read failed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "connectors/scim/curl_http_client.h"
#include "connectors/scim/scim_target.h"
#include "core/log.h"

using namespace scimsync;

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: reconcile_read URL TOKEN [PAGE_SIZE] [members_per_group]\n");
    return 2;
  }
  Log().SetMinLevel(LogLevel::kWarn);
  HttpClientOptions http_options;
  http_options.bearer_token = argv[2];
  http_options.max_connections = 1;  // a paged read is sequential
  http_options.user_agent = "scimsync-bench";
  ScimTargetOptions target_options;
  target_options.base_url = argv[1];
  SnapshotOptions snapshot_options;
  if (argc >= 4) snapshot_options.page_size = std::atoi(argv[3]);
  snapshot_options.members_per_group = argc == 5 && std::string(argv[4]) == "members_per_group";

  CurlHttpClient http(http_options);
  ScimTarget target(http, target_options, SystemClock::Instance());
  const auto t0 = std::chrono::steady_clock::now();
  Result<TargetSnapshot> snap = target.ReadSnapshot(snapshot_options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!snap.ok()) {
    std::fprintf(stderr, "reconcile_read: %s\n", snap.status().ToString().c_str());
    return 1;
  }
  long memberships = 0;
  for (const RemoteGroup& g : snap->groups) memberships += static_cast<long>(g.member_ids.size());
  std::printf("users=%zu groups=%zu memberships=%ld requests=%ld seconds=%.3f\n",
              snap->users.size(), snap->groups.size(), memberships, target.RequestCount(), seconds);
  return 0;
}
