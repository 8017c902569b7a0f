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
  bool writes;  // may send a write request to the target
};

// Indexed by OpKind; the names are part of the `plan` output contract.
constexpr std::array<OpKindInfo, 17> kOpKinds = {{
    {OpKind::kResolveUser, "resolve-user", Phase::kResolve, false},
    {OpKind::kResolveGroup, "resolve-group", Phase::kResolve, false},
    {OpKind::kCreateUser, "create-user", Phase::kUsers, true},
    {OpKind::kUpdateUser, "update-user", Phase::kUsers, true},
    {OpKind::kAdoptUser, "adopt-user", Phase::kUsers, true},
    {OpKind::kBindUser, "bind-user", Phase::kUsers, false},
    {OpKind::kConflictUser, "conflict-user", Phase::kUsers, false},
    {OpKind::kCreateGroup, "create-group", Phase::kGroups, true},
    {OpKind::kUpdateGroup, "update-group", Phase::kGroups, true},
    {OpKind::kAdoptGroup, "adopt-group", Phase::kGroups, true},
    {OpKind::kBindGroup, "bind-group", Phase::kGroups, false},
    {OpKind::kConflictGroup, "conflict-group", Phase::kGroups, false},
    {OpKind::kAddMembers, "add-members", Phase::kGroups, true},
    {OpKind::kRemoveMembers, "remove-members", Phase::kRemoveMembers, true},
    {OpKind::kDisableUser, "disable-user", Phase::kDeprovision, true},
    {OpKind::kDeleteUser, "delete-user", Phase::kDeprovision, true},
    {OpKind::kDeleteGroup, "delete-group", Phase::kDeleteGroups, true},
}};
static_assert([] {
  for (std::size_t i = 0; i < kOpKinds.size(); ++i) {
    if (static_cast<std::size_t>(kOpKinds[i].kind) != i) return false;
  }
  return true;
}(), "kOpKinds is indexed by OpKind");

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

// The name shown for an externalId write, beside the kAttrs names.
constexpr std::string_view kExternalIdName = "externalId";

void AppendChange(std::string& out, bool first, std::string_view name, std::string_view old_value,
                  std::string_view new_value) {
  out += first ? " " : ", ";
  out += name;
  out += ": ";
  AppendValue(out, old_value);
  out += " -> ";
  AppendValue(out, new_value);
}

// The externalId write (if any) first, then the attribute changes.
void AppendChanges(std::string& out, const Operation& op) {
  bool first = true;
  if (!op.external_id.empty()) {
    AppendChange(out, first, kExternalIdName, op.external_id_was, op.external_id);
    first = false;
  }
  for (const auto& c : op.changes) {
    AppendChange(out, first, Info(c.attr).name, c.old_value, c.new_value);
    first = false;
  }
}

// Member keys, then the target ids of members without a key as "id:<id>".
void AppendMembers(std::string& out, char sign, const Operation& op) {
  std::size_t n = op.members.size() + op.member_ids.size();
  out += ' ';
  out += sign;
  out += std::to_string(n);
  out += " members";
  if (n <= kMaxListedMembers && n > 0) {
    out += " (";
    bool first = true;
    for (const auto& m : op.members) {
      if (!first) out += ' ';
      AppendEscaped(out, m);
      first = false;
    }
    for (const auto& id : op.member_ids) {
      if (!first) out += ' ';
      out += "id:";
      AppendEscaped(out, id);
      first = false;
    }
    out += ')';
  }
}

void AppendDetail(std::string& out, const Operation& op) {
  if (op.detail.empty()) return;
  out += " (";
  AppendEscaped(out, op.detail);
  out += ')';
}

void AppendJsonList(std::string& out, const std::vector<std::string>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    AppendQuoted(out, v[i]);
  }
  out += ']';
}

void AppendUnmanaged(std::string& out, const std::vector<UnmanagedObject>& v) {
  out += '[';
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"id\":";
    AppendQuoted(out, v[i].id);
    out += ",\"name\":";
    AppendQuoted(out, v[i].name);
    out += '}';
  }
  out += ']';
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
  if (s.adopt > 0) out += ", adopt " + std::to_string(s.adopt);
  if (s.bind > 0) out += ", bind " + std::to_string(s.bind);
  if (s.conflicts > 0) out += ", conflicts " + std::to_string(s.conflicts);
  if (s.drift > 0) out += ", drift " + std::to_string(s.drift);
  if (s.unmanaged_users > 0 || s.unmanaged_groups > 0) {
    out += ", unmanaged users " + std::to_string(s.unmanaged_users) + " groups " +
           std::to_string(s.unmanaged_groups);
  }
  out += ")";
  return out;
}

}  // namespace

std::string_view OpKindName(OpKind k) { return kOpKinds[static_cast<std::size_t>(k)].name; }

Phase PhaseOf(OpKind k) { return kOpKinds[static_cast<std::size_t>(k)].phase; }

bool WritesTarget(OpKind k) { return kOpKinds[static_cast<std::size_t>(k)].writes; }

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
        AppendChanges(out, op);
        break;
      case OpKind::kAddMembers:
        AppendMembers(out, '+', op);
        break;
      case OpKind::kRemoveMembers:
        AppendMembers(out, '-', op);
        break;
      case OpKind::kAdoptUser:
      case OpKind::kAdoptGroup:
      case OpKind::kBindUser:
      case OpKind::kBindGroup:
        if (!op.target_id.empty()) {
          out += ' ';
          AppendEscaped(out, op.target_id);
        }
        AppendDetail(out, op);
        AppendChanges(out, op);
        break;
      case OpKind::kConflictUser:
      case OpKind::kConflictGroup:
        AppendDetail(out, op);
        break;
      case OpKind::kCreateGroup:
      case OpKind::kDeleteGroup:
        AppendDetail(out, op);  // a group that changes type says so
        break;
      default:
        break;
    }
    if (!op.drift.empty()) {
      out += " [drift: ";
      AppendEscaped(out, op.drift);
      out += ']';
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
    bool first = true;
    auto change = [&](std::string_view name, std::string_view old_value,
                      std::string_view new_value) {
      if (!first) out += ',';
      first = false;
      out += "{\"attr\":";
      AppendQuoted(out, name);
      out += ",\"old\":";
      AppendJsonValue(out, old_value);
      out += ",\"new\":";
      AppendJsonValue(out, new_value);
      out += '}';
    };
    if (!op.external_id.empty()) change(kExternalIdName, op.external_id_was, op.external_id);
    for (const auto& c : op.changes) change(Info(c.attr).name, c.old_value, c.new_value);
    out += "],\"members\":";
    AppendJsonList(out, op.members);
    out += ",\"member_ids\":";
    AppendJsonList(out, op.member_ids);
    out += ",\"previous_key\":";
    AppendJsonValue(out, op.previous_key);
    out += ",\"detail\":";
    AppendJsonValue(out, op.detail);
    out += ",\"drift\":";
    AppendJsonValue(out, op.drift);
    out += '}';
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
  field("adopt", s.adopt);
  field("bind", s.bind);
  field("conflicts", s.conflicts);
  field("drift", s.drift);
  field("unmanaged_users", s.unmanaged_users);
  field("unmanaged_groups", s.unmanaged_groups);
  out += "},\"deletions_blocked\":";
  out += plan.deletions_blocked ? "true" : "false";
  out += ",\"deletions_wanted\":" + std::to_string(plan.deletions_wanted);
  out += ",\"notes\":[";
  for (std::size_t n = 0; n < plan.notes.size(); ++n) {
    if (n > 0) out += ',';
    AppendQuoted(out, plan.notes[n]);
  }
  out += "],\"unmanaged\":{\"users\":";
  AppendUnmanaged(out, plan.unmanaged_users);
  out += ",\"groups\":";
  AppendUnmanaged(out, plan.unmanaged_groups);
  out += "}}";
  return out;
}

}  // namespace scimsync
