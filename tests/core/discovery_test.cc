// WeighDiscovery: what `check` prints for a target's ServiceProviderConfig, word
// for word, against the effective behaviours of a profile.
#include "core/discovery.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace scimsync {
namespace {

std::vector<std::string> Lines(const Discovery& d, const EffectiveTarget& e) {
  std::vector<std::string> out;
  for (const DiscoveryLine& l : WeighDiscovery(d, e)) {
    out.push_back(std::string(l.warn ? "warn  " : "ok    ") + l.text);
  }
  return out;
}

Discovery Served() {
  Discovery d;
  d.outcome = Discovery::Outcome::kServed;
  d.filter = true;
  d.filter_max_results = 200;
  d.patch = true;
  d.etag = false;
  d.bulk = true;
  d.bulk_max_operations = 1000;
  d.sort = true;
  return d;
}

}  // namespace

TEST_CASE("WeighDiscovery: a target that agrees gets one summary line") {
  EffectiveTarget generic = EffectiveBehaviour(TargetProfile::kGeneric, {});
  CHECK(Lines(Served(), generic) ==
        std::vector<std::string>{
            "ok    target /ServiceProviderConfig: filter yes (maxResults 200), patch yes, etag no, "
            "bulk yes (maxOperations 1000), sort yes"});
  // What the target leaves out is "?", and nothing is weighed against it.
  Discovery sparse;
  sparse.outcome = Discovery::Outcome::kServed;
  sparse.patch = true;
  CHECK(Lines(sparse, generic) ==
        std::vector<std::string>{"ok    target /ServiceProviderConfig: filter ?, patch yes, etag ?, "
                                 "bulk ?, sort ?"});
}

TEST_CASE("WeighDiscovery: page_size above filter.maxResults is a warning with the effective value") {
  EffectiveTarget keeper = EffectiveBehaviour(TargetProfile::kKeeper, {});
  std::vector<std::string> lines = Lines(Served(), keeper);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] ==
        "warn  target.page_size = 1000 (keeper) is above the target's filter.maxResults of 200: "
        "expect pages of at most 200 (scimsync reads what comes); set page_size = 200 to ask for "
        "what it serves");
  BehaviourOverrides o;
  o.page_size = 500;
  CHECK(Lines(Served(), EffectiveBehaviour(TargetProfile::kGeneric, o))[1] ==
        "warn  target.page_size = 500 (config) is above the target's filter.maxResults of 200: "
        "expect pages of at most 200 (scimsync reads what comes); set page_size = 200 to ask for "
        "what it serves");
  // Equal is fine; a maxResults of 0 says nothing.
  Discovery d = Served();
  d.filter_max_results = 1000;
  CHECK(Lines(d, keeper).size() == 1);
  d.filter_max_results = 0;
  CHECK(Lines(d, keeper).size() == 1);
}

TEST_CASE("WeighDiscovery: patch and filter unsupported; odd fields") {
  Discovery d = Served();
  d.patch = false;
  d.filter = false;
  d.filter_max_results.reset();
  d.odd = {"filter.maxResults is a string, not a non-negative integer"};
  CHECK(Lines(d, EffectiveBehaviour(TargetProfile::kAws, {})) ==
        std::vector<std::string>{
            "ok    target /ServiceProviderConfig: filter no, patch no, etag no, bulk yes "
            "(maxOperations 1000), sort yes",
            "warn  target /ServiceProviderConfig: filter.maxResults is a string, not a "
            "non-negative integer; ignored",
            "warn  the target says patch.supported = false: scimsync changes users and groups "
            "with PATCH only, so updates, disables, renames and memberships will fail",
            "warn  target.lookup = \"filter\" (aws) but the target says filter.supported = false: "
            "set lookup = \"list\" to find objects by listing"});
  BehaviourOverrides list;
  list.lookup = LookupMethod::kList;
  CHECK(Lines(d, EffectiveBehaviour(TargetProfile::kAws, list)).size() == 3);
}

TEST_CASE("WeighDiscovery: not served, unreadable") {
  EffectiveTarget generic = EffectiveBehaviour(TargetProfile::kGeneric, {});
  Discovery none;
  none.outcome = Discovery::Outcome::kNotServed;
  none.detail = "HTTP 404";
  CHECK(Lines(none, generic) ==
        std::vector<std::string>{"ok    target does not serve /ServiceProviderConfig (HTTP 404): "
                                 "the profile's values apply unchecked"});
  Discovery bad;
  bad.detail = "HTTP 500: boom";
  CHECK(Lines(bad, generic) ==
        std::vector<std::string>{"warn  target /ServiceProviderConfig unreadable (HTTP 500: "
                                 "boom): the profile's values apply unchecked"});
}

}  // namespace scimsync
