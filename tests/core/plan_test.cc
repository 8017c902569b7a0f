// Plan rendering: kind names and phases, the `plan` text and the `plan --json`
// document, with the escaping that keeps one operation on one line.
#include "core/plan.h"

#include <doctest/doctest.h>

#include <string>

namespace scimsync {
namespace {

Operation Op(OpKind kind, std::string key, std::string label, std::string target_id = "") {
  Operation op;
  op.kind = kind;
  op.key = std::move(key);
  op.label = std::move(label);
  op.target_id = std::move(target_id);
  return op;
}

TEST_CASE("kind names and phases") {
  struct Row {
    OpKind kind;
    const char* name;
    Phase phase;
    bool writes;
  };
  const Row rows[] = {
      {OpKind::kResolveUser, "resolve-user", Phase::kResolve, false},
      {OpKind::kResolveGroup, "resolve-group", Phase::kResolve, false},
      {OpKind::kCreateUser, "create-user", Phase::kUsers, true},
      {OpKind::kUpdateUser, "update-user", Phase::kUsers, true},
      {OpKind::kCreateGroup, "create-group", Phase::kGroups, true},
      {OpKind::kUpdateGroup, "update-group", Phase::kGroups, true},
      {OpKind::kAddMembers, "add-members", Phase::kGroups, true},
      {OpKind::kRemoveMembers, "remove-members", Phase::kRemoveMembers, true},
      {OpKind::kDisableUser, "disable-user", Phase::kDeprovision, true},
      {OpKind::kDeleteUser, "delete-user", Phase::kDeprovision, true},
      {OpKind::kDeleteGroup, "delete-group", Phase::kDeleteGroups, true},
      {OpKind::kAdoptUser, "adopt-user", Phase::kUsers, true},
      {OpKind::kBindUser, "bind-user", Phase::kUsers, false},
      {OpKind::kConflictUser, "conflict-user", Phase::kUsers, false},
      {OpKind::kAdoptGroup, "adopt-group", Phase::kGroups, true},
      {OpKind::kBindGroup, "bind-group", Phase::kGroups, false},
      {OpKind::kConflictGroup, "conflict-group", Phase::kGroups, false},
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    CHECK(OpKindName(r.kind) == r.name);
    CHECK(PhaseOf(r.kind) == r.phase);
    CHECK(WritesTarget(r.kind) == r.writes);
  }
}

TEST_CASE("Describe: one line per operation, kind in a column, notes, summary") {
  Plan p;
  p.ops.push_back(Op(OpKind::kResolveUser, "k0", "", "id-0"));
  Operation up = Op(OpKind::kUpdateUser, "k1", "alice@example.com", "id-1");
  up.changes = {{Attr::kEmail, "a@x", "b@x"}, {Attr::kTitle, "CTO", ""}, {Attr::kPhone, "", "1"}};
  p.ops.push_back(up);
  Operation add = Op(OpKind::kAddMembers, "g1", "Sales", "gid-1");
  add.members = {"k1", "k2"};
  p.ops.push_back(add);
  Operation rm = Op(OpKind::kRemoveMembers, "g1", "Sales", "gid-1");
  rm.members = {"a", "b", "c", "d", "e", "f"};
  p.ops.push_back(rm);
  p.notes = {"first note", "second"};
  p.summary.users_update = 1;
  p.summary.members_add = 2;
  p.summary.members_remove = 6;
  p.summary.resolve = 1;
  CHECK(Describe(p) ==
        "resolve-user   k0 - by id id-0\n"
        "update-user    k1 alice@example.com emails.work: \"a@x\" -> \"b@x\", title: \"CTO\" -> "
        "(none), phoneNumbers.work: (none) -> \"1\"\n"
        "add-members    g1 Sales +2 members (k1 k2)\n"
        "remove-members g1 Sales -6 members\n"
        "# first note\n"
        "# second\n"
        "# plan: 4 operations (users +0 ~1 -0, groups +0 ~0 -0, members +2 -6, resolve 1)\n");
}

TEST_CASE("Describe: identity kinds, externalId, foreign member ids, drift") {
  Plan p;
  Operation adopt = Op(OpKind::kAdoptUser, "E1", "ann@x.com", "u-1");
  adopt.detail = "by userName";
  adopt.external_id = "E1";
  adopt.changes = {{Attr::kTitle, "", "CTO"}};
  p.ops.push_back(adopt);
  Operation bind = Op(OpKind::kBindUser, "E2", "bob@x.com", "u-2");
  bind.detail = "by externalId";
  p.ops.push_back(bind);
  Operation gone = Op(OpKind::kBindUser, "E3", "cy@x.com");
  gone.detail = "not on the target";
  p.ops.push_back(gone);
  Operation conflict = Op(OpKind::kConflictUser, "E4", "dee@x.com");
  conflict.detail = "target user u-4 with userName \"dee@x.com\" has externalId \"E9\"; not adopted";
  p.ops.push_back(conflict);
  Operation up = Op(OpKind::kUpdateUser, "E5", "eve@x.com", "u-5");
  up.changes = {{Attr::kDepartment, "Ops", "IT"}};
  up.drift = "department changed on the target";
  p.ops.push_back(up);
  Operation rm = Op(OpKind::kRemoveMembers, "G", "Staff", "gid");
  rm.members = {"E3"};
  rm.member_ids = {"u-9"};
  rm.drift = "2 members added on the target";
  p.ops.push_back(rm);
  p.summary.adopt = 1;
  p.summary.bind = 2;
  p.summary.conflicts = 1;
  p.summary.users_update = 1;
  p.summary.members_remove = 2;
  p.summary.drift = 2;
  p.summary.unmanaged_users = 3;
  CHECK(Describe(p) ==
        "adopt-user     E1 ann@x.com u-1 (by userName) externalId: (none) -> \"E1\", title: (none) "
        "-> \"CTO\"\n"
        "bind-user      E2 bob@x.com u-2 (by externalId)\n"
        "bind-user      E3 cy@x.com (not on the target)\n"
        "conflict-user  E4 dee@x.com (target user u-4 with userName \\\"dee@x.com\\\" has externalId "
        "\\\"E9\\\"; not adopted)\n"
        "update-user    E5 eve@x.com department: \"Ops\" -> \"IT\" [drift: department changed on the "
        "target]\n"
        "remove-members G Staff -2 members (E3 id:u-9) [drift: 2 members added on the target]\n"
        "# plan: 6 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -2, adopt 1, bind 2, "
        "conflicts 1, drift 2, unmanaged users 3 groups 0)\n");
}

TEST_CASE("Describe escapes quotes, backslashes and control characters, keeps UTF-8") {
  Plan p;
  Operation up = Op(OpKind::kUpdateUser, "k\n1", "jo\"e\\", "id");
  up.changes = {{Attr::kDisplayName, "Ren\xc3\xa9" "e \"R\"", "a\\b\nc\td\x01"}};
  p.ops.push_back(up);
  p.notes = {"line\nbreak"};
  p.summary.users_update = 1;
  CHECK(Describe(p) ==
        "update-user    k\\u000a1 jo\\\"e\\\\ displayName: \"Ren\xc3\xa9" "e \\\"R\\\"\" -> "
        "\"a\\\\b\\u000ac\\u0009d\\u0001\"\n"
        "# line\\u000abreak\n"
        "# plan: 1 operations (users +0 ~1 -0, groups +0 ~0 -0, members +0 -0)\n");
}

TEST_CASE("DescribeJson: the whole document") {
  Plan p;
  Operation create = Op(OpKind::kCreateUser, "E1", "ann@x.com");
  p.ops.push_back(create);
  Operation up = Op(OpKind::kUpdateUser, "E2", "bob@x.com", "id-2");
  up.changes = {{Attr::kTitle, "", "Boss"}, {Attr::kDepartment, "IT", ""}};
  p.ops.push_back(up);
  Operation add = Op(OpKind::kAddMembers, "G", "Staff", "gid");
  add.members = {"E1", "E2"};
  p.ops.push_back(add);
  p.summary.users_create = 1;
  p.summary.users_update = 1;
  p.summary.members_add = 2;
  p.summary.deferred = 3;
  p.deletions_blocked = true;
  p.deletions_wanted = 40;
  p.notes = {"n1"};
  CHECK(DescribeJson(p) ==
        "{\"operations\":["
        "{\"phase\":2,\"op\":\"create-user\",\"key\":\"E1\",\"label\":\"ann@x.com\","
        "\"target_id\":null,\"changes\":[],\"members\":[],\"member_ids\":[],"
        "\"previous_key\":null,\"detail\":null,\"drift\":null},"
        "{\"phase\":2,\"op\":\"update-user\",\"key\":\"E2\",\"label\":\"bob@x.com\","
        "\"target_id\":\"id-2\",\"changes\":[{\"attr\":\"title\",\"old\":null,\"new\":\"Boss\"},"
        "{\"attr\":\"department\",\"old\":\"IT\",\"new\":null}],\"members\":[],"
        "\"member_ids\":[],\"previous_key\":null,\"detail\":null,\"drift\":null},"
        "{\"phase\":3,\"op\":\"add-members\",\"key\":\"G\",\"label\":\"Staff\","
        "\"target_id\":\"gid\",\"changes\":[],\"members\":[\"E1\",\"E2\"],\"member_ids\":[],"
        "\"previous_key\":null,\"detail\":null,\"drift\":null}],"
        "\"summary\":{\"operations\":3,\"users_create\":1,\"users_update\":1,"
        "\"users_disable\":0,\"users_delete\":0,\"groups_create\":0,\"groups_update\":0,"
        "\"groups_delete\":0,\"members_add\":2,\"members_remove\":0,\"resolve\":0,"
        "\"deferred\":3,\"adopt\":0,\"bind\":0,\"conflicts\":0,\"drift\":0,"
        "\"unmanaged_users\":0,\"unmanaged_groups\":0},"
        "\"deletions_blocked\":true,\"deletions_wanted\":40,\"notes\":[\"n1\"],"
        "\"unmanaged\":{\"users\":[],\"groups\":[]}}");
}

TEST_CASE("DescribeJson: identity fields, externalId as a change, unmanaged objects") {
  Plan p;
  Operation adopt = Op(OpKind::kAdoptGroup, "sales", "sales", "gid-1");
  adopt.previous_key = "Sales";
  adopt.detail = "key was Sales";
  adopt.external_id = "sales";
  adopt.external_id_was = "Sales";
  adopt.changes = {{Attr::kDisplayName, "Sales", "sales"}};
  p.ops.push_back(adopt);
  Operation rm = Op(OpKind::kRemoveMembers, "G", "Staff", "gid");
  rm.members = {"E3"};
  rm.member_ids = {"u-9"};
  rm.drift = "2 members added on the target";
  p.ops.push_back(rm);
  p.summary.adopt = 1;
  p.summary.members_remove = 2;
  p.summary.drift = 1;
  p.summary.unmanaged_users = 1;
  p.unmanaged_users = {{"u-9", "eve@x.com"}};
  CHECK(DescribeJson(p) ==
        "{\"operations\":["
        "{\"phase\":3,\"op\":\"adopt-group\",\"key\":\"sales\",\"label\":\"sales\","
        "\"target_id\":\"gid-1\",\"changes\":[{\"attr\":\"externalId\",\"old\":\"Sales\","
        "\"new\":\"sales\"},{\"attr\":\"displayName\",\"old\":\"Sales\",\"new\":\"sales\"}],"
        "\"members\":[],\"member_ids\":[],\"previous_key\":\"Sales\","
        "\"detail\":\"key was Sales\",\"drift\":null},"
        "{\"phase\":4,\"op\":\"remove-members\",\"key\":\"G\",\"label\":\"Staff\","
        "\"target_id\":\"gid\",\"changes\":[],\"members\":[\"E3\"],\"member_ids\":[\"u-9\"],"
        "\"previous_key\":null,\"detail\":null,\"drift\":\"2 members added on the target\"}],"
        "\"summary\":{\"operations\":2,\"users_create\":0,\"users_update\":0,"
        "\"users_disable\":0,\"users_delete\":0,\"groups_create\":0,\"groups_update\":0,"
        "\"groups_delete\":0,\"members_add\":0,\"members_remove\":2,\"resolve\":0,"
        "\"deferred\":0,\"adopt\":1,\"bind\":0,\"conflicts\":0,\"drift\":1,"
        "\"unmanaged_users\":1,\"unmanaged_groups\":0},"
        "\"deletions_blocked\":false,\"deletions_wanted\":0,\"notes\":[],"
        "\"unmanaged\":{\"users\":[{\"id\":\"u-9\",\"name\":\"eve@x.com\"}],\"groups\":[]}}");
}

TEST_CASE("DescribeJson escaping") {
  Plan p;
  Operation up = Op(OpKind::kUpdateUser, "K\"1", "a\\b@x", "id\x1f");
  up.changes = {{Attr::kTitle, "line\nbreak", "tab\there \xe2\x82\xac\x7f"}};
  p.ops.push_back(up);
  p.notes = {"cr\rend"};
  std::string j = DescribeJson(p);
  CHECK(j.find("\"key\":\"K\\\"1\"") != std::string::npos);
  CHECK(j.find("\"label\":\"a\\\\b@x\"") != std::string::npos);
  CHECK(j.find("\"target_id\":\"id\\u001f\"") != std::string::npos);
  CHECK(j.find("\"old\":\"line\\u000abreak\"") != std::string::npos);
  // UTF-8 (the euro sign) and DEL pass through; JSON does not require escaping them.
  CHECK(j.find("\"new\":\"tab\\u0009here \xe2\x82\xac\x7f\"") != std::string::npos);
  CHECK(j.find("\"notes\":[\"cr\\u000dend\"]") != std::string::npos);
  // No raw control character anywhere in the document.
  for (char c : j) CHECK(static_cast<unsigned char>(c) >= 0x20);
}

TEST_CASE("an empty plan") {
  Plan p;
  CHECK(p.empty());
  CHECK(Describe(p) == "# plan: 0 operations (users +0 ~0 -0, groups +0 ~0 -0, members +0 -0)\n");
  CHECK(DescribeJson(p) ==
        "{\"operations\":[],\"summary\":{\"operations\":0,\"users_create\":0,\"users_update\":0,"
        "\"users_disable\":0,\"users_delete\":0,\"groups_create\":0,\"groups_update\":0,"
        "\"groups_delete\":0,\"members_add\":0,\"members_remove\":0,\"resolve\":0,"
        "\"deferred\":0,\"adopt\":0,\"bind\":0,\"conflicts\":0,\"drift\":0,"
        "\"unmanaged_users\":0,\"unmanaged_groups\":0},\"deletions_blocked\":false,"
        "\"deletions_wanted\":0,\"notes\":[],\"unmanaged\":{\"users\":[],\"groups\":[]}}");
}

}  // namespace
}  // namespace scimsync
