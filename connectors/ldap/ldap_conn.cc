#include "connectors/ldap/ldap_conn.h"

#include <lber.h>
#include <ldap.h>
#include <sys/time.h>


#include <utility>

#include "connectors/ldap/ldap_error.h"
#include "core/log.h"
#include "core/text.h"

namespace scimsync {
namespace {

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1000;
  return tv;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

std::string DiagnosticOf(LDAP* ld) {
  char* msg = nullptr;
  std::string out;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
      msg != nullptr) {
    out = msg;
    ldap_memfree(msg);
  }
  return out;
}

// libldap reports a failed TLS handshake (untrusted CA, wrong host name) as a bare
// connect error, often with "(unknown error code)"; say what to check.
std::string TlsHint(int rc, std::string diag) {
  if (rc != LDAP_CONNECT_ERROR) return diag;
  if (diag == "(unknown error code)") diag.clear();
  return (diag.empty() ? "" : diag + "; ") +
         std::string("TLS handshake failed: is the server certificate signed by ca_file (or a "
                     "system CA) and issued for this host name?");
}

struct MsgFree {
  LDAPMessage* m;
  ~MsgFree() {
    if (m != nullptr) ldap_msgfree(m);
  }
};

// Sets the per-handle options. TLS verification is never optional.
Status Configure(LDAP* ld, const LdapConnOptions& o, const std::string& uri) {
  int version = LDAP_VERSION3;
  timeval tv = ToTimeval(o.timeout);
  int demand = LDAP_OPT_X_TLS_DEMAND;
  int is_server = 0;
  auto set = [&](int option, const void* value, const char* name) -> Status {
    if (ldap_set_option(ld, option, value) != LDAP_OPT_SUCCESS) {
      return Status(ErrorCode::kInvalidArgument, uri + ": cannot set LDAP option " + name);
    }
    return Status::Ok();
  };
  for (Status s : {set(LDAP_OPT_PROTOCOL_VERSION, &version, "protocol version"),
                   set(LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals"),
                   set(LDAP_OPT_RESTART, LDAP_OPT_ON, "restart"),
                   set(LDAP_OPT_NETWORK_TIMEOUT, &tv, "network timeout"),
                   set(LDAP_OPT_TIMEOUT, &tv, "timeout"),
                   set(LDAP_OPT_X_TLS_REQUIRE_CERT, &demand, "TLS require cert")}) {
    if (!s.ok()) return s;
  }
  if (!o.ca_file.empty()) {
    if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, o.ca_file.c_str()) != LDAP_OPT_SUCCESS) {
      return Status(ErrorCode::kInvalidArgument, "ca_file " + o.ca_file + ": not accepted");
    }
  }
  // A new context makes the options above (set on this handle) take effect, instead
  // of the process-wide context that ldap.conf or an earlier handle may have built.
  if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS) {
    std::string diag = DiagnosticOf(ld);
    return Status(ErrorCode::kInvalidArgument,
                  "cannot set up TLS" + (o.ca_file.empty() ? std::string() : " with ca_file " + o.ca_file) +
                      (diag.empty() ? "" : ": " + diag));
  }
  return Status::Ok();
}

// EXTERNAL takes the identity from the socket; libldap asks this callback only for
// prompts (authorization id and the like), which EXTERNAL does not need.
int NoSaslInteraction(LDAP*, unsigned, void*, void*) { return LDAP_SUCCESS; }

Status Bind(LDAP* ld, const LdapConnOptions& o, const std::string& uri) {
  berval cred{0, nullptr};
  int rc;
  std::string what;
  if (!o.bind_dn.empty()) {
    if (o.bind_password.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    "bind as " + o.bind_dn + ": the bind password is empty (refusing an "
                    "unauthenticated bind)");
    }
    cred.bv_val = const_cast<char*>(o.bind_password.data());
    cred.bv_len = o.bind_password.size();
    what = "bind to " + uri + " as " + o.bind_dn;
    rc = ldap_sasl_bind_s(ld, o.bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr,
                          nullptr);
  } else if (StartsWithNoCase(uri, "ldapi://")) {
    what = "SASL EXTERNAL bind to " + uri;
    // Through libldap's SASL client (cyrus-sasl): EXTERNAL needs no interaction, but
    // a bare ldap_sasl_bind_s cannot finish the exchange the server expects.
    rc = ldap_sasl_interactive_bind_s(ld, nullptr, "EXTERNAL", nullptr, nullptr, LDAP_SASL_QUIET,
                                      NoSaslInteraction, nullptr);
  } else {
    what = "anonymous bind to " + uri;
    rc = ldap_sasl_bind_s(ld, "", LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
  }
  if (rc != LDAP_SUCCESS) {
    // On ldaps:// the TLS handshake happens here, in the first operation.
    std::string diag = DiagnosticOf(ld);
    return LdapStatus(rc, what, StartsWithNoCase(uri, "ldaps://") ? TlsHint(rc, diag) : diag);
  }
  return Status::Ok();
}

int ScopeOf(LdapSearchScope s) {
  switch (s) {
    case LdapSearchScope::kBase: return LDAP_SCOPE_BASE;
    case LdapSearchScope::kOne: return LDAP_SCOPE_ONELEVEL;
    case LdapSearchScope::kSub: return LDAP_SCOPE_SUBTREE;
  }
  return LDAP_SCOPE_SUBTREE;
}

// Reads one entry with ldap_get_dn_ber/ldap_get_attribute_ber: one pass over the
// BER buffer, no per-attribute lookups (this is the loop of 100,000 entries).
Result<LdapEntry> ParseEntry(LDAP* ld, LDAPMessage* msg) {
  LdapEntry e;
  BerElement* ber = nullptr;
  berval bv{0, nullptr};
  int rc = ldap_get_dn_ber(ld, msg, &ber, &bv);
  if (rc != LDAP_SUCCESS) {
    if (ber != nullptr) ber_free(ber, 0);
    return LdapStatus(rc, "reading an entry", DiagnosticOf(ld));
  }
  e.dn.assign(bv.bv_val, bv.bv_len);
  BerVarray vals = nullptr;
  for (rc = ldap_get_attribute_ber(ld, msg, ber, &bv, &vals); rc == LDAP_SUCCESS;
       rc = ldap_get_attribute_ber(ld, msg, ber, &bv, &vals)) {
    if (bv.bv_val == nullptr) break;
    LdapAttribute a;
    a.name.assign(bv.bv_val, bv.bv_len);
    if (vals != nullptr) {
      for (int i = 0; vals[i].bv_val != nullptr; ++i) {
        a.values.emplace_back(vals[i].bv_val, vals[i].bv_len);
      }
      ber_memfree(vals);
      vals = nullptr;
    }
    e.attrs.push_back(std::move(a));
  }
  if (ber != nullptr) ber_free(ber, 0);
  if (rc != LDAP_SUCCESS) return LdapStatus(rc, "reading entry " + e.dn, DiagnosticOf(ld));
  return e;
}

}  // namespace

LdapConn::LdapConn(LDAP* ld, std::string uri, LdapConnOptions options)
    : ld_(ld), uri_(std::move(uri)), options_(std::move(options)) {}

LdapConn::~LdapConn() {
  if (ld_ != nullptr) ldap_unbind_ext_s(ld_, nullptr, nullptr);
}

std::string LdapConn::Diagnostic() const { return DiagnosticOf(ld_); }

Result<std::unique_ptr<LdapConn>> LdapConn::Connect(const LdapConnOptions& o) {
  if (o.uris.empty()) return Status(ErrorCode::kInvalidArgument, "no LDAP URI configured");
  std::string failures;
  Status last;
  for (const std::string& uri : o.uris) {
    LDAP* ld = nullptr;
    int rc = ldap_initialize(&ld, uri.c_str());
    if (rc != LDAP_SUCCESS || ld == nullptr) {
      return LdapStatus(rc == LDAP_SUCCESS ? LDAP_PARAM_ERROR : rc, "LDAP URI " + uri);
    }
    struct Unbind {
      LDAP*& ld;
      ~Unbind() {
        if (ld != nullptr) ldap_unbind_ext_s(ld, nullptr, nullptr);
      }
    } unbind{ld};
    Status s = Configure(ld, o, uri);
    if (!s.ok()) return s;  // a configuration problem is the same for every URI
    if (o.start_tls && StartsWithNoCase(uri, "ldap://")) {
      rc = ldap_start_tls_s(ld, nullptr, nullptr);
      if (rc != LDAP_SUCCESS) s = LdapStatus(rc, "StartTLS with " + uri, TlsHint(rc, DiagnosticOf(ld)));
    }
    if (s.ok()) s = Bind(ld, o, uri);
    if (s.ok()) {
      LDAP* owned = ld;
      ld = nullptr;
      LogDebug("ldap_connected", {{"uri", uri}});
      return std::unique_ptr<LdapConn>(new LdapConn(owned, uri, o));
    }
    if (!s.Retryable()) return s;
    if (o.uris.size() > 1) LogWarn("ldap_server_failed", {{"uri", uri}, {"error", s.message()}});
    if (!failures.empty()) failures += "; ";
    failures += s.message();
    last = s;
  }
  if (o.uris.size() == 1) return last;
  return Status(last.code(), "no LDAP server could be used: " + failures);
}

std::string LdapConn::WhoAmI() {
  berval* authzid = nullptr;
  std::string who;
  if (ldap_whoami_s(ld_, &authzid, nullptr, nullptr) == LDAP_SUCCESS && authzid != nullptr) {
    who.assign(authzid->bv_val != nullptr ? authzid->bv_val : "", authzid->bv_len);
    if (who.rfind("dn:", 0) == 0) who = who.substr(3);
  }
  if (authzid != nullptr) ber_bvfree(authzid);
  if (who.empty()) who = options_.bind_dn.empty() ? "anonymous" : options_.bind_dn;
  return who;
}

Result<LdapSearchStats> LdapConn::Search(const LdapSearch& q, const EntryFn& on_entry) {
  const std::string what = "search " + (q.base.empty() ? std::string("\"\"") : q.base) + " " +
                           q.filter;
  const bool paging = q.page_size > 0 && q.probe_limit == 0;
  timeval tv = ToTimeval(options_.timeout);
  std::vector<char*> attrs;
  for (const auto& a : q.attrs) attrs.push_back(const_cast<char*>(a.c_str()));
  attrs.push_back(nullptr);
  char** attr_list = q.attrs.empty() ? nullptr : attrs.data();

  struct Cookie {
    berval bv{0, nullptr};
    ~Cookie() { ber_memfree(bv.bv_val); }
  } cookie;
  LdapSearchStats stats;
  for (;;) {
    LDAPControl* page_ctrl = nullptr;
    LDAPControl* server_ctrls[2] = {nullptr, nullptr};
    if (paging) {
      int rc = ldap_create_page_control(ld_, q.page_size, &cookie.bv, /*iscritical=*/1,
                                        &page_ctrl);
      if (rc != LDAP_SUCCESS) return LdapStatus(rc, what + ": paged-results control");
      server_ctrls[0] = page_ctrl;
    }
    int msgid = 0;
    int rc = ldap_search_ext(ld_, q.base.c_str(), ScopeOf(q.scope), q.filter.c_str(), attr_list,
                             0, paging ? server_ctrls : nullptr, nullptr, &tv, q.probe_limit,
                             &msgid);
    if (page_ctrl != nullptr) ldap_control_free(page_ctrl);
    if (rc != LDAP_SUCCESS) return LdapStatus(rc, what, Diagnostic());
    ++stats.pages;
    auto abandon = [&] { ldap_abandon_ext(ld_, msgid, nullptr, nullptr); };

    bool page_done = false;
    while (!page_done) {
      LDAPMessage* raw = nullptr;
      timeval wait = tv;
      int type = ldap_result(ld_, msgid, LDAP_MSG_ONE, &wait, &raw);
      MsgFree guard{raw};
      if (type == 0) {
        abandon();
        return Status(ErrorCode::kTimeout,
                      what + ": no answer within " + std::to_string(options_.timeout.count()) +
                          " ms (page " + std::to_string(stats.pages) + ")");
      }
      if (type < 0) {
        int err = LDAP_OTHER;
        ldap_get_option(ld_, LDAP_OPT_RESULT_CODE, &err);
        return LdapStatus(err, what, Diagnostic());
      }
      switch (type) {
        case LDAP_RES_SEARCH_ENTRY: {
          auto e = ParseEntry(ld_, raw);
          if (!e.ok()) {
            abandon();
            return e.status();
          }
          ++stats.entries;
          Status s = on_entry(std::move(*e));
          if (!s.ok()) {
            abandon();
            return s;
          }
          break;
        }
        case LDAP_RES_SEARCH_REFERENCE: {
          char** refs = nullptr;
          std::vector<std::string> urls;
          if (ldap_parse_reference(ld_, raw, &refs, nullptr, 0) == LDAP_SUCCESS && refs) {
            for (int i = 0; refs[i] != nullptr; ++i) urls.emplace_back(refs[i]);
          }
          if (refs != nullptr) ldap_memvfree(reinterpret_cast<void**>(refs));
          if (q.accept_reference && q.accept_reference(urls)) {
            LogDebug("ldap_reference_skipped", {{"search", what}, {"url", urls.empty() ? "" : urls[0]}});
            break;
          }
          abandon();
          std::string list;
          for (const auto& u : urls) list += (list.empty() ? "" : " ") + u;
          return Status(ErrorCode::kInvalidArgument,
                        what + ": the server returned a referral (" + list +
                            ") that scimsync does not follow; part of the directory would be "
                            "missing (narrow the search base or point url at that server)");
        }
        case LDAP_RES_SEARCH_RESULT: {
          int err = LDAP_SUCCESS;
          char* diag = nullptr;
          char** refs = nullptr;
          LDAPControl** ctrls = nullptr;
          rc = ldap_parse_result(ld_, raw, &err, nullptr, &diag, &refs, &ctrls, 0);
          std::string diag_s = diag != nullptr ? diag : "";
          std::string refs_s;
          if (refs != nullptr) {
            for (int i = 0; refs[i] != nullptr; ++i) refs_s += (refs_s.empty() ? "" : " ") + std::string(refs[i]);
          }
          ldap_memfree(diag);
          if (refs != nullptr) ldap_memvfree(reinterpret_cast<void**>(refs));
          struct CtrlsFree {
            LDAPControl** c;
            ~CtrlsFree() {
              if (c != nullptr) ldap_controls_free(c);
            }
          } ctrls_free{ctrls};
          if (rc != LDAP_SUCCESS) return LdapStatus(rc, what, Diagnostic());
          if (err == LDAP_SIZELIMIT_EXCEEDED && q.probe_limit > 0) return stats;
          if (err == LDAP_REFERRAL) {
            return LdapStatus(err, what, "referral to " + refs_s + " is not followed" +
                                             (diag_s.empty() ? "" : "; " + diag_s));
          }
          if (err != LDAP_SUCCESS) return LdapStatus(err, what, diag_s);
          if (paging) {
            LDAPControl* pc = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls, nullptr);
            if (pc == nullptr) {
              return Status(ErrorCode::kParse,
                            what + ": page " + std::to_string(stats.pages) +
                                " came without the paged-results control; the read is "
                                "incomplete");
            }
            ber_memfree(cookie.bv.bv_val);
            cookie.bv = {0, nullptr};
            ber_int_t estimate = 0;
            rc = ldap_parse_pageresponse_control(ld_, pc, &estimate, &cookie.bv);
            if (rc != LDAP_SUCCESS) {
              return LdapStatus(rc, what + ": paged-results control of page " +
                                        std::to_string(stats.pages));
            }
          }
          page_done = true;
          break;
        }
        default:
          break;  // intermediate responses: not used by search
      }
    }
    if (!paging || cookie.bv.bv_len == 0) break;
  }
  return stats;
}

}  // namespace scimsync
