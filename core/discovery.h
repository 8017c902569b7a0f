// Discovery (RFC 7643 §5): what a target says about itself in
// GET {base}/ServiceProviderConfig, and how `scimsync check` weighs it against the
// effective target behaviours (core/target_profile.h).
//
// Discovery is a hint, never a setting: what a server advertises and what it does
// differ (SCIMMY advertises filter.maxResults 200 and pages at 20), so the profile
// and the [target] keys decide what scimsync sends, and `check` only says where
// the target contradicts them (docs/targets.md, "Discovery").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/target_profile.h"

namespace scimsync {

struct Discovery {
  enum class Outcome {
    kServed,     // a ServiceProviderConfig was read (fields below)
    kNotServed,  // 404 or 501: the target does not serve discovery
    kFailed,     // any other answer, or a body that is no ServiceProviderConfig
  };
  Outcome outcome = Outcome::kFailed;
  std::string detail;  // kNotServed / kFailed: the HTTP summary or why the body is unusable

  // "supported" of each capability; nullopt when the target leaves it out or sends
  // something that is not a boolean (then `odd` says so).
  std::optional<bool> filter, patch, etag, bulk, sort;
  std::optional<long> filter_max_results;   // nullopt: absent or not a number
  std::optional<long> bulk_max_operations;
  std::vector<std::string> odd;  // fields ignored for their type: "filter.maxResults is a string"
};

// One line of `check` output: "ok    <text>" or "warn  <text>".
struct DiscoveryLine {
  bool warn = false;
  std::string text;
};

// What `check` prints for a discovery against the effective behaviours:
//   * served: one ok line summarising filter (with maxResults), patch, etag, bulk
//     (with maxOperations) and sort ("?" for what the target leaves out), then a
//     warn line per odd field, then a warn line per configured value the target
//     contradicts, each naming the effective value and where it comes from:
//       - page_size above filter.maxResults;
//       - patch.supported false (scimsync changes objects with PATCH only);
//       - filter.supported false while lookup = "filter";
//   * not served: one ok line saying so (the profile's values apply unchecked);
//   * failed: one warn line with the reason.
std::vector<DiscoveryLine> WeighDiscovery(const Discovery& discovery, const EffectiveTarget& target);

}  // namespace scimsync
