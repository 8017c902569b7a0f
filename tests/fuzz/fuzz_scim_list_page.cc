// libFuzzer target: ParseUserPage and ParseGroupPage (connectors/scim/scim_json.h), one
// page of a ListResponse, on any body. Properties: an invalid page carries no
// resources (it must never read as "no match"), and a page never holds more parsed
// resources than elements it counted in Resources.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/scim/scim_json.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace scimsync;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  UserPage users = ParseUserPage(body);
  FUZZ_CHECK(users.resources.size() <= users.returned);
  if (!users.valid) FUZZ_CHECK(users.resources.empty());
  GroupPage groups = ParseGroupPage(body);
  FUZZ_CHECK(groups.resources.size() <= groups.returned);
  if (!groups.valid) FUZZ_CHECK(groups.resources.empty());
  FUZZ_CHECK(users.valid == groups.valid);
  return 0;
}
