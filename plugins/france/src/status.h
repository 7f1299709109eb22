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
  static Status Unsupported(std::string message) {
    return Status(FISCAL_ERR_UNSUPPORTED, "", std::move(message));
  }
  // Any other failure code, for example the signing status the host returned.
  static Status Error(fiscal_status code, std::string field, std::string message) {
    return Status(code, std::move(field), std::move(message));
  }
  // A failure whose message the host already has (the host sets it when its own function fails),
  // so the plugin returns the code without calling set_error again.
  static Status AlreadyReported(fiscal_status code) {
    Status status(code, "", "");
    status.reported_ = true;
    return status;
  }

  bool ok() const { return code_ == FISCAL_OK; }
  fiscal_status code() const { return code_; }
  const std::string& field() const { return field_; }
  const std::string& message() const { return message_; }
  bool reported() const { return reported_; }

 private:
  Status(fiscal_status code, std::string field, std::string message)
      : code_(code), field_(std::move(field)), message_(std::move(message)) {}

  fiscal_status code_ = FISCAL_OK;
  std::string field_;
  std::string message_;
  bool reported_ = false;
};

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_STATUS_H_
