// Status and Result<T>: how every fallible call on the host's data paths reports failure.
//
// Exceptions are used only at start-up and while reading the configuration. Everywhere else a
// function returns a Status (or a Result<T> that carries a value or a Status) and the caller checks
// it. A Status maps directly to an HTTP answer, so it carries the machine code, the human message
// and, for bad input, the offending field.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fiscal {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad input from the API client: 400
  kUnauthenticated,   // missing or wrong credentials: 401
  kPermissionDenied,  // authenticated but not allowed: 403
  kNotFound,          // 404, also for another account's resources
  kConflict,          // duplicate or a state that forbids the operation: 409
  kPayloadTooLarge,   // 413
  kUnavailable,       // a dependency (database, authority) is down: 503
  kInternal,          // a bug or an unexpected state: 500
};

class Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string field, std::string message) {
    return Status(StatusCode::kInvalidArgument, "invalid_request", std::move(message), std::move(field));
  }
  static Status Unauthenticated(std::string message) {
    return Status(StatusCode::kUnauthenticated, "unauthenticated", std::move(message));
  }
  static Status PermissionDenied(std::string message) {
    return Status(StatusCode::kPermissionDenied, "forbidden", std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(StatusCode::kNotFound, "not_found", std::move(message));
  }
  static Status Conflict(std::string code, std::string message) {
    return Status(StatusCode::kConflict, std::move(code), std::move(message));
  }
  static Status PayloadTooLarge(std::string message) {
    return Status(StatusCode::kPayloadTooLarge, "payload_too_large", std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(StatusCode::kUnavailable, "service_unavailable", std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(StatusCode::kInternal, "internal_error", std::move(message));
  }

  Status(StatusCode code, std::string error_code, std::string message, std::string field = {})
      : code_(code), error_code_(std::move(error_code)), message_(std::move(message)),
        field_(std::move(field)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Machine-readable code for the API error body, e.g. "invalid_request".
  const std::string& error_code() const { return error_code_; }
  const std::string& message() const { return message_; }
  // JSON path of the offending input field, or empty.
  const std::string& field() const { return field_; }

  std::string ToString() const {
    if (ok()) return "OK";
    std::string text = error_code_ + ": " + message_;
    if (!field_.empty()) text += " (field " + field_ + ")";
    return text;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string error_code_;
  std::string message_;
  std::string field_;
};

// Holds either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose, like absl::StatusOr
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace fiscal

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define FISCAL_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::fiscal::Status status_macro_ = (expr); \
    if (!status_macro_.ok()) return status_macro_; \
  } while (0)
