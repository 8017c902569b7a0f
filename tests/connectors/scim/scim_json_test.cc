// SCIM wire format: every request shape compared with its exact JSON text, lenient
// parsing of odd bodies, filter escaping and URL joining.
#include "connectors/scim/scim_json.h"

#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <map>

#include "core/mapping.h"

namespace scimsync {
namespace {

User Alice() {
  User u;
  u.key = "k-alice";
  u.Set(Attr::kUserName, "alice@example.com");
  u.Set(Attr::kGivenName, "Alice");
  u.Set(Attr::kFamilyName, "Archer");
  u.Set(Attr::kDisplayName, "Alice Archer");
  u.Set(Attr::kEmail, "alice@example.com");
  u.Set(Attr::kPhone, "+1 555 0100");
  u.Set(Attr::kTitle, "Engineer");
  u.Set(Attr::kDepartment, "R&D");
  u.Set(Attr::kActive, "true");
  return u;
}

const char* const kUserPrefix =
    R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)";

// A user object whose "x" member nests `depth` containers in all, counting the
// object itself: arrays, or objects when `objects` is set.
std::string Nested(int depth, bool objects = false) {
  std::string open = objects ? R"({"a":)" : "[";
  std::string close = objects ? "}" : "]";
  std::string body = R"({"id":"deep","x":)";
  for (int i = 1; i < depth - 1; ++i) body += open;
  body += depth > 1 ? (objects ? "{}" : "[]") : "0";
  for (int i = 1; i < depth - 1; ++i) body += close;
  return body + "}";
}

const std::string kTooDeep = "response body nests deeper than 64 levels";

}  // namespace

TEST_CASE("UserJson: every attribute, enterprise extension when department is set") {
  CHECK(UserJson(Alice()) ==
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",)"
        R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],)"
        R"("userName":"alice@example.com","externalId":"k-alice",)"
        R"("name":{"givenName":"Alice","familyName":"Archer"},"displayName":"Alice Archer",)"
        R"("emails":[{"value":"alice@example.com","type":"work","primary":true}],)"
        R"("phoneNumbers":[{"value":"+1 555 0100","type":"work"}],"title":"Engineer",)"
        R"("active":true,)"
        R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}})");
}

TEST_CASE("UserJson: empty attributes omitted, no extension without department") {
  User u;
  u.key = "k1";
  u.Set(Attr::kUserName, "bob");
  u.Set(Attr::kActive, "false");
  CHECK(UserJson(u) == std::string(kUserPrefix) +
                           R"("userName":"bob","externalId":"k1","active":false})");

  // Half a name: only the part that is set; empty active means active.
  u.Set(Attr::kActive, "");
  u.Set(Attr::kFamilyName, "Builder");
  CHECK(UserJson(u) == std::string(kUserPrefix) +
                           R"("userName":"bob","externalId":"k1","name":{"familyName":"Builder"},)"
                           R"("active":true})");
}

TEST_CASE("UserJson: quotes, backslashes, control characters and UTF-8 are JSON-escaped") {
  User u;
  u.key = "k\"1\\";
  u.Set(Attr::kUserName, "j\xC3\xBCrgen\n\"q\"");
  CHECK(UserJson(u) == std::string(kUserPrefix) +
                           "\"userName\":\"j\xC3\xBCrgen\\n\\\"q\\\"\",\"externalId\":\"k\\\"1\\\\\","
                           "\"active\":true}");
}

TEST_CASE("UserPatchJson: add / replace / remove by path, active as boolean") {
  std::vector<AttrChange> changes = {
      {Attr::kUserName, "old@x", "new@x"},
      {Attr::kGivenName, "", "Alicia"},
      {Attr::kFamilyName, "Archer", ""},
      {Attr::kDisplayName, "A", "B"},
      {Attr::kTitle, "", "Boss"},
      {Attr::kDepartment, "Sales", "R&D"},
      {Attr::kActive, "true", "false"},
  };
  CHECK(UserPatchJson(changes) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"userName","value":"new@x"},)"
        R"({"op":"add","path":"name.givenName","value":"Alicia"},)"
        R"({"op":"remove","path":"name.familyName"},)"
        R"({"op":"replace","path":"displayName","value":"B"},)"
        R"({"op":"add","path":"title","value":"Boss"},)"
        R"({"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"R&D"},)"
        R"({"op":"replace","path":"active","value":false}]})");
}

TEST_CASE("UserPatchJson: emails and phoneNumbers") {
  CHECK(UserPatchJson({{Attr::kEmail, "a@x", "b@x"}}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"emails[type eq \"work\"].value","value":"b@x"}]})");
  // Adding to a user without a work email adds the whole element (strict servers
  // answer noTarget to a value path that matches nothing).
  CHECK(UserPatchJson({{Attr::kEmail, "", "b@x"}}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"add","path":"emails","value":[{"value":"b@x","type":"work","primary":true}]}]})");
  CHECK(UserPatchJson({{Attr::kEmail, "a@x", ""}}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"remove","path":"emails[type eq \"work\"]"}]})");
  CHECK(UserPatchJson({{Attr::kPhone, "1", "2"}, {Attr::kPhone, "", "3"}, {Attr::kPhone, "4", ""}}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"2"},)"
        R"({"op":"add","path":"phoneNumbers","value":[{"value":"3","type":"work"}]},)"
        R"({"op":"remove","path":"phoneNumbers[type eq \"work\"]"}]})");
}

TEST_CASE("UserPatchJson: active is always a replace with a JSON boolean") {
  CHECK(UserPatchJson({{Attr::kActive, "false", "true"}}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"active","value":true}]})");
  CHECK(UserPatchJson({{Attr::kActive, "", "false"}}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"active","value":false}]})");
}

TEST_CASE("GroupJson, GroupRenameJson, MembersPatchJson") {
  Group g;
  g.key = "g-eng";
  g.display_name = "Engineering";
  g.members = {"k-alice"};  // never sent on create
  CHECK(GroupJson(g) ==
        R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],)"
        R"("displayName":"Engineering","externalId":"g-eng"})");
  CHECK(GroupRenameJson("R\"D") ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"displayName","value":"R\"D"}]})");
  CHECK(MembersPatchJson({"u1", "u2"}, {"u3", "u\"4"}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"add","path":"members","value":[{"value":"u1"},{"value":"u2"}]},)"
        R"({"op":"remove","path":"members[value eq \"u3\"]"},)"
        R"({"op":"remove","path":"members[value eq \"u\\\"4\"]"}]})");
  CHECK(MembersPatchJson({}, {"u3"}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"remove","path":"members[value eq \"u3\"]"}]})");
  CHECK(MembersPatchJson({"u1"}, {}) ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"add","path":"members","value":[{"value":"u1"}]}]})");
}

TEST_CASE("EqFilter escapes the value as a JSON string; PercentEncode keeps unreserved only") {
  CHECK(EqFilter("externalId", "abc") == R"(externalId eq "abc")");
  CHECK(EqFilter("userName", R"(a"b\c)") == R"(userName eq "a\"b\\c")");
  CHECK(PercentEncode("AZaz09-._~") == "AZaz09-._~");
  CHECK(PercentEncode(" \"\\+&%=/?#") == "%20%22%5C%2B%26%25%3D%2F%3F%23");
  CHECK(PercentEncode("\xC3\xBC") == "%C3%BC");
  CHECK(PercentEncode(EqFilter("userName", "o'hara+x&y@ex.com")) ==
        "userName%20eq%20%22o%27hara%2Bx%26y%40ex.com%22");
  CHECK(PercentEncode(EqFilter("userName", R"(a"b\c)")) ==
        "userName%20eq%20%22a%5C%22b%5C%5Cc%22");
}

TEST_CASE("JoinUrl: with or without slashes, path segments kept") {
  CHECK(JoinUrl("https://h/scim/v2", "Users") == "https://h/scim/v2/Users");
  CHECK(JoinUrl("https://h/scim/v2/", "Users") == "https://h/scim/v2/Users");
  CHECK(JoinUrl("https://h/scim/v2//", "/Users/1") == "https://h/scim/v2/Users/1");
  CHECK(JoinUrl("https://keepersecurity.com/api/rest/scim/v2/123456", "Users?count=1") ==
        "https://keepersecurity.com/api/rest/scim/v2/123456/Users?count=1");
  CHECK(JoinUrl("https://scim-api.keepnetlabs.com/scim", "Groups") ==
        "https://scim-api.keepnetlabs.com/scim/Groups");
}

TEST_CASE("ParseUser: full resource") {
  std::string version;
  auto u = ParseUser(
      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223","externalId":"k1",)"
      R"("userName":"alice@x","name":{"givenName":"Alice","familyName":"A","formatted":"Alice A"},)"
      R"("displayName":"Alice","emails":[{"value":"home@x","type":"home"},{"value":"work@x","type":"work"}],)"
      R"("phoneNumbers":[{"value":"555","type":"work"}],"title":"T","active":true,)"
      R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","manager":{"value":"m"}},)"
      R"("meta":{"resourceType":"User","version":"W/\"3\""},"x-unknown":[1,2,3]})",
      &version);
  REQUIRE(u);
  CHECK(u->id == "2819c223");
  CHECK(u->external_id == "k1");
  AttrValues want{};
  want.Set(static_cast<int>(Attr::kUserName), "alice@x");
  want.Set(static_cast<int>(Attr::kGivenName), "Alice");
  want.Set(static_cast<int>(Attr::kFamilyName), "A");
  want.Set(static_cast<int>(Attr::kDisplayName), "Alice");
  want.Set(static_cast<int>(Attr::kEmail), "work@x");
  want.Set(static_cast<int>(Attr::kPhone), "555");
  want.Set(static_cast<int>(Attr::kTitle), "T");
  want.Set(static_cast<int>(Attr::kDepartment), "Sales");
  want.Set(static_cast<int>(Attr::kActive), "true");
  CHECK(u->values == want);
  CHECK(version == R"(W/"3")");
}

TEST_CASE("ParseUser: odd bodies") {
  // Numeric id, active as a string, case-insensitive names, email without type.
  auto u = ParseUser(
      R"({"ID":42,"USERNAME":"bob","Active":"False","emails":[{"value":"b1@x"},{"value":"b2@x","primary":true}],)"
      R"("name":"not an object","title":{"x":1},"displayName":null})");
  REQUIRE(u);
  CHECK(u->id == "42");
  CHECK(u->values[static_cast<int>(Attr::kUserName)] == "bob");
  CHECK(u->values[static_cast<int>(Attr::kActive)] == "false");
  CHECK(u->values[static_cast<int>(Attr::kEmail)] == "b2@x");  // primary over first
  CHECK(u->values[static_cast<int>(Attr::kGivenName)].empty());
  CHECK(u->values[static_cast<int>(Attr::kTitle)].empty());
  CHECK(u->values[static_cast<int>(Attr::kDisplayName)].empty());

  auto first = ParseUser(R"({"id":"1","emails":[{"value":""},{"value":"only@x"}],"active":"yes"})");
  REQUIRE(first);
  CHECK(first->values[static_cast<int>(Attr::kEmail)] == "only@x");
  CHECK(first->values[static_cast<int>(Attr::kActive)].empty());  // unreadable: absent

  auto empty = ParseUser("{}");
  REQUIRE(empty);
  CHECK(empty->id.empty());
  CHECK_FALSE(ParseUser(""));
  CHECK_FALSE(ParseUser("[1]"));
  CHECK_FALSE(ParseUser("<html>Bad gateway</html>"));
  CHECK_FALSE(ParseUser(R"({"id":"1")"));
}

TEST_CASE("ParseGroup: members and odd values") {
  auto g = ParseGroup(
      R"({"id":"g1","externalId":"ge","displayName":"Eng","members":[{"value":"u1"},{"value":2},"junk",{"display":"x"}]})");
  REQUIRE(g);
  CHECK(g->id == "g1");
  CHECK(g->external_id == "ge");
  CHECK(g->display_name == "Eng");
  CHECK(g->member_ids == std::vector<std::string>{"u1", "2"});
  auto bare = ParseGroup(R"({"id":"g2","members":null})");
  REQUIRE(bare);
  CHECK(bare->member_ids.empty());
}

TEST_CASE("ParseUserPage / ParseGroupPage: envelope validation") {
  auto p = ParseUserPage(
      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":3,)"
      R"("itemsPerPage":20,"startIndex":1,"Resources":[{"id":"a"},7,{"id":"b"}]})");
  CHECK(p.valid);
  CHECK(p.total_results == 3);
  CHECK(p.returned == 3);
  REQUIRE(p.resources.size() == 2);
  CHECK(p.resources[1].id == "b");

  auto none = ParseUserPage(R"({"totalResults":0})");
  CHECK(none.valid);
  CHECK(none.returned == 0);
  CHECK(ParseUserPage(R"({"totalResults":0,"Resources":[]})").valid);
  CHECK_FALSE(ParseUserPage(R"({"totalResults":5})").valid);  // hits promised, none given
  CHECK_FALSE(ParseUserPage(R"({})").valid);
  CHECK_FALSE(ParseUserPage(R"({"Resources":{}})").valid);
  CHECK_FALSE(ParseUserPage("not json").valid);
  CHECK_FALSE(ParseUserPage("").valid);

  auto g = ParseGroupPage(R"({"Resources":[{"id":"g","displayName":"G"}]})");
  CHECK(g.valid);
  CHECK_FALSE(g.total_results.has_value());
  REQUIRE(g.resources.size() == 1);
  CHECK(g.resources[0].display_name == "G");
}

TEST_CASE("ParseError: SCIM errors, other JSON, plain text") {
  ScimError e = ParseError(
      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName already in use"})");
  CHECK(e.detail == "userName already in use");
  CHECK(e.scim_type == "uniqueness");

  e = ParseError(R"({"status":428,"detail":"Number of licensed seats was exceeded"})");
  CHECK(e.detail == "Number of licensed seats was exceeded");
  CHECK(e.scim_type.empty());

  e = ParseError(R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
  CHECK(e.detail == "Rate exceeded");

  e = ParseError(R"({"error":"nope"})");
  CHECK(e.detail == R"({"error":"nope"})");

  e = ParseError("  Email already taken\r\n");
  CHECK(e.detail == "Email already taken");

  e = ParseError("line one\nline two");
  CHECK(e.detail == "line one line two");

  std::string long_body(150, 'a');
  long_body += "\xC3\xBC";  // bytes 150-151
  long_body += std::string(47, 'b');  // 199 bytes so far
  long_body += "\xC3\xBC";  // bytes 199-200: cut would split it
  long_body += "tail";
  e = ParseError(long_body);
  CHECK(e.detail.size() == 199);
  CHECK(e.detail == long_body.substr(0, 199));

  CHECK(ParseError("").detail.empty());
}

TEST_CASE("Parsers: 400,000 nested brackets fail cleanly instead of overflowing the stack") {
  // The recursive parser crashed with SIGSEGV here (issue 8, item 2).
  const std::string brackets(400000, '[');
  const std::string in_object = R"({"id":"x","Resources":)" + brackets;
  const std::string closed = brackets + std::string(400000, ']');
  for (const std::string* body : {&brackets, &in_object, &closed}) {
    std::string error;
    CHECK_FALSE(ParseUser(*body, nullptr, &error));
    CHECK(error == kTooDeep);
    CHECK_FALSE(ParseGroup(*body, nullptr, &error));
    CHECK(error == kTooDeep);
    UserPage users = ParseUserPage(*body);
    CHECK_FALSE(users.valid);
    CHECK(users.error == kTooDeep);
    GroupPage groups = ParseGroupPage(*body);
    CHECK_FALSE(groups.valid);
    CHECK(groups.error == kTooDeep);
    CHECK(ParseError(*body).detail == kTooDeep);  // not 200 bytes of brackets
  }
}

TEST_CASE("Parsers: the depth limit is exactly kMaxJsonDepth levels, arrays and objects alike") {
  static_assert(kMaxJsonDepth == 64);
  for (bool objects : {false, true}) {
    CAPTURE(objects);
    std::string error = "unset";
    auto ok = ParseUser(Nested(kMaxJsonDepth, objects), nullptr, &error);
    REQUIRE(ok);
    CHECK(ok->id == "deep");
    CHECK(error.empty());
    CHECK_FALSE(ParseUser(Nested(kMaxJsonDepth + 1, objects), nullptr, &error));
    CHECK(error == kTooDeep);
  }
  CHECK(ParseGroup(Nested(kMaxJsonDepth)));
  CHECK_FALSE(ParseGroup(Nested(kMaxJsonDepth + 1)));
  // A list page: envelope, Resources array and resource count as three levels.
  std::string page = R"({"totalResults":1,"Resources":[)" + Nested(kMaxJsonDepth - 2) + "]}";
  CHECK(ParseUserPage(page).valid);
  page = R"({"totalResults":1,"Resources":[)" + Nested(kMaxJsonDepth - 1) + "]}";
  CHECK(ParseUserPage(page).error == kTooDeep);
  // Depth comes back down: many shallow siblings are fine.
  std::string wide = R"({"id":"w","x":[)";
  for (int i = 0; i < 1000; ++i) wide += std::string(i ? "," : "") + "[[[]]]";
  CHECK(ParseUser(wide + "]}"));
}

TEST_CASE("Parsers: why a body is not a resource, without quoting it") {
  std::string error;
  CHECK(ParseUser(R"({"id":"1"})", nullptr, &error));
  CHECK(error.empty());
  CHECK_FALSE(ParseUser("", nullptr, &error));
  CHECK(error == "empty body");
  CHECK_FALSE(ParseUser("<html>Bearer secret</html>", nullptr, &error));
  CHECK(error == "not JSON (Invalid value. at byte 0)");
  CHECK_FALSE(ParseGroup(R"({"id":"1")", nullptr, &error));
  CHECK(error == "not JSON (Missing a comma or '}' after an object member. at byte 9)");
  CHECK_FALSE(ParseGroup("[1]", nullptr, &error));
  CHECK(error == "not a JSON object");
  CHECK(ParseUserPage(R"({"totalResults":5})").error ==
        "no Resources although totalResults is not 0");
  CHECK(ParseGroupPage(R"({"Resources":{}})").error == "Resources is not an array");
  CHECK(ParseGroupPage(R"({"Resources":[]})").error.empty());
}

TEST_CASE("externalId writes: replace externalId first, beside the user changes or displayName") {
  CHECK(UserPatchJson({{Attr::kTitle, "", "Boss"}}, "k\"5") ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"externalId","value":"k\"5"},)"
        R"({"op":"add","path":"title","value":"Boss"}]})");
  CHECK(UserPatchJson({}, "k5") ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"externalId","value":"k5"}]})");
  CHECK(GroupRenameJson("Eng", "g-eng") ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"externalId","value":"g-eng"},)"
        R"({"op":"replace","path":"displayName","value":"Eng"}]})");
  CHECK(GroupRenameJson("", "g-eng") ==
        R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
        R"({"op":"replace","path":"externalId","value":"g-eng"}]})");
}

}  // namespace scimsync

namespace scimsync {

// The kAttrs table drives UserJson, UserPatchJson and ParseUser; these keep its
// SCIM columns consistent with the PATCH paths and with each other.
TEST_CASE("kAttrs: each PATCH path follows from the attribute's SCIM shape") {
  for (const AttrInfo& info : kAttrs) {
    CAPTURE(info.name);
    const ScimInfo& s = info.scim;
    std::string want;
    switch (s.shape) {
      case ScimShape::kTopLevel:
      case ScimShape::kBoolean:
        want = std::string(s.leaf);
        break;
      case ScimShape::kNameSub:
      case ScimShape::kEnterprise:
        want = std::string(s.container) + (s.shape == ScimShape::kNameSub ? "." : ":") +
               std::string(s.leaf);
        break;
      case ScimShape::kWorkMulti:
        want = std::string(s.container) + "[type eq \"work\"]." + std::string(s.leaf);
        break;
    }
    CHECK(info.patch_path == want);
    CHECK((s.shape == ScimShape::kBoolean) == (info.kind == AttrKind::kBoolean));
  }
}

TEST_CASE("UserJson then ParseUser gives every attribute back") {
  User u;
  u.key = "k-alice";
  for (const AttrInfo& info : kAttrs) {
    u.Set(info.attr, info.kind == AttrKind::kBoolean ? "false" : "v-" + std::string(info.name));
  }
  std::optional<RemoteUser> got = ParseUser(UserJson(u));
  REQUIRE(got);
  CHECK(got->external_id == "k-alice");
  for (const AttrInfo& info : kAttrs) {
    CAPTURE(info.name);
    CHECK(got->values[static_cast<std::size_t>(info.attr)] == u.Get(info.attr));
  }
}

TEST_CASE("Keepnet's fields reach the documented SCIM paths (docs/targets.md, Keepnet Labs)") {
  // Keepnet's built-in fields: email, first name, last name, department, phone
  // number; mapped from an HR export's columns as docs/targets.md shows.
  Mapping m = Mapping::CsvDefaults();
  m.at(Attr::kUserName).field = "email";
  m.at(Attr::kGivenName).field = "first_name";
  m.at(Attr::kFamilyName).field = "last_name";
  m.at(Attr::kEmail).field = "email";
  m.at(Attr::kDepartment).field = "department";
  m.at(Attr::kPhone).field = "phone";
  const std::map<std::string, std::string, std::less<>> row = {
      {"externalId", "E-17"},        {"email", "ada@example.com"}, {"first_name", "Ada"},
      {"last_name", "Lovelace"},     {"department", "Finance"},    {"phone", "+44 20 7946 0000"}};
  Result<User> user = ApplyMapping(m, [&](std::string_view field) {
    auto it = row.find(field);
    return it == row.end() ? std::string() : it->second;
  });
  REQUIRE(user.ok());

  rapidjson::Document doc;
  const std::string body = UserJson(*user);
  doc.Parse(body.c_str());
  REQUIRE(doc.IsObject());
  auto text = [](const rapidjson::Value& v) { return std::string(v.GetString()); };
  CHECK(text(doc["userName"]) == "ada@example.com");
  CHECK(text(doc["externalId"]) == "E-17");
  CHECK(text(doc["name"]["givenName"]) == "Ada");
  CHECK(text(doc["name"]["familyName"]) == "Lovelace");
  REQUIRE(doc["emails"].Size() == 1);
  CHECK(text(doc["emails"][0]["value"]) == "ada@example.com");
  CHECK(text(doc["emails"][0]["type"]) == "work");
  CHECK(doc["emails"][0]["primary"].GetBool());
  REQUIRE(doc["phoneNumbers"].Size() == 1);
  CHECK(text(doc["phoneNumbers"][0]["value"]) == "+44 20 7946 0000");
  CHECK(text(doc["phoneNumbers"][0]["type"]) == "work");
  const char* urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
  CHECK(text(doc[urn]["department"]) == "Finance");
  bool declared = false;
  for (const auto& schema : doc["schemas"].GetArray()) declared = declared || text(schema) == urn;
  CHECK(declared);
  // A department move is a PATCH of the enterprise path.
  CHECK(UserPatchJson({{Attr::kDepartment, "Finance", "Sales"}}) ==
        std::string(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)") +
            R"("Operations":[{"op":"replace","path":")" + urn +
            R"(:department","value":"Sales"}]})");
}

TEST_CASE("ParseServiceProviderConfig: RFC 7643 §5 body, lenient about names and types") {
  Discovery d = ParseServiceProviderConfig(
      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],)"
      R"("patch":{"supported":true},"bulk":{"supported":true,"maxOperations":1000,)"
      R"("maxPayloadSize":1048576},"filter":{"supported":true,"maxResults":200},)"
      R"("changePassword":{"supported":false},"sort":{"supported":true},)"
      R"("etag":{"supported":false},"authenticationSchemes":[]})");
  CHECK(d.outcome == Discovery::Outcome::kServed);
  CHECK(d.filter == true);
  CHECK(d.filter_max_results == 200);
  CHECK(d.patch == true);
  CHECK(d.etag == false);
  CHECK(d.bulk == true);
  CHECK(d.bulk_max_operations == 1000);
  CHECK(d.sort == true);
  CHECK(d.odd.empty());

  // Names in any case, booleans and limits as text, capabilities left out.
  d = ParseServiceProviderConfig(R"({"Filter":{"Supported":"TRUE","MaxResults":"50"},"PATCH":{}})");
  CHECK(d.outcome == Discovery::Outcome::kServed);
  CHECK(d.filter == true);
  CHECK(d.filter_max_results == 50);
  CHECK_FALSE(d.patch.has_value());
  CHECK_FALSE(d.etag.has_value());
  CHECK_FALSE(d.bulk_max_operations.has_value());
  CHECK(d.odd.empty());

  // Odd fields are left out and named.
  d = ParseServiceProviderConfig(
      R"({"patch":true,"filter":{"supported":1,"maxResults":-5},"etag":{"supported":null},)"
      R"("bulk":{"supported":false,"maxOperations":"many"},"sort":{"supported":false}})");
  CHECK(d.outcome == Discovery::Outcome::kServed);
  CHECK_FALSE(d.patch.has_value());
  CHECK_FALSE(d.filter.has_value());
  CHECK_FALSE(d.filter_max_results.has_value());
  CHECK(d.bulk == false);
  CHECK(d.sort == false);
  CHECK(d.odd == std::vector<std::string>{
                     "filter.supported is a number, not a boolean",
                     "filter.maxResults is a number out of range, not a non-negative integer",
                     "patch is a boolean, not an object",
                     "etag.supported is null, not a boolean",
                     "bulk.maxOperations is a string, not a non-negative integer"});

  // Not a ServiceProviderConfig at all.
  d = ParseServiceProviderConfig("<html>sign in</html>");
  CHECK(d.outcome == Discovery::Outcome::kFailed);
  CHECK(d.detail == "not a ServiceProviderConfig: not JSON (Invalid value. at byte 0)");
  d = ParseServiceProviderConfig(R"({"Resources":[]})");
  CHECK(d.outcome == Discovery::Outcome::kFailed);
  CHECK(d.detail == "not a ServiceProviderConfig: none of patch, filter, bulk, etag and sort");
  CHECK(ParseServiceProviderConfig("").detail == "not a ServiceProviderConfig: empty body");
  CHECK(ParseServiceProviderConfig("[]").detail == "not a ServiceProviderConfig: not a JSON object");
}

}  // namespace scimsync
