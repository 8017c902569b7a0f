#include "core/target_match.h"

#include <algorithm>
#include <map>

#include "core/model.h"
#include "core/text.h"

namespace scimsync {
namespace {

constexpr std::size_t kMaxListedIds = 5;

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Ids(const std::vector<MatchTarget>& targets, const std::vector<std::size_t>& idx) {
  std::string out;
  for (std::size_t i = 0; i < idx.size() && i < kMaxListedIds; ++i) {
    if (i > 0) out += ", ";
    out += targets[idx[i]].id;
  }
  if (idx.size() > kMaxListedIds) out += ", ...";
  return out;
}

}  // namespace

std::vector<Match> MatchTargets(const std::vector<MatchSeeker>& seekers,
                                const std::vector<MatchTarget>& targets,
                                const std::unordered_map<std::string_view, std::string_view>& held,
                                const MatchRules& rules) {
  const std::string noun(rules.noun);
  const std::string attr(rules.name_attr);
  // Candidate lists in id order, so nothing depends on the snapshot's order.
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_ext;
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!targets[i].external_id.empty()) by_ext[targets[i].external_id].push_back(i);
    if (!targets[i].name.empty()) by_name[FoldCase(targets[i].name)].push_back(i);
  }
  auto by_id = [&](std::size_t a, std::size_t b) {
    return targets[a].id != targets[b].id ? targets[a].id < targets[b].id : a < b;
  };
  for (auto& [_, v] : by_ext) std::sort(v.begin(), v.end(), by_id);
  for (auto& [_, v] : by_name) std::sort(v.begin(), v.end(), by_id);

  std::vector<Match> out(seekers.size());
  std::unordered_map<std::string_view, std::string_view> claimed;  // rule 1: id -> key
  // The other source key that holds target `t`, or empty.
  auto holder = [&](std::size_t t, std::string_view key) -> std::string_view {
    using Holders = std::unordered_map<std::string_view, std::string_view>;
    for (const Holders* m : {&held, static_cast<const Holders*>(&claimed)}) {
      auto it = m->find(targets[t].id);
      if (it != m->end() && it->second != key) return it->second;
    }
    return {};
  };
  auto conflict = [&](std::size_t s, std::string text) {
    out[s].kind = MatchKind::kConflict;
    out[s].conflict = std::move(text);
  };

  // Rule 1: externalId, for every seeker before any name match.
  for (std::size_t s = 0; s < seekers.size(); ++s) {
    auto it = by_ext.find(seekers[s].key);
    if (it == by_ext.end()) continue;
    const auto& found = it->second;
    if (found.size() > 1) {
      conflict(s, std::to_string(found.size()) + " target " + noun + "s have externalId " +
                      Quoted(seekers[s].key) + " (" + Ids(targets, found) + "); none adopted");
      continue;
    }
    std::size_t t = found.front();
    if (std::string_view h = holder(t, seekers[s].key); !h.empty()) {
      conflict(s, "target " + noun + " " + std::string(targets[t].id) + " has externalId " +
                      Quoted(seekers[s].key) + " but is bound to source key " + std::string(h));
      continue;
    }
    out[s].kind = MatchKind::kByExternalId;
    out[s].target = t;
    claimed[targets[t].id] = seekers[s].key;
  }

  // Rule 2: name, among the candidates no other key holds.
  std::map<std::size_t, std::vector<std::size_t>> claims;  // target -> seekers
  for (std::size_t s = 0; s < seekers.size(); ++s) {
    if (out[s].kind != MatchKind::kNone || seekers[s].name.empty()) continue;
    auto it = by_name.find(FoldCase(seekers[s].name));
    if (it == by_name.end()) continue;
    std::vector<std::size_t> free;
    std::size_t taken = 0;
    std::string_view taken_by;
    for (std::size_t t : it->second) {
      std::string_view h = holder(t, seekers[s].key);
      if (h.empty()) {
        free.push_back(t);
      } else if (taken_by.empty()) {
        taken = t;
        taken_by = h;
      }
    }
    const std::string name = attr + " " + Quoted(seekers[s].name);
    if (free.empty()) {
      if (!rules.taken_name_creates) {
        conflict(s, name + " belongs to target " + noun + " " + std::string(targets[taken].id) +
                        ", bound to source key " + std::string(taken_by) + "; not adopted");
      }
      continue;
    }
    if (free.size() > 1) {
      conflict(s, std::to_string(free.size()) + " target " + noun + "s have " + name + " (" +
                      Ids(targets, free) + "); none adopted");
      continue;
    }
    std::size_t t = free.front();
    std::string_view ext = targets[t].external_id;
    if (!ext.empty() && ext != seekers[s].key) {
      conflict(s, "target " + noun + " " + std::string(targets[t].id) + " with " + name +
                      " has externalId " + Quoted(ext) + "; not adopted");
      continue;
    }
    claims[t].push_back(s);
  }

  // Rule 3: one target object, several source objects by name.
  for (const auto& claim : claims) {
    const std::size_t t = claim.first;
    const std::vector<std::size_t>& list = claim.second;
    auto better = [&](std::size_t a, std::size_t b) {
      bool ea = seekers[a].name == targets[t].name, eb = seekers[b].name == targets[t].name;
      if (ea != eb) return ea;
      return seekers[a].key < seekers[b].key;
    };
    std::size_t winner = *std::min_element(list.begin(), list.end(), better);
    out[winner].kind = MatchKind::kByName;
    out[winner].target = t;
    for (std::size_t s : list) {
      if (s == winner || rules.taken_name_creates) continue;
      conflict(s, attr + " " + Quoted(seekers[s].name) + " also matches source key " +
                      std::string(seekers[winner].key) + ", which adopts target " + noun + " " +
                      std::string(targets[t].id) + "; not adopted");
    }
  }
  return out;
}

}  // namespace scimsync
