#include "core/model.h"

#include <doctest/doctest.h>

namespace scimsync {
namespace {

TEST_CASE("SameAttrValue: strings exact, email addresses without ASCII case, active absent = true") {
  CHECK(SameAttrValue(Attr::kUserName, "ann@x.com", "ann@x.com"));
  CHECK_FALSE(SameAttrValue(Attr::kUserName, "Ann@X.com", "ann@x.com"));
  CHECK_FALSE(SameAttrValue(Attr::kGivenName, "ann", "Ann"));
  // Better Auth stores "Ann.Lee@Example.COM" as "ann.lee@example.com".
  CHECK(SameAttrValue(Attr::kEmail, "Ann.Lee@Example.COM", "ann.lee@example.com"));
  CHECK_FALSE(SameAttrValue(Attr::kEmail, "ann@x.com", "anne@x.com"));
  CHECK_FALSE(SameAttrValue(Attr::kEmail, "ann@x.com", ""));
  // ASCII only: other bytes compare as they are.
  CHECK_FALSE(SameAttrValue(Attr::kEmail, "\xC3\x89@x.com", "\xC3\xA9@x.com"));
  CHECK(SameAttrValue(Attr::kActive, "", "true"));
  CHECK_FALSE(SameAttrValue(Attr::kActive, "", "false"));
  CHECK(SameAttrValue(Attr::kActive, "false", "false"));
}

}  // namespace
}  // namespace scimsync
