// Matching an object that may already exist on the target (DESIGN §3), for UserOps
// and GroupOps alike: by externalId first, then by its name (userName or
// displayName), stopping at the first attribute that matches anything. Zero or
// several matches are the caller's to judge; nothing here adopts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/request_runner.h"

namespace scimsync {

template <typename Remote>
struct Lookup {
  Answer answer;               // kDone when every lookup that ran was answered
  std::vector<Remote> found;   // matches of the attribute that matched
};

// `find(attr, value)` sends one filter query and returns {response, matches}.
template <typename Remote, typename Find>
Lookup<Remote> LookUpByKeyThenName(RequestRunner& runner, std::string_view noun,
                                   std::string_view name_attr, const std::string& key,
                                   const std::string& name, Find find) {
  Lookup<Remote> q;
  q.answer.action = Action::kDone;
  q.answer.response.status = 200;  // nothing to look up by
  for (std::string_view attr : {std::string_view("externalId"), name_attr}) {
    const std::string& value = attr == "externalId" ? key : name;
    if (value.empty()) continue;
    q.found.clear();
    q.answer = runner.Send(Verb::kFind, "find " + std::string(noun) + " " + value, [&] {
      auto answered = find(attr, value);
      q.found = std::move(answered.second);
      return answered.first;
    });
    if (q.answer.action != Action::kDone || !q.found.empty()) return q;
  }
  return q;
}

// RequestRunner::SendCreate's Finder from a lookup by externalId: kAdopt when the
// create landed after all, nullopt when it did not, and an uncertain transient
// answer when the lookup itself failed.
template <typename Remote>
std::optional<Answer> CreateFoundBy(Lookup<Remote> q) {
  if (q.answer.action != Action::kDone) {
    q.answer.action = Action::kTransient;
    q.answer.maybe_applied = true;
    return q.answer;
  }
  if (q.found.empty()) return std::nullopt;
  q.answer.action = Action::kAdopt;
  q.answer.response.detail = "the create's answer was lost; found by externalId";
  return q.answer;
}

}  // namespace scimsync
