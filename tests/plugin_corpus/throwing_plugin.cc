// A plugin written with the C++ SDK whose issue_record throws. The SDK must turn the exception into
// FISCAL_ERR_INTERNAL with the exception's text.
#include <fiscal/plugin_sdk.hpp>

#include <memory>
#include <stdexcept>
#include <string_view>

namespace {

class ThrowingPlugin {
 public:
  static fiscal_status Create(std::string_view, fiscal::sdk::Call&, std::unique_ptr<ThrowingPlugin>& out) {
    out = std::make_unique<ThrowingPlugin>();
    return FISCAL_OK;
  }
  fiscal_status SelfTest(fiscal::sdk::Call& call) { return call.Result(R"({"checks":0})"); }
  fiscal_status ValidateLocation(std::string_view, fiscal::sdk::Call& call) { return call.Result("{}"); }
  fiscal_status IssueRecord(std::string_view, fiscal::sdk::Call&) {
    throw std::runtime_error("corpus plugin: issue_record always throws");
  }
  fiscal_status SubmitBatch(std::string_view, fiscal::sdk::Call& call) { return call.Result("{}"); }
  fiscal_status RenderReceipt(std::string_view, fiscal::sdk::Call& call) { return call.Result("{}"); }
};

}  // namespace

FISCAL_SDK_DEFINE_PLUGIN(ThrowingPlugin, "corpus-throws", "XX", "1.0.0")
