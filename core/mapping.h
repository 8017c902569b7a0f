// Attribute mapping: which source field feeds which SCIM attribute, shared by the
// CSV and LDAP sources. A field is a CSV column or an LDAP attribute name.
//
// Each SCIM attribute is either unmapped, taken from a source field (optionally
// transformed), or a constant. `keep` means: when the value is absent in the source,
// leave whatever the target holds instead of removing it.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/result.h"

namespace scimsync {

enum class Transform { kNone, kLower, kUpper };

struct AttrMapping {
  std::string field;      // source field; empty = unmapped (unless constant set)
  std::string constant;   // used when non-empty, instead of field
  Transform transform = Transform::kNone;
  bool keep = false;
};

struct Mapping {
  std::string key_field;                       // the immutable key field
  std::array<AttrMapping, kAttrCount> attrs;   // indexed by Attr

  AttrMapping& at(Attr a) { return attrs[static_cast<std::size_t>(a)]; }
  const AttrMapping& at(Attr a) const { return attrs[static_cast<std::size_t>(a)]; }

  // Defaults for a CSV source (DESIGN §8 columns), an OpenLDAP source and an AD source.
  static Mapping CsvDefaults();
  static Mapping LdapDefaults();
  static Mapping AdDefaults();
};

// Reads one field of a source record; returns empty when the field is absent.
using FieldGetter = std::function<std::string(std::string_view field)>;

// Builds a user from one source record: trims values, applies transforms and
// constants, normalizes `active` to "true"/"false" (empty = true) and fills
// displayName from given+family name when it is unmapped or empty.
// Fails (kInvalidArgument, message naming the attribute) on a missing key or a
// malformed boolean.
Result<User> ApplyMapping(const Mapping& mapping, const FieldGetter& get);

// Which attributes must not be removed from the target when absent in the source.
std::array<bool, kAttrCount> KeepMask(const Mapping& mapping);

std::string_view TransformName(Transform t);
std::optional<Transform> TransformByName(std::string_view name);

}  // namespace scimsync
