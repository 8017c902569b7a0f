// An RFC 4180 record reader over a buffer that holds the whole file.
//
// - Fields are separated by `delimiter`; records end with LF or CRLF.
// - A field that starts with '"' is quoted: it may hold delimiters, line breaks and
//   doubled quotes ("" stands for "). After the closing quote only a delimiter, a
//   line break or the end of the file may follow.
// - A quote inside an unquoted field is kept as it is (HR exports write 5'11").
// - A leading UTF-8 byte order mark is skipped. Blank lines are skipped anywhere
//   (so a trailing empty line is fine).
// - Errors (kParse) read "<name>:<line>: <message>".
//
// The reader does not copy the input: fields are views into the buffer, except
// quoted fields with doubled quotes, which are unescaped into a scratch buffer that
// is reused per record. Views stay valid until the next call to Next().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace scimsync {

class CsvReader {
 public:
  // `data` must outlive the reader; `name` is used in error messages.
  CsvReader(std::string_view data, std::string name, char delimiter = ',');

  // Reads the next record. Returns false at the end of the input.
  Result<bool> Next();

  const std::vector<std::string_view>& fields() const { return fields_; }
  // The line on which the current record starts (1-based).
  int line() const { return record_line_; }
  const std::string& name() const { return name_; }

 private:
  struct Span {
    bool scratch;  // true: offset into scratch_, else into data_
    std::size_t offset, size;
  };
  Status Error(int line, const std::string& message) const;

  std::string_view data_;
  std::string name_;
  char delim_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int record_line_ = 0;
  std::vector<Span> spans_;
  std::vector<std::string_view> fields_;
  std::string scratch_;
};

// Counts the line of the first invalid UTF-8 byte; 0 if `data` is valid UTF-8.
int FirstInvalidUtf8Line(std::string_view data);

}  // namespace scimsync
