#include "connectors/csv/csv_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connectors/csv/csv_reader.h"
#include "core/text.h"

namespace scimsync {
namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

Status LineError(ErrorCode code, const std::string& name, int line, const std::string& msg) {
  return Status(code, name + ":" + std::to_string(line) + ": " + msg);
}

// One read of the whole file: a CSV that changes while we read it must not turn into
// a half directory, and one big buffer lets the parser hand out views.
Result<std::string> ReadWholeFile(const std::string& path) {
  auto fail = [&](const char* what) {
    return Status(ErrorCode::kIo, path + ": " + what + ": " + std::strerror(errno));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail("cannot stat");
  if (S_ISDIR(st.st_mode)) return Status(ErrorCode::kIo, path + ": is a directory");
  std::string data;
  // One byte more than the file, so that the read which sees its end needs no
  // growth: growing a 100 MB buffer by 64 KiB would double its capacity.
  data.resize(st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 0);
  std::size_t got = 0;
  for (;;) {
    if (got == data.size()) data.resize(data.size() + 64 * 1024);  // grew, or a pipe
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read");
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  data.resize(got);
  return data;
}

Status CheckUtf8(std::string_view data, const std::string& name) {
  if (int line = FirstInvalidUtf8Line(data); line > 0) {
    return LineError(ErrorCode::kParse, name, line, "invalid UTF-8");
  }
  return Status::Ok();
}

// The header row: trimmed names, no duplicates (an empty name may repeat).
Result<std::vector<std::string_view>> ReadHeader(CsvReader& reader) {
  auto r = reader.Next();
  if (!r.ok()) return r.status();
  if (!*r) {
    return Status(ErrorCode::kParse, reader.name() + ":1: empty file; expected a header row");
  }
  std::vector<std::string_view> header;
  for (std::string_view f : reader.fields()) header.push_back(Trim(f));
  for (std::size_t i = 0; i < header.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (!header[i].empty() && header[i] == header[j]) {
        return LineError(ErrorCode::kInvalidArgument, reader.name(), reader.line(),
                         "duplicate column " + Quote(header[i]) + " in header");
      }
    }
  }
  return header;
}

int ColumnIndex(const std::vector<std::string_view>& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

// An open-addressing set of user indices. A million rows must not cost a million
// node allocations, so the table stores indices and compares through a callback.
class IndexSet {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;

  explicit IndexSet(std::size_t max_entries) {
    std::size_t cap = 16;
    while (cap < max_entries * 2) cap <<= 1;
    slots_.assign(cap, kNone);
    mask_ = cap - 1;
  }
  // Stores `idx` unless an equal entry exists; returns that entry, else kNone.
  // The caller guarantees at most `max_entries` insertions.
  template <typename Eq>
  std::uint32_t Insert(std::uint64_t hash, std::uint32_t idx, Eq equal) {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == kNone) {
        slots_[i] = idx;
        return kNone;
      }
      if (equal(slots_[i])) return slots_[i];
    }
  }
  template <typename Eq>
  std::uint32_t Find(std::uint64_t hash, Eq equal) const {
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == kNone || equal(slots_[i])) return slots_[i];
    }
  }

 private:
  std::vector<std::uint32_t> slots_;
  std::size_t mask_;
};

// Groups while parsing: members are user indices (file order) until Finish().
struct GroupSet {
  std::vector<std::string> names;
  std::vector<std::vector<std::uint32_t>> members;
  std::unordered_map<std::string, std::size_t> by_name;

  std::vector<std::uint32_t>& Get(std::string_view name) {
    auto [it, inserted] = by_name.try_emplace(std::string(name), names.size());
    if (inserted) {
      names.emplace_back(name);
      members.emplace_back();
    }
    return members[it->second];
  }
};

struct Parsed {
  std::vector<User> users;  // file order
  GroupSet groups;
};

// First half of the work: everything that needs the file contents. Validates both
// files completely before anything is returned.
Result<Parsed> ParseFiles(std::string_view users, const std::string& users_name,
                          std::optional<std::string_view> groups_text,
                          const std::string& groups_name, const CsvSourceOptions& options) {
  const Mapping& mapping = options.mapping;
  if (Status s = CheckUtf8(users, users_name); !s.ok()) return s;

  CsvReader reader(users, users_name, options.delimiter);
  auto header_r = ReadHeader(reader);
  if (!header_r.ok()) return header_r.status();
  const std::vector<std::string_view>& header = *header_r;
  const int header_line = reader.line();

  // The columns the mapping reads, resolved once: the getter below is called for
  // every attribute of every row.
  std::vector<std::pair<std::string_view, int>> columns;
  int key_col = ColumnIndex(header, mapping.key_field);
  if (key_col < 0) {
    return LineError(ErrorCode::kInvalidArgument, users_name, header_line,
                     "key column " + Quote(mapping.key_field) + " not in header");
  }
  columns.emplace_back(mapping.key_field, key_col);
  for (const auto& info : kAttrs) {
    const AttrMapping& am = mapping.at(info.attr);
    if (!am.constant.empty() || am.field.empty()) continue;
    int col = ColumnIndex(header, am.field);
    if (col < 0) {
      if (am.field == info.csv_column) continue;  // optional default column, absent
      return LineError(ErrorCode::kInvalidArgument, users_name, header_line,
                       "column " + Quote(am.field) + " (mapped to " + std::string(info.name) +
                           ") not in header");
    }
    columns.emplace_back(am.field, col);
  }
  int groups_col = -1;
  if (!options.groups_column.empty()) {
    groups_col = ColumnIndex(header, options.groups_column);
    if (groups_col < 0 && options.groups_column != "groups") {
      return LineError(ErrorCode::kInvalidArgument, users_name, header_line,
                       "groups column " + Quote(options.groups_column) + " not in header");
    }
  }
  const bool user_name_mapped = !mapping.at(Attr::kUserName).constant.empty() ||
                                ColumnIndex(header, mapping.at(Attr::kUserName).field) >= 0;

  Parsed out;
  std::vector<User>& list = out.users;
  // Never more rows than line breaks + 1.
  const std::size_t max_rows =
      static_cast<std::size_t>(std::count(users.begin(), users.end(), '\n')) + 1;
  if (max_rows >= IndexSet::kNone) {
    return Status(ErrorCode::kInvalidArgument, users_name + ": too many rows");
  }
  list.reserve(max_rows);
  std::vector<int> lines;
  lines.reserve(max_rows);
  IndexSet keys(max_rows), user_names(max_rows);

  const std::vector<std::string_view>* fields = nullptr;
  FieldGetter get = [&](std::string_view field) -> std::string {
    for (const auto& [name, col] : columns) {
      if (name == field) return std::string((*fields)[col]);
    }
    return std::string();
  };

  for (;;) {
    auto more = reader.Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    const int line = reader.line();
    fields = &reader.fields();
    if (fields->size() != header.size()) {
      return LineError(ErrorCode::kParse, users_name, line,
                       std::to_string(fields->size()) + " fields, header has " +
                           std::to_string(header.size()));
    }
    auto user = ApplyMapping(mapping, get);
    if (!user.ok()) {
      return LineError(ErrorCode::kInvalidArgument, users_name, line, user.status().message());
    }
    if (user_name_mapped && user->Get(Attr::kUserName).empty()) {
      return LineError(ErrorCode::kInvalidArgument, users_name, line, "empty userName");
    }
    const auto idx = static_cast<std::uint32_t>(list.size());
    list.push_back(std::move(user).value());
    lines.push_back(line);
    const User& u = list.back();
    std::uint32_t first = keys.Insert(Fnv1a(u.key), idx,
                                      [&](std::uint32_t j) { return list[j].key == u.key; });
    if (first != IndexSet::kNone) {
      return LineError(ErrorCode::kInvalidArgument, users_name, line,
                       "duplicate " + mapping.key_field + " " + Quote(u.key) + " (first on line " +
                           std::to_string(lines[first]) + ")");
    }
    const std::string_view name = u.View(Attr::kUserName);
    if (!name.empty()) {
      first = user_names.Insert(Fnv1a(name, /*fold=*/true), idx, [&](std::uint32_t j) {
        return EqualsIgnoreCase(list[j].View(Attr::kUserName), name);
      });
      if (first != IndexSet::kNone) {
        const std::string_view earlier = list[first].View(Attr::kUserName);
        std::string first_line = std::to_string(lines[first]);
        return LineError(ErrorCode::kInvalidArgument, users_name, line,
                         earlier == name
                             ? "duplicate userName " + Quote(name) + " (first on line " +
                                   first_line + ")"
                             : "userName " + Quote(name) + " differs only in case from " +
                                   Quote(earlier) + " on line " + first_line);
      }
    }
    if (groups_col >= 0) {
      std::string_view cell = (*fields)[groups_col];
      while (!cell.empty()) {
        std::size_t sep = cell.find(options.group_separator);
        std::string_view group = Trim(cell.substr(0, sep));
        if (!group.empty()) out.groups.Get(group).push_back(idx);
        if (sep == std::string_view::npos) break;
        cell.remove_prefix(sep + options.group_separator.size());
      }
    }
  }

  if (groups_text) {
    if (Status s = CheckUtf8(*groups_text, groups_name); !s.ok()) return s;
    CsvReader greader(*groups_text, groups_name, options.delimiter);
    auto gheader_r = ReadHeader(greader);
    if (!gheader_r.ok()) return gheader_r.status();
    const auto& gheader = *gheader_r;
    int group_col = ColumnIndex(gheader, "group");
    int member_col = ColumnIndex(gheader, "member");
    if (group_col < 0 || member_col < 0) {
      return LineError(ErrorCode::kInvalidArgument, groups_name, greader.line(),
                       "missing column " + Quote(group_col < 0 ? "group" : "member") +
                           " (expected a header group,member)");
    }
    for (;;) {
      auto more = greader.Next();
      if (!more.ok()) return more.status();
      if (!*more) break;
      const auto& f = greader.fields();
      const int line = greader.line();
      if (f.size() != gheader.size()) {
        return LineError(ErrorCode::kParse, groups_name, line,
                         std::to_string(f.size()) + " fields, header has " +
                             std::to_string(gheader.size()));
      }
      std::string_view group = Trim(f[group_col]);
      std::string_view member = Trim(f[member_col]);
      if (group.empty()) {
        return LineError(ErrorCode::kInvalidArgument, groups_name, line, "empty group name");
      }
      std::vector<std::uint32_t>& members = out.groups.Get(group);
      if (member.empty()) continue;  // declares the group only
      std::uint32_t idx = keys.Find(Fnv1a(member),
                                    [&](std::uint32_t j) { return list[j].key == member; });
      if (idx == IndexSet::kNone) {
        return LineError(ErrorCode::kInvalidArgument, groups_name, line,
                         "unknown member " + Quote(member) + " (no user with that " +
                             mapping.key_field + " in " + users_name + ")");
      }
      members.push_back(idx);
    }
  }
  return out;
}

// Second half, after the file buffers are gone: the canonical order of
// Canonicalize() (users and groups by key, members sorted and unique), done on
// indices so that a million users are never swapped or compared as whole objects.
// Every member is a user of this file by construction, so nothing is dropped.
Directory Finish(Parsed parsed) {
  std::vector<User>& users = parsed.users;
  const std::size_t n = users.size();
  struct SortKey {
    std::uint64_t prefix;  // first 8 bytes, big-endian: most comparisons end here
    std::uint32_t idx;
  };
  std::vector<SortKey> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t p = 0;
    const std::string& k = users[i].key;
    for (std::size_t b = 0; b < 8; ++b) {
      p = (p << 8) | (b < k.size() ? static_cast<unsigned char>(k[b]) : 0);
    }
    order[i] = {p, static_cast<std::uint32_t>(i)};
  }
  std::sort(order.begin(), order.end(), [&](const SortKey& a, const SortKey& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return users[a.idx].key < users[b.idx].key;
  });
  std::vector<std::uint32_t> rank(n);
  for (std::size_t i = 0; i < n; ++i) rank[order[i].idx] = static_cast<std::uint32_t>(i);
  // Apply the permutation in place (cycle by cycle), so no second copy of the users.
  for (std::size_t i = 0; i < n; ++i) {
    while (rank[i] != i) {
      std::uint32_t j = rank[i];
      std::swap(users[i], users[j]);
      std::swap(rank[i], rank[j]);
    }
  }
  // rank is now the identity; rebuild old index -> position for the members.
  for (std::size_t i = 0; i < n; ++i) rank[order[i].idx] = static_cast<std::uint32_t>(i);
  order = {};

  Directory dir;
  GroupSet& gs = parsed.groups;
  dir.groups.reserve(gs.names.size());
  for (std::size_t g = 0; g < gs.names.size(); ++g) {
    std::vector<std::uint32_t>& m = gs.members[g];
    for (auto& idx : m) idx = rank[idx];
    std::sort(m.begin(), m.end());
    m.erase(std::unique(m.begin(), m.end()), m.end());
    Group group;
    group.key = gs.names[g];
    group.display_name = gs.names[g];
    group.members.reserve(m.size());
    for (std::uint32_t pos : m) group.members.push_back(users[pos].key);
    m = {};
    dir.groups.push_back(std::move(group));
  }
  std::sort(dir.groups.begin(), dir.groups.end(),
            [](const Group& a, const Group& b) { return a.key < b.key; });
  dir.users = std::move(users);
  return dir;
}

}  // namespace

Result<Directory> ParseCsvDirectory(std::string_view users, const std::string& users_name,
                                    std::optional<std::string_view> groups_text,
                                    const std::string& groups_name,
                                    const CsvSourceOptions& options) {
  auto parsed = ParseFiles(users, users_name, groups_text, groups_name, options);
  if (!parsed.ok()) return parsed.status();
  return Finish(std::move(parsed).value());
}

Result<Directory> CsvSource::Read() {
  auto users = ReadWholeFile(options_.users);
  if (!users.ok()) return users.status();
  std::optional<std::string> groups;
  if (!options_.groups.empty()) {
    auto g = ReadWholeFile(options_.groups);
    if (!g.ok()) return g.status();
    groups = std::move(g).value();
  }
  auto parsed = ParseFiles(*users, options_.users,
                           groups ? std::optional<std::string_view>(*groups) : std::nullopt,
                           options_.groups, options_);
  if (!parsed.ok()) return parsed.status();
  // The users no longer point into the buffers: free them before the members are
  // materialized, which is when memory peaks.
  users = std::string();
  groups.reset();
  return Finish(std::move(parsed).value());
}

Result<std::string> CsvSource::Probe() {
  auto dir = Read();
  if (!dir.ok()) return dir.status();
  return "users file " + options_.users + ": " + std::to_string(dir->users.size()) + " rows, " +
         std::to_string(dir->groups.size()) + " groups";
}

std::string CsvSource::Describe() const { return "csv:" + options_.users; }

}  // namespace scimsync
