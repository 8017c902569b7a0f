// Errors as values. Every fallible function returns Status or Result<T>; both are
// [[nodiscard]] so an ignored error is a compiler warning.
//
// An error carries a code that says what kind of failure it is and, through
// Retryable(), whether trying again later can help. Foreign error spaces (LDAP
// result codes, curl codes, HTTP statuses, SQLite errors) are translated into
// these codes in exactly one function per adapter.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace scimsync {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // bad input: config, CSV row, filter value
  kParse,            // malformed data from a file or a server
  kIo,               // file system
  kNotFound,
  kConflict,         // uniqueness, ambiguous match
  kUnavailable,      // network down, server unreachable, 5xx: retry helps
  kTimeout,          // retry helps
  kAuth,             // credentials refused: retry does not help
  kLocked,           // another run holds the lock
  kSchema,           // state file too new / bound to another target
  kCancelled,        // stop requested
  kInternal,
};

const char* ErrorCodeName(ErrorCode code);
bool IsRetryable(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool Retryable() const { return IsRetryable(code_); }
  // "<code name>: <message>", or "ok".
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT; must not be ok()

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace scimsync
