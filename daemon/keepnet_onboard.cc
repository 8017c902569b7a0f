#include "daemon/keepnet_onboard.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "config/config_loader.h"
#include "config/keepnet_files.h"
#include "connectors/keepnet/keepnet_client.h"
#include "connectors/scim/curl_http_client.h"
#include "core/redact.h"
#include "core/text.h"
#include "daemon/keepnet_config_text.h"
#include "scimsync_version.h"

namespace scimsync {
namespace {

namespace fs = std::filesystem;

constexpr int kSearchPageSize = 50;
constexpr int kMaxSearchPages = 200;  // 10,000 companies: a bound on a misbehaving server

// What a failed reply means for the operator, by HTTP status (tables over branches).
struct FailureRule {
  int status;  // 0: no answer at all
  int exit_code;
  std::string_view advice;
};
const FailureRule kFailureRules[] = {
    {0, 3, "no answer from Keepnet; check --api and the network, then run again (what exists is found again)"},
    {400, 2, "Keepnet refused the request's content; fix the input and run again"},
    {401, 2, "the credential was refused (with a fresh token too): check the client id and secret, "
             "and that the REST API client is active"},
    {403, 2, "this credential may not do that: its Client Role must be Reseller (Company > Company "
             "Settings > REST API), and the company must be one it manages"},
    {404, 2, "not found: check --company-id (a company this reseller manages) and --api"},
    {409, 2, "it already exists"},
    {429, 3, "Keepnet asks to slow down; run again in a minute (what exists is found again)"},
};
// The token endpoint answers a bad client id or secret with 400 invalid_client (RFC 6749 §5.2).
const FailureRule kTokenFailureRules[] = {
    {400, 2, "the token request was refused: check the client id and secret in the credentials file"},
    {401, 2, "the token request was refused: check the client id and secret in the credentials file"},
};

const FailureRule& RuleFor(const KeepnetReply& r) {
  static const FailureRule kClientError{-1, 2, "Keepnet refused the request"};
  static const FailureRule kServerError{-1, 3, "Keepnet failed; run again later (what exists is found again)"};
  int status = r.error == HttpError::kNone ? r.status : 0;
  if (r.token_failed) {
    for (const FailureRule& rule : kTokenFailureRules) {
      if (rule.status == status) return rule;
    }
  }
  for (const FailureRule& rule : kFailureRules) {
    if (rule.status == status) return rule;
  }
  return status >= 400 && status < 500 ? kClientError : kServerError;
}

class Printer {
 public:
  explicit Printer(std::FILE* f) : f_(f) {}
  void Line(std::string_view tag, const std::string& text) {
    std::string line = std::string(tag);
    line.resize(std::max<std::size_t>(line.size(), 5), ' ');
    line += " " + Redact(text) + "\n";
    std::fwrite(line.data(), 1, line.size(), f_);
    std::fflush(f_);
  }
  void More(const std::string& text) { Line("", text); }

 private:
  std::FILE* f_;
};

std::string Q(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

// Everything one run does and remembers.
class Onboarding {
 public:
  Onboarding(const OnboardOptions& o, HttpClient& http, Clock& clock, std::FILE* out)
      : o_(o), http_(http), clock_(clock), p_(out) {}

  int Run();

 private:
  int CheckInputs();
  int Fail(const std::string& step, const KeepnetReply& r, std::string_view advice = "");
  int FailInput(const std::string& message) {
    p_.Line("FAIL", message);
    p_.More("nothing was sent to Keepnet");
    return 2;
  }
  void PrintCreated();
  int Company();
  std::optional<int> FindCompany(bool* found);
  int ResolveFields(std::vector<ScimFieldMapping>* out);
  int Scim();
  int WriteFiles();
  int Dec();

  const OnboardOptions& o_;
  HttpClient& http_;
  Clock& clock_;
  Printer p_;
  std::optional<KeepnetClient> client_;

  // Inputs, read in CheckInputs.
  KeepnetCredentials credentials_;
  std::optional<KeepnetCompanyFile> company_file_;
  std::optional<KeepnetDecFile> dec_;
  std::string source_text_;
  std::string token_path_;
  std::vector<std::pair<std::string, std::string>> maps_;  // Keepnet field name, SCIM attribute

  // Results.
  std::string company_id_;
  std::string company_name_;
  ScimSetting scim_;
  std::vector<std::string> created_;  // what this run created, for a failure's report
};

int Onboarding::Fail(const std::string& step, const KeepnetReply& r, std::string_view advice) {
  const FailureRule& rule = RuleFor(r);
  p_.Line("FAIL", step + ": " + r.what + ": " + r.Summary());
  p_.More(std::string(advice.empty() ? rule.advice : advice));
  PrintCreated();
  return rule.exit_code;
}

void Onboarding::PrintCreated() {
  if (created_.empty()) {
    p_.More("nothing was created by this run");
    return;
  }
  std::string list;
  for (const std::string& c : created_) list += (list.empty() ? "" : "; ") + c;
  p_.More("already created by this run (found again on the next run): " + list);
}

int Onboarding::CheckInputs() {
  // The flags that exclude each other are the CLI's; the rest is checked here.
  if (o_.company_id.empty() == o_.new_company_file.empty()) {
    return FailInput("pass exactly one of --company-id RID and --new-company FILE.toml");
  }
  if (o_.scim_name.empty() || o_.scim_name.size() > kMaxScimNameLength) {
    return FailInput("--scim-name: must be 1 to " + std::to_string(kMaxScimNameLength) +
                     " characters (Keepnet's limit), not " + std::to_string(o_.scim_name.size()));
  }
  if (o_.out.empty()) {
    return FailInput("--out FILE is required: Keepnet shows the SCIM token only once, so it is "
                     "written to a file next to the config, never printed");
  }
  Result<std::string> line = ReadSecret(o_.credentials_file, "", "keepnet", "Keepnet credentials");
  if (!line.ok()) return FailInput(line.status().message());
  std::string why;
  if (!ParseKeepnetCredentials(*line, &credentials_, &why)) {
    return FailInput((o_.credentials_file.empty() ? std::string("Keepnet credentials") : o_.credentials_file) +
                     ": " + why);
  }
  if (!o_.new_company_file.empty()) {
    auto c = LoadKeepnetCompany(o_.new_company_file);
    if (!c.ok()) return FailInput(c.status().message());
    company_file_ = std::move(*c);
  }
  if (!o_.dec_file.empty()) {
    auto d = LoadKeepnetDec(o_.dec_file);
    if (!d.ok()) return FailInput(d.status().message());
    dec_ = std::move(*d);
  }
  for (const std::string& m : o_.field_maps) {
    std::size_t eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      return FailInput("--map " + Q(m) + ": expected KEEPNET_FIELD=SCIM_ATTRIBUTE, e.g. "
                       "Department=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
    }
    maps_.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  if (!o_.source_file.empty()) {
    auto s = LoadSourceSection(o_.source_file);
    if (!s.ok()) return FailInput(s.status().message());
    source_text_ = std::move(*s);
  }
  token_path_ = TokenPathFor(o_.out);
  std::error_code ec;
  fs::path dir = fs::path(o_.out).parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec)) {
    return FailInput("--out " + o_.out + ": directory " + dir.string() + " does not exist");
  }
  for (const std::string& f : {o_.out, token_path_}) {
    if (!o_.force && fs::exists(fs::symlink_status(f, ec))) {
      return FailInput(f + " exists (written by an earlier run?); it is not replaced without --force");
    }
  }
  // The config as it will be written must load: a bad --source is an input error
  // now, not after the integration (and its one-time token) exists.
  if (!source_text_.empty()) {
    OnboardConfigInput probe{"probe", "probe", o_.scim_name, "https://keepnet.invalid/scim/v2",
                             fs::path(token_path_).filename().string(), source_text_,
                             o_.systemd_credential};
    auto parsed = ParseConfig(OnboardConfigText(probe), o_.out);
    if (!parsed.ok()) {
      return FailInput("--source " + o_.source_file + " does not make a valid config: " +
                       parsed.status().message());
    }
  }
  return 0;
}

// Searches every page of the companies this credential manages for company_file_->name.
std::optional<int> Onboarding::FindCompany(bool* found) {
  *found = false;
  std::vector<CompanyItem> matches;
  for (int page = 1; page <= kMaxSearchPages; ++page) {
    KeepnetReply r = client_->PostJson("/api/companies/search", "", CompanySearchJson(page, kSearchPageSize));
    if (!r.ok()) return Fail("company search", r);
    CompanyPage cp = ParseCompanyPage(r.envelope.data);
    if (!cp.valid) {
      p_.Line("FAIL", "company search: " + r.what + ": HTTP " + std::to_string(r.status) +
                          ": the reply holds no list of companies");
      PrintCreated();
      return 3;
    }
    for (const CompanyItem& c : cp.items) {
      if (EqualsIgnoreCase(std::string(Trim(c.name)), std::string(Trim(company_file_->name)))) {
        matches.push_back(c);
      }
    }
    p_.Line("ok", "company search: page " + std::to_string(page) + ": " +
                      std::to_string(cp.items.size()) + " companies");
    bool last = static_cast<int>(cp.items.size()) < kSearchPageSize ||
                (cp.total_pages && page >= *cp.total_pages);
    if (last) break;
  }
  if (matches.size() > 1) {
    std::string ids;
    for (const CompanyItem& c : matches) ids += (ids.empty() ? "" : ", ") + c.resource_id;
    p_.Line("FAIL", "company: " + std::to_string(matches.size()) + " companies are named " +
                        Q(company_file_->name) + " (resourceIds " + ids + "); pass --company-id");
    PrintCreated();
    return 2;
  }
  if (matches.size() == 1) {
    *found = true;
    company_id_ = matches[0].resource_id;
    company_name_ = matches[0].name;
  }
  return std::nullopt;
}

int Onboarding::Company() {
  if (!o_.company_id.empty()) {
    company_id_ = o_.company_id;
    company_name_ = o_.company_id;
    p_.Line("ok", "company: resourceId " + company_id_ + " (--company-id; not looked up)");
    return 0;
  }
  bool found = false;
  if (auto rc = FindCompany(&found)) return *rc;
  if (found) {
    p_.Line("ok", "company: " + Q(company_name_) + " exists (resourceId " + company_id_ +
                      "); not created again");
    return 0;
  }
  KeepnetReply r = client_->PostForm("/api/companies", "", FormParts(company_file_->fields));
  if (!r.ok()) return Fail("company create", r);
  company_id_ = DataResourceId(r.envelope.data);
  company_name_ = company_file_->name;
  if (company_id_.empty()) {
    p_.Line("FAIL", "company create: " + r.what + ": HTTP " + std::to_string(r.status) +
                        ": the reply holds no resourceId");
    p_.More("the company may exist now: the next run finds it by name");
    PrintCreated();
    return 3;
  }
  created_.push_back("company " + Q(company_name_) + " (resourceId " + company_id_ + ")");
  p_.Line("ok", "company: created " + Q(company_name_) + " (resourceId " + company_id_ + ")");
  return 0;
}

int Onboarding::ResolveFields(std::vector<ScimFieldMapping>* out) {
  if (maps_.empty()) return 0;
  KeepnetReply r = client_->Get("/api/scim/fields", company_id_);
  if (!r.ok()) return Fail("scim fields", r);
  std::vector<ScimField> fields = ParseScimFields(r.envelope.data);
  p_.Line("ok", "scim fields: " + std::to_string(fields.size()) + " fields available");
  for (const auto& [name, attr] : maps_) {
    const ScimField* hit = nullptr;
    for (const ScimField& f : fields) {
      if (EqualsIgnoreCase(f.name, name) || (!f.resource_id.empty() && f.resource_id == name)) hit = &f;
    }
    if (hit == nullptr) {
      std::string names;
      for (const ScimField& f : fields) names += (names.empty() ? "" : ", ") + f.name;
      p_.Line("FAIL", "--map " + Q(name) + ": no such Keepnet SCIM field; the company has: " + names);
      PrintCreated();
      return 2;
    }
    out->push_back({hit->resource_id.empty() ? hit->name : hit->resource_id, attr});
  }
  return 0;
}

int Onboarding::Scim() {
  std::vector<ScimFieldMapping> mappings;
  if (int rc = ResolveFields(&mappings)) return rc;
  KeepnetReply r = client_->PostJson("/api/scim", company_id_, ScimSettingJson(o_.scim_name, o_.group_id, mappings));
  if (r.error == HttpError::kNone && r.status == 409) {
    return Fail("scim create", r,
                "a SCIM integration named " + Q(o_.scim_name) + " already exists in company " +
                    company_id_ + ". Keepnet shows its token only once, so scimsync cannot take "
                    "it over and does not replace it. Either run again with another --scim-name, "
                    "or rotate its token in Keepnet (POST /api/scim/{resourceId}/revoke) and put "
                    "the new one in " + token_path_ + " (mode 0600) yourself");
  }
  if (!r.ok()) return Fail("scim create", r);
  scim_ = ParseScimSetting(r.envelope.data);
  if (!scim_.token.empty()) RegisterSecret(scim_.token);
  std::string id = scim_.resource_id.empty() ? "" : " (resourceId " + scim_.resource_id + ")";
  if (scim_.token.empty() || scim_.base_url.empty()) {
    p_.Line("FAIL", "scim create: " + r.what + ": HTTP " + std::to_string(r.status) +
                        ": the reply holds no " + (scim_.token.empty() ? "token" : "baseUrl"));
    created_.push_back("SCIM integration " + Q(o_.scim_name) + id);
    p_.More("revoke or delete that integration in Keepnet before running again");
    PrintCreated();
    return 3;
  }
  created_.push_back("SCIM integration " + Q(o_.scim_name) + id);
  p_.Line("ok", "scim: created " + Q(o_.scim_name) + id + ", baseUrl " + scim_.base_url);
  return 0;
}

// Writes `content` to `path` with `mode`: a temp file in the same directory, then
// renamed over `path` (force) or hard-linked to it, which fails if it exists.
Status WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode, bool force) {
  fs::path p(path);
  std::string tmpl = (p.parent_path() / ("." + p.filename().string() + ".XXXXXX")).string();
  if (p.parent_path().empty()) tmpl = "." + p.filename().string() + ".XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  auto fail = [&](const char* what) {
    Status s(ErrorCode::kIo, path + ": " + what + ": " + std::strerror(errno));
    if (fd >= 0) ::close(fd);
    ::unlink(name.data());
    return s;
  };
  if (fd < 0) return Status(ErrorCode::kIo, path + ": cannot create a file there: " + std::strerror(errno));
  if (::fchmod(fd, mode) != 0) return fail("chmod");
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync");
  ::close(fd);
  fd = -1;
  if (force) {
    if (::rename(name.data(), path.c_str()) != 0) return fail("rename");
  } else {
    if (::link(name.data(), path.c_str()) != 0) return fail("create");
    ::unlink(name.data());
  }
  return Status::Ok();
}

int Onboarding::WriteFiles() {
  Status t = WriteFileAtomic(token_path_, scim_.token + "\n", 0600, o_.force);
  if (!t.ok()) {
    p_.Line("FAIL", "write token: " + t.message());
    p_.More("the SCIM token could not be saved; revoke it in Keepnet (POST /api/scim/{resourceId}/revoke) "
            "and run again with --force");
    PrintCreated();
    return 2;
  }
  p_.Line("ok", "wrote " + token_path_ + " (the SCIM token, mode 0600)");
  OnboardConfigInput in{company_name_, company_id_, o_.scim_name, scim_.base_url,
                        fs::path(token_path_).filename().string(), source_text_, o_.systemd_credential};
  Status c = WriteFileAtomic(o_.out, OnboardConfigText(in), 0644, o_.force);
  if (!c.ok()) {
    p_.Line("FAIL", "write config: " + c.message());
    p_.More("the token is saved in " + token_path_ + "; write the config by hand (docs/keepnet.md)");
    PrintCreated();
    return 2;
  }
  p_.Line("ok", "wrote " + o_.out + (source_text_.empty() ? " ([source] to fill in)" : ""));
  return 0;
}

int Onboarding::Dec() {
  if (!dec_) return 0;
  const std::string base = "/api/companies/direct-email-settings";
  KeepnetReply r = client_->PostJson(base, company_id_, DecJson(dec_->name, dec_->tenant_id, dec_->domains, dec_->type));
  if (r.error == HttpError::kNone && r.status == 409) {
    p_.Line("skip", "dec: a DEC setting named " + Q(dec_->name) +
                        " exists; left as it is (not tested, not made default): " + r.Summary());
    return 0;
  }
  if (!r.ok()) return Fail("dec create", r);
  std::string rid = DataResourceId(r.envelope.data);
  if (rid.empty()) {
    p_.Line("FAIL", "dec create: " + r.what + ": HTTP " + std::to_string(r.status) + ": the reply holds no resourceId");
    PrintCreated();
    return 3;
  }
  created_.push_back("DEC setting " + Q(dec_->name) + " (resourceId " + rid + ")");
  p_.Line("ok", "dec: created " + Q(dec_->name) + " (resourceId " + rid + ", type " +
                    (dec_->type == 1 ? "Microsoft 365" : "Google Workspace") + ")");
  KeepnetReply t = client_->PostJson(base + "/test", company_id_, DecTestJson(rid, dec_->test_address));
  bool passed = t.ok() && DecTestPassed(t.envelope.data);
  if (!passed) {
    bool remote = t.error != HttpError::kNone || t.status >= 500 || t.status == 429;
    bool auth = t.status == 401 || t.status == 403;
    if (remote || auth) return Fail("dec test", t);
    p_.Line("FAIL", "dec test: " + t.what + ": " + t.Summary());
    p_.Line("skip", "dec make-default: the test mail to " + dec_->test_address +
                        " failed, so " + Q(dec_->name) + " is not made default; fix the tenant's "
                        "consent or domains, test it in Keepnet, then make it default there");
    return 1;
  }
  p_.Line("ok", "dec test: test mail sent to " + dec_->test_address);
  KeepnetReply d = client_->PutJson(base + "/make-default/" + PercentEncode(rid, false), company_id_, "");
  if (!d.ok()) return Fail("dec make-default", d);
  p_.Line("ok", "dec: " + Q(dec_->name) + " is the default");
  return 0;
}

int Onboarding::Run() {
  if (int rc = CheckInputs()) return rc;
  std::string api = o_.api_url.empty() ? std::string(kKeepnetDefaultApi) : o_.api_url;
  if (api.rfind("https://", 0) != 0 && api.rfind("http://127.0.0.1", 0) != 0 &&
      api.rfind("http://localhost", 0) != 0 && api.rfind("http://[::1]", 0) != 0) {
    p_.Line("warn", "--api " + api + " is not https: the client secret and tokens cross the network in clear");
  }
  client_.emplace(http_, clock_, api, credentials_);
  client_->SetObserver([this](const KeepnetClient::TokenEvent& ev) {
    if (ev.reply.token_failed) return;  // the failing step reports it
    p_.Line("ok", std::string(ev.after_401 ? "token: fetched again after an HTTP 401"
                                           : "token: fetched") +
                      " (expires in " + std::to_string(ev.expires_in) + " s)");
  });
  if (int rc = Company()) return rc;
  if (int rc = Scim()) return rc;
  if (int rc = WriteFiles()) return rc;
  int rc = Dec();
  if (rc != 0 && rc != 1) return rc;
  fs::path out(o_.out);
  if (o_.systemd_credential) {
    p_.Line("next", "sudo systemctl enable --now scimsync@" + out.stem().string() +
                        "   (with both files in /etc/scimsync: docs/keepnet.md)");
  } else {
    p_.Line("next", "scimsync --config " + o_.out + " check");
  }
  return rc;
}

}  // namespace

int RunKeepnetOnboard(const OnboardOptions& options, HttpClient& http, Clock& clock, std::FILE* out) {
  Onboarding run(options, http, clock, out);
  return run.Run();
}

int KeepnetOnboard(const OnboardOptions& options) {
  HttpClientOptions ho;
  ho.user_agent = std::string("scimsync/") + SCIMSYNC_VERSION;
  ho.max_connections = 1;
  CurlHttpClient http(ho);
  return RunKeepnetOnboard(options, http, SystemClock::Instance(), stdout);
}

}  // namespace scimsync
