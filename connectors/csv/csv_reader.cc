#include "connectors/csv/csv_reader.h"

#include <algorithm>
#include <cstring>

#include "core/model.h"

namespace scimsync {
namespace {

int CountNewlines(std::string_view s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

}  // namespace

CsvReader::CsvReader(std::string_view data, std::string name, char delimiter)
    : data_(data), name_(std::move(name)), delim_(delimiter) {
  if (data_.substr(0, 3) == "\xEF\xBB\xBF") data_.remove_prefix(3);
}

Status CsvReader::Error(int line, const std::string& message) const {
  return Status(ErrorCode::kParse, name_ + ":" + std::to_string(line) + ": " + message);
}

Result<bool> CsvReader::Next() {
  const std::size_t size = data_.size();
  for (;;) {
    if (pos_ >= size) return false;
    spans_.clear();
    scratch_.clear();
    record_line_ = line_;
    const std::size_t record_start = pos_;
    bool end = false;
    while (!end) {
      if (pos_ < size && data_[pos_] == '"') {
        const int open_line = line_;
        std::size_t p = pos_ + 1;
        std::size_t seg = p;
        bool copied = false;
        const std::size_t scratch_start = scratch_.size();
        for (;;) {
          const void* q = std::memchr(data_.data() + p, '"', size - p);
          if (q == nullptr) {
            std::string_view rest = data_.substr(p);
            int last = line_ + CountNewlines(rest);
            if (!rest.empty() && rest.back() == '\n') --last;
            return Error(last, "unterminated quoted field (opened on line " +
                                   std::to_string(open_line) + ")");
          }
          std::size_t qi = static_cast<const char*>(q) - data_.data();
          line_ += CountNewlines(data_.substr(p, qi - p));
          if (qi + 1 < size && data_[qi + 1] == '"') {  // "" stands for one quote
            copied = true;
            scratch_.append(data_.substr(seg, qi + 1 - seg));
            p = qi + 2;
            seg = p;
            continue;
          }
          if (copied) {
            scratch_.append(data_.substr(seg, qi - seg));
            spans_.push_back({true, scratch_start, scratch_.size() - scratch_start});
          } else {
            spans_.push_back({false, pos_ + 1, qi - pos_ - 1});
          }
          pos_ = qi + 1;
          break;
        }
        if (pos_ >= size) {
          end = true;
        } else if (data_[pos_] == delim_) {
          ++pos_;
        } else if (data_[pos_] == '\n') {
          ++pos_;
          ++line_;
          end = true;
        } else if (data_[pos_] == '\r' && pos_ + 1 < size && data_[pos_ + 1] == '\n') {
          pos_ += 2;
          ++line_;
          end = true;
        } else {
          return Error(line_, "unexpected character after the closing quote of a field (opened "
                              "on line " + std::to_string(open_line) + ")");
        }
      } else {
        std::size_t p = pos_;
        const char* d = data_.data();
        while (p < size && d[p] != delim_ && d[p] != '\n') ++p;
        std::size_t e = p;
        if ((p >= size || d[p] == '\n') && e > pos_ && d[e - 1] == '\r') --e;  // CRLF
        spans_.push_back({false, pos_, e - pos_});
        if (p >= size) {
          pos_ = p;
          end = true;
        } else if (d[p] == delim_) {
          pos_ = p + 1;
        } else {
          pos_ = p + 1;
          ++line_;
          end = true;
        }
      }
    }
    if (spans_.size() == 1 && data_[record_start] != '"' &&
        IsBlank(data_.substr(record_start, pos_ - record_start))) {
      continue;  // blank line
    }
    fields_.clear();
    fields_.reserve(spans_.size());
    for (const Span& s : spans_) {
      fields_.push_back(s.scratch ? std::string_view(scratch_).substr(s.offset, s.size)
                                  : data_.substr(s.offset, s.size));
    }
    return true;
  }
}

int FirstInvalidUtf8Line(std::string_view data) {
  if (IsValidUtf8(data)) return 0;
  // '\n' is never part of a multi-byte sequence, so lines can be checked one by one.
  int line = 1;
  while (!data.empty()) {
    std::size_t nl = data.find('\n');
    std::string_view l = data.substr(0, nl);
    if (!IsValidUtf8(l)) return line;
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
    ++line;
  }
  return line;
}

}  // namespace scimsync
