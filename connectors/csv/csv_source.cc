#include "connectors/csv/csv_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <vector>

#include "connectors/csv/csv_reader.h"

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
  data.resize(st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0);
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

struct GroupSet {
  std::vector<Group> groups;
  std::unordered_map<std::string, std::size_t> by_name;

  Group& Get(std::string_view name) {
    auto [it, inserted] = by_name.try_emplace(std::string(name), groups.size());
    if (inserted) {
      Group g;
      g.key = std::string(name);
      g.display_name = g.key;
      groups.push_back(std::move(g));
    }
    return groups[it->second];
  }
};

}  // namespace

Result<Directory> ParseCsvDirectory(std::string_view users, const std::string& users_name,
                                    std::optional<std::string_view> groups_text,
                                    const std::string& groups_name,
                                    const CsvSourceOptions& options) {
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

  Directory dir;
  // Never more rows than line breaks + 1: reserving that keeps every User (and the
  // key strings the index below points into) in place.
  dir.users.reserve(static_cast<std::size_t>(std::count(users.begin(), users.end(), '\n')) + 1);
  std::unordered_map<std::string_view, int> key_line;
  std::unordered_map<std::string, std::pair<int, std::size_t>> user_name_line;  // folded
  key_line.reserve(dir.users.capacity());
  user_name_line.reserve(dir.users.capacity());
  GroupSet groups;

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
    dir.users.push_back(std::move(user).value());
    const User& u = dir.users.back();
    auto [kit, key_new] = key_line.try_emplace(u.key, line);
    if (!key_new) {
      return LineError(ErrorCode::kInvalidArgument, users_name, line,
                       "duplicate " + mapping.key_field + " " + Quote(u.key) + " (first on line " +
                           std::to_string(kit->second) + ")");
    }
    if (!u.Get(Attr::kUserName).empty()) {
      auto [nit, name_new] = user_name_line.try_emplace(FoldCase(u.Get(Attr::kUserName)), line,
                                                        dir.users.size() - 1);
      if (!name_new) {
        const std::string& first = dir.users[nit->second.second].Get(Attr::kUserName);
        const std::string& again = u.Get(Attr::kUserName);
        std::string first_line = std::to_string(nit->second.first);
        return LineError(ErrorCode::kInvalidArgument, users_name, line,
                         first == again
                             ? "duplicate userName " + Quote(again) + " (first on line " +
                                   first_line + ")"
                             : "userName " + Quote(again) + " differs only in case from " +
                                   Quote(first) + " on line " + first_line);
      }
    }
    if (groups_col >= 0) {
      std::string_view cell = (*fields)[groups_col];
      while (!cell.empty()) {
        std::size_t sep = cell.find(options.group_separator);
        std::string_view name = Trim(cell.substr(0, sep));
        if (!name.empty()) groups.Get(name).members.push_back(u.key);
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
      Group& g = groups.Get(group);
      if (member.empty()) continue;  // declares the group only
      auto it = key_line.find(member);
      if (it == key_line.end()) {
        return LineError(ErrorCode::kInvalidArgument, groups_name, line,
                         "unknown member " + Quote(member) + " (no user with that " +
                             mapping.key_field + " in " + users_name + ")");
      }
      g.members.push_back(std::string(member));
    }
  }

  dir.groups = std::move(groups.groups);
  Canonicalize(dir);
  return dir;
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
  return ParseCsvDirectory(*users, options_.users,
                           groups ? std::optional<std::string_view>(*groups) : std::nullopt,
                           options_.groups, options_);
}

Result<std::string> CsvSource::Probe() {
  auto dir = Read();
  if (!dir.ok()) return dir.status();
  return "users file " + options_.users + ": " + std::to_string(dir->users.size()) + " rows, " +
         std::to_string(dir->groups.size()) + " groups";
}

std::string CsvSource::Describe() const { return "csv:" + options_.users; }

}  // namespace scimsync
