#include "config/keepnet_files.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace scimsync {
namespace {

using Kind = CompanyFieldKind;

// POST /api/companies (doc.keepnetlabs.com, reseller/companies/create-company-with-scim-and-dec).
const std::vector<CompanyFieldSpec> kCompanyFields = {
    {"Name", Kind::kText, true, 64},
    {"CountryResourceId", Kind::kText, true, 0},
    {"IndustryResourceId", Kind::kText, true, 0},
    {"LicenseTypeResourceId", Kind::kText, true, 0},
    {"LicensePeriodTypeResourceId", Kind::kText, true, 0},
    {"NumberOfUsers", Kind::kInt, true, 0},
    {"TimeZoneId", Kind::kText, true, 0},
    {"DateFormat", Kind::kText, true, 0},
    {"TimeFormat", Kind::kText, true, 0},
    {"Description", Kind::kText, false, 300},
    {"Address", Kind::kText, false, 200},
    {"WebsiteUrl", Kind::kText, false, 2000},
    {"LicenseModuleResourceIdArray", Kind::kTextArray, false, 0},
    {"CompanyGroupResourceIdArray", Kind::kTextArray, false, 0},
    {"LicenseStartDate", Kind::kDateTime, false, 0},
    {"LicenseEndDate", Kind::kDateTime, false, 0},
    {"IsNumberOfUsersLimited", Kind::kBool, false, 0},
    {"NotificationTemplateTypeResourceId", Kind::kText, false, 0},
    {"TrainingContentTypeResourceId", Kind::kText, false, 0},
    {"SmtpConfigurationTypeResourceId", Kind::kText, false, 0},
    {"PreferredLanguageTypeResourceId", Kind::kText, false, 0},
    {"IsVersionVisible", Kind::kBool, false, 0},
    {"IsReleaseNotesVisible", Kind::kBool, false, 0},
};

// DEC types: the names a file may use for Keepnet's numbers.
const std::vector<std::pair<std::string_view, int>> kDecTypes = {
    {"microsoft365", 1}, {"google", 2}};

struct Problem {
  int line;
  std::string message;
};

class Problems {
 public:
  explicit Problems(std::string name) : name_(std::move(name)) {}
  void Fail(int line, std::string_view key, std::string_view message) {
    list_.push_back({line, std::string(key) + ": " + std::string(message)});
  }
  bool failed() const { return !list_.empty(); }
  Status First() const {
    auto it = std::min_element(list_.begin(), list_.end(),
                               [](const Problem& a, const Problem& b) { return a.line < b.line; });
    return Status(ErrorCode::kInvalidArgument, name_ + ":" + std::to_string(it->line) + ": " + it->message);
  }

 private:
  std::string name_;
  std::vector<Problem> list_;
};

int LineOf(const toml::node& n) {
  return n.source().begin.line > 0 ? static_cast<int>(n.source().begin.line) : 1;
}

Result<toml::table> ParseToml(const std::string& text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    int line = e.source().begin.line > 0 ? static_cast<int>(e.source().begin.line) : 1;
    return Status(ErrorCode::kInvalidArgument,
                  name + ":" + std::to_string(line) + ": TOML syntax error: " + std::string(e.description()));
  }
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kInvalidArgument, path + ": cannot read: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Pad2(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// A TOML date-time as ISO 8601 ("2026-01-31T00:00:00Z"; a local one without zone).
std::string IsoOf(const toml::date_time& dt) {
  std::string out = std::to_string(dt.date.year) + "-" + Pad2(dt.date.month) + "-" + Pad2(dt.date.day) +
                    "T" + Pad2(dt.time.hour) + ":" + Pad2(dt.time.minute) + ":" + Pad2(dt.time.second);
  if (dt.offset) {
    int m = dt.offset->minutes;
    if (m == 0) return out + "Z";
    out += m < 0 ? "-" : "+";
    m = m < 0 ? -m : m;
    out += Pad2(m / 60) + ":" + Pad2(m % 60);
  }
  return out;
}

// Appends the field's form values; false (with a problem) if the value is of the wrong kind.
void AddField(Problems& p, const CompanyFieldSpec& spec, const toml::node& v,
              std::vector<std::pair<std::string, std::string>>& out) {
  std::string key(spec.name);
  int line = LineOf(v);
  switch (spec.kind) {
    case Kind::kText: {
      auto s = v.value<std::string>();
      if (!v.is_string()) return p.Fail(line, key, "expected a string");
      if (s->empty()) return p.Fail(line, key, "must not be empty");
      if (spec.max_length > 0 && s->size() > static_cast<std::size_t>(spec.max_length)) {
        return p.Fail(line, key, "longer than " + std::to_string(spec.max_length) + " characters");
      }
      out.emplace_back(key, *s);
      return;
    }
    case Kind::kInt: {
      if (!v.is_integer()) return p.Fail(line, key, "expected an integer");
      std::int64_t n = *v.value<std::int64_t>();
      if (n < 1 || n > 2147483647) return p.Fail(line, key, "expected an integer from 1 to 2147483647");
      out.emplace_back(key, std::to_string(n));
      return;
    }
    case Kind::kBool:
      if (!v.is_boolean()) return p.Fail(line, key, "expected true or false");
      out.emplace_back(key, *v.value<bool>() ? "true" : "false");
      return;
    case Kind::kDateTime:
      if (v.is_date_time()) {
        out.emplace_back(key, IsoOf(*v.value<toml::date_time>()));
      } else if (v.is_date()) {
        toml::date d = *v.value<toml::date>();
        out.emplace_back(key, std::to_string(d.year) + "-" + Pad2(d.month) + "-" + Pad2(d.day));
      } else if (v.is_string() && !v.value<std::string>()->empty()) {
        out.emplace_back(key, *v.value<std::string>());
      } else {
        p.Fail(line, key, "expected a date (2026-01-31) or date-time");
      }
      return;
    case Kind::kTextArray: {
      const toml::array* a = v.as_array();
      if (a == nullptr) return p.Fail(line, key, "expected an array of strings");
      for (const toml::node& e : *a) {
        if (!e.is_string() || e.value<std::string>()->empty()) {
          return p.Fail(line, key, "expected an array of non-empty strings");
        }
        out.emplace_back(key, *e.value<std::string>());
      }
      return;
    }
  }
}

template <typename T>
Result<T> FromFile(const std::string& path, Result<T> (*parse)(const std::string&, const std::string&)) {
  Result<std::string> text = ReadText(path);
  if (!text.ok()) return text.status();
  return parse(*text, path);
}

std::string NamesOf(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace

const std::vector<CompanyFieldSpec>& CompanyFields() { return kCompanyFields; }

Result<KeepnetCompanyFile> ParseKeepnetCompany(const std::string& text, const std::string& name) {
  Result<toml::table> root = ParseToml(text, name);
  if (!root.ok()) return root.status();
  Problems p(name);
  for (const auto& [k, v] : *root) {
    std::string key(k.str());
    bool known = std::any_of(kCompanyFields.begin(), kCompanyFields.end(),
                             [&](const CompanyFieldSpec& s) { return s.name == key; });
    if (!known) {
      // A case slip ("name") is the likely mistake: say which spelling is meant.
      std::string hint;
      for (const CompanyFieldSpec& s : kCompanyFields) {
        if (s.name.size() == key.size() &&
            std::equal(key.begin(), key.end(), s.name.begin(), [](char a, char b) {
              return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            })) {
          hint = " (did you mean " + std::string(s.name) + "?)";
        }
      }
      p.Fail(k.source().begin.line > 0 ? static_cast<int>(k.source().begin.line) : LineOf(v), key,
             "unknown company field" + (hint.empty() ? "; the fields are Keepnet's POST /api/companies form fields" : hint));
    }
  }
  KeepnetCompanyFile out;
  for (const CompanyFieldSpec& spec : kCompanyFields) {
    const toml::node* v = root->get(spec.name);
    if (v == nullptr) {
      if (spec.required) p.Fail(1, spec.name, "missing required company field");
      continue;
    }
    AddField(p, spec, *v, out.fields);
  }
  if (p.failed()) return p.First();
  out.name = *root->get("Name")->value<std::string>();
  return out;
}

Result<KeepnetCompanyFile> LoadKeepnetCompany(const std::string& path) {
  return FromFile<KeepnetCompanyFile>(path, ParseKeepnetCompany);
}

Result<KeepnetDecFile> ParseKeepnetDec(const std::string& text, const std::string& name) {
  Result<toml::table> root = ParseToml(text, name);
  if (!root.ok()) return root.status();
  Problems p(name);
  KeepnetDecFile d;
  const std::vector<std::string_view> keys = {"name", "tenant_id", "domains", "type", "test_address"};
  for (const auto& [k, v] : *root) {
    if (std::find(keys.begin(), keys.end(), k.str()) == keys.end()) {
      p.Fail(LineOf(v), k.str(), "unknown key; expected " + NamesOf(keys));
    }
  }
  auto text_key = [&](std::string_view key, std::string* out) {
    const toml::node* v = root->get(key);
    if (v == nullptr) return p.Fail(1, key, "missing required key");
    if (!v->is_string() || v->value<std::string>()->empty()) {
      return p.Fail(LineOf(*v), key, "expected a non-empty string");
    }
    *out = *v->value<std::string>();
  };
  text_key("name", &d.name);
  text_key("tenant_id", &d.tenant_id);
  text_key("test_address", &d.test_address);
  if (!d.test_address.empty() && d.test_address.find('@') == std::string::npos) {
    p.Fail(LineOf(*root->get("test_address")), "test_address", "expected an email address");
  }
  if (const toml::node* v = root->get("domains")) {
    const toml::array* a = v->as_array();
    if (a == nullptr || a->empty()) {
      p.Fail(LineOf(*v), "domains", "expected a non-empty array of domain names");
    } else {
      for (const toml::node& e : *a) {
        if (!e.is_string() || e.value<std::string>()->empty()) {
          p.Fail(LineOf(*v), "domains", "expected a non-empty array of domain names");
          break;
        }
        d.domains.push_back(*e.value<std::string>());
      }
    }
  } else {
    p.Fail(1, "domains", "missing required key");
  }
  if (const toml::node* v = root->get("type")) {
    if (v->is_integer()) {
      std::int64_t n = *v->value<std::int64_t>();
      for (const auto& [tname, num] : kDecTypes) {
        if (num == n) d.type = num;
      }
    } else if (v->is_string()) {
      for (const auto& [tname, num] : kDecTypes) {
        if (tname == *v->value<std::string>()) d.type = num;
      }
    }
    if (d.type == 0) {
      p.Fail(LineOf(*v), "type", "expected \"microsoft365\" (1) or \"google\" (2)");
    }
  } else {
    p.Fail(1, "type", "missing required key");
  }
  if (p.failed()) return p.First();
  return d;
}

Result<KeepnetDecFile> LoadKeepnetDec(const std::string& path) {
  return FromFile<KeepnetDecFile>(path, ParseKeepnetDec);
}

Result<std::string> CheckSourceSection(const std::string& text, const std::string& name) {
  Result<toml::table> root = ParseToml(text, name);
  if (!root.ok()) return root.status();
  Problems p(name);
  if (const toml::node* t = root->get("target")) {
    p.Fail(LineOf(*t), "target", "not allowed here: the onboarding writes [target] itself");
  }
  if (!root->get("source")) p.Fail(1, "source", "missing required table [source]");
  if (p.failed()) return p.First();
  return text;
}

Result<std::string> LoadSourceSection(const std::string& path) {
  return FromFile<std::string>(path, CheckSourceSection);
}

}  // namespace scimsync
