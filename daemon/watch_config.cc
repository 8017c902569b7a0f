#include "daemon/watch_config.h"

#include "connectors/csv/csv_watch.h"
#include "connectors/ldap/ldap_watch.h"
#include "daemon/csv_config.h"
#include "daemon/ldap_config.h"

namespace scimsync {

Result<std::vector<std::unique_ptr<SourceWatcher>>> MakeSourceWatchers(const Config& config) {
  std::vector<std::unique_ptr<SourceWatcher>> out;
  const Millis every = config.source.watch_interval;
  if (config.source.type == SourceType::kCsv) {
    CsvSourceOptions csv = ToCsvOptions(config);
    std::vector<std::string> files = {csv.users, csv.groups};
    out.push_back(MakeInotifyWatcher(files, kCsvWatchQuiet));
    out.push_back(MakeMtimePollWatcher(files, every, kCsvWatchQuiet));
    return out;
  }
  Result<LdapSourceOptions> ldap = ToLdapOptions(config);
  if (!ldap.ok()) return ldap.status();
  LdapWatchOptions w;
  w.conn.uris = ldap->uris;
  w.conn.start_tls = ldap->start_tls;
  w.conn.ca_file = ldap->ca_file;
  w.conn.bind_dn = ldap->bind_dn;
  w.conn.bind_password = ldap->bind_password;
  w.conn.timeout = ldap->timeout;
  w.bases = {ldap->user_base, ldap->group_base};
  w.interval = every;
  if (ldap->dialect == LdapServerDialect::kAd) {
    out.push_back(MakeMarkerPollWatcher(w, LdapMarker::kHighestCommittedUsn));
  } else {
    out.push_back(MakeSyncReplWatcher(w));
    out.push_back(MakeMarkerPollWatcher(w, LdapMarker::kContextCsn));
  }
  out.push_back(MakeMarkerPollWatcher(w, LdapMarker::kModifyTimestamp));
  return out;
}

}  // namespace scimsync
