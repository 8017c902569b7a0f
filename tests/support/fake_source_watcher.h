// A SourceWatcher (connectors/source_watch.h) that plays a script: the results of
// Start() and of Wait() in order, then Ok / false. Thread-safe, so a test can feed it
// while the watch runner's thread uses it.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "connectors/source_watch.h"

namespace scimsync {

class FakeSourceWatcher final : public SourceWatcher {
 public:
  explicit FakeSourceWatcher(std::string method) : method_(std::move(method)) {}

  void ScriptStart(Status s) {
    std::lock_guard lock(mu_);
    starts_.push_back(std::move(s));
  }
  void ScriptWait(Result<bool> r) {
    std::lock_guard lock(mu_);
    waits_.push_back(std::move(r));
  }
  int start_calls() const {
    std::lock_guard lock(mu_);
    return start_calls_;
  }

  Status Start() override {
    std::lock_guard lock(mu_);
    ++start_calls_;
    if (starts_.empty()) return Status::Ok();
    Status s = starts_.front();
    starts_.pop_front();
    return s;
  }
  Result<bool> Wait(std::chrono::milliseconds timeout) override {
    {
      std::lock_guard lock(mu_);
      if (!waits_.empty()) {
        Result<bool> r = waits_.front();
        waits_.pop_front();
        return r;
      }
    }
    std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(2)));
    return false;
  }
  std::string Method() const override { return method_; }
  std::string Describe() const override { return method_ + " on fake"; }

 private:
  std::string method_;
  mutable std::mutex mu_;
  std::deque<Status> starts_;
  std::deque<Result<bool>> waits_;
  int start_calls_ = 0;
};

}  // namespace scimsync
