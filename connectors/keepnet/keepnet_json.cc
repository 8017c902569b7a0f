#include "connectors/keepnet/keepnet_json.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "core/text.h"

namespace scimsync {
namespace {

// The alternative names, one row per field (tables over branches).
const std::vector<FieldNames> kNames = {
    {"resourceId", {"resourceId", "companyResourceId", "id"}},
    {"list", {"results", "items", "data", "companies", "fields"}},
    {"totalPages", {"totalNumberOfPages", "totalPages", "pageCount"}},
    {"companyName", {"name", "companyName"}},
    {"token", {"token", "scimToken", "accessToken", "bearerToken"}},
    {"baseUrl", {"baseUrl", "scimBaseUrl", "endpointUrl", "scimUrl", "url"}},
    {"fieldName", {"name", "fieldName", "displayName"}},
    {"decPassed", {"isSuccess", "success", "isSent"}},
    {"validationText", {"message", "errorMessage"}},
    {"validationField", {"field", "propertyName"}},
};

const std::vector<std::string_view>& Names(std::string_view field) {
  for (const FieldNames& f : kNames) {
    if (f.field == field) return f.names;
  }
  static const std::vector<std::string_view> kNone;
  return kNone;
}

// The deepest nesting of objects and arrays in `body`, counted outside strings,
// stopping once past `limit`: checked before RapidJSON builds a document, whose
// destructor recurses once per level.
int Depth(std::string_view body, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// Parses `text` into `doc`; "" on success, else why not.
std::string Parse(std::string_view text, rapidjson::Document& doc) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return "empty body";
  if (Depth(text, kMaxKeepnetJsonDepth) > kMaxKeepnetJsonDepth) {
    return "response body nests deeper than " + std::to_string(kMaxKeepnetJsonDepth) + " levels";
  }
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return std::string("not JSON (") + rapidjson::GetParseError_En(doc.GetParseError()) +
           " at byte " + std::to_string(doc.GetErrorOffset()) + ")";
  }
  return "";
}

const rapidjson::Value* Member(const rapidjson::Value& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (EqualsIgnoreCase(key, name)) return &it->value;
  }
  return nullptr;
}

// The first member present (and not null) under one of the field's names.
const rapidjson::Value* AnyMember(const rapidjson::Value& obj, std::string_view field) {
  for (std::string_view n : Names(field)) {
    const rapidjson::Value* v = Member(obj, n);
    if (v != nullptr && !v->IsNull()) return v;
  }
  return nullptr;
}

std::string Text(const rapidjson::Value* v) {
  if (v == nullptr) return "";
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsUint64()) return std::to_string(v->GetUint64());
  if (v->IsBool()) return v->GetBool() ? "true" : "false";
  return "";
}

std::string Field(const rapidjson::Value& obj, std::string_view field) {
  return Text(AnyMember(obj, field));
}

std::string Serialize(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ValidationText(const rapidjson::Value& v) {
  if (!v.IsObject()) return Text(&v);
  std::string text = Field(v, "validationText");
  std::string field = Field(v, "validationField");
  if (text.empty()) return "";
  return field.empty() ? text : field + ": " + text;
}

// The array holding a list in `data`: data itself, or one of `field`'s members.
const rapidjson::Value* ListIn(const rapidjson::Value& data, std::string_view field) {
  if (data.IsArray()) return &data;
  const rapidjson::Value* v = AnyMember(data, field);
  return v != nullptr && v->IsArray() ? v : nullptr;
}

}  // namespace

std::string CompanySearchJson(int page_number, int page_size) {
  return R"({"pageNumber":)" + std::to_string(page_number) + R"(,"pageSize":)" +
         std::to_string(page_size) +
         R"(,"orderBy":"CreateTime","ascending":false,"isTargetUserCountExceededLimit":false})";
}

std::string ScimSettingJson(std::string_view name, std::string_view group_resource_id,
                            const std::vector<ScimFieldMapping>& mappings) {
  std::string out = R"({"name":)";
  AppendJsonString(out, name);
  if (!group_resource_id.empty()) {
    out += R"(,"groupResourceId":)";
    AppendJsonString(out, group_resource_id);
  }
  if (!mappings.empty()) {
    out += R"(,"fieldMappings":[)";
    for (std::size_t i = 0; i < mappings.size(); ++i) {
      out += i == 0 ? R"({"fieldResourceId":)" : R"(,{"fieldResourceId":)";
      AppendJsonString(out, mappings[i].field_resource_id);
      out += R"(,"scimAttribute":)";
      AppendJsonString(out, mappings[i].scim_attribute);
      out += "}";
    }
    out += "]";
  }
  return out + "}";
}

std::string DecJson(std::string_view name, std::string_view tenant_id,
                    const std::vector<std::string>& domains, int type) {
  std::string out = R"({"name":)";
  AppendJsonString(out, name);
  out += R"(,"tenantId":)";
  AppendJsonString(out, tenant_id);
  out += R"(,"allowedDomains":[)";
  for (std::size_t i = 0; i < domains.size(); ++i) {
    if (i > 0) out += ",";
    AppendJsonString(out, domains[i]);
  }
  return out + R"(],"type":)" + std::to_string(type) + "}";
}

std::string DecTestJson(std::string_view resource_id, std::string_view address) {
  std::string out = R"({"resourceId":)";
  AppendJsonString(out, resource_id);
  out += R"(,"sendTestEmailTo":)";
  AppendJsonString(out, address);
  return out + "}";
}

const std::vector<FieldNames>& KeepnetFieldNames() { return kNames; }

KeepnetEnvelope ParseEnvelope(std::string_view body) {
  KeepnetEnvelope env;
  rapidjson::Document doc;
  env.error = Parse(body, doc);
  if (!env.error.empty()) return env;
  if (!doc.IsObject()) {
    env.error = "not a JSON object";
    return env;
  }
  env.valid = true;
  env.status = Text(Member(doc, "status"));
  env.message = Text(Member(doc, "message"));
  if (const rapidjson::Value* vm = Member(doc, "validationMessages")) {
    if (vm->IsArray()) {
      for (const auto& m : vm->GetArray()) {
        std::string t = ValidationText(m);
        if (!t.empty()) env.validation_messages.push_back(std::move(t));
      }
    } else if (vm->IsObject()) {
      // ASP.NET's {"Field": ["message", ...]} shape.
      for (auto it = vm->MemberBegin(); it != vm->MemberEnd(); ++it) {
        std::string field(it->name.GetString(), it->name.GetStringLength());
        if (it->value.IsArray()) {
          for (const auto& m : it->value.GetArray()) env.validation_messages.push_back(field + ": " + Text(&m));
        } else {
          env.validation_messages.push_back(field + ": " + Text(&it->value));
        }
      }
    } else if (!Text(vm).empty()) {
      env.validation_messages.push_back(Text(vm));
    }
  }
  if (const rapidjson::Value* d = Member(doc, "data"); d != nullptr && !d->IsNull()) {
    env.data = Serialize(*d);
  }
  return env;
}

bool EnvelopeSaysFailure(const KeepnetEnvelope& env) {
  static constexpr std::string_view kFailures[] = {"error", "fail", "failed", "failure",
                                                   "unsuccessful"};
  for (std::string_view f : kFailures) {
    if (EqualsIgnoreCase(env.status, f)) return true;
  }
  return false;
}

std::string EnvelopeText(const KeepnetEnvelope& env) {
  // A server's words go onto the operator's screen one line per request: each piece
  // is cut to one bounded line, so a hostile body cannot forge or flood lines.
  auto clean = [](std::string_view s) {
    std::string t(s.substr(0, kMaxKeepnetMessageBytes));
    if (s.size() > kMaxKeepnetMessageBytes) {
      while (!t.empty() && (static_cast<unsigned char>(t.back()) & 0xC0) == 0x80) t.pop_back();
      if (!t.empty() && static_cast<unsigned char>(t.back()) >= 0xC0) t.pop_back();
      t += "...";
    }
    for (char& c : t) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    return t;
  };
  std::string out = clean(env.message);
  std::size_t shown = 0;
  for (const std::string& v : env.validation_messages) {
    if (v == env.message) continue;
    if (++shown > kMaxKeepnetMessages) {
      out += "; (" + std::to_string(env.validation_messages.size() - kMaxKeepnetMessages) + " more)";
      break;
    }
    out += out.empty() ? clean(v) : "; " + clean(v);
  }
  return out;
}

TokenGrant ParseTokenResponse(std::string_view body) {
  TokenGrant g;
  rapidjson::Document doc;
  if (!Parse(body, doc).empty() || !doc.IsObject()) return g;
  g.access_token = Text(Member(doc, "access_token"));
  if (const rapidjson::Value* e = Member(doc, "expires_in")) {
    if (e->IsInt64()) {
      g.expires_in = static_cast<long>(std::max<std::int64_t>(0, e->GetInt64()));
    } else if (e->IsString()) {
      g.expires_in = std::strtol(e->GetString(), nullptr, 10);
    }
  }
  g.error = Text(Member(doc, "error"));
  g.error_description = Text(Member(doc, "error_description"));
  return g;
}

std::string DataResourceId(std::string_view data) {
  rapidjson::Document doc;
  if (!Parse(data, doc).empty()) return "";
  if (doc.IsString() || doc.IsNumber()) return Text(&doc);
  return doc.IsObject() ? Field(doc, "resourceId") : "";
}

CompanyPage ParseCompanyPage(std::string_view data) {
  CompanyPage page;
  rapidjson::Document doc;
  if (!Parse(data, doc).empty()) return page;
  const rapidjson::Value* list = ListIn(doc, "list");
  if (list == nullptr) return page;
  page.valid = true;
  for (const auto& item : list->GetArray()) {
    if (!item.IsObject()) continue;
    page.items.push_back({Field(item, "resourceId"), Field(item, "companyName")});
  }
  if (doc.IsObject()) {
    if (const rapidjson::Value* t = AnyMember(doc, "totalPages"); t != nullptr && t->IsInt64()) {
      page.total_pages = static_cast<long>(t->GetInt64());
    }
  }
  return page;
}

ScimSetting ParseScimSetting(std::string_view data) {
  ScimSetting s;
  rapidjson::Document doc;
  if (!Parse(data, doc).empty() || !doc.IsObject()) return s;
  s.resource_id = Field(doc, "resourceId");
  s.token = Field(doc, "token");
  s.base_url = Field(doc, "baseUrl");
  return s;
}

std::vector<ScimField> ParseScimFields(std::string_view data) {
  std::vector<ScimField> out;
  rapidjson::Document doc;
  if (!Parse(data, doc).empty()) return out;
  const rapidjson::Value* list = ListIn(doc, "list");
  if (list == nullptr) return out;
  for (const auto& item : list->GetArray()) {
    if (item.IsString()) {
      out.push_back({"", Text(&item)});
    } else if (item.IsObject()) {
      out.push_back({Field(item, "resourceId"), Field(item, "fieldName")});
    }
  }
  return out;
}

bool DecTestPassed(std::string_view data) {
  rapidjson::Document doc;
  if (!Parse(data, doc).empty()) return true;  // no data: the 2xx is the verdict
  if (doc.IsBool()) return doc.GetBool();
  if (doc.IsObject()) {
    const rapidjson::Value* v = AnyMember(doc, "decPassed");
    if (v != nullptr && v->IsBool()) return v->GetBool();
  }
  return true;
}

}  // namespace scimsync
