// Entry point of the spain-verifactu plugin: the SDK class that connects the C ABI to the
// VERI*FACTU logic in fiscal_spain_core.
#include <fiscal/plugin_sdk.hpp>

#include <memory>
#include <string>

#include "batch.h"
#include "location_config.h"
#include "receipt.h"
#include "record_issuer.h"
#include "self_test.h"
#include "system_info.h"

namespace fiscal::spain {

class SpainVerifactuPlugin {
 public:
  explicit SpainVerifactuPlugin(SystemInfo system) : system_(std::move(system)) {}

  static fiscal_status Create(std::string_view config_json, sdk::Call& call,
                              std::unique_ptr<SpainVerifactuPlugin>& out) {
    SystemInfo system;
    Status status = ParseSystemInfo(config_json, &system);
    if (!status.ok()) return Fail(call, status);
    out = std::make_unique<SpainVerifactuPlugin>(std::move(system));
    return FISCAL_OK;
  }

  fiscal_status SelfTest(sdk::Call& call) {
    int checks = 0;
    Status status = RunSelfTest(&checks);
    if (!status.ok()) return Fail(call, status);
    return call.Result("{\"checks\":" + std::to_string(checks) + "}");
  }

  fiscal_status ValidateLocation(std::string_view config_json, sdk::Call& call) {
    std::string result;
    return Finish(call, fiscal::spain::ValidateLocation(config_json, &result), result);
  }

  fiscal_status IssueRecord(std::string_view input_json, sdk::Call& call) {
    std::string result;
    return Finish(call, fiscal::spain::IssueRecord(system_, input_json, &result), result);
  }

  fiscal_status SubmitBatch(std::string_view input_json, sdk::Call& call) {
    // The response views stay valid until this function returns; the body is copied anyway so the
    // parser owns what it reads.
    SoapSender send = [&call](std::string_view body) {
      sdk::HttpResponse response;
      HttpExchange exchange;
      exchange.status = call.Send("verifactu", "text/xml; charset=UTF-8", body, kSoapTimeoutMs, response);
      exchange.status_code = response.status_code;
      exchange.body = std::string(response.body);
      exchange.transport_error = std::string(response.transport_error);
      if (response.timed_out && exchange.transport_error.empty()) exchange.transport_error = "timed out";
      return exchange;
    };

    std::string result;
    Status status = fiscal::spain::SubmitBatch(input_json, send, &result);
    if (status.code() == FISCAL_ERR_TRANSPORT) {
      call.Log(FISCAL_LOG_WARNING, "VERI*FACTU submission outcome unknown, the host will resend: " + status.message());
    }
    return Finish(call, status, result);
  }

  fiscal_status RenderReceipt(std::string_view input_json, sdk::Call& call) {
    std::string result;
    return Finish(call, fiscal::spain::RenderReceipt(input_json, &result), result);
  }

 private:
  static fiscal_status Fail(sdk::Call& call, const Status& status) {
    return call.Fail(status.code(), status.field(), status.message());
  }

  static fiscal_status Finish(sdk::Call& call, const Status& status, const std::string& result) {
    if (!status.ok()) return Fail(call, status);
    return call.Result(result);
  }

  const SystemInfo system_;
};

}  // namespace fiscal::spain

// The build may stamp another version into the compatibility block (the tests build a second
// version of the same code to exercise hot swaps).
#ifndef FISCAL_SPAIN_PLUGIN_VERSION
#define FISCAL_SPAIN_PLUGIN_VERSION "1.0.0"
#endif

FISCAL_SDK_DEFINE_PLUGIN(fiscal::spain::SpainVerifactuPlugin, "spain-verifactu", "ES", FISCAL_SPAIN_PLUGIN_VERSION)
