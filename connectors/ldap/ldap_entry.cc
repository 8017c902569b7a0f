#include "connectors/ldap/ldap_entry.h"

#include "connectors/ldap/ad_values.h"
#include "core/model.h"
#include "core/text.h"

namespace scimsync {

const std::vector<std::string>* LdapEntry::Find(std::string_view name) const {
  for (const auto& a : attrs) {
    if (EqualsIgnoreCase(a.name, name)) return &a.values;
  }
  return nullptr;
}

std::vector<std::string>* LdapEntry::Find(std::string_view name) {
  for (auto& a : attrs) {
    if (EqualsIgnoreCase(a.name, name)) return &a.values;
  }
  return nullptr;
}

std::string LdapEntry::First(std::string_view name) const {
  const auto* v = Find(name);
  if (v == nullptr || v->empty()) return "";
  return RenderValue(name, v->front());
}

void LdapEntry::Add(std::string name, std::string value) {
  if (auto* v = Find(name)) {
    v->push_back(std::move(value));
    return;
  }
  attrs.push_back({std::move(name), {std::move(value)}});
}

std::string Base64(std::string_view raw) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(raw[i]) << 16) |
                 (static_cast<unsigned char>(raw[i + 1]) << 8) |
                 static_cast<unsigned char>(raw[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < raw.size()) {
    unsigned v = static_cast<unsigned char>(raw[i]) << 16;
    if (i + 1 < raw.size()) v |= static_cast<unsigned char>(raw[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < raw.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string RenderValue(std::string_view attr, std::string_view raw) {
  if (EqualsIgnoreCase(attr, "objectGUID") || EqualsIgnoreCase(attr, "mS-DS-ConsistencyGuid")) {
    if (auto g = RenderGuid(raw)) return *g;
  }
  if (IsValidUtf8(raw)) return std::string(raw);
  return Base64(raw);
}

bool IsDeletedEntry(const LdapEntry& entry) {
  std::string v = entry.First("isDeleted");
  return EqualsIgnoreCase(Trim(v), "TRUE");
}

Result<User> MapUserEntry(const LdapEntry& entry, const Mapping& mapping, bool ad, SysTime now) {
  auto get = [&](std::string_view field) -> std::string {
    std::string v = entry.First(field);
    if (ad && Trim(v).empty() && EqualsIgnoreCase(field, "userPrincipalName")) {
      v = entry.First("mail");
    }
    return v;
  };
  auto user = ApplyMapping(mapping, get);
  if (!user.ok()) {
    return Status(user.status().code(), entry.dn + ": " + user.status().message());
  }
  if (ad) {
    bool inactive = false;
    if (std::string uac = entry.First("userAccountControl"); !uac.empty()) {
      auto disabled = UacAccountDisabled(uac);
      if (!disabled) {
        return Status(ErrorCode::kParse,
                      entry.dn + ": userAccountControl: not an integer: \"" + uac + "\"");
      }
      inactive = inactive || *disabled;
    }
    if (std::string exp = entry.First("accountExpires"); !exp.empty()) {
      auto expired = AccountExpired(exp, now);
      if (!expired) {
        return Status(ErrorCode::kParse,
                      entry.dn + ": accountExpires: not a valid time: \"" + exp + "\"");
      }
      inactive = inactive || *expired;
    }
    if (inactive) user->Set(Attr::kActive, "false");
  }
  return user;
}

}  // namespace scimsync
