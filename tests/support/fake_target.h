// FakeTarget: an in-memory implementation of our Target interface for executor
// tests. It behaves like a well-mannered SCIM server (ids, userName uniqueness
// case-insensitive -> 409, filters by externalId/userName/displayName), and each
// call can be overridden by a scripted response to play a real target's quirks.
// Every call is recorded as "METHOD what" for assertions, with " if-match <etag>"
// when the request carried If-Match. GETs answer an ETag that changes every read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/target.h"
#include "core/model.h"
#include "core/text.h"

namespace scimsync {

class FakeTarget final : public Target {
 public:
  struct Scripted {
    TargetResponse response;
    bool apply = false;  // also perform the operation (commit, then lose the answer)
  };
  // Queue a response for the next call of `call` ("CreateUser", "PatchUser", ...).
  void Script(const std::string& call, TargetResponse r, bool apply = false) {
    std::lock_guard lock(mu_);
    script_[call].push_back({std::move(r), apply});
  }
  // Every call of `call` gets this response from now on (until cleared).
  void Always(const std::string& call, std::function<std::optional<TargetResponse>()> f) {
    std::lock_guard lock(mu_);
    always_[call] = std::move(f);
  }
  static TargetResponse Http(int status, std::string detail = "", std::string scim_type = "") {
    TargetResponse r;
    r.status = status;
    r.detail = std::move(detail);
    r.scim_type = std::move(scim_type);
    return r;
  }
  static TargetResponse Transport(enum Transport t) {
    TargetResponse r;
    r.transport = t;
    r.detail = "injected";
    return r;
  }

  std::map<std::string, RemoteUser> users;   // by id
  std::map<std::string, RemoteGroup> groups;  // by id
  std::vector<std::string> calls;

  std::string AddUser(const User& u) {
    RemoteUser r;
    r.id = "u" + std::to_string(++next_id_);
    r.external_id = u.key;
    r.values = u.values;
    users[r.id] = r;
    return r.id;
  }

  TargetResponse CreateUser(const User& u) override {
    return Run("CreateUser", "POST " + u.key, [&] {
      for (auto& [id, r] : users) {
        if (FoldCase(r.values[0]) == FoldCase(u.Get(Attr::kUserName))) {
          return Http(409, "userName already taken", "uniqueness");
        }
      }
      TargetResponse ok = Http(201);
      std::string id = AddUser(u);
      ok.user = users[id];
      return ok;
    });
  }
  // CreateUsers (on unless `concurrent_creates` is false): starts up to Width()
  // creates (Next), runs them in start order through CreateUser above, and hands
  // the answers back in the REVERSE order, as answers of concurrent requests may
  // complete. Rounds are recorded in create_rounds. The environment variable
  // SCIMSYNC_FAKE_TARGET_WORKERS turns it off for a whole test run (tests/CMakeLists.txt
  // runs the daemon's tests both ways: the executor's workers send creates too).
  bool concurrent_creates = std::getenv("SCIMSYNC_FAKE_TARGET_WORKERS") == nullptr;
  int create_rounds = 0;
  bool CreateUsers(UserCreates& batch) override {
    if (!concurrent_creates) return false;
    bool more = true;
    while (more) {
      std::vector<std::pair<std::uint64_t, const User*>> started;
      const int width = std::max(1, batch.Width());
      while (static_cast<int>(started.size()) < width) {
        std::uint64_t tag = 0;
        const User* u = batch.Next(&tag);
        if (u == nullptr) {
          more = false;
          break;
        }
        started.emplace_back(tag, u);
      }
      if (started.empty()) break;
      ++create_rounds;
      std::vector<std::pair<std::uint64_t, TargetResponse>> answers;
      for (const auto& [tag, u] : started) answers.emplace_back(tag, CreateUser(*u));
      for (auto it = answers.rbegin(); it != answers.rend(); ++it) {
        batch.Done(it->first, std::move(it->second));
      }
    }
    return true;
  }
  TargetResponse GetUser(const std::string& id) override {
    return Run("GetUser", "GET " + id, [&] {
      auto it = users.find(id);
      if (it == users.end()) return Http(404);
      TargetResponse ok = Http(200);
      ok.user = it->second;
      ok.etag = "W/\"" + id + "-" + std::to_string(++etag_) + "\"";
      return ok;
    });
  }
  TargetResponse PatchUser(const std::string& id, const std::vector<AttrChange>& changes,
                           const std::string& if_match) override {
    return Run("PatchUser", "PATCH " + id + IfMatch(if_match), [&] {
      auto it = users.find(id);
      if (it == users.end()) return Http(404);
      for (const auto& c : changes) it->second.values.Set(static_cast<std::size_t>(c.attr), c.new_value);
      TargetResponse ok = Http(200);
      ok.user = it->second;
      return ok;
    });
  }
  // Recorded as "PATCH <id> externalId=<x>"; scripted and overridden as "PatchUser".
  TargetResponse PatchUserExternalId(const std::string& id, const std::string& external_id,
                                     const std::vector<AttrChange>& changes,
                                     const std::string& if_match) override {
    return Run("PatchUser", "PATCH " + id + " externalId=" + external_id + IfMatch(if_match), [&] {
      auto it = users.find(id);
      if (it == users.end()) return Http(404);
      if (!external_id.empty()) it->second.external_id = external_id;
      for (const auto& c : changes) it->second.values.Set(static_cast<std::size_t>(c.attr), c.new_value);
      TargetResponse ok = Http(200);
      ok.user = it->second;
      return ok;
    });
  }
  TargetResponse DeleteUser(const std::string& id, const std::string& if_match) override {
    return Run("DeleteUser", "DELETE " + id + IfMatch(if_match), [&] {
      if (!users.erase(id)) return Http(404);
      return Http(204);
    });
  }
  UserQuery FindUsers(std::string_view attr, std::string_view value) override {
    UserQuery q;
    q.response = Run("FindUsers", "FIND " + std::string(attr) + "=" + std::string(value), [&] {
      for (auto& [id, r] : users) {
        bool match = attr == "externalId" ? r.external_id == value
                                          : FoldCase(r.values[0]) == FoldCase(value);
        if (match) q.users.push_back(r);
      }
      return Http(200);
    });
    return q;
  }
  TargetResponse CreateGroup(const Group& g) override {
    return Run("CreateGroup", "POST group " + g.key, [&] {
      for (auto& [id, r] : groups) {
        if (r.display_name == g.display_name) return Http(409, "exists", "uniqueness");
      }
      RemoteGroup r;
      r.id = "g" + std::to_string(++next_id_);
      r.external_id = g.key;
      r.display_name = g.display_name;
      groups[r.id] = r;
      TargetResponse ok = Http(201);
      ok.group = r;
      return ok;
    });
  }
  TargetResponse GetGroup(const std::string& id) override {
    return Run("GetGroup", "GET group " + id, [&] {
      auto it = groups.find(id);
      if (it == groups.end()) return Http(404);
      TargetResponse ok = Http(200);
      ok.group = it->second;
      ok.etag = "W/\"" + id + "-" + std::to_string(++etag_) + "\"";
      return ok;
    });
  }
  TargetResponse RenameGroup(const std::string& id, const std::string& name,
                             const std::string& if_match) override {
    return Run("RenameGroup", "PATCH group " + id + " name" + IfMatch(if_match), [&] {
      auto it = groups.find(id);
      if (it == groups.end()) return Http(404);
      it->second.display_name = name;
      return Http(204);
    });
  }
  // Recorded as "PATCH group <id> externalId=<x> name=<n>"; scripted as "RenameGroup".
  TargetResponse PatchGroupExternalId(const std::string& id, const std::string& external_id,
                                      const std::string& name,
                                      const std::string& if_match) override {
    return Run("RenameGroup",
               "PATCH group " + id + " externalId=" + external_id + " name=" + name +
                   IfMatch(if_match),
               [&] {
                 auto it = groups.find(id);
                 if (it == groups.end()) return Http(404);
                 if (!external_id.empty()) it->second.external_id = external_id;
                 if (!name.empty()) it->second.display_name = name;
                 return Http(204);
               });
  }
  TargetResponse PatchGroupMembers(const std::string& id, const std::vector<std::string>& add,
                                   const std::vector<std::string>& remove,
                                   const std::string& if_match) override {
    return Run("PatchGroupMembers",
               "PATCH group " + id + " +" + std::to_string(add.size()) + " -" +
                   std::to_string(remove.size()) + IfMatch(if_match),
               [&] {
                 auto it = groups.find(id);
                 if (it == groups.end()) return Http(404);
                 auto& m = it->second.member_ids;
                 for (const auto& a : add) {
                   if (std::find(m.begin(), m.end(), a) == m.end()) m.push_back(a);
                 }
                 for (const auto& r : remove) m.erase(std::remove(m.begin(), m.end(), r), m.end());
                 return Http(204);
               });
  }
  TargetResponse DeleteGroup(const std::string& id, const std::string& if_match) override {
    return Run("DeleteGroup", "DELETE group " + id + IfMatch(if_match), [&] {
      if (!groups.erase(id)) return Http(404);
      return Http(204);
    });
  }
  GroupQuery FindGroups(std::string_view attr, std::string_view value) override {
    GroupQuery q;
    q.response = Run("FindGroups", "FIND group " + std::string(attr) + "=" + std::string(value), [&] {
      for (auto& [id, r] : groups) {
        if ((attr == "externalId" ? r.external_id : r.display_name) == value) q.groups.push_back(r);
      }
      return Http(200);
    });
    return q;
  }
  // The maps as they are, or `snapshot_error` when set.
  Result<TargetSnapshot> ReadSnapshot(const SnapshotOptions&) override {
    TargetSnapshot s;
    {
      std::lock_guard lock(mu_);
      calls.push_back("READ snapshot");
      if (snapshot_error) return *snapshot_error;
      for (const auto& [id, u] : users) s.users.push_back(u);
      for (const auto& [id, g] : groups) s.groups.push_back(g);
    }
    if (after_snapshot) after_snapshot();  // e.g. someone creates a user right after
    return s;
  }
  std::optional<Status> snapshot_error;
  std::function<void()> after_snapshot;

  TargetResponse Probe() override { return Http(200); }
  Discovery Discover() override {
    Discovery d;
    d.outcome = Discovery::Outcome::kNotServed;
    d.detail = "HTTP 404";
    return d;
  }
  long RequestCount() const override { return requests_; }
  long WriteCount() const override { return writes_; }

  int Count(const std::string& prefix) const {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count_if(calls.begin(), calls.end(), [&](const std::string& c) {
      return c.rfind(prefix, 0) == 0;
    }));
  }

 private:
  // Calls record " if-match <etag>" when one was sent.
  static std::string IfMatch(const std::string& etag) {
    return etag.empty() ? "" : " if-match " + etag;
  }
  TargetResponse Run(const std::string& call, const std::string& what,
                     const std::function<TargetResponse()>& real) {
    std::lock_guard lock(mu_);
    calls.push_back(what);
    ++requests_;
    if (call != "GetUser" && call != "GetGroup" && call != "FindUsers" && call != "FindGroups") {
      ++writes_;
    }
    auto a = always_.find(call);
    if (a != always_.end()) {
      if (auto r = a->second()) return *r;
    }
    auto& q = script_[call];
    if (!q.empty()) {
      Scripted s = q.front();
      q.pop_front();
      if (s.apply) real();
      return s.response;
    }
    return real();
  }

  mutable std::recursive_mutex mu_;
  std::map<std::string, std::deque<Scripted>> script_;
  std::map<std::string, std::function<std::optional<TargetResponse>()>> always_;
  int next_id_ = 0;
  int etag_ = 0;
  long requests_ = 0, writes_ = 0;
};

}  // namespace scimsync
