#include "config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "core/redact.h"

namespace scimsync {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Which source type a [source] key belongs to.
enum class Only { kAny, kCsv, kLdap };

struct Problem {
  int line;
  std::string message;  // "<dotted.key>: <message>"
};

int LineOf(const toml::key& k, const toml::node& v) {
  if (k.source().begin.line > 0) return static_cast<int>(k.source().begin.line);
  if (v.source().begin.line > 0) return static_cast<int>(v.source().begin.line);
  return 1;
}

int LineOfTable(const toml::table* t) {
  if (t != nullptr && t->source().begin.line > 0) return static_cast<int>(t->source().begin.line);
  return 1;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Join(std::string_view a, std::string_view b) {
  return a.empty() ? std::string(b) : std::string(a) + "." + std::string(b);
}

// Everything the handlers of one file share: where errors go and how paths resolve.
class Loader {
 public:
  Loader(std::string name, fs::path base_dir) : name_(std::move(name)), base_(std::move(base_dir)) {}

  void Fail(int line, std::string_view key, std::string_view message) {
    problems_.push_back({line, std::string(key) + ": " + std::string(message)});
  }
  bool failed() const { return !problems_.empty(); }
  std::size_t problem_count() const { return problems_.size(); }

  // The problem with the lowest line, so that the user fixes the file top to bottom.
  Status FirstProblem() const {
    auto it = std::min_element(problems_.begin(), problems_.end(),
                               [](const Problem& a, const Problem& b) { return a.line < b.line; });
    return Status(ErrorCode::kInvalidArgument,
                  name_ + ":" + std::to_string(it->line) + ": " + it->message);
  }

  std::string Resolve(const std::string& p) const {
    if (p.empty() || base_.empty()) return p;
    fs::path path(p);
    if (path.is_absolute()) return p;
    return (base_ / path).lexically_normal().string();
  }

 private:
  std::string name_;
  fs::path base_;
  std::vector<Problem> problems_;
};

// Where a value sits: its line and its dotted key.
struct Where {
  int line;
  std::string key;
};

using Setter = std::function<void(Loader&, const toml::node&, const Where&)>;

struct KeySpec {
  std::string_view name;
  Setter set;
  Only only = Only::kAny;
};

// --- typed setters (tables over branches: each key of DESIGN §8 is one row below) ---

std::optional<std::string> AsString(Loader& l, const toml::node& v, const Where& w) {
  if (!v.is_string()) {
    l.Fail(w.line, w.key, "expected a string");
    return std::nullopt;
  }
  return std::string(*v.value<std::string_view>());
}

Setter Str(std::string* out) {
  return [out](Loader& l, const toml::node& v, const Where& w) {
    if (auto s = AsString(l, v, w)) *out = std::move(*s);
  };
}

Setter NonEmptyStr(std::string* out) {
  return [out](Loader& l, const toml::node& v, const Where& w) {
    auto s = AsString(l, v, w);
    if (!s) return;
    if (s->empty()) {
      l.Fail(w.line, w.key, "must not be empty");
      return;
    }
    *out = std::move(*s);
  };
}

// A file path; relative paths are resolved against the config file's directory.
Setter PathStr(std::string* out) {
  return [out](Loader& l, const toml::node& v, const Where& w) {
    auto s = AsString(l, v, w);
    if (!s) return;
    if (s->empty()) {
      l.Fail(w.line, w.key, "must not be empty");
      return;
    }
    *out = l.Resolve(*s);
  };
}

Setter Bool(bool* out) {
  return [out](Loader& l, const toml::node& v, const Where& w) {
    if (!v.is_boolean()) {
      l.Fail(w.line, w.key, "expected true or false");
      return;
    }
    *out = *v.value<bool>();
  };
}

Setter Int(int* out, std::int64_t min, std::int64_t max) {
  return [=](Loader& l, const toml::node& v, const Where& w) {
    if (!v.is_integer()) {
      l.Fail(w.line, w.key, "expected an integer");
      return;
    }
    std::int64_t i = *v.value<std::int64_t>();
    if (i < min || i > max) {
      if (max == std::numeric_limits<int>::max()) {
        l.Fail(w.line, w.key, "must be at least " + std::to_string(min));
      } else {
        l.Fail(w.line, w.key,
               "must be between " + std::to_string(min) + " and " + std::to_string(max));
      }
      return;
    }
    *out = static_cast<int>(i);
  };
}

std::string FormatNumber(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

Setter Number(double* out, double min, double max) {
  return [=](Loader& l, const toml::node& v, const Where& w) {
    if (!v.is_number()) {
      l.Fail(w.line, w.key, "expected a number");
      return;
    }
    double d = *v.value<double>();
    if (!(d >= min && d <= max)) {
      if (max == std::numeric_limits<double>::max()) {
        l.Fail(w.line, w.key, "must be at least " + FormatNumber(min));
      } else {
        l.Fail(w.line, w.key, "must be between " + FormatNumber(min) + " and " + FormatNumber(max));
      }
      return;
    }
    *out = d;
  };
}

// A duration: a string for ParseDuration or a TOML integer of seconds.
Setter Duration(milliseconds* out, milliseconds min) {
  return [=](Loader& l, const toml::node& v, const Where& w) {
    milliseconds d;
    if (v.is_integer()) {
      std::int64_t s = *v.value<std::int64_t>();
      if (s < 0 || s > 100LL * 365 * 24 * 3600) {
        l.Fail(w.line, w.key, "duration out of range");
        return;
      }
      d = std::chrono::seconds(s);
    } else if (v.is_string()) {
      auto r = ParseDuration(*v.value<std::string_view>());
      if (!r.ok()) {
        l.Fail(w.line, w.key, r.status().message());
        return;
      }
      d = *r;
    } else {
      l.Fail(w.line, w.key, "expected a duration such as \"90s\", \"40m\" or \"2h\"");
      return;
    }
    if (d < min) {
      l.Fail(w.line, w.key, min.count() % 1000 == 0
                                ? "must be at least " + std::to_string(min.count() / 1000) + "s"
                                : "must be at least " + std::to_string(min.count()) + "ms");
      return;
    }
    *out = d;
  };
}

// [target] proxy: "none", or an http:// / https:// / socks5:// URL without credentials.
Setter ProxyUrl(std::string* out) {
  return [=](Loader& l, const toml::node& v, const Where& w) {
    auto s = AsString(l, v, w);
    if (!s) return;
    std::string_view url = *s;
    if (url == "none" || url.empty()) {
      *out = std::string(url);
      return;
    }
    std::size_t scheme = url.find("://");
    std::string_view name = scheme == std::string_view::npos ? "" : url.substr(0, scheme);
    if (name != "http" && name != "https" && name != "socks5" && name != "socks5h") {
      l.Fail(w.line, w.key,
             "expected \"none\" or a proxy URL such as \"http://proxy.example:3128\", not " +
                 Quote(url));
      return;
    }
    std::string_view rest = url.substr(scheme + 3);
    if (rest.substr(0, rest.find('/')).find('@') != std::string_view::npos) {
      l.Fail(w.line, w.key,
             "credentials in the proxy URL would put a secret in the config; use a proxy "
             "that admits this host, or https_proxy in the service's environment");
      return;
    }
    *out = std::string(url);
  };
}

// [target] reconcile: "always", "never" or a duration of at least a minute.
Setter ReconcilePeriod(std::optional<milliseconds>* out) {
  return [=](Loader& l, const toml::node& v, const Where& w) {
    if (v.is_string() && *v.value<std::string_view>() == "always") {
      *out = milliseconds(0);
      return;
    }
    if (v.is_string() && *v.value<std::string_view>() == "never") {
      *out = std::nullopt;
      return;
    }
    milliseconds d{-1};  // Duration() sets it only when the value is valid
    Duration(&d, std::chrono::minutes(1))(l, v, w);
    if (d.count() >= 0) *out = d;
  };
}

// Binary units of a size, largest first (FormatSize picks the first that divides).
struct SizeUnit {
  std::string_view suffix;
  std::int64_t bytes;
};
constexpr SizeUnit kSizeUnits[] = {
    {"GiB", std::int64_t{1} << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}};

std::string FormatSize(std::int64_t bytes) {
  for (const SizeUnit& u : kSizeUnits) {
    if (bytes % u.bytes == 0) return std::to_string(bytes / u.bytes) + std::string(u.suffix);
  }
  return std::to_string(bytes) + "B";
}

// A size: a string of digits and a unit ("8MiB", "512KiB", "1GiB", "4096B") or a
// TOML integer of bytes.
Setter Size(std::size_t* out, std::int64_t min, std::int64_t max) {
  return [=](Loader& l, const toml::node& v, const Where& w) {
    constexpr std::string_view kExpected =
        "expected a size such as \"8MiB\", \"512KiB\" or a number of bytes";
    std::int64_t bytes = -1;
    if (v.is_integer()) {
      bytes = *v.value<std::int64_t>();
    } else if (v.is_string()) {
      std::string_view s = *v.value<std::string_view>();
      std::size_t digits = 0;
      while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
      for (const SizeUnit& u : kSizeUnits) {
        if (digits == 0 || digits > 18 || s.substr(digits) != u.suffix) continue;
        std::int64_t n = std::stoll(std::string(s.substr(0, digits)));
        bytes = n > max / u.bytes ? max + 1 : n * u.bytes;  // no overflow: just too large
        break;
      }
      if (bytes < 0) {
        l.Fail(w.line, w.key, std::string(kExpected) + ", not " + Quote(s));
        return;
      }
    } else {
      l.Fail(w.line, w.key, std::string(kExpected));
      return;
    }
    if (bytes < min || bytes > max) {
      l.Fail(w.line, w.key, "must be between " + FormatSize(min) + " and " + FormatSize(max));
      return;
    }
    *out = static_cast<std::size_t>(bytes);
  };
}

// A key whose absence means "the profile's value" (target behaviours): `make`
// builds the plain setter of T; the optional is set only when that setter accepted
// the value.
template <typename T, typename Make>
Setter Opt(std::optional<T>* out, Make make) {
  return [out, make](Loader& l, const toml::node& v, const Where& w) {
    auto value = std::make_shared<T>();
    std::size_t before = l.problem_count();
    make(value.get())(l, v, w);
    if (l.problem_count() == before) *out = *value;
  };
}

template <typename E>
Setter Enum(E* out, std::vector<std::pair<std::string_view, E>> choices) {
  return [out, choices = std::move(choices)](Loader& l, const toml::node& v, const Where& w) {
    auto s = AsString(l, v, w);
    if (!s) return;
    for (const auto& [name, value] : choices) {
      if (*s == name) {
        *out = value;
        return;
      }
    }
    std::string msg = "must be ";
    for (std::size_t i = 0; i < choices.size(); ++i) {
      if (i > 0) msg += i + 1 == choices.size() ? " or " : ", ";
      msg += Quote(choices[i].first);
    }
    l.Fail(w.line, w.key, msg + ", not " + Quote(*s));
  };
}

Setter Delimiter(char* out) {
  return [out](Loader& l, const toml::node& v, const Where& w) {
    auto s = AsString(l, v, w);
    if (!s) return;
    if (s->size() != 1 || (*s)[0] == '"' || (*s)[0] == '\n' || (*s)[0] == '\r') {
      l.Fail(w.line, w.key, "expected one character other than a quote or a line break");
      return;
    }
    *out = (*s)[0];
  };
}

// "5%" or a fraction such as 0.05; at most half of the interval.
Setter Jitter(double* out) {
  return [out](Loader& l, const toml::node& v, const Where& w) {
    double d = -1;
    if (v.is_number()) {
      d = *v.value<double>();
    } else if (v.is_string()) {
      std::string_view s = *v.value<std::string_view>();
      if (s.size() >= 2 && s.back() == '%') {
        std::string num(s.substr(0, s.size() - 1));
        char* end = nullptr;
        double pct = std::strtod(num.c_str(), &end);
        if (end == num.c_str() + num.size() && !num.empty() && num[0] != ' ') d = pct / 100.0;
      }
      if (d < 0) {
        l.Fail(w.line, w.key, "expected a percentage such as \"5%\" or a fraction such as 0.05");
        return;
      }
    } else {
      l.Fail(w.line, w.key, "expected a percentage such as \"5%\" or a fraction such as 0.05");
      return;
    }
    if (!(d >= 0 && d <= 0.5)) {
      l.Fail(w.line, w.key, "must be between 0% and 50%");
      return;
    }
    *out = d;
  };
}

Setter TargetUrl(std::string* out) {
  return [out](Loader& l, const toml::node& v, const Where& w) {
    auto s = AsString(l, v, w);
    if (!s) return;
    if ((s->rfind("https://", 0) != 0 || s->size() <= 8) &&
        (s->rfind("http://", 0) != 0 || s->size() <= 7)) {
      l.Fail(w.line, w.key, "must start with https:// or http://");
      return;
    }
    *out = std::move(*s);
  };
}

// An array of strings, each turned into a T by `convert` (an error names the entry:
// "scope.groups: entry 2: must not be empty"). `what` completes "expected an array of".
template <typename T>
Setter ListOf(std::vector<T>* out, std::string what,
              std::function<Result<T>(std::string_view)> convert) {
  return [out, what = std::move(what), convert = std::move(convert)](
             Loader& l, const toml::node& v, const Where& w) {
    if (!v.is_array()) {
      l.Fail(w.line, w.key, "expected an array of " + what);
      return;
    }
    std::vector<T> items;
    std::size_t i = 0;
    for (const toml::node& e : *v.as_array()) {
      ++i;
      int line = e.source().begin.line > 0 ? static_cast<int>(e.source().begin.line) : w.line;
      std::string at = "entry " + std::to_string(i);
      if (!e.is_string()) {
        l.Fail(line, w.key, at + ": expected a string");
        return;
      }
      Result<T> item = convert(*e.value<std::string_view>());
      if (!item.ok()) {
        l.Fail(line, w.key, at + ": " + item.status().message());
        return;
      }
      items.push_back(std::move(item).value());
    }
    *out = std::move(items);
  };
}

// Group names or DNs ([scope] groups, [target] roles): non-empty, trimmed.
Setter NameList(std::vector<std::string>* out) {
  return ListOf<std::string>(out, "group names, such as [\"Keeper Users\"]",
                             [](std::string_view s) -> Result<std::string> {
                               std::string name(Trim(s));
                               if (name.empty()) {
                                 return Status(ErrorCode::kInvalidArgument, "must not be empty");
                               }
                               return name;
                             });
}

// [scope] include_groups / exclude_groups: patterns (core/glob.h).
Setter PatternList(std::vector<Glob>* out) {
  return ListOf<Glob>(out, "patterns, such as [\"Team *\"]",
                      [](std::string_view s) { return Glob::Parse(s); });
}

// Walks one table: each key must be in `specs` (and allowed for the source type).
void WalkTable(Loader& l, const toml::table& table, std::string_view prefix,
               const std::vector<KeySpec>& specs, std::optional<SourceType> type) {
  for (const auto& [k, v] : table) {
    Where w{LineOf(k, v), Join(prefix, k.str())};
    // A named copy for the lambda: C++20 lets a lambda capture a structured binding,
    // but clang before 16 rejects it.
    std::string_view name = k.str();
    auto it = std::find_if(specs.begin(), specs.end(),
                           [name](const KeySpec& s) { return s.name == name; });
    if (it == specs.end()) {
      l.Fail(w.line, w.key, "unknown key");
      continue;
    }
    if (type && it->only == Only::kCsv && *type != SourceType::kCsv) {
      l.Fail(w.line, w.key, "only valid when source.type = \"csv\"");
      continue;
    }
    if (type && it->only == Only::kLdap && *type != SourceType::kLdap) {
      l.Fail(w.line, w.key, "only valid when source.type = \"ldap\"");
      continue;
    }
    it->set(l, v, w);
  }
}

const toml::table* SubTable(Loader& l, const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  if (n == nullptr) return nullptr;
  if (!n->is_table()) {
    int line = n->source().begin.line > 0 ? static_cast<int>(n->source().begin.line) : 1;
    l.Fail(line, name, "expected a table");
    return nullptr;
  }
  return n->as_table();
}

// --- [mapping] ---

std::string KnownAttributes() {
  std::string s = "externalId";
  for (const auto& info : kAttrs) s += ", " + std::string(info.name);
  return s;
}

bool IsAttrPrefix(std::string_view path) {
  for (const auto& info : kAttrs) {
    if (info.name.size() > path.size() && info.name.substr(0, path.size()) == path &&
        info.name[path.size()] == '.') {
      return true;
    }
  }
  return false;
}

// One attribute: "column" or {field=..., constant=..., transform=..., keep=...}.
// The table form starts from the current (default) mapping, so {keep = true}
// keeps the default column and only adds `keep`.
void ParseAttrSpec(Loader& l, const toml::node& v, const Where& w, const AttrInfo& info,
                   AttrMapping* am) {
  if (v.is_string()) {
    *am = AttrMapping{};
    am->field = std::string(*v.value<std::string_view>());
    return;
  }
  if (!v.is_table()) {
    l.Fail(w.line, w.key, "expected a source field name or a table {field, constant, transform, keep}");
    return;
  }
  AttrMapping out = *am;
  bool has_field = false, has_constant = false;
  for (const auto& [k, sub] : *v.as_table()) {
    Where sw{LineOf(k, sub), w.key + "." + std::string(k.str())};
    if (sw.line < w.line) sw.line = w.line;
    if (k.str() == "field") {
      if (auto s = AsString(l, sub, sw)) {
        out.field = std::move(*s);
        has_field = true;
      }
    } else if (k.str() == "constant") {
      if (info.kind == AttrKind::kBoolean && sub.is_boolean()) {
        out.constant = *sub.value<bool>() ? "true" : "false";
        has_constant = true;
      } else if (auto s = AsString(l, sub, sw)) {
        if (info.kind == AttrKind::kBoolean) {
          auto b = ParseBool(*s, /*empty_value=*/true);
          if (!b || s->empty()) {
            l.Fail(sw.line, sw.key, "not a boolean: " + Quote(*s));
            continue;
          }
          *s = *b ? "true" : "false";
        }
        if (s->empty()) {
          l.Fail(sw.line, sw.key, "must not be empty");
          continue;
        }
        out.constant = std::move(*s);
        has_constant = true;
      }
    } else if (k.str() == "transform") {
      auto s = AsString(l, sub, sw);
      if (!s) continue;
      auto t = TransformByName(*s);
      if (!t || s->empty()) {
        l.Fail(sw.line, sw.key, "must be \"none\", \"lower\" or \"upper\", not " + Quote(*s));
        continue;
      }
      out.transform = *t;
    } else if (k.str() == "keep") {
      Bool(&out.keep)(l, sub, sw);
    } else {
      l.Fail(sw.line, sw.key, "unknown key (expected field, constant, transform or keep)");
    }
  }
  if (has_field && has_constant) {
    l.Fail(w.line, w.key, "set field or constant, not both");
    return;
  }
  if (has_field) out.constant.clear();
  if (has_constant) out.field.clear();
  *am = std::move(out);
}

struct KeyOverride {
  std::string field;
  int line = 0;
};

void WalkMapping(Loader& l, const toml::table& table, const std::string& path, Mapping* mapping,
                 KeyOverride* key) {
  for (const auto& [k, v] : table) {
    std::string attr_path = Join(path, k.str());
    Where w{LineOf(k, v), "mapping." + attr_path};
    if (attr_path == "externalId") {
      auto s = AsString(l, v, w);
      if (!s) continue;
      if (s->empty()) {
        l.Fail(w.line, w.key, "must not be empty");
        continue;
      }
      key->field = *s;
      key->line = w.line;
      continue;
    }
    if (auto attr = AttrByName(attr_path)) {
      ParseAttrSpec(l, v, w, Info(*attr), &mapping->at(*attr));
      continue;
    }
    if (v.is_table() && IsAttrPrefix(attr_path)) {
      WalkMapping(l, *v.as_table(), attr_path, mapping, key);
      continue;
    }
    l.Fail(w.line, w.key, "unknown attribute (known: " + KnownAttributes() + ")");
  }
}

std::string DefaultStatePath() {
  if (const char* dir = std::getenv("STATE_DIRECTORY"); dir != nullptr && *dir != '\0') {
    // systemd joins several StateDirectory= entries with ':'; the first is ours.
    std::string first(dir);
    first = first.substr(0, first.find(':'));
    return (fs::path(first) / "state.db").string();
  }
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) return "scimsync.db";
  return (cwd / "scimsync.db").string();
}

Result<Config> Load(const std::string& text, const std::string& name, const fs::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    int line = e.source().begin.line > 0 ? static_cast<int>(e.source().begin.line) : 1;
    return Status(ErrorCode::kInvalidArgument, name + ":" + std::to_string(line) +
                                                   ": TOML syntax error: " +
                                                   std::string(e.description()));
  }

  Loader l(name, base_dir);
  Config c;
  c.path = name;
  bool state_set = false;

  const toml::table* source = SubTable(l, root, "source");
  const toml::table* target = SubTable(l, root, "target");
  const toml::table* safety = SubTable(l, root, "safety");
  const toml::table* log = SubTable(l, root, "log");
  const toml::table* scope = SubTable(l, root, "scope");
  const toml::table* mapping = SubTable(l, root, "mapping");

  // The source type decides which [source] keys exist, so read it first.
  std::optional<SourceType> type;
  if (source != nullptr) {
    if (const toml::node* t = source->get("type")) {
      Where w{t->source().begin.line > 0 ? static_cast<int>(t->source().begin.line) : 1,
              "source.type"};
      SourceType st = SourceType::kCsv;
      // A throwaway loader: the [source] walk below reports a bad type once.
      Loader probe(name, base_dir);
      Enum(&st, std::vector<std::pair<std::string_view, SourceType>>{
                    {"csv", SourceType::kCsv}, {"ldap", SourceType::kLdap}})(probe, *t, w);
      if (!probe.failed()) type = st;
    } else {
      l.Fail(LineOfTable(source), "source.type", "missing required key");
    }
  } else {
    l.Fail(1, "source.type", "missing required key");
  }
  if (type) c.source.type = *type;

  // Top level.
  const std::vector<KeySpec> top = {
      {"state", [&](Loader& ll, const toml::node& v, const Where& w) {
         PathStr(&c.state)(ll, v, w);
         state_set = true;
       }},
      {"interval", Duration(&c.interval, std::chrono::seconds(1))},
      {"interval_jitter", Jitter(&c.interval_jitter)},
      {"stop_timeout", Duration(&c.stop_timeout, std::chrono::seconds(1))},
      {"metrics_file", PathStr(&c.metrics_file)},
      {"source", [](Loader&, const toml::node&, const Where&) {}},
      {"target", [](Loader&, const toml::node&, const Where&) {}},
      {"safety", [](Loader&, const toml::node&, const Where&) {}},
      {"log", [](Loader&, const toml::node&, const Where&) {}},
      {"scope", [](Loader&, const toml::node&, const Where&) {}},
      {"mapping", [](Loader&, const toml::node&, const Where&) {}},
  };
  WalkTable(l, root, "", top, std::nullopt);

  // [source]
  CsvSourceConfig& csv = c.source.csv;
  LdapSourceConfig& ldap = c.source.ldap;
  bool csv_key_set = false, ldap_key_set = false;
  if (source != nullptr) {
    const std::vector<KeySpec> specs = {
        {"type", Enum(&c.source.type, std::vector<std::pair<std::string_view, SourceType>>{
                                          {"csv", SourceType::kCsv}, {"ldap", SourceType::kLdap}})},
        // csv
        {"users", PathStr(&csv.users), Only::kCsv},
        {"groups", PathStr(&csv.groups), Only::kCsv},
        {"key",
         [&](Loader& ll, const toml::node& v, const Where& w) {
           if (type == SourceType::kLdap) {
             NonEmptyStr(&ldap.key)(ll, v, w);
             ldap_key_set = true;
           } else {
             NonEmptyStr(&csv.key)(ll, v, w);
             csv_key_set = true;
           }
         }},
        {"watch", Bool(&c.source.watch)},
        {"watch_interval", Duration(&c.source.watch_interval, std::chrono::seconds(1))},
        {"delimiter", Delimiter(&csv.delimiter), Only::kCsv},
        {"groups_column", Str(&csv.groups_column), Only::kCsv},
        {"group_separator", NonEmptyStr(&csv.group_separator), Only::kCsv},
        // ldap
        {"url", NonEmptyStr(&ldap.url), Only::kLdap},
        {"start_tls", Bool(&ldap.start_tls), Only::kLdap},
        {"ca_file", PathStr(&ldap.ca_file), Only::kLdap},
        {"bind_dn", Str(&ldap.bind_dn), Only::kLdap},
        {"bind_password_file", PathStr(&ldap.bind_password_file), Only::kLdap},
        {"bind_password_env", NonEmptyStr(&ldap.bind_password_env), Only::kLdap},
        {"base_dn", Str(&ldap.base_dn), Only::kLdap},
        {"user_base", Str(&ldap.user_base), Only::kLdap},
        {"user_filter", Str(&ldap.user_filter), Only::kLdap},
        {"user_scope",
         Enum(&ldap.user_scope, std::vector<std::pair<std::string_view, LdapScope>>{
                                    {"base", LdapScope::kBase},
                                    {"one", LdapScope::kOne},
                                    {"sub", LdapScope::kSub}}),
         Only::kLdap},
        {"group_base", Str(&ldap.group_base), Only::kLdap},
        {"group_filter", Str(&ldap.group_filter), Only::kLdap},
        {"page_size", Int(&ldap.page_size, 1, std::numeric_limits<int>::max()), Only::kLdap},
        {"dialect",
         Enum(&ldap.dialect, std::vector<std::pair<std::string_view, LdapDialect>>{
                                 {"openldap", LdapDialect::kOpenLdap}, {"ad", LdapDialect::kAd}}),
         Only::kLdap},
        {"flatten_nested", Bool(&ldap.flatten_nested), Only::kLdap},
        {"timeout", Duration(&ldap.timeout, milliseconds(1)), Only::kLdap},
        {"group_name_attr", NonEmptyStr(&ldap.group_name_attr), Only::kLdap},
        {"member_attr", Str(&ldap.member_attr), Only::kLdap},
        {"member_of_attr", Str(&ldap.member_of_attr), Only::kLdap},
    };
    WalkTable(l, *source, "source", specs, type);
    int header = LineOfTable(source);
    if (type == SourceType::kCsv && csv.users.empty() && !source->contains("users")) {
      l.Fail(header, "source.users", "missing required key");
    }
    if (type == SourceType::kLdap) {
      if (!source->contains("url")) l.Fail(header, "source.url", "missing required key");
      if (ldap.base_dn.empty() && (ldap.user_base.empty() || ldap.group_base.empty()) &&
          !source->contains("base_dn")) {
        l.Fail(header, "source.base_dn",
               "missing required key (or set both user_base and group_base)");
      }
      if (!ldap.bind_password_file.empty() && !ldap.bind_password_env.empty()) {
        const toml::node* n = source->get("bind_password_env");
        const toml::node* f = source->get("bind_password_file");
        int line = std::max(n->source().begin.line, f->source().begin.line);
        l.Fail(line, "source.bind_password_env",
               "set only one of bind_password_file and bind_password_env");
      }
    }
  }

  // [target]
  if (target != nullptr) {
    TargetConfig& t = c.target;
    const std::vector<KeySpec> specs = {
        {"url", TargetUrl(&t.url)},
        {"token_file", PathStr(&t.token_file)},
        {"token_env", NonEmptyStr(&t.token_env)},
        {"ca_file", PathStr(&t.ca_file)},
        {"timeout", Duration(&t.timeout, milliseconds(1))},
        {"max_connections", Int(&t.max_connections, 1, 64)},
        {"max_requests_per_second",
         Number(&t.max_requests_per_second, 0, std::numeric_limits<double>::max())},
        {"members_per_request",
         Opt(&t.behaviour.members_per_request,
             [](int* o) { return Int(o, 1, std::numeric_limits<int>::max()); })},
        {"page_size", Opt(&t.behaviour.page_size, [](int* o) { return Int(o, 1, 10000); })},
        {"lookup", Opt(&t.behaviour.lookup,
                       [](LookupMethod* o) {
                         return Enum(o, std::vector<std::pair<std::string_view, LookupMethod>>{
                                            {"filter", LookupMethod::kFilter},
                                            {"list", LookupMethod::kList}});
                       })},
        {"exclude_members", Opt(&t.behaviour.exclude_members, [](bool* o) { return Bool(o); })},
        {"unique_group_names",
         Opt(&t.behaviour.unique_group_names, [](bool* o) { return Bool(o); })},
        {"delete_locks", Opt(&t.behaviour.delete_locks, [](bool* o) { return Bool(o); })},
        {"push_groups", Opt(&t.behaviour.push_groups, [](bool* o) { return Bool(o); })},
        {"role_prefix", Opt(&t.behaviour.role_prefix, [](std::string* o) { return Str(o); })},
        {"roles", NameList(&t.roles)},
        {"deprovision",
         Enum(&t.deprovision, std::vector<std::pair<std::string_view, DeprovisionMode>>{
                                  {"disable", DeprovisionMode::kDisable},
                                  {"delete", DeprovisionMode::kDelete}})},
        {"profile", Enum(&t.profile, std::vector<std::pair<std::string_view, TargetProfile>>{
                                         {"generic", TargetProfile::kGeneric},
                                         {"keeper", TargetProfile::kKeeper},
                                         {"keepnet", TargetProfile::kKeepnet},
                                         {"aws", TargetProfile::kAws}})},
        {"max_retries", Int(&t.max_retries, 0, 100)},
        {"reconcile", ReconcilePeriod(&t.reconcile)},
        {"proxy", ProxyUrl(&t.proxy)},
        {"no_proxy", Str(&t.no_proxy)},
        {"foreign_members",
         Enum(&t.foreign_members, std::vector<std::pair<std::string_view, ForeignMembers>>{
                                      {"remove", ForeignMembers::kRemove},
                                      {"keep", ForeignMembers::kKeep}})},
        {"max_response_size", Size(&t.max_response_size, 1 << 10, std::int64_t{1} << 30)},
    };
    WalkTable(l, *target, "target", specs, std::nullopt);
    if (!t.roles.empty() && EffectiveBehaviour(t.profile, t.behaviour).behaviour.role_prefix.empty()) {
      l.Fail(target->get("roles")->source().begin.line, "target.roles",
             "needs a role_prefix (the " + std::string(ProfileOf(t.profile).name) +
                 " profile has none): set target.role_prefix");
    }
    if (!t.roles.empty() && t.behaviour.push_groups == false) {
      l.Fail(target->get("roles")->source().begin.line, "target.roles",
             "roles are groups, and push_groups = false pushes none");
    }
    if (!target->contains("url")) l.Fail(LineOfTable(target), "target.url", "missing required key");
    if (target->contains("token_file") && target->contains("token_env")) {
      int line = std::max(target->get("token_file")->source().begin.line,
                          target->get("token_env")->source().begin.line);
      l.Fail(line, "target.token_env", "set only one of token_file and token_env");
    }
  } else {
    l.Fail(1, "target.url", "missing required key");
  }

  // [safety]
  if (safety != nullptr) {
    SafetyConfig& s = c.safety;
    const std::vector<KeySpec> specs = {
        {"max_deletions", Int(&s.max_deletions, 0, std::numeric_limits<int>::max())},
        {"max_deletion_percent", Number(&s.max_deletion_percent, 0, 100)},
        {"allow_empty_source", Bool(&s.allow_empty_source)},
        {"max_failures_per_cycle",
         Int(&s.max_failures_per_cycle, 1, std::numeric_limits<int>::max())},
    };
    WalkTable(l, *safety, "safety", specs, std::nullopt);
  }

  // [scope]
  if (scope != nullptr) {
    const std::vector<KeySpec> specs = {
        {"groups", NameList(&c.scope.groups)},
        {"include_groups", PatternList(&c.scope.include_groups)},
        {"exclude_groups", PatternList(&c.scope.exclude_groups)},
    };
    WalkTable(l, *scope, "scope", specs, std::nullopt);
  }

  // [log]
  if (log != nullptr) {
    const std::vector<KeySpec> specs = {
        {"format", Enum(&c.log.format, std::vector<std::pair<std::string_view, LogFormat>>{
                                           {"logfmt", LogFormat::kLogfmt},
                                           {"json", LogFormat::kJson}})},
        {"level", Enum(&c.log.level, std::vector<std::pair<std::string_view, LogLevel>>{
                                         {"debug", LogLevel::kDebug},
                                         {"info", LogLevel::kInfo},
                                         {"warn", LogLevel::kWarn},
                                         {"error", LogLevel::kError}})},
    };
    WalkTable(l, *log, "log", specs, std::nullopt);
  }

  // Mapping: the source's defaults, then [mapping] on top.
  if (c.source.type == SourceType::kCsv) {
    c.mapping = Mapping::CsvDefaults();
    c.mapping.key_field = csv.key;
  } else {
    c.mapping = ldap.dialect == LdapDialect::kAd ? Mapping::AdDefaults() : Mapping::LdapDefaults();
    if (ldap_key_set && !ldap.key.empty()) c.mapping.key_field = ldap.key;
  }
  if (mapping != nullptr) {
    KeyOverride key;
    WalkMapping(l, *mapping, "", &c.mapping, &key);
    if (!key.field.empty()) {
      bool source_key_set = c.source.type == SourceType::kCsv ? csv_key_set : ldap_key_set;
      if (source_key_set && key.field != c.mapping.key_field) {
        l.Fail(key.line, "mapping.externalId",
               "conflicts with source.key = " + Quote(c.mapping.key_field));
      } else {
        c.mapping.key_field = key.field;
      }
    }
  }
  csv.key = c.source.type == SourceType::kCsv ? c.mapping.key_field : csv.key;
  if (c.source.type == SourceType::kLdap) ldap.key = c.mapping.key_field;

  if (l.failed()) return l.FirstProblem();
  if (!state_set) c.state = DefaultStatePath();
  return c;
}

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid duration " + Quote(text) +
                      " (expected e.g. \"90s\", \"40m\", \"2h\", \"1h30m\", \"500ms\")");
  };
  if (text.empty()) return bad();
  std::int64_t total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++digits > 9) return bad();
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (digits == 0) return bad();
    std::size_t u = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit = text.substr(u, i - u);
    std::int64_t per;
    if (unit.empty()) {
      // A bare number means seconds, but only as the whole text ("90", not "1h30").
      if (any || i != text.size()) return bad();
      per = 1000;
    } else if (unit == "ms") {
      per = 1;
    } else if (unit == "s") {
      per = 1000;
    } else if (unit == "m") {
      per = 60 * 1000;
    } else if (unit == "h") {
      per = 3600 * 1000;
    } else if (unit == "d") {
      per = 24 * 3600 * 1000;
    } else {
      return bad();
    }
    total_ms += n * per;
    if (total_ms > 100LL * 365 * 24 * 3600 * 1000) return bad();
    any = true;
  }
  return std::chrono::milliseconds(total_ms);
}

Result<Config> ParseConfig(const std::string& text, const std::string& name) {
  return Load(text, name, fs::path(name).parent_path());
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(ErrorCode::kInvalidArgument,
                  path + ": cannot read configuration: " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return Status(ErrorCode::kInvalidArgument, path + ": cannot read configuration");
  }
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  fs::path base = ec ? fs::path(path).parent_path() : abs.parent_path();
  return Load(ss.str(), path, base);
}

namespace {

// `check_mode` is off only for systemd credentials: their directory is private to
// the unit and systemd may grant access through an ACL, which shows up as group
// bits in st_mode.
Result<std::string> ReadSecretAt(const std::string& path, bool check_mode) {
  auto fail = [&](const std::string& msg) {
    return Status(ErrorCode::kInvalidArgument, path + ": " + msg);
  };
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
  // forever (`check` hung on one). Regular files ignore the flag.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail(std::string("cannot open: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISFIFO(st.st_mode)  ? " (a FIFO)"
                       : S_ISDIR(st.st_mode) ? " (a directory)"
                       : S_ISSOCK(st.st_mode) ? " (a socket)"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? " (a device)"
                                                                     : "";
    return fail(std::string("not a regular file") + kind);
  }
  // Checked on the descriptor we read from, so a swapped file cannot slip through.
  if (check_mode && (st.st_mode & 044) != 0) {
    return fail("mode " + ModeString(st.st_mode) + " is readable by group or others; chmod 600 it");
  }
  if (check_mode && (st.st_mode & 033) != 0) {
    return fail("mode " + ModeString(st.st_mode) + " gives group or others access; chmod 600 it");
  }
  constexpr off_t kMax = 64 * 1024;
  if (st.st_size > kMax) return fail("larger than 64 KiB; expected one line holding the secret");
  std::string data(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r')) data.pop_back();
  if (data.empty()) return fail("empty; expected the secret on one line");
  if (data.find_first_of("\r\n") != std::string::npos) {
    return fail("holds more than one line; expected the secret on one line");
  }
  RegisterSecret(data);
  return data;
}

}  // namespace

Result<std::string> ReadSecretFile(const std::string& path) {
  return ReadSecretAt(path, /*check_mode=*/true);
}

Result<std::string> ReadSecret(const std::string& file, const std::string& env,
                               const std::string& credential, const std::string& what) {
  auto prefixed = [&](const Status& s) {
    return Status(s.code(), what + ": " + s.message());
  };
  if (!file.empty()) {
    auto r = ReadSecretFile(file);
    if (!r.ok()) return prefixed(r.status());
    return r;
  }
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr) {
      return Status(ErrorCode::kInvalidArgument,
                    what + ": environment variable " + env + " is not set");
    }
    std::string s(v);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    what + ": environment variable " + env + " is empty");
    }
    RegisterSecret(s);
    return s;
  }
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  if (dir != nullptr && *dir != '\0' && !credential.empty()) {
    std::string p = (fs::path(dir) / credential).string();
    std::error_code ec;
    if (fs::exists(p, ec)) {
      auto r = ReadSecretAt(p, /*check_mode=*/false);
      if (!r.ok()) return prefixed(r.status());
      return r;
    }
    return Status(ErrorCode::kInvalidArgument,
                  what + ": not configured (no file or environment variable set, and no "
                         "systemd credential " + Quote(credential) + " in $CREDENTIALS_DIRECTORY)");
  }
  return Status(ErrorCode::kInvalidArgument,
                what + ": not configured (set a file or an environment variable, or pass a "
                       "systemd credential " + Quote(credential) + ")");
}

}  // namespace scimsync
