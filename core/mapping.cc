#include "core/mapping.h"
#include "core/text.h"

#include <algorithm>

namespace scimsync {
namespace {

Mapping FromTable(std::string key, std::string_view AttrInfo::*column) {
  Mapping m;
  m.key_field = std::move(key);
  for (const auto& info : kAttrs) m.at(info.attr).field = std::string(info.*column);
  return m;
}

std::string ApplyTransform(Transform t, std::string v) {
  switch (t) {
    case Transform::kNone: break;
    case Transform::kLower:
      for (char& c : v) c = LowerAscii(c);
      break;
    case Transform::kUpper:
      for (char& c : v) if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      break;
  }
  return v;
}

}  // namespace

Mapping Mapping::CsvDefaults() { return FromTable("externalId", &AttrInfo::csv_column); }
Mapping Mapping::LdapDefaults() { return FromTable("entryUUID", &AttrInfo::ldap_attr); }
Mapping Mapping::AdDefaults() { return FromTable("objectGUID", &AttrInfo::ad_attr); }

Result<User> ApplyMapping(const Mapping& mapping, const FieldGetter& get) {
  User u;
  u.key = std::string(Trim(get(mapping.key_field)));
  if (u.key.empty()) {
    return Status(ErrorCode::kInvalidArgument, "missing key (" + mapping.key_field + ")");
  }
  // Collected first, then packed into the row at once (AttrValues::Assign).
  std::array<std::string, kAttrCount> vals;
  for (const auto& info : kAttrs) {
    const AttrMapping& am = mapping.at(info.attr);
    std::string v;
    if (!am.constant.empty()) {
      v = am.constant;
    } else if (!am.field.empty()) {
      v = std::string(Trim(get(am.field)));
    }
    v = ApplyTransform(am.transform, std::move(v));
    if (info.kind == AttrKind::kBoolean) {
      auto b = ParseBool(v, /*empty_value=*/true);
      if (!b) {
        return Status(ErrorCode::kInvalidArgument,
                      std::string(info.name) + ": not a boolean: \"" + v + "\"");
      }
      v = *b ? "true" : "false";
    }
    vals[static_cast<std::size_t>(info.attr)] = std::move(v);
  }
  std::string& display = vals[static_cast<std::size_t>(Attr::kDisplayName)];
  if (display.empty()) {
    const std::string& given = vals[static_cast<std::size_t>(Attr::kGivenName)];
    const std::string& family = vals[static_cast<std::size_t>(Attr::kFamilyName)];
    display = given;
    if (!given.empty() && !family.empty()) display += " ";
    display += family;
    if (display.empty()) display = vals[static_cast<std::size_t>(Attr::kUserName)];
  }
  std::array<std::string_view, kAttrCount> views;
  for (std::size_t i = 0; i < kAttrCount; ++i) views[i] = vals[i];
  u.values.Assign(views);
  return u;
}

std::array<bool, kAttrCount> KeepMask(const Mapping& mapping) {
  std::array<bool, kAttrCount> keep{};
  for (std::size_t i = 0; i < kAttrCount; ++i) {
    // An unmapped attribute is not ours: never remove it from the target.
    keep[i] = mapping.attrs[i].keep ||
              (mapping.attrs[i].field.empty() && mapping.attrs[i].constant.empty());
  }
  return keep;
}

std::string_view TransformName(Transform t) {
  switch (t) {
    case Transform::kNone: return "none";
    case Transform::kLower: return "lower";
    case Transform::kUpper: return "upper";
  }
  return "none";
}

std::optional<Transform> TransformByName(std::string_view name) {
  if (name == "none" || name.empty()) return Transform::kNone;
  if (name == "lower") return Transform::kLower;
  if (name == "upper") return Transform::kUpper;
  return std::nullopt;
}

}  // namespace scimsync
