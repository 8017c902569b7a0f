#include "connectors/scim/scim_json.h"
#include "core/text.h"

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <cstddef>
#include <cstdio>

namespace scimsync {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void Key(Writer& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
void StrMember(Writer& w, std::string_view key, std::string_view value) {
  Key(w, key);
  Str(w, value);
}
std::string Done(const rapidjson::StringBuffer& buf) {
  return std::string(buf.GetString(), buf.GetSize());
}

void Schemas(Writer& w, std::initializer_list<std::string_view> schemas) {
  Key(w, "schemas");
  w.StartArray();
  for (auto s : schemas) Str(w, s);
  w.EndArray();
}

// The one element of a multi-valued attribute this agent owns: {"value", "type": "work"}.
void WorkValue(Writer& w, const ScimInfo& scim, std::string_view value) {
  w.StartObject();
  StrMember(w, scim.leaf, value);
  StrMember(w, "type", "work");
  if (scim.primary) {
    Key(w, "primary");
    w.Bool(true);
  }
  w.EndObject();
}

// Writes the sub-object `container` holding every attribute of that shape and
// container with a value; nothing when they are all empty.
void SubObject(Writer& w, const User& user, ScimShape shape, std::string_view container) {
  bool open = false;
  for (const AttrInfo& info : kAttrs) {
    if (info.scim.shape != shape || info.scim.container != container) continue;
    const std::string_view v = user.View(info.attr);
    if (v.empty()) continue;
    if (!open) {
      Key(w, container);
      w.StartObject();
      open = true;
    }
    StrMember(w, info.scim.leaf, v);
  }
  if (open) w.EndObject();
}

// True if `i` is the first entry of kAttrs with its shape and container.
bool FirstOfContainer(std::size_t i) {
  for (std::size_t j = 0; j < i; ++j) {
    if (kAttrs[j].scim.shape == kAttrs[i].scim.shape &&
        kAttrs[j].scim.container == kAttrs[i].scim.container) {
      return false;
    }
  }
  return true;
}

// --- parsing helpers ---------------------------------------------------------

// Attribute names are case-insensitive (RFC 7643 §2.1).
const rapidjson::Value* Member(const rapidjson::Value& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    std::string_view k(it->name.GetString(), it->name.GetStringLength());
    if (EqualsIgnoreCase(k, name)) return &it->value;
  }
  return nullptr;
}

// Strings as they are, numbers and booleans rendered, anything else absent.
std::string AsText(const rapidjson::Value* v) {
  if (v == nullptr) return "";
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsBool()) return v->GetBool() ? "true" : "false";
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsUint64()) return std::to_string(v->GetUint64());
  if (v->IsDouble()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v->GetDouble());
    return buf;
  }
  return "";
}

std::string MemberText(const rapidjson::Value& obj, std::string_view name) {
  return AsText(Member(obj, name));
}

// Some targets send active as a string; anything unreadable counts as absent.
std::string ActiveText(const rapidjson::Value* v) {
  if (v == nullptr) return "";
  if (v->IsBool()) return v->GetBool() ? "true" : "false";
  if (v->IsString()) {
    std::string_view s(v->GetString(), v->GetStringLength());
    if (EqualsIgnoreCase(s, "true")) return "true";
    if (EqualsIgnoreCase(s, "false")) return "false";
  }
  return "";
}

// The work element of a multi-valued attribute: type "work", else primary, else first.
std::string PickWorkValue(const rapidjson::Value* arr) {
  if (arr == nullptr || !arr->IsArray()) return "";
  const rapidjson::Value* work = nullptr;
  const rapidjson::Value* primary = nullptr;
  const rapidjson::Value* first = nullptr;
  for (const auto& e : arr->GetArray()) {
    if (!e.IsObject()) continue;
    if (MemberText(e, "value").empty()) continue;
    if (first == nullptr) first = &e;
    if (work == nullptr && EqualsIgnoreCase(MemberText(e, "type"), "work")) work = &e;
    const rapidjson::Value* p = Member(e, "primary");
    if (primary == nullptr && p != nullptr && ActiveText(p) == "true") primary = &e;
  }
  const rapidjson::Value* pick = work ? work : primary ? primary : first;
  return pick ? MemberText(*pick, "value") : "";
}

std::string TooDeep() {
  return "response body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

// Forwards the reader's SAX events to a Document and refuses to open container
// number kMaxJsonDepth + 1. With kParseIterativeFlag the reader keeps its own
// state on the heap, so it is this handler that bounds the work and the
// Document's depth (whose destructor recurses once per level).
class DepthLimit {
 public:
  using Ch = char;
  explicit DepthLimit(rapidjson::Document& doc) : doc_(doc) {}
  bool too_deep() const { return too_deep_; }

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned i) { return doc_.Uint(i); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t i) { return doc_.Uint64(i); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const Ch* s, rapidjson::SizeType n, bool copy) { return doc_.RawNumber(s, n, copy); }
  bool String(const Ch* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool Key(const Ch* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool StartObject() { return Open() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) { return Close() && doc_.EndObject(members); }
  bool StartArray() { return Open() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return Close() && doc_.EndArray(elements); }

 private:
  bool Open() {
    if (depth_ == kMaxJsonDepth) {
      too_deep_ = true;
      return false;  // the reader stops with kParseErrorTermination
    }
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  rapidjson::Document& doc_;
  int depth_ = 0;
  bool too_deep_ = false;
};

// The one JSON parser of this file: iterative, depth-limited. Returns "" when
// `doc` holds a JSON object, else why not (text about the body's shape, never
// a piece of the body).
std::string ParseObject(std::string_view body, rapidjson::Document& doc) {
  if (body.empty()) return "empty body";
  rapidjson::ParseResult result;
  bool too_deep = false;
  auto generate = [&](rapidjson::Document& handler) {
    rapidjson::MemoryStream ms(body.data(), body.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
    DepthLimit limit(handler);
    rapidjson::Reader reader;
    result = reader.Parse<rapidjson::kParseIterativeFlag>(in, limit);
    too_deep = limit.too_deep();
    return !result.IsError();
  };
  doc.Populate(generate);
  if (too_deep) return TooDeep();
  if (result.IsError()) {
    return std::string("not JSON (") + rapidjson::GetParseError_En(result.Code()) + " at byte " +
           std::to_string(result.Offset()) + ")";
  }
  if (!doc.IsObject()) return "not a JSON object";
  return "";
}

RemoteUser UserFrom(const rapidjson::Value& o, std::string* version) {
  RemoteUser u;
  u.id = MemberText(o, "id");
  u.external_id = MemberText(o, "externalId");
  // The values are packed once, not once per attribute (AttrValues::Set repacks).
  std::array<std::string, kAttrCount> text;
  for (const AttrInfo& info : kAttrs) {
    const ScimInfo& scim = info.scim;
    std::string& v = text[static_cast<std::size_t>(info.attr)];
    switch (scim.shape) {
      case ScimShape::kTopLevel:
        v = MemberText(o, scim.leaf);
        break;
      case ScimShape::kNameSub:
      case ScimShape::kEnterprise:
        if (const rapidjson::Value* c = Member(o, scim.container); c && c->IsObject()) {
          v = MemberText(*c, scim.leaf);
        }
        break;
      case ScimShape::kWorkMulti:
        v = PickWorkValue(Member(o, scim.container));
        break;
      case ScimShape::kBoolean:
        v = ActiveText(Member(o, scim.leaf));
        break;
    }
  }
  std::array<std::string_view, kAttrCount> views;
  for (std::size_t i = 0; i < kAttrCount; ++i) views[i] = text[i];
  u.values.Assign(views);
  if (version != nullptr) {
    const rapidjson::Value* meta = Member(o, "meta");
    *version = meta ? MemberText(*meta, "version") : "";
  }
  return u;
}

RemoteGroup GroupFrom(const rapidjson::Value& o, std::string* version) {
  RemoteGroup g;
  g.id = MemberText(o, "id");
  g.external_id = MemberText(o, "externalId");
  g.display_name = MemberText(o, "displayName");
  if (const rapidjson::Value* m = Member(o, "members"); m && m->IsArray()) {
    for (const auto& e : m->GetArray()) {
      std::string v = e.IsObject() ? MemberText(e, "value") : "";
      if (!v.empty()) g.member_ids.push_back(std::move(v));
    }
  }
  if (version != nullptr) {
    const rapidjson::Value* meta = Member(o, "meta");
    *version = meta ? MemberText(*meta, "version") : "";
  }
  return g;
}

// Validates the ListResponse envelope and calls `each` for every object resource.
template <typename Page, typename Each>
Page ParsePage(std::string_view body, Each each) {
  Page page;
  rapidjson::Document doc;
  page.error = ParseObject(body, doc);
  if (!page.error.empty()) return page;
  const rapidjson::Value* total = Member(doc, "totalResults");
  if (total && total->IsInt64()) page.total_results = static_cast<long>(total->GetInt64());
  const rapidjson::Value* res = Member(doc, "Resources");
  if (res == nullptr) {
    page.valid = page.total_results && *page.total_results == 0;
    if (!page.valid) page.error = "no Resources although totalResults is not 0";
    return page;
  }
  if (!res->IsArray()) {
    page.error = "Resources is not an array";
    return page;
  }
  page.valid = true;
  page.returned = res->Size();
  for (const auto& e : res->GetArray()) {
    if (e.IsObject()) each(page, e);
  }
  return page;
}

// First `max` bytes, not cutting a UTF-8 sequence, line breaks as spaces.
std::string Snippet(std::string_view s, std::size_t max) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' ||
                        s.front() == '\t')) {
    s.remove_prefix(1);
  }
  if (s.size() > max) {
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' ||
                        s.back() == '\t')) {
    s.remove_suffix(1);
  }
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

}  // namespace

// --- request bodies ----------------------------------------------------------

std::string UserJson(const User& user) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  bool enterprise = false;
  for (const AttrInfo& info : kAttrs) {
    if (info.scim.shape == ScimShape::kEnterprise && !user.Get(info.attr).empty()) {
      enterprise = true;
    }
  }
  w.StartObject();
  if (enterprise) {
    Schemas(w, {kCoreUserSchema, kEnterpriseUserSchema});
  } else {
    Schemas(w, {kCoreUserSchema});
  }
  for (std::size_t i = 0; i < kAttrs.size(); ++i) {
    const AttrInfo& info = kAttrs[i];
    const ScimInfo& scim = info.scim;
    const std::string_view v = user.View(info.attr);
    switch (scim.shape) {
      case ScimShape::kTopLevel:
        if (!v.empty()) StrMember(w, scim.leaf, v);
        break;
      case ScimShape::kNameSub:
        if (FirstOfContainer(i)) SubObject(w, user, scim.shape, scim.container);
        break;
      case ScimShape::kWorkMulti:
        if (!v.empty()) {
          Key(w, scim.container);
          w.StartArray();
          WorkValue(w, scim, v);
          w.EndArray();
        }
        break;
      case ScimShape::kEnterprise:
        break;  // the extension's object comes last, below
      case ScimShape::kBoolean:
        Key(w, scim.leaf);
        w.Bool(v != "false");  // absent counts as true, as User::Active()
        break;
    }
    if (info.attr == Attr::kUserName && !user.key.empty()) {
      StrMember(w, "externalId", user.key);  // right after userName
    }
  }
  for (std::size_t i = 0; i < kAttrs.size(); ++i) {
    const ScimInfo& scim = kAttrs[i].scim;
    if (scim.shape == ScimShape::kEnterprise && FirstOfContainer(i)) {
      SubObject(w, user, scim.shape, scim.container);
    }
  }
  w.EndObject();
  return Done(buf);
}

namespace {
// {"op":"replace","path":<path>,"value":<value>}
void ReplaceOp(Writer& w, std::string_view path, std::string_view value) {
  w.StartObject();
  StrMember(w, "op", "replace");
  StrMember(w, "path", path);
  StrMember(w, "value", value);
  w.EndObject();
}
}  // namespace

std::string UserPatchJson(const std::vector<AttrChange>& changes, std::string_view external_id) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Schemas(w, {kPatchOpSchema});
  Key(w, "Operations");
  w.StartArray();
  if (!external_id.empty()) ReplaceOp(w, "externalId", external_id);
  for (const AttrChange& c : changes) {
    const AttrInfo& info = Info(c.attr);
    const ScimInfo& scim = info.scim;
    const bool multi = scim.shape == ScimShape::kWorkMulti;
    w.StartObject();
    if (scim.shape == ScimShape::kBoolean) {
      StrMember(w, "op", "replace");
      StrMember(w, "path", info.patch_path);
      Key(w, "value");
      w.Bool(c.new_value != "false");
    } else if (c.new_value.empty()) {
      StrMember(w, "op", "remove");
      if (multi) {
        StrMember(w, "path", std::string(scim.container) + "[type eq \"work\"]");
      } else {
        StrMember(w, "path", info.patch_path);
      }
    } else if (c.old_value.empty()) {
      StrMember(w, "op", "add");
      if (multi) {
        StrMember(w, "path", scim.container);
        Key(w, "value");
        w.StartArray();
        WorkValue(w, scim, c.new_value);
        w.EndArray();
      } else {
        StrMember(w, "path", info.patch_path);
        StrMember(w, "value", c.new_value);
      }
    } else {
      StrMember(w, "op", "replace");
      StrMember(w, "path", info.patch_path);
      StrMember(w, "value", c.new_value);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(buf);
}

std::string GroupJson(const Group& group) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Schemas(w, {kCoreGroupSchema});
  StrMember(w, "displayName", group.display_name);
  if (!group.key.empty()) StrMember(w, "externalId", group.key);
  w.EndObject();
  return Done(buf);
}

std::string GroupRenameJson(std::string_view display_name, std::string_view external_id) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Schemas(w, {kPatchOpSchema});
  Key(w, "Operations");
  w.StartArray();
  if (!external_id.empty()) ReplaceOp(w, "externalId", external_id);
  if (!display_name.empty()) ReplaceOp(w, "displayName", display_name);
  w.EndArray();
  w.EndObject();
  return Done(buf);
}

std::string MembersPatchJson(const std::vector<std::string>& add_ids,
                             const std::vector<std::string>& remove_ids) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Schemas(w, {kPatchOpSchema});
  Key(w, "Operations");
  w.StartArray();
  if (!add_ids.empty()) {
    w.StartObject();
    StrMember(w, "op", "add");
    StrMember(w, "path", "members");
    Key(w, "value");
    w.StartArray();
    for (const auto& id : add_ids) {
      w.StartObject();
      StrMember(w, "value", id);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  for (const auto& id : remove_ids) {
    w.StartObject();
    StrMember(w, "op", "remove");
    StrMember(w, "path", "members[" + EqFilter("value", id) + "]");
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Done(buf);
}

// --- filters and URLs --------------------------------------------------------

std::string EqFilter(std::string_view attr, std::string_view value) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  Str(w, value);  // a JSON string literal, as RFC 7644 §3.4.2.2 requires
  return std::string(attr) + " eq " + Done(buf);
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string JoinUrl(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string out(base);
  out += '/';
  out += path;
  return out;
}

// --- responses ---------------------------------------------------------------

namespace {

// The DOM of one resource (a create's or a read's answer) is built in a buffer of
// the calling thread: rapidjson's default pool takes a 64 KiB heap chunk per
// document, which glibc's malloc answers by consolidating its free lists, once per
// request. A larger body spills into heap chunks as before.
class ScratchDocument {
 public:
  ScratchDocument() : pool_(Buffer(), kBytes), doc_(&pool_) {}
  rapidjson::Document& doc() { return doc_; }

 private:
  static constexpr std::size_t kBytes = 16 * 1024;
  static char* Buffer() {
    alignas(std::max_align_t) thread_local char buffer[kBytes];
    return buffer;
  }
  rapidjson::MemoryPoolAllocator<> pool_;
  rapidjson::Document doc_;
};

}  // namespace

std::optional<RemoteUser> ParseUser(std::string_view body, std::string* version,
                                    std::string* error) {
  ScratchDocument scratch;
  rapidjson::Document& doc = scratch.doc();
  std::string why = ParseObject(body, doc);
  if (error != nullptr) *error = why;
  if (!why.empty()) return std::nullopt;
  return UserFrom(doc, version);
}

std::optional<RemoteGroup> ParseGroup(std::string_view body, std::string* version,
                                      std::string* error) {
  ScratchDocument scratch;
  rapidjson::Document& doc = scratch.doc();
  std::string why = ParseObject(body, doc);
  if (error != nullptr) *error = why;
  if (!why.empty()) return std::nullopt;
  return GroupFrom(doc, version);
}

UserPage ParseUserPage(std::string_view body) {
  return ParsePage<UserPage>(body, [](UserPage& p, const rapidjson::Value& e) {
    p.resources.push_back(UserFrom(e, nullptr));
  });
}

GroupPage ParseGroupPage(std::string_view body) {
  return ParsePage<GroupPage>(body, [](GroupPage& p, const rapidjson::Value& e) {
    p.resources.push_back(GroupFrom(e, nullptr));
  });
}

namespace {

const char* TypeName(const rapidjson::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsArray()) return "an array";
  return "an object";
}

// `supported`: a boolean, or "true"/"false" as text; anything else is odd.
std::optional<bool> Supported(const rapidjson::Value& capability, const std::string& name,
                              std::vector<std::string>& odd) {
  const rapidjson::Value* v = Member(capability, "supported");
  if (v == nullptr) return std::nullopt;
  std::string text = ActiveText(v);
  if (text.empty()) {
    odd.push_back(name + ".supported is " + TypeName(*v) + ", not a boolean");
    return std::nullopt;
  }
  return text == "true";
}

// A limit: a non-negative integer, or a string of digits; anything else is odd.
std::optional<long> Limit(const rapidjson::Value& capability, const std::string& name,
                          std::vector<std::string>& odd) {
  const rapidjson::Value* v = Member(capability, name.substr(name.find('.') + 1));
  if (v == nullptr) return std::nullopt;
  if (v->IsInt64() && v->GetInt64() >= 0 && v->GetInt64() <= 1000000000) {
    return static_cast<long>(v->GetInt64());
  }
  if (v->IsString()) {
    std::string_view t(v->GetString(), v->GetStringLength());
    if (!t.empty() && t.size() <= 9 &&
        t.find_first_not_of("0123456789") == std::string_view::npos) {
      return std::stol(std::string(t));
    }
  }
  odd.push_back(name + " is " + (v->IsNumber() ? std::string("a number out of range")
                                               : std::string(TypeName(*v))) +
                ", not a non-negative integer");
  return std::nullopt;
}

}  // namespace

Discovery ParseServiceProviderConfig(std::string_view body) {
  Discovery d;
  rapidjson::Document doc;
  std::string why = ParseObject(body, doc);
  if (!why.empty()) {
    d.detail = "not a ServiceProviderConfig: " + why;
    return d;
  }
  bool any = false;
  // Each capability: its object, or null (absent, or odd: named in d.odd).
  auto capability = [&](const char* name) -> const rapidjson::Value* {
    const rapidjson::Value* c = Member(doc, name);
    if (c == nullptr) return nullptr;
    any = true;
    if (!c->IsObject()) {
      d.odd.push_back(std::string(name) + " is " + TypeName(*c) + ", not an object");
      return nullptr;
    }
    return c;
  };
  if (const rapidjson::Value* c = capability("filter")) {
    d.filter = Supported(*c, "filter", d.odd);
    d.filter_max_results = Limit(*c, "filter.maxResults", d.odd);
  }
  if (const rapidjson::Value* c = capability("patch")) d.patch = Supported(*c, "patch", d.odd);
  if (const rapidjson::Value* c = capability("etag")) d.etag = Supported(*c, "etag", d.odd);
  if (const rapidjson::Value* c = capability("bulk")) {
    d.bulk = Supported(*c, "bulk", d.odd);
    d.bulk_max_operations = Limit(*c, "bulk.maxOperations", d.odd);
  }
  if (const rapidjson::Value* c = capability("sort")) d.sort = Supported(*c, "sort", d.odd);
  if (!any) {
    d.detail = "not a ServiceProviderConfig: none of patch, filter, bulk, etag and sort";
    d.odd.clear();
    return d;
  }
  d.outcome = Discovery::Outcome::kServed;
  return d;
}

ScimError ParseError(std::string_view body) {
  static constexpr std::size_t kMaxDetail = 200;
  ScimError err;
  rapidjson::Document doc;
  std::string why = ParseObject(body, doc);
  if (why == TooDeep()) {
    err.detail = why;  // the body itself would only show a run of brackets
    return err;
  }
  if (why.empty()) {
    err.scim_type = Snippet(MemberText(doc, "scimType"), kMaxDetail);
    std::string detail = MemberText(doc, "detail");
    if (detail.empty()) detail = MemberText(doc, "message");
    if (!detail.empty()) {
      err.detail = Snippet(detail, kMaxDetail);
      return err;
    }
  }
  err.detail = Snippet(body, kMaxDetail);
  return err;
}

std::string DescribeBadBody(const std::string& why, std::string_view body) {
  std::string snippet = ParseError(body).detail;
  if (snippet.empty() || snippet == why) return why;
  return why + ": " + snippet;
}

}  // namespace scimsync
