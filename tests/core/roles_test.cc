// ApplyRoles / RolesByName (core/roles.h): the source groups named in [target] roles
// get the role prefix; nothing else changes.
#include "core/roles.h"

#include <doctest/doctest.h>

namespace scimsync {
namespace {

Directory Groups(std::vector<std::string> names) {
  Directory d;
  for (auto& n : names) {
    Group g;
    g.key = "k-" + n;
    g.display_name = n;
    g.members = {"u1"};
    d.groups.push_back(g);
  }
  return d;
}

std::vector<std::string> Names(const Directory& d) {
  std::vector<std::string> out;
  for (const auto& g : d.groups) out.push_back(g.display_name);
  return out;
}

TEST_CASE("roles: listed groups get the prefix, matched regardless of case; keys stay") {
  Directory d = Groups({"Admins", "auditors", "Staff"});
  ApplyRoles({"admins", "Auditors"}, "ROLE_", d);
  CHECK(Names(d) == std::vector<std::string>{"ROLE_Admins", "ROLE_auditors", "Staff"});
  CHECK(d.groups[0].key == "k-Admins");
  CHECK(d.groups[0].members == std::vector<std::string>{"u1"});
}

TEST_CASE("roles: no roles or no prefix changes nothing") {
  Directory d = Groups({"Admins", "Staff"});
  ApplyRoles({}, "ROLE_", d);
  ApplyRoles({"Admins"}, "", d);
  CHECK(Names(d) == std::vector<std::string>{"Admins", "Staff"});
}

TEST_CASE("roles: a role renamed in the source to a name not listed is no longer a role") {
  Directory d = Groups({"Administrators"});
  ApplyRoles({"Admins"}, "ROLE_", d);
  CHECK(Names(d) == std::vector<std::string>{"Administrators"});
  // A case-only rename stays a role, with the source's case.
  Directory c = Groups({"ADMINS"});
  ApplyRoles({"Admins"}, "ROLE_", c);
  CHECK(Names(c) == std::vector<std::string>{"ROLE_ADMINS"});
}

TEST_CASE("roles: source groups already named with the prefix are reported") {
  Directory d = Groups({"Admins", "ROLE_Finance", "Staff"});
  ApplyRoles({"Admins"}, "ROLE_", d);
  CHECK(RolesByName({"Admins"}, "ROLE_", d) == std::vector<std::string>{"ROLE_Finance"});
  CHECK(RolesByName({"Admins"}, "", d).empty());
}

}  // namespace
}  // namespace scimsync
