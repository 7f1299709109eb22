// Entry point of the france-nf525 plugin: the SDK class that connects the C ABI to the NF525
// logic in fiscal_france_core, and the signer that has the host sign with the register's key.
#include <fiscal/plugin_sdk.hpp>

#include <memory>
#include <string>

#include "issuer.h"
#include "json_util.h"
#include "location.h"
#include "nf525_receipt.h"
#include "nf525_self_test.h"
#include "signer.h"

namespace fiscal::france {
namespace {

// Signs through fiscal_host_api.sign. A failure keeps the host's status and message, so a missing
// or unreadable key fails the whole operation (FISCAL_ERR_UNAVAILABLE) and nothing is issued.
Signer MakeHostSigner(sdk::Call& call) {
  return [&call](std::string_view key_ref, std::string_view data, SignerOutput* out) {
    sdk::SignResult result;
    fiscal_status status = call.Sign(key_ref, data, &result);
    if (status != FISCAL_OK) return Status::AlreadyReported(status);
    out->raw_signature = std::string(result.signature);
    out->key_id = std::string(result.key_id);
    return Status::Ok();
  };
}

}  // namespace

class FranceNf525Plugin {
 public:
  // The plugin has no settings yet: its configuration must be an empty object, so that a
  // misspelt or misplaced setting is reported instead of ignored.
  static fiscal_status Create(std::string_view config_json, sdk::Call& call,
                              std::unique_ptr<FranceNf525Plugin>& out) {
    rapidjson::Document config;
    Status status = fiscal::france::ParseJsonObject(config_json, "plugin configuration", &config);
    if (!status.ok()) return Fail(call, status);
    if (config.MemberCount() != 0) {
      std::string name(config.MemberBegin()->name.GetString(), config.MemberBegin()->name.GetStringLength());
      return Fail(call, Status::Invalid(name, "unknown setting \"" + name +
                                                  "\": the france-nf525 plugin takes no settings; remove it"));
    }
    out = std::make_unique<FranceNf525Plugin>();
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
    return Finish(call, fiscal::france::ValidateLocation(config_json, &result), result);
  }

  fiscal_status IssueRecord(std::string_view input_json, sdk::Call& call) {
    std::string result;
    Status status = fiscal::france::IssueRecord(input_json, MakeHostSigner(call), &result);
    return Finish(call, status, result);
  }

  fiscal_status SubmitBatch(std::string_view, sdk::Call& call) {
    return call.Fail(FISCAL_ERR_UNSUPPORTED, {},
                     "the France NF525 plugin has submission \"none\": its records are final once "
                     "signed and are never sent to an authority, so submit_batch is not used");
  }

  fiscal_status RenderReceipt(std::string_view input_json, sdk::Call& call) {
    std::string result;
    return Finish(call, fiscal::france::RenderReceipt(input_json, &result), result);
  }

 private:
  static fiscal_status Fail(sdk::Call& call, const Status& status) {
    if (status.reported()) return status.code();
    return call.Fail(status.code(), status.field(), status.message());
  }

  static fiscal_status Finish(sdk::Call& call, const Status& status, const std::string& result) {
    if (!status.ok()) return Fail(call, status);
    return call.Result(result);
  }
};

}  // namespace fiscal::france

// Needs host API minor 1 for fiscal_host_api.sign.
// The tests build the same code as a second version, to check that a version change is journaled.
#ifndef FISCAL_FRANCE_PLUGIN_VERSION
#define FISCAL_FRANCE_PLUGIN_VERSION "1.0.0"
#endif

FISCAL_SDK_DEFINE_PLUGIN_WITH_MINOR(fiscal::france::FranceNf525Plugin, "france-nf525", "FR",
                                    FISCAL_FRANCE_PLUGIN_VERSION, 1)
