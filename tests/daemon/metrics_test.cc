// Prometheus text rendering and the atomic metrics file (daemon/metrics.h).
#include "daemon/metrics.h"

#include <doctest/doctest.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace scimsync {
namespace {

SysTime At(long long ms) { return SysTime(std::chrono::milliseconds(ms)); }

MetricsSnapshot Sample() {
  MetricsSnapshot m;
  m.last.result = "partial";
  m.last.started = At(1700000000000);
  m.last.ended = At(1700000012345);
  m.last.counts[Counter::kDurationMs] = 12345;
  m.last.counts[Counter::kUsersCreated] = 3;
  m.last.counts[Counter::kUsersUpdated] = 2;
  m.last.counts[Counter::kUsersAdopted] = 4;
  m.last.counts[Counter::kFailed] = 1;
  m.last.counts[Counter::kRequests] = 42;
  m.last_success = At(1700000012345);
  m.cycles_total = {{"ok", 5}, {"partial", 1}};
  m.attention = {{"failed", 1}, {"seat-blocked", 2}};
  m.consecutive_stops = 0;
  m.next_cycle = At(1700002400000);
  m.daemon_start = At(1699999990000);
  return m;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos ||
         text.rfind(line + "\n", 0) == 0;
}

TEST_CASE("metrics: the last result as a labelled gauge with all three results") {
  std::string t = RenderMetrics(Sample());
  CHECK(Has(t, "# TYPE scimsync_last_cycle_result gauge"));
  CHECK(Has(t, "scimsync_last_cycle_result{result=\"ok\"} 0"));
  CHECK(Has(t, "scimsync_last_cycle_result{result=\"partial\"} 1"));
  CHECK(Has(t, "scimsync_last_cycle_result{result=\"stopped\"} 0"));
}

TEST_CASE("metrics: timestamps in unix seconds, duration in seconds") {
  std::string t = RenderMetrics(Sample());
  CHECK(Has(t, "scimsync_last_cycle_timestamp_seconds 1700000012.345"));
  CHECK(Has(t, "scimsync_last_cycle_start_timestamp_seconds 1700000000.000"));
  CHECK(Has(t, "scimsync_last_cycle_duration_seconds 12.345"));
  CHECK(Has(t, "scimsync_last_success_timestamp_seconds 1700000012.345"));
  CHECK(Has(t, "scimsync_next_cycle_timestamp_seconds 1700002400.000"));
  CHECK(Has(t, "scimsync_daemon_start_timestamp_seconds 1699999990.000"));
}

TEST_CASE("metrics: per-cycle counts, cycle counters and attention by status") {
  std::string t = RenderMetrics(Sample());
  CHECK(Has(t, "scimsync_last_cycle_users_created 3"));
  CHECK(Has(t, "scimsync_last_cycle_users_updated 2"));
  CHECK(Has(t, "scimsync_last_cycle_members_removed 0"));
  CHECK(Has(t, "scimsync_last_cycle_failed 1"));
  CHECK(Has(t, "scimsync_last_cycle_requests 42"));
  CHECK(Has(t, "# TYPE scimsync_cycles_total counter"));
  CHECK(Has(t, "scimsync_cycles_total{result=\"ok\"} 5"));
  CHECK(Has(t, "scimsync_cycles_total{result=\"stopped\"} 0"));
  CHECK(Has(t, "scimsync_objects_needing_attention{status=\"failed\"} 1"));
  CHECK(Has(t, "scimsync_objects_needing_attention{status=\"seat-blocked\"} 2"));
  CHECK(Has(t, "scimsync_objects_needing_attention{status=\"conflict\"} 0"));
  CHECK(Has(t, "scimsync_objects_needing_attention{status=\"uncertain\"} 0"));
  CHECK(Has(t, "scimsync_consecutive_stopped_cycles 0"));
}

TEST_CASE("metrics: one gauge per counter of the table, with its help text") {
  std::string t = RenderMetrics(Sample());
  // Every event counter, zero or not: a series never disappears.
  for (const CounterInfo& c : kCounters) {
    if (c.kind != CounterKind::kEvent) continue;
    INFO(c.name);
    CHECK(Has(t, "# HELP " + std::string(c.metric) + " " + std::string(c.help)));
    CHECK(Has(t, "# TYPE " + std::string(c.metric) + " gauge"));
  }
  CHECK(Has(t, "# HELP scimsync_last_cycle_users_adopted Users found already on the target and "
               "adopted instead of created by the last cycle."));
  CHECK(Has(t, "scimsync_last_cycle_users_adopted 4"));
  CHECK(Has(t, "scimsync_last_cycle_groups_adopted 0"));
  CHECK(Has(t, "scimsync_last_cycle_drift 0"));
  CHECK(t.find("scimsync_last_cycle_duration_ms") == std::string::npos);
}

TEST_CASE("metrics: unmanaged gauges from the newest cycle that measured them, else absent") {
  MetricsSnapshot m = Sample();
  std::string none = RenderMetrics(m);
  CHECK(none.find("scimsync_unmanaged_users") == std::string::npos);
  CHECK(none.find("scimsync_unmanaged_groups") == std::string::npos);

  CycleRecord earlier;
  earlier.id = 7;
  earlier.counts[Counter::kUnmanagedUsers] = 3;
  earlier.counts[Counter::kUnmanagedGroups] = 1;
  m.last_measured = earlier;
  std::string t = RenderMetrics(m);
  CHECK(Has(t, "# HELP scimsync_unmanaged_users Target users matching no source user, as of the "
               "last reconciling read."));
  CHECK(Has(t, "# TYPE scimsync_unmanaged_users gauge"));
  CHECK(Has(t, "scimsync_unmanaged_users 3"));
  CHECK(Has(t, "scimsync_unmanaged_groups 1"));

  m.last.counts[Counter::kUnmanagedUsers] = 0;  // the last cycle read the target itself
  m.last.counts[Counter::kUnmanagedGroups] = 2;
  t = RenderMetrics(m);
  CHECK(Has(t, "scimsync_unmanaged_users 0"));
  CHECK(Has(t, "scimsync_unmanaged_groups 2"));
}

TEST_CASE("metrics: every sample has HELP and TYPE lines before it, once per name") {
  std::string t = RenderMetrics(Sample());
  std::istringstream in(t);
  std::string line;
  std::string typed;  // last name that had a TYPE line
  int types = 0;
  while (std::getline(in, line)) {
    REQUIRE(!line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      typed = line.substr(7, line.find(' ', 7) - 7);
      ++types;
      CHECK(t.find("# TYPE " + typed + " ") == t.rfind("# TYPE " + typed + " "));
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    CHECK(name == typed);
  }
  CHECK(types >= 20);
  CHECK(t.back() == '\n');
}

TEST_CASE("metrics: unknown times are left out rather than reported as 1970") {
  MetricsSnapshot m = Sample();
  m.last_success = SysTime{};
  m.next_cycle = SysTime{};
  std::string t = RenderMetrics(m);
  CHECK(t.find("scimsync_last_success_timestamp_seconds") == std::string::npos);
  CHECK(t.find("scimsync_next_cycle_timestamp_seconds") == std::string::npos);
}

TEST_CASE("metrics: label values are escaped") {
  MetricsSnapshot m = Sample();
  m.attention = {{"we\"ird\\st\natus", 1}};
  std::string t = RenderMetrics(m);
  CHECK(Has(t, "scimsync_objects_needing_attention{status=\"we\\\"ird\\\\st\\natus\"} 1"));
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/scimsync-metrics-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(path.c_str());
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }
  std::string path;
};

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST_CASE("metrics file: replaced atomically, mode 0644 regardless of the umask, no temp left") {
  TempDir dir;
  std::string path = dir.path + "/scimsync.prom";
  mode_t old = ::umask(077);
  Status s1 = WriteFileAtomically(path, "first\n");
  Status s2 = WriteFileAtomically(path, "second\n");
  ::umask(old);
  REQUIRE(s1.ok());
  REQUIRE(s2.ok());
  CHECK(ReadAll(path) == "second\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  CHECK(dir.Entries() == std::vector<std::string>{"scimsync.prom"});
}

TEST_CASE("metrics file: an unwritable directory is an error naming the file") {
  Status s = WriteFileAtomically("/nonexistent-dir/scimsync.prom", "x\n");
  REQUIRE(!s.ok());
  CHECK(s.code() == ErrorCode::kIo);
  CHECK(s.message().rfind("cannot create /nonexistent-dir/scimsync.prom.tmp.", 0) == 0);
  CHECK(s.message().find("No such file or directory") != std::string::npos);
}

TEST_CASE("metrics file: a failed rename leaves the old file and no temp file") {
  TempDir dir;
  std::string target = dir.path + "/isadir";
  REQUIRE(::mkdir(target.c_str(), 0755) == 0);
  std::string inner = target + "/keep";
  std::ofstream(inner) << "x";
  Status s = WriteFileAtomically(target, "new\n");  // rename onto a non-empty dir fails
  REQUIRE(!s.ok());
  CHECK(s.message().rfind("cannot rename to " + target + ":", 0) == 0);
  CHECK(dir.Entries() == std::vector<std::string>{"isadir"});
}

}  // namespace
}  // namespace scimsync
