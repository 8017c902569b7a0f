#include "connectors/ldap/ldap_watch.h"

#include <lber.h>
#include <ldap.h>

#include <algorithm>
#include <array>
#include <optional>
#include <thread>

#include "connectors/ldap/ldap_error.h"
#include "core/text.h"

namespace scimsync {
namespace {

using std::chrono::steady_clock;
using SteadyPoint = steady_clock::time_point;

// RDNs of a DN, split at unescaped commas, each trimmed of leading spaces.
std::vector<std::string> Rdns(const std::string& dn) {
  std::vector<std::string> out;
  std::string cur;
  bool escaped = false;
  for (char c : dn) {
    if (escaped) {
      cur.push_back(c);
      escaped = false;
    } else if (c == '\\') {
      cur.push_back(c);
      escaped = true;
    } else if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (!(cur.empty() && c == ' ')) {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::vector<std::string> Bases(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& b : in) {
    if (b.empty()) continue;
    bool dup = std::any_of(out.begin(), out.end(),
                           [&](const std::string& o) { return EqualsIgnoreCase(o, b); });
    if (!dup) out.push_back(b);
  }
  return out;
}

// `dn` is `ancestor` or below it.
bool IsUnder(const std::string& dn, const std::string& ancestor) {
  std::size_t n = Rdns(ancestor).size();
  return n > 0 && Rdns(CommonAncestorDn({dn, ancestor})).size() == n;
}

std::string FirstUri(const LdapConnOptions& o) { return o.uris.empty() ? "" : o.uris.front(); }

// ---------------------------------------------------------------------------------
// RFC 4533 refreshAndPersist.

class SyncReplWatcher final : public SourceWatcher {
 public:
  explicit SyncReplWatcher(LdapWatchOptions o) : o_(std::move(o)) {
    base_ = CommonAncestorDn(Bases(o_.bases));
  }
  ~SyncReplWatcher() override { Reset(); }

  Status Start() override {
    Reset();
    auto conn = LdapConn::Connect(o_.conn);
    if (!conn.ok()) return conn.status();
    conn_ = std::move(conn).value();
    ls_ = std::make_unique<ldap_sync_t>();
    ldap_sync_initialize(ls_.get());
    ls_->ls_base = base_.data();
    ls_->ls_scope = LDAP_SCOPE_SUBTREE;
    ls_->ls_filter = filter_.data();
    attrs_ = {no_attrs_.data(), nullptr};
    ls_->ls_attrs = attrs_.data();
    ls_->ls_timeout = 1;  // ldap_sync_poll: whole seconds
    ls_->ls_search_entry = &SyncReplWatcher::OnEntry;
    ls_->ls_intermediate = &SyncReplWatcher::OnIntermediate;
    ls_->ls_search_result = &SyncReplWatcher::OnResult;
    ls_->ls_private = this;
    ls_->ls_ld = conn_->handle();
    persist_ = false;
    changed_ = false;
    ended_ = false;
    // Blocks through the refresh phase (the baseline: ignored).
    int rc = ldap_sync_init_refresh_and_persist(ls_.get());
    if (rc != LDAP_SUCCESS || ended_) {
      std::string what = "RFC 4533 sync search on " + base_ + " at " + conn_->uri();
      Reset();
      if (rc == LDAP_SUCCESS || rc == LDAP_OTHER) {
        // The search ended without a refreshDone: the server ignored the control.
        return Status(ErrorCode::kInvalidArgument,
                      what + ": the server does not keep the search open (no syncprov?)");
      }
      return LdapStatus(rc, what);
    }
    persist_ = true;
    return Status::Ok();
  }

  Result<bool> Wait(Millis timeout) override {
    if (!ls_) return Status(ErrorCode::kUnavailable, "sync search not running");
    SteadyPoint deadline = steady_clock::now() + timeout;
    do {
      int rc = ldap_sync_poll(ls_.get());
      if (rc != LDAP_SUCCESS || ended_) {
        std::string uri = conn_->uri();
        Reset();
        if (rc == LDAP_SUCCESS) {
          return Status(ErrorCode::kUnavailable, "the server ended the sync search at " + uri);
        }
        Status s = LdapStatus(rc, "sync search at " + uri);
        // Whatever broke, a reconnect is the cure to try (the runner backs off).
        return Status(ErrorCode::kUnavailable, s.message());
      }
      if (changed_) {
        changed_ = false;
        return true;
      }
    } while (steady_clock::now() < deadline);
    return false;
  }

  std::string Method() const override { return "syncrepl"; }
  std::string Describe() const override {
    return "syncrepl on " + base_ + " at " + FirstUri(o_.conn);
  }

 private:
  static SyncReplWatcher* Self(ldap_sync_t* ls) {
    return static_cast<SyncReplWatcher*>(ls->ls_private);
  }
  static int OnEntry(ldap_sync_t* ls, LDAPMessage*, struct berval*, ldap_sync_refresh_t) {
    if (Self(ls)->persist_) Self(ls)->changed_ = true;
    return LDAP_SUCCESS;
  }
  static int OnIntermediate(ldap_sync_t* ls, LDAPMessage*, BerVarray, ldap_sync_refresh_t phase) {
    // A syncIdSet of deletes in the persist phase (servers may batch deletes so).
    if (Self(ls)->persist_ && (phase == LDAP_SYNC_CAPI_DELETES_IDSET ||
                               phase == LDAP_SYNC_CAPI_PRESENTS_IDSET)) {
      Self(ls)->changed_ = true;
    }
    return LDAP_SUCCESS;
  }
  static int OnResult(ldap_sync_t* ls, LDAPMessage*, int) {
    Self(ls)->ended_ = true;
    return LDAP_SUCCESS;
  }

  void Reset() {
    if (ls_) {
      if (ls_->ls_cookie.bv_val != nullptr) ber_memfree(ls_->ls_cookie.bv_val);
      ls_.reset();  // the strings and the handle are ours, not ldap_sync_destroy()'s
    }
    conn_.reset();
  }

  LdapWatchOptions o_;
  std::string base_;
  std::string filter_ = "(objectClass=*)";
  std::string no_attrs_ = "1.1";
  std::array<char*, 2> attrs_{};
  std::unique_ptr<LdapConn> conn_;
  std::unique_ptr<ldap_sync_t> ls_;
  bool persist_ = false;
  bool changed_ = false;
  bool ended_ = false;
};

// ---------------------------------------------------------------------------------
// Polled change markers.

class MarkerPollWatcher final : public SourceWatcher {
 public:
  MarkerPollWatcher(LdapWatchOptions o, LdapMarker m) : o_(std::move(o)), marker_(m) {
    bases_ = Bases(o_.bases);
  }

  Status Start() override {
    auto m = Read();
    if (!m.ok()) return m.status();
    last_ = std::move(*m);
    next_ = steady_clock::now() + o_.interval;
    return Status::Ok();
  }

  Result<bool> Wait(Millis timeout) override {
    SteadyPoint now = steady_clock::now();
    SteadyPoint deadline = now + timeout;
    if (now < next_) {
      std::this_thread::sleep_for(std::min(next_, deadline) - now);
      if (steady_clock::now() < next_) return false;
    }
    next_ = steady_clock::now() + o_.interval;
    auto m = Read();
    if (!m.ok()) {
      return Status(m.status().Retryable() ? m.status().code() : ErrorCode::kUnavailable,
                    m.status().message());
    }
    if (*m == last_) return false;
    last_ = std::move(*m);
    return true;
  }

  std::string Method() const override {
    switch (marker_) {
      case LdapMarker::kHighestCommittedUsn: return "usn_poll";
      case LdapMarker::kContextCsn: return "context_csn_poll";
      case LdapMarker::kModifyTimestamp: return "modify_timestamp_poll";
    }
    return "poll";
  }
  std::string Describe() const override {
    std::string what = marker_ == LdapMarker::kHighestCommittedUsn ? "highestCommittedUSN"
                       : marker_ == LdapMarker::kContextCsn        ? "contextCSN"
                                                                   : "modifyTimestamp";
    return what + " at " + FirstUri(o_.conn) + " every " +
           std::to_string(o_.interval.count() / 1000) + "s";
  }

 private:
  Result<LdapEntry> ReadOne(LdapConn& c, const std::string& dn, const std::string& attr) {
    LdapSearch s;
    s.base = dn;
    s.scope = LdapSearchScope::kBase;
    s.attrs = {attr};
    s.page_size = 0;
    LdapEntry out;
    auto r = c.Search(s, [&](LdapEntry&& e) {
      out = std::move(e);
      return Status::Ok();
    });
    if (!r.ok()) return r.status();
    return out;
  }

  Result<std::string> Read() {
    auto conn = LdapConn::Connect(o_.conn);
    if (!conn.ok()) return conn.status();
    LdapConn& c = **conn;
    switch (marker_) {
      case LdapMarker::kHighestCommittedUsn: {
        auto e = ReadOne(c, "", "highestCommittedUSN");
        if (!e.ok()) return e.status();
        std::string v = e->First("highestCommittedUSN");
        if (v.empty()) {
          return Status(ErrorCode::kInvalidArgument,
                        c.uri() + ": the rootDSE has no highestCommittedUSN (not Active Directory?)");
        }
        return v;
      }
      case LdapMarker::kContextCsn: {
        auto root = ReadOne(c, "", "namingContexts");
        if (!root.ok()) return root.status();
        std::string context;
        if (const auto* nc = root->Find("namingContexts")) {
          for (const auto& n : *nc) {
            bool holds = !bases_.empty() && std::all_of(bases_.begin(), bases_.end(),
                                                        [&](const std::string& b) {
                                                          return IsUnder(b, n);
                                                        });
            if (holds && n.size() > context.size()) context = n;
          }
        }
        if (context.empty()) {
          return Status(ErrorCode::kInvalidArgument,
                        c.uri() + ": no naming context holds " + bases_.front());
        }
        auto e = ReadOne(c, context, "contextCSN");
        if (!e.ok()) return e.status();
        const auto* csn = e->Find("contextCSN");
        if (csn == nullptr || csn->empty()) {
          return Status(ErrorCode::kInvalidArgument,
                        c.uri() + ": " + context + " has no contextCSN (no syncprov overlay?)");
        }
        std::vector<std::string> v = *csn;  // one per server id
        std::sort(v.begin(), v.end());
        std::string out;
        for (const auto& x : v) out += x + ";";
        return out;
      }
      case LdapMarker::kModifyTimestamp: {
        std::string out;
        for (const auto& b : bases_) {
          LdapSearch s;
          s.base = b;
          s.attrs = {"modifyTimestamp"};
          std::size_t count = 0;
          std::string newest;
          auto r = c.Search(s, [&](LdapEntry&& e) {
            ++count;
            std::string t = e.First("modifyTimestamp");
            if (t > newest) newest = t;  // GeneralizedTime in UTC sorts as text
            return Status::Ok();
          });
          if (!r.ok()) return r.status();
          out += b + "=" + std::to_string(count) + "@" + newest + ";";
        }
        return out;
      }
    }
    return Status(ErrorCode::kInternal, "unknown marker");
  }

  LdapWatchOptions o_;
  LdapMarker marker_;
  std::vector<std::string> bases_;
  std::string last_;
  SteadyPoint next_{};
};

}  // namespace

std::string CommonAncestorDn(const std::vector<std::string>& dns) {
  if (dns.empty()) return "";
  std::vector<std::vector<std::string>> all;
  for (const auto& d : dns) all.push_back(Rdns(d));
  std::vector<std::string> common;
  for (std::size_t i = 1;; ++i) {
    const auto& first = all.front();
    if (i > first.size()) break;
    const std::string& rdn = first[first.size() - i];
    bool shared = std::all_of(all.begin(), all.end(), [&](const std::vector<std::string>& r) {
      return i <= r.size() && EqualsIgnoreCase(r[r.size() - i], rdn);
    });
    if (!shared) break;
    common.insert(common.begin(), rdn);
  }
  std::string out;
  for (const auto& r : common) out += (out.empty() ? "" : ",") + r;
  return out;
}

std::unique_ptr<SourceWatcher> MakeSyncReplWatcher(LdapWatchOptions options) {
  return std::make_unique<SyncReplWatcher>(std::move(options));
}

std::unique_ptr<SourceWatcher> MakeMarkerPollWatcher(LdapWatchOptions options, LdapMarker marker) {
  return std::make_unique<MarkerPollWatcher>(std::move(options), marker);
}

}  // namespace scimsync
