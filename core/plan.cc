#include "core/plan.h"

#include <array>
#include <cstdio>

namespace scimsync {
namespace {

struct KindInfo {
  OpKind kind;
  std::string_view name;
  Phase phase;
};

constexpr std::array<KindInfo, 11> kKinds = {{
    {OpKind::kResolveUser, "resolve-user", Phase::kResolve},
    {OpKind::kResolveGroup, "resolve-group", Phase::kResolve},
    {OpKind::kCreateUser, "create-user", Phase::kUsers},
    {OpKind::kUpdateUser, "update-user", Phase::kUsers},
    {OpKind::kCreateGroup, "create-group", Phase::kGroups},
    {OpKind::kUpdateGroup, "update-group", Phase::kGroups},
    {OpKind::kAddMembers, "add-members", Phase::kGroups},
    {OpKind::kRemoveMembers, "remove-members", Phase::kRemoveMembers},
    {OpKind::kDisableUser, "disable-user", Phase::kDeprovision},
    {OpKind::kDeleteUser, "delete-user", Phase::kDeprovision},
    {OpKind::kDeleteGroup, "delete-group", Phase::kDeleteGroups},
}};

std::string Quoted(std::string_view s) {
  if (s.empty()) return "(none)";
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void JsonString(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace

std::string_view OpKindName(OpKind k) { return kKinds[static_cast<std::size_t>(k)].name; }
Phase PhaseOf(OpKind k) { return kKinds[static_cast<std::size_t>(k)].phase; }

std::string Describe(const Plan& plan) {
  std::string out;
  for (const auto& op : plan.ops) {
    char head[64];
    std::snprintf(head, sizeof head, "%-15s", std::string(OpKindName(op.kind)).c_str());
    out += head;
    out += op.key;
    out += ' ';
    out += op.label;
    if (op.kind == OpKind::kUpdateUser) {
      for (std::size_t i = 0; i < op.changes.size(); ++i) {
        const auto& c = op.changes[i];
        out += i == 0 ? " " : ", ";
        out += Info(c.attr).name;
        out += ": " + Quoted(c.old_value) + " -> " + Quoted(c.new_value);
      }
    }
    if (op.kind == OpKind::kAddMembers || op.kind == OpKind::kRemoveMembers) {
      out += op.kind == OpKind::kAddMembers ? " +" : " -";
      out += std::to_string(op.members.size()) + " members";
      if (op.members.size() <= 5) {
        out += " (";
        for (std::size_t i = 0; i < op.members.size(); ++i) {
          if (i) out += ' ';
          out += op.members[i];
        }
        out += ')';
      }
    }
    out += '\n';
  }
  for (const auto& n : plan.notes) out += "# " + n + "\n";
  const PlanSummary& s = plan.summary;
  char line[256];
  std::snprintf(line, sizeof line,
                "# plan: %zu operations (users +%d ~%d -%d, groups +%d ~%d -%d, members +%d -%d)\n",
                plan.ops.size(), s.users_create, s.users_update, s.users_disable + s.users_delete,
                s.groups_create, s.groups_update, s.groups_delete, s.members_add,
                s.members_remove);
  out += line;
  return out;
}

std::string DescribeJson(const Plan& plan) {
  std::string out = "{\"operations\":[";
  for (std::size_t i = 0; i < plan.ops.size(); ++i) {
    const auto& op = plan.ops[i];
    if (i) out += ',';
    out += "{\"phase\":" + std::to_string(static_cast<int>(PhaseOf(op.kind))) + ",\"op\":";
    JsonString(out, OpKindName(op.kind));
    out += ",\"key\":";
    JsonString(out, op.key);
    out += ",\"label\":";
    JsonString(out, op.label);
    out += ",\"target_id\":";
    JsonString(out, op.target_id);
    if (!op.changes.empty()) {
      out += ",\"changes\":[";
      for (std::size_t j = 0; j < op.changes.size(); ++j) {
        if (j) out += ',';
        out += "{\"attr\":";
        JsonString(out, Info(op.changes[j].attr).name);
        out += ",\"old\":";
        JsonString(out, op.changes[j].old_value);
        out += ",\"new\":";
        JsonString(out, op.changes[j].new_value);
        out += '}';
      }
      out += ']';
    }
    if (!op.members.empty()) {
      out += ",\"members\":[";
      for (std::size_t j = 0; j < op.members.size(); ++j) {
        if (j) out += ',';
        JsonString(out, op.members[j]);
      }
      out += ']';
    }
    out += '}';
  }
  const PlanSummary& s = plan.summary;
  out += "],\"summary\":{";
  std::array<std::pair<const char*, int>, 11> fields = {{{"users_create", s.users_create},
                                                         {"users_update", s.users_update},
                                                         {"users_disable", s.users_disable},
                                                         {"users_delete", s.users_delete},
                                                         {"groups_create", s.groups_create},
                                                         {"groups_update", s.groups_update},
                                                         {"groups_delete", s.groups_delete},
                                                         {"members_add", s.members_add},
                                                         {"members_remove", s.members_remove},
                                                         {"resolve", s.resolve},
                                                         {"deferred", s.deferred}}};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += "\"" + std::string(fields[i].first) + "\":" + std::to_string(fields[i].second);
  }
  out += "},\"deletions_blocked\":";
  out += plan.deletions_blocked ? "true" : "false";
  out += ",\"deletions_wanted\":" + std::to_string(plan.deletions_wanted) + ",\"notes\":[";
  for (std::size_t i = 0; i < plan.notes.size(); ++i) {
    if (i) out += ',';
    JsonString(out, plan.notes[i]);
  }
  out += "]}\n";
  return out;
}

}  // namespace scimsync
