// The bench-echo plugin: a plugin built with the SDK whose issue_record does almost nothing
// (EchoRecord), used by plugin_abi_bench to time the plugin ABI itself. It is not installed and the
// host never loads it from its configuration.
#include <fiscal/plugin_sdk.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "echo_record.h"

namespace fiscal::bench {

class EchoPlugin {
 public:
  static fiscal_status Create(std::string_view, sdk::Call&, std::unique_ptr<EchoPlugin>& out) {
    out = std::make_unique<EchoPlugin>();
    return FISCAL_OK;
  }

  fiscal_status SelfTest(sdk::Call& call) { return call.Result("{\"checks\":0}"); }

  fiscal_status ValidateLocation(std::string_view, sdk::Call& call) {
    return call.Result("{\"config\":{},\"chain_key\":\"bench\"}");
  }

  fiscal_status IssueRecord(std::string_view input_json, sdk::Call& call) {
    return call.Result(EchoRecord(input_json));
  }

  fiscal_status SubmitBatch(std::string_view, sdk::Call& call) {
    return call.Fail(FISCAL_ERR_UNSUPPORTED, {}, "the bench-echo plugin does not submit records");
  }

  fiscal_status RenderReceipt(std::string_view, sdk::Call& call) {
    return call.Fail(FISCAL_ERR_UNSUPPORTED, {}, "the bench-echo plugin does not render receipts");
  }
};

}  // namespace fiscal::bench

FISCAL_SDK_DEFINE_PLUGIN(fiscal::bench::EchoPlugin, "bench-echo", "XX", "1.0.0")
