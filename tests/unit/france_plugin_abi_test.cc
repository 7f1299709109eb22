// The built france-nf525 module driven through the C ABI with a fake host that signs with a local
// key, or refuses to sign as a host does when the register's key is missing.
#include <dlfcn.h>
#include <fiscal/plugin_abi.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "signature.h"

namespace fiscal::france {
namespace {

const std::string kModulePath =
    std::string(FISCAL_PLUGIN_DIR) + "/france-nf525/1.0.0/libfiscal_france_nf525.so";

// One fake call: what the plugin reported, and what the fake host returns from sign.
struct FakeCall {
  std::string result;
  std::string error_field;
  std::string error_message;
  bool error_set = false;
  EVP_PKEY* key = nullptr;
  fiscal_status sign_status = FISCAL_OK;
  int signs = 0;
  std::string key_ref;
  std::string algorithm;
  std::string signed_data;
  // Host-owned memory of the last signature, valid for the rest of the call.
  std::string raw_signature;
  std::string key_id;
};

FakeCall* AsCall(fiscal_call* call) { return reinterpret_cast<FakeCall*>(call); }

fiscal_status SetResult(fiscal_call* call, const char* data, size_t size) {
  AsCall(call)->result.assign(data, size);
  return FISCAL_OK;
}

void SetError(fiscal_call* call, const char* field, size_t field_size, const char* message,
              size_t message_size) {
  FakeCall* fake = AsCall(call);
  fake->error_set = true;
  fake->error_field = field ? std::string(field, field_size) : "";
  fake->error_message.assign(message, message_size);
}

void Log(fiscal_call*, int32_t, const char*, size_t) {}

fiscal_status HttpSend(fiscal_call*, const fiscal_http_request*, fiscal_http_response*) {
  return FISCAL_ERR_UNSUPPORTED;
}

fiscal_status Sign(fiscal_call* call, const fiscal_sign_request* request, fiscal_sign_result* result) {
  FakeCall* fake = AsCall(call);
  ++fake->signs;
  fake->key_ref = request->key_ref;
  fake->algorithm = request->algorithm;
  fake->signed_data.assign(reinterpret_cast<const char*>(request->data), request->data_size);
  if (fake->sign_status != FISCAL_OK) return fake->sign_status;

  std::string signature;
  if (!SignMessage(fake->key, fake->signed_data, &signature).ok() ||
      !Base64UrlDecode(signature, &fake->raw_signature) || !PublicKeyId(fake->key, &fake->key_id).ok()) {
    return FISCAL_ERR_INTERNAL;
  }
  result->signature = reinterpret_cast<const uint8_t*>(fake->raw_signature.data());
  result->signature_size = fake->raw_signature.size();
  result->key_id = fake->key_id.c_str();
  result->public_key_pem = "";
  result->certificate_chain_pem = "";
  return FISCAL_OK;
}

const fiscal_host_api kHostApi = {sizeof(fiscal_host_api), FISCAL_ABI_MINOR, SetResult, SetError,
                                  Log, HttpSend, Sign};

const fiscal_host_api* GetHostApi(const fiscal_host_access*, uint32_t major, uint32_t min_minor) {
  return major == FISCAL_ABI_MAJOR && min_minor <= FISCAL_ABI_MINOR ? &kHostApi : nullptr;
}

// A host of ABI 1.0, which has no sign.
const fiscal_host_api* GetOldHostApi(const fiscal_host_access*, uint32_t major, uint32_t min_minor) {
  return major == FISCAL_ABI_MAJOR && min_minor == 0 ? &kHostApi : nullptr;
}

void AccessError(const fiscal_host_access*, const char*, size_t) {}

constexpr char kSaleInput[] =
    R"({"operation":"sale","environment":"test","now":"2026-12-04T10:15:00Z",)"
    R"("location":{"siret":"73282932000074","register_id":"CAISSE-01"},)"
    R"("chain":{"name":"tickets","key":"FR-73282932000074-CAISSE-01","sequence":1,"previous":null},)"
    R"("transaction":{"id":"t-1","type":"sale","currency":"EUR","payment_method":"card",)"
    R"("items":[{"description":"Stylo","quantity":"2","unit_price":"6.00","tax_rate":"20.00","amount":"12.00"}],)"
    R"("breakdown":[{"tax_rate":"20.00","base":"10.00","tax":"2.00"}],)"
    R"("pretax_amount":"10.00","tax_amount":"2.00","total_amount":"12.00","customer":null}})";

class FrancePluginAbi : public ::testing::Test {
 protected:
  void SetUp() override {
    library_ = dlopen(kModulePath.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror() << " (build the fiscal_france_nf525 target)";
    entry_ = reinterpret_cast<fiscal_plugin_entry_fn>(dlsym(library_, FISCAL_PLUGIN_ENTRY_SYMBOL));
    ASSERT_NE(entry_, nullptr);
    fiscal_host_access access{sizeof(fiscal_host_access), GetHostApi, AccessError, nullptr};
    ASSERT_EQ(entry_(&access, &api_), FISCAL_OK);

    FakeCall call;
    ASSERT_EQ(api_->create("{}", 2, Raw(call), &instance_), FISCAL_OK) << call.error_message;
    ASSERT_TRUE(GenerateP256Key(&key_).ok());
  }

  void TearDown() override {
    if (instance_ != nullptr) api_->destroy(instance_);
    if (library_ != nullptr) dlclose(library_);
  }

  fiscal_call* Raw(FakeCall& call) { return reinterpret_cast<fiscal_call*>(&call); }

  void* library_ = nullptr;
  fiscal_plugin_entry_fn entry_ = nullptr;
  const fiscal_plugin_api* api_ = nullptr;
  fiscal_instance* instance_ = nullptr;
  EvpPkeyPtr key_;
};

TEST_F(FrancePluginAbi, CompatibilityBlock) {
  auto* info = static_cast<const fiscal_plugin_info*>(dlsym(library_, FISCAL_PLUGIN_INFO_SYMBOL));
  ASSERT_NE(info, nullptr);
  EXPECT_STREQ(info->name, "france-nf525");
  EXPECT_STREQ(info->country, "FR");
  EXPECT_STREQ(info->version, "1.0.0");
  EXPECT_EQ(info->abi_minor, 1u);
}

TEST_F(FrancePluginAbi, OldHostRefused) {
  fiscal_host_access access{sizeof(fiscal_host_access), GetOldHostApi, AccessError, nullptr};
  const fiscal_plugin_api* api = nullptr;
  EXPECT_EQ(entry_(&access, &api), FISCAL_ERR_INCOMPATIBLE);
}

TEST_F(FrancePluginAbi, SelfTest) {
  FakeCall call;
  ASSERT_EQ(api_->self_test(instance_, Raw(call)), FISCAL_OK) << call.error_message;
  EXPECT_EQ(call.result, R"({"checks":7})");
}

TEST_F(FrancePluginAbi, ValidateLocationError) {
  FakeCall call;
  std::string config = R"({"siret":"73282932000075","register_id":"CAISSE-01"})";
  EXPECT_EQ(api_->validate_location(instance_, config.data(), config.size(), Raw(call)),
            FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(call.error_field, "country_config.siret");
  EXPECT_NE(call.error_message.find("check digit"), std::string::npos);
}

TEST_F(FrancePluginAbi, IssueSignsWithRegisterKey) {
  FakeCall call;
  call.key = key_.get();
  std::string input = kSaleInput;
  ASSERT_EQ(api_->issue_record(instance_, input.data(), input.size(), Raw(call)), FISCAL_OK)
      << call.error_field << ": " << call.error_message;
  EXPECT_EQ(call.signs, 1);
  EXPECT_EQ(call.key_ref, "nf525-73282932000074-CAISSE-01");
  EXPECT_EQ(call.algorithm, "ES256");

  rapidjson::Document result;
  result.Parse(call.result.data(), call.result.size());
  ASSERT_TRUE(result.IsObject()) << call.result;
  const rapidjson::Value& data = result["record_data"];
  std::string payload = data["payload"].GetString();
  std::string signature = result["hash"].GetString();
  EXPECT_EQ(call.signed_data, payload + ",");
  EXPECT_EQ(signature, data["signature"].GetString());
  EXPECT_EQ(VerifyMessage(key_.get(), payload + ",", signature), SignatureCheck::kValid);
  std::string key_id;
  ASSERT_TRUE(PublicKeyId(key_.get(), &key_id).ok());
  EXPECT_EQ(data["key_id"].GetString(), key_id);
  EXPECT_STREQ(result["fiscal_id"].GetString(), "CAISSE-01-T-000001");
}

// Field case C23: with the key missing, the host's status comes back unchanged, the plugin adds no
// message of its own, and there is no result.
TEST_F(FrancePluginAbi, UnavailableKeyFailsClosed) {
  FakeCall call;
  call.key = key_.get();
  call.sign_status = FISCAL_ERR_UNAVAILABLE;
  std::string input = kSaleInput;
  EXPECT_EQ(api_->issue_record(instance_, input.data(), input.size(), Raw(call)),
            FISCAL_ERR_UNAVAILABLE);
  EXPECT_EQ(call.signs, 1);
  EXPECT_TRUE(call.result.empty());
  EXPECT_FALSE(call.error_set);
}

TEST_F(FrancePluginAbi, InvalidInputNamesField) {
  FakeCall call;
  std::string input = kSaleInput;
  input.replace(input.find(R"("tax_rate":"20.00","amount")"), 18, R"("tax_rate":"x")");
  EXPECT_EQ(api_->issue_record(instance_, input.data(), input.size(), Raw(call)),
            FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(call.error_field, "transaction.items[0].tax_rate");
  EXPECT_EQ(call.signs, 0);
  EXPECT_TRUE(call.result.empty());
}

TEST_F(FrancePluginAbi, SubmitBatchUnsupported) {
  FakeCall call;
  std::string input = R"({"records":[]})";
  EXPECT_EQ(api_->submit_batch(instance_, input.data(), input.size(), Raw(call)),
            FISCAL_ERR_UNSUPPORTED);
  EXPECT_NE(call.error_message.find("submission \"none\""), std::string::npos) << call.error_message;
}

TEST_F(FrancePluginAbi, RenderReceipt) {
  FakeCall issue;
  issue.key = key_.get();
  std::string input = kSaleInput;
  ASSERT_EQ(api_->issue_record(instance_, input.data(), input.size(), Raw(issue)), FISCAL_OK);
  rapidjson::Document result;
  result.Parse(issue.result.data(), issue.result.size());
  std::string receipt = issue.result.substr(issue.result.find(R"("receipt":)") + 10);
  receipt.pop_back();

  FakeCall call;
  std::string render = R"({"transaction":{},"location":{},"record":{"receipt":)" + receipt + "}}";
  ASSERT_EQ(api_->render_receipt(instance_, render.data(), render.size(), Raw(call)), FISCAL_OK)
      << call.error_message;
  std::string extract = SignatureExtract(result["hash"].GetString());
  EXPECT_NE(call.result.find(R"("language":"fr","title":"TICKET")"), std::string::npos);
  EXPECT_NE(call.result.find("Total TTC : 12,00 EUR"), std::string::npos) << call.result;
  EXPECT_NE(call.result.find("TVA 20,00 %"), std::string::npos);
  EXPECT_NE(call.result.find("Signature : " + extract), std::string::npos);
}

}  // namespace
}  // namespace fiscal::france
