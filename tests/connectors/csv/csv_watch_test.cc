// The CSV watchers (connectors/csv/csv_watch.h) on real files in a temporary
// directory: in-place rewrites and rename-over are seen, a file still being written
// is not.
#include "connectors/csv/csv_watch.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace scimsync {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

struct Dir {
  fs::path path;
  Dir() {
    std::string tmpl = (fs::temp_directory_path() / "scimsync-watch-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string File(const std::string& name) const { return (path / name).string(); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(File(name), std::ios::binary | std::ios::trunc) << text;
  }
};

const std::string kCsv = "externalId,userName\n1,a@x\n2,b@x\n";

TEST_CASE("inotify: an in-place rewrite is reported once, after the quiet time") {
  Dir d;
  d.Write("people.csv", kCsv);
  auto w = MakeInotifyWatcher({d.File("people.csv")}, milliseconds(100));
  REQUIRE(w->Start().ok());
  CHECK(w->Method() == "inotify");
  auto r = w->Wait(milliseconds(50));
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  d.Write("people.csv", kCsv + "3,c@x\n");
  r = w->Wait(milliseconds(50));  // within the quiet time
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  r = w->Wait(milliseconds(500));
  REQUIRE(r.ok());
  CHECK(*r);
  r = w->Wait(milliseconds(200));  // reported once
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
}

TEST_CASE("inotify: a new file renamed over the old one is seen; other names are not") {
  Dir d;
  d.Write("people.csv", kCsv);
  auto w = MakeInotifyWatcher({d.File("people.csv")}, milliseconds(50));
  REQUIRE(w->Start().ok());
  d.Write("people.csv.tmp", kCsv + "3,c@x\n");
  d.Write("unrelated.csv", "x\n");
  auto r = w->Wait(milliseconds(300));
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  REQUIRE(std::rename(d.File("people.csv.tmp").c_str(), d.File("people.csv").c_str()) == 0);
  r = w->Wait(milliseconds(500));
  REQUIRE(r.ok());
  CHECK(*r);
}

TEST_CASE("inotify: a writer that pauses mid-file is waited for until it closes the file") {
  Dir d;
  d.Write("people.csv", kCsv);
  d.Write("groups.csv", "group,member\n");
  auto w = MakeInotifyWatcher({d.File("people.csv"), d.File("groups.csv")}, milliseconds(50));
  REQUIRE(w->Start().ok());
  int fd = ::open(d.File("people.csv").c_str(), O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  std::string half = "externalId,userName\n1,a@x\n";  // at a line boundary
  REQUIRE(::write(fd, half.data(), half.size()) == static_cast<ssize_t>(half.size()));
  auto r = w->Wait(milliseconds(400));  // far longer than the quiet time
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  std::string rest = "2,b@x\n";
  REQUIRE(::write(fd, rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
  ::close(fd);
  r = w->Wait(milliseconds(500));
  REQUIRE(r.ok());
  CHECK(*r);
}

TEST_CASE("inotify: a missing directory cannot be watched (kNotFound: fall back)") {
  auto w = MakeInotifyWatcher({"/nonexistent-scimsync-dir/people.csv"}, milliseconds(50));
  Status s = w->Start();
  CHECK(s.code() == ErrorCode::kNotFound);
  CHECK_FALSE(s.Retryable());
}

TEST_CASE("inotify: the watched directory removed breaks the watch (the runner restarts it)") {
  Dir d;
  fs::create_directory(d.path / "hr");
  d.Write("hr/people.csv", kCsv);
  auto w = MakeInotifyWatcher({d.File("hr/people.csv")}, milliseconds(50));
  REQUIRE(w->Start().ok());
  fs::remove_all(d.path / "hr");
  Result<bool> r = false;
  for (int i = 0; i < 10 && r.ok(); ++i) r = w->Wait(milliseconds(100));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().Retryable());
}

TEST_CASE("mtime poll: a change is reported once it has settled") {
  Dir d;
  d.Write("people.csv", kCsv);
  auto w = MakeMtimePollWatcher({d.File("people.csv")}, milliseconds(30), milliseconds(60));
  REQUIRE(w->Start().ok());
  CHECK(w->Method() == "mtime_poll");
  auto r = w->Wait(milliseconds(100));
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  d.Write("people.csv", kCsv + "3,c@x\n");
  bool seen = false;
  for (int i = 0; i < 10 && !seen; ++i) {
    r = w->Wait(milliseconds(50));
    REQUIRE(r.ok());
    seen = *r;
  }
  CHECK(seen);
  r = w->Wait(milliseconds(150));
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
}

}  // namespace
}  // namespace scimsync
