// KeepnetToken: when the access token is fetched again.
#include "connectors/keepnet/keepnet_token.h"

#include <doctest/doctest.h>

namespace scimsync {
namespace {

using namespace std::chrono_literals;
using TP = KeepnetToken::TimePoint;

TEST_CASE("KeepnetToken: none yet, fresh, inside the margin, invalidated") {
  KeepnetToken t;
  TP now{};
  CHECK(t.NeedsFetch(now));
  t.Set("tok", 3600s, now);
  CHECK(t.RefreshMargin() == 60s);
  CHECK_FALSE(t.NeedsFetch(now));
  CHECK_FALSE(t.NeedsFetch(now + 3539s));
  CHECK(t.NeedsFetch(now + 3540s));
  CHECK(t.NeedsFetch(now + 4000s));
  t.Set("tok2", 3600s, now + 3540s);
  CHECK_FALSE(t.NeedsFetch(now + 3541s));
  t.Invalidate();
  CHECK(t.NeedsFetch(now + 3541s));
  CHECK(t.value().empty());
}

TEST_CASE("KeepnetToken: a short lifetime gets a tenth of it as margin, to the millisecond") {
  KeepnetToken t;
  TP now{};
  t.Set("tok", 10s, now);
  CHECK(t.RefreshMargin() == 1000ms);
  CHECK_FALSE(t.NeedsFetch(now + 8999ms));
  CHECK(t.NeedsFetch(now + 9000ms));
  t.Set("tok", 2s, now);
  CHECK(t.RefreshMargin() == 200ms);  // not 0: whole seconds would lose it
  CHECK_FALSE(t.NeedsFetch(now + 1799ms));
  CHECK(t.NeedsFetch(now + 1800ms));
}

TEST_CASE("KeepnetToken: no expires_in is trusted for the default lifetime") {
  KeepnetToken t;
  TP now{};
  t.Set("tok", 0s, now);
  CHECK(t.RefreshMargin() == 30s);
  CHECK_FALSE(t.NeedsFetch(now + 269s));
  CHECK(t.NeedsFetch(now + 270s));
}

}  // namespace
}  // namespace scimsync
