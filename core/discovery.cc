#include "core/discovery.h"

#include <string>

namespace scimsync {
namespace {

std::string YesNo(const std::optional<bool>& b) { return !b ? "?" : *b ? "yes" : "no"; }

// "filter yes (maxResults 200)": a capability and its limit, when it has one.
std::string Capability(const char* name, const std::optional<bool>& supported,
                       const char* limit_name, const std::optional<long>& limit) {
  std::string s = std::string(name) + " " + YesNo(supported);
  if (limit_name && limit) s += " (" + std::string(limit_name) + " " + std::to_string(*limit) + ")";
  return s;
}

// "target.page_size = 1000 (keeper)": the effective value and where it comes from.
std::string Effective(const EffectiveTarget& target, const std::string& key) {
  for (const BehaviourLine& l : target.lines) {
    if (l.key == key) return "target." + key + " = " + l.value + " (" + l.origin + ")";
  }
  return "target." + key;
}

}  // namespace

std::vector<DiscoveryLine> WeighDiscovery(const Discovery& d, const EffectiveTarget& target) {
  std::vector<DiscoveryLine> out;
  switch (d.outcome) {
    case Discovery::Outcome::kNotServed:
      out.push_back({false, "target does not serve /ServiceProviderConfig (" + d.detail +
                                "): the profile's values apply unchecked"});
      return out;
    case Discovery::Outcome::kFailed:
      out.push_back({true, "target /ServiceProviderConfig unreadable (" + d.detail +
                               "): the profile's values apply unchecked"});
      return out;
    case Discovery::Outcome::kServed:
      break;
  }
  out.push_back({false, "target /ServiceProviderConfig: " +
                            Capability("filter", d.filter, "maxResults", d.filter_max_results) +
                            ", " + Capability("patch", d.patch, nullptr, std::nullopt) + ", " +
                            Capability("etag", d.etag, nullptr, std::nullopt) + ", " +
                            Capability("bulk", d.bulk, "maxOperations", d.bulk_max_operations) +
                            ", " + Capability("sort", d.sort, nullptr, std::nullopt)});
  for (const std::string& o : d.odd) {
    out.push_back({true, "target /ServiceProviderConfig: " + o + "; ignored"});
  }

  const TargetBehaviour& b = target.behaviour;
  // A maxResults of 0 with filter unsupported says nothing about list pages.
  if (d.filter_max_results && *d.filter_max_results > 0 && b.page_size > *d.filter_max_results) {
    const std::string cap = std::to_string(*d.filter_max_results);
    out.push_back({true, Effective(target, "page_size") +
                             " is above the target's filter.maxResults of " + cap +
                             ": expect pages of at most " + cap +
                             " (scimsync reads what comes); set page_size = " + cap +
                             " to ask for what it serves"});
  }
  if (d.patch && !*d.patch) {
    out.push_back({true, "the target says patch.supported = false: scimsync changes users and "
                         "groups with PATCH only, so updates, disables, renames and memberships "
                         "will fail"});
  }
  if (d.filter && !*d.filter && b.lookup == LookupMethod::kFilter) {
    out.push_back({true, Effective(target, "lookup") +
                             " but the target says filter.supported = false: set "
                             "lookup = \"list\" to find objects by listing"});
  }
  return out;
}

}  // namespace scimsync
