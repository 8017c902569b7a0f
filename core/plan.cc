#include "core/plan.h"

#include <array>
#include <cstdio>
#include <string_view>

namespace scimsync {
namespace {

struct OpKindInfo {
  OpKind kind;
  std::string_view name;
  Phase phase;
};

// Indexed by OpKind; the names are part of the `plan` output contract.
constexpr std::array<OpKindInfo, 11> kOpKinds = {{
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

// Width of the kind column in Describe: the longest name plus one space.
constexpr std::size_t kKindColumn = 15;
// add/remove-members lines list the member keys up to this many.
constexpr std::size_t kMaxListedMembers = 5;

// Escapes for a JSON string body: quote, backslash and every control character
// (as \u00XX). Other bytes, UTF-8 sequences included, are kept as they are.
void AppendEscaped(std::string& out, std::string_view s) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
}

void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  AppendEscaped(out, s);
  out += '"';
}

// A value in Describe's change lists: quoted, or (none) when absent.
void AppendValue(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "(none)";
  } else {
    AppendQuoted(out, s);
  }
}

// A value in DescribeJson: a string, or null when absent.
void AppendJsonValue(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += "null";
  } else {
    AppendQuoted(out, s);
  }
}

void AppendChanges(std::string& out, const std::vector<AttrChange>& changes) {
  for (std::size_t i = 0; i < changes.size(); ++i) {
    out += i == 0 ? " " : ", ";
    out += Info(changes[i].attr).name;
    out += ": ";
    AppendValue(out, changes[i].old_value);
    out += " -> ";
    AppendValue(out, changes[i].new_value);
  }
}

void AppendMembers(std::string& out, char sign, const std::vector<std::string>& members) {
  out += ' ';
  out += sign;
  out += std::to_string(members.size());
  out += " members";
  if (members.size() <= kMaxListedMembers && !members.empty()) {
    out += " (";
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ' ';
      AppendEscaped(out, members[i]);
    }
    out += ')';
  }
}

std::string SummaryLine(const Plan& plan) {
  const PlanSummary& s = plan.summary;
  // Always "operations": the line is parsed by scripts, so its shape never varies.
  std::string out = "# plan: " + std::to_string(plan.ops.size()) + " operations";
  out += " (users +" + std::to_string(s.users_create) + " ~" + std::to_string(s.users_update) +
         " -" + std::to_string(s.users_disable + s.users_delete);
  out += ", groups +" + std::to_string(s.groups_create) + " ~" +
         std::to_string(s.groups_update) + " -" + std::to_string(s.groups_delete);
  out += ", members +" + std::to_string(s.members_add) + " -" + std::to_string(s.members_remove);
  if (s.resolve > 0) out += ", resolve " + std::to_string(s.resolve);
  if (s.deferred > 0) out += ", deferred " + std::to_string(s.deferred);
  out += ")";
  return out;
}

}  // namespace

std::string_view OpKindName(OpKind k) { return kOpKinds[static_cast<std::size_t>(k)].name; }

Phase PhaseOf(OpKind k) { return kOpKinds[static_cast<std::size_t>(k)].phase; }

std::string Describe(const Plan& plan) {
  std::string out;
  for (const Operation& op : plan.ops) {
    std::string_view kind = OpKindName(op.kind);
    out += kind;
    out.append(kind.size() < kKindColumn ? kKindColumn - kind.size() : 1, ' ');
    AppendEscaped(out, op.key);
    out += ' ';
    if (op.label.empty()) {
      out += '-';
    } else {
      AppendEscaped(out, op.label);
    }
    switch (op.kind) {
      case OpKind::kResolveUser:
      case OpKind::kResolveGroup:
        if (op.target_id.empty()) {
          out += " by filter";
        } else {
          out += " by id ";
          AppendEscaped(out, op.target_id);
        }
        break;
      case OpKind::kUpdateUser:
      case OpKind::kUpdateGroup:
        AppendChanges(out, op.changes);
        break;
      case OpKind::kAddMembers:
        AppendMembers(out, '+', op.members);
        break;
      case OpKind::kRemoveMembers:
        AppendMembers(out, '-', op.members);
        break;
      default:
        break;
    }
    out += '\n';
  }
  for (const auto& note : plan.notes) {
    out += "# ";
    AppendEscaped(out, note);
    out += '\n';
  }
  out += SummaryLine(plan);
  out += '\n';
  return out;
}

std::string DescribeJson(const Plan& plan) {
  std::string out = "{\"operations\":[";
  for (std::size_t i = 0; i < plan.ops.size(); ++i) {
    const Operation& op = plan.ops[i];
    if (i > 0) out += ',';
    out += "{\"phase\":" + std::to_string(static_cast<int>(PhaseOf(op.kind)));
    out += ",\"op\":";
    AppendQuoted(out, OpKindName(op.kind));
    out += ",\"key\":";
    AppendQuoted(out, op.key);
    out += ",\"label\":";
    AppendQuoted(out, op.label);
    out += ",\"target_id\":";
    AppendJsonValue(out, op.target_id);
    out += ",\"changes\":[";
    for (std::size_t c = 0; c < op.changes.size(); ++c) {
      if (c > 0) out += ',';
      out += "{\"attr\":";
      AppendQuoted(out, Info(op.changes[c].attr).name);
      out += ",\"old\":";
      AppendJsonValue(out, op.changes[c].old_value);
      out += ",\"new\":";
      AppendJsonValue(out, op.changes[c].new_value);
      out += '}';
    }
    out += "],\"members\":[";
    for (std::size_t m = 0; m < op.members.size(); ++m) {
      if (m > 0) out += ',';
      AppendQuoted(out, op.members[m]);
    }
    out += "]}";
  }
  const PlanSummary& s = plan.summary;
  auto field = [&out](std::string_view name, int v, bool first = false) {
    if (!first) out += ',';
    out += '"';
    out += name;
    out += "\":" + std::to_string(v);
  };
  out += "],\"summary\":{";
  field("operations", static_cast<int>(plan.ops.size()), true);
  field("users_create", s.users_create);
  field("users_update", s.users_update);
  field("users_disable", s.users_disable);
  field("users_delete", s.users_delete);
  field("groups_create", s.groups_create);
  field("groups_update", s.groups_update);
  field("groups_delete", s.groups_delete);
  field("members_add", s.members_add);
  field("members_remove", s.members_remove);
  field("resolve", s.resolve);
  field("deferred", s.deferred);
  out += "},\"deletions_blocked\":";
  out += plan.deletions_blocked ? "true" : "false";
  out += ",\"deletions_wanted\":" + std::to_string(plan.deletions_wanted);
  out += ",\"notes\":[";
  for (std::size_t n = 0; n < plan.notes.size(); ++n) {
    if (n > 0) out += ',';
    AppendQuoted(out, plan.notes[n]);
  }
  out += "]}";
  return out;
}

}  // namespace scimsync
