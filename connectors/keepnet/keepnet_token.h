// When the Keepnet access token must be fetched again. Pure: the time comes from
// the caller (an injected Clock's Steady()).
//
// Rules (each has a unit test):
//   * no token yet, or Invalidate() called (a 401 on a request): fetch;
//   * otherwise fetch once fewer than RefreshMargin() remain before it expires, so
//     a request never leaves with a token that lapses on the way. The margin is
//     60 s, or a tenth of the token's lifetime when that is shorter (a 3600 s
//     Keepnet token is renewed after 3540 s; a 10 s one after 9 s);
//   * a token response without expires_in (or 0) is trusted for kDefaultLifetime.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

namespace scimsync {

class KeepnetToken {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::seconds kMaxMargin{60};
  static constexpr std::chrono::seconds kDefaultLifetime{300};

  bool NeedsFetch(TimePoint now) const {
    return token_.empty() || now + margin_ >= expires_at_;
  }
  void Set(std::string token, std::chrono::seconds lifetime, TimePoint now) {
    if (lifetime.count() <= 0) lifetime = kDefaultLifetime;
    token_ = std::move(token);
    expires_at_ = now + lifetime;
    margin_ = std::min<std::chrono::milliseconds>(kMaxMargin, std::chrono::milliseconds(lifetime) / 10);
  }
  void Invalidate() { token_.clear(); }
  const std::string& value() const { return token_; }
  std::chrono::milliseconds RefreshMargin() const { return margin_; }

 private:
  std::string token_;
  TimePoint expires_at_{};
  std::chrono::milliseconds margin_{0};
};

}  // namespace scimsync
