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
  };
  const Row rows[] = {
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
  };
  for (const auto& r : rows) {
    CAPTURE(r.name);
    CHECK(OpKindName(r.kind) == r.name);
    CHECK(PhaseOf(r.kind) == r.phase);
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
        "\"target_id\":null,\"changes\":[],\"members\":[]},"
        "{\"phase\":2,\"op\":\"update-user\",\"key\":\"E2\",\"label\":\"bob@x.com\","
        "\"target_id\":\"id-2\",\"changes\":[{\"attr\":\"title\",\"old\":null,\"new\":\"Boss\"},"
        "{\"attr\":\"department\",\"old\":\"IT\",\"new\":null}],\"members\":[]},"
        "{\"phase\":3,\"op\":\"add-members\",\"key\":\"G\",\"label\":\"Staff\","
        "\"target_id\":\"gid\",\"changes\":[],\"members\":[\"E1\",\"E2\"]}],"
        "\"summary\":{\"operations\":3,\"users_create\":1,\"users_update\":1,"
        "\"users_disable\":0,\"users_delete\":0,\"groups_create\":0,\"groups_update\":0,"
        "\"groups_delete\":0,\"members_add\":2,\"members_remove\":0,\"resolve\":0,"
        "\"deferred\":3},"
        "\"deletions_blocked\":true,\"deletions_wanted\":40,\"notes\":[\"n1\"]}");
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
        "\"deferred\":0},\"deletions_blocked\":false,\"deletions_wanted\":0,\"notes\":[]}");
}

}  // namespace
}  // namespace scimsync
