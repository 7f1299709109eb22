// Outcome of a France plugin step: success, or a failure with the ABI status code, the input field
// it concerns (may be empty) and an English message for the API client.
#ifndef FISCAL_FRANCE_STATUS_H_
#define FISCAL_FRANCE_STATUS_H_

#include <fiscal/plugin_abi.h>

#include <string>
#include <utility>

namespace fiscal::france {

// NOTE: the Spain plugin has the same type. Each plugin builds against the public SDK alone, so a
// shared one would belong in fiscal/plugin_sdk.hpp.
class Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status Invalid(std::string field, std::string message) {
    return Status(FISCAL_ERR_INVALID_INPUT, std::move(field), std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(FISCAL_ERR_INTERNAL, "", std::move(message));
  }

  bool ok() const { return code_ == FISCAL_OK; }
  fiscal_status code() const { return code_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }

 private:
  Status(fiscal_status code, std::string field, std::string message)
      : code_(code), field_(std::move(field)), message_(std::move(message)) {}

  fiscal_status code_ = FISCAL_OK;
  std::string field_;
  std::string message_;
};

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_STATUS_H_
