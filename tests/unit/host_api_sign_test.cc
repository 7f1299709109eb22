// fiscal_host_api.sign (ABI 1.1), called through RunPluginCall with a real key store in a temporary
// directory: allowed in issue_record only, strict checks of the request and result structs, and
// the fail-closed FISCAL_ERR_UNAVAILABLE path up to the host Status. Also the SDK's Call::Sign.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fiscal/plugin_abi.h>
#include <fiscal/plugin_sdk.hpp>

#include "keys/key_store.h"
#include "plugins/compatibility.h"
#include "plugins/host_api.h"

namespace fiscal::plugins {
namespace {

constexpr char kAccount[] = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
constexpr char kOtherAccount[] = "16fd2706-8baf-433b-82eb-8c7fada847da";

const fiscal_host_api& Host() {
  const fiscal_host_api* host = FindHostApi(FISCAL_ABI_MAJOR, 1);
  if (host == nullptr) throw std::runtime_error("the host does not provide ABI 1.1");
  return *host;
}

fiscal_sign_request Request(const char* key_ref, const std::string& data) {
  fiscal_sign_request request{};
  request.struct_size = sizeof(request);
  request.key_ref = key_ref;
  request.algorithm = "ES256";
  request.data = reinterpret_cast<const uint8_t*>(data.data());
  request.data_size = data.size();
  return request;
}

fiscal_sign_result EmptyResult() {
  fiscal_sign_result result{};
  result.struct_size = sizeof(result);
  return result;
}

bool VerifyRaw(const std::string& public_key_pem, const std::string& data, const std::string& raw) {
  if (raw.size() != 64) return false;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(public_key_pem.data(), static_cast<int>(public_key_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                          &EVP_PKEY_free);
  if (!key) return false;

  // r||s to DER, the form EVP_DigestVerify takes.
  ECDSA_SIG* signature = ECDSA_SIG_new();
  ECDSA_SIG_set0(signature, BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_size = i2d_ECDSA_SIG(signature, &der);
  ECDSA_SIG_free(signature);

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  int verified = EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1
                     ? EVP_DigestVerify(context.get(), der, static_cast<size_t>(der_size),
                                        reinterpret_cast<const unsigned char*>(data.data()), data.size())
                     : 0;
  OPENSSL_free(der);
  ERR_clear_error();
  return verified == 1;
}

class HostApiSignTest : public testing::Test {
 protected:
  HostApiSignTest() {
    char pattern[] = "/tmp/host_api_sign_test.XXXXXX";
    const char* created = ::mkdtemp(pattern);
    if (created == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = created;
    store_ = std::make_unique<keys::KeyStore>(root_ + "/keys");
    target_.plugin_name = "unit-signer";
    context_.request_id = "req-9";
    context_.account_id = kAccount;
    context_.location_id = "loc-3";
    context_.key_store = store_.get();
  }

  ~HostApiSignTest() override {
    std::error_code error;
    std::filesystem::remove_all(root_, error);
  }

  CallOutcome Run(std::string_view operation, const std::function<fiscal_status(fiscal_call*)>& invoke) {
    CallOptions options;
    options.network_operation = operation == "submit_batch";
    options.result_required = false;
    return RunPluginCall(target_, context_, operation, options, invoke);
  }

  std::string root_;
  std::unique_ptr<keys::KeyStore> store_;
  CallTarget target_;
  CallContext context_;
};

TEST(HostApiSignTableTest, TableOffersSign) {
  EXPECT_EQ(FISCAL_ABI_MINOR, 1);
  EXPECT_EQ(FindHostApi(FISCAL_ABI_MAJOR, 2), nullptr);
  const fiscal_host_api* host = FindHostApi(FISCAL_ABI_MAJOR, 1);
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->abi_minor, 1u);
  EXPECT_GE(host->struct_size, offsetof(fiscal_host_api, sign) + sizeof(host->sign));
  EXPECT_NE(host->sign, nullptr);
  // A 1.0 plugin still gets the same table.
  EXPECT_EQ(FindHostApi(FISCAL_ABI_MAJOR, 0), host);
  EXPECT_LT(kHostApiSize_1_0, sizeof(fiscal_host_api));
  EXPECT_EQ(StatusCodeName(FISCAL_ERR_UNAVAILABLE), "FISCAL_ERR_UNAVAILABLE");
}

TEST_F(HostApiSignTest, SignsInIssueRecord) {
  ASSERT_TRUE(store_->EnsureKey(kAccount, "receipts").ok());
  Result<std::string> public_pem = store_->PublicKeyPem(kAccount, "receipts");
  ASSERT_TRUE(public_pem.ok());
  const std::string data = "record 1|12.30|previous-signature";

  std::string signature;
  std::string key_id;
  std::string result_public_pem;
  std::string chain = "unset";
  CallOutcome outcome = Run("issue_record", [&](fiscal_call* call) {
    fiscal_sign_request request = Request("receipts", data);
    fiscal_sign_result result = EmptyResult();
    fiscal_status status = Host().sign(call, &request, &result);
    if (status != FISCAL_OK) return status;
    signature.assign(reinterpret_cast<const char*>(result.signature), result.signature_size);
    key_id = result.key_id;
    result_public_pem = result.public_key_pem;
    chain = result.certificate_chain_pem;

    // A second signature in the same call must not invalidate the first one's pointers.
    const uint8_t* first = result.signature;
    fiscal_sign_result again = EmptyResult();
    if (Host().sign(call, &request, &again) != FISCAL_OK) return FISCAL_ERR_INTERNAL;
    if (std::memcmp(first, signature.data(), signature.size()) != 0) return FISCAL_ERR_INTERNAL;
    return FISCAL_OK;
  });

  ASSERT_EQ(outcome.status, FISCAL_OK) << outcome.error_message;
  EXPECT_EQ(signature.size(), 64u);
  EXPECT_TRUE(VerifyRaw(*public_pem, data, signature));
  EXPECT_FALSE(VerifyRaw(*public_pem, data + ".", signature));
  EXPECT_EQ(result_public_pem, *public_pem);
  EXPECT_EQ(key_id.size(), 64u);
  EXPECT_EQ(chain, "");
}

TEST_F(HostApiSignTest, UsesCallAccountKey) {
  ASSERT_TRUE(store_->EnsureKey(kAccount, "receipts").ok());
  ASSERT_TRUE(store_->EnsureKey(kOtherAccount, "receipts").ok());
  Result<std::string> other_pem = store_->PublicKeyPem(kOtherAccount, "receipts");
  ASSERT_TRUE(other_pem.ok());

  context_.account_id = kOtherAccount;
  std::string public_pem;
  CallOutcome outcome = Run("issue_record", [&](fiscal_call* call) {
    fiscal_sign_request request = Request("receipts", "x");
    fiscal_sign_result result = EmptyResult();
    fiscal_status status = Host().sign(call, &request, &result);
    if (status == FISCAL_OK) public_pem = result.public_key_pem;
    return status;
  });

  ASSERT_EQ(outcome.status, FISCAL_OK) << outcome.error_message;
  EXPECT_EQ(public_pem, *other_pem);
}

TEST_F(HostApiSignTest, RejectedOutsideIssueRecord) {
  ASSERT_TRUE(store_->EnsureKey(kAccount, "receipts").ok());
  context_.allow_network = true;
  for (const char* operation : {"submit_batch", "self_test", "validate_location", "render_receipt", "create"}) {
    SCOPED_TRACE(operation);
    fiscal_sign_result seen = EmptyResult();
    seen.signature = reinterpret_cast<const uint8_t*>("stale");
    CallOutcome outcome = Run(operation, [&](fiscal_call* call) {
      fiscal_sign_request request = Request("receipts", "data");
      return Host().sign(call, &request, &seen);
    });

    EXPECT_EQ(outcome.status, FISCAL_ERR_UNSUPPORTED);
    EXPECT_EQ(seen.signature, nullptr);
    EXPECT_EQ(seen.signature_size, 0u);
    EXPECT_NE(outcome.error_message.find("only issue_record may sign"), std::string::npos) << outcome.error_message;
  }
}

TEST_F(HostApiSignTest, MalformedStructsRejected) {
  ASSERT_TRUE(store_->EnsureKey(kAccount, "receipts").ok());
  const std::string data = "data";
  struct Case {
    const char* name;
    std::function<void(fiscal_sign_request&, fiscal_sign_result&)> mutate;
    bool null_request;
    bool null_result;
  };
  const std::vector<Case> cases = {
      {"null result", nullptr, false, true},
      {"short result", [](fiscal_sign_request&, fiscal_sign_result& r) { r.struct_size = sizeof(r) - 1; }, false,
       false},
      {"null request", nullptr, true, false},
      {"short request", [](fiscal_sign_request& q, fiscal_sign_result&) { q.struct_size = 4; }, false, false},
      {"null key_ref", [](fiscal_sign_request& q, fiscal_sign_result&) { q.key_ref = nullptr; }, false, false},
      {"null algorithm", [](fiscal_sign_request& q, fiscal_sign_result&) { q.algorithm = nullptr; }, false, false},
      {"null data with size", [](fiscal_sign_request& q, fiscal_sign_result&) { q.data = nullptr; }, false, false},
      {"other algorithm", [](fiscal_sign_request& q, fiscal_sign_result&) { q.algorithm = "RS256"; }, false, false},
      {"lowercase algorithm", [](fiscal_sign_request& q, fiscal_sign_result&) { q.algorithm = "es256"; }, false,
       false},
      {"traversing key_ref", [](fiscal_sign_request& q, fiscal_sign_result&) { q.key_ref = "../receipts"; }, false,
       false},
      {"empty key_ref", [](fiscal_sign_request& q, fiscal_sign_result&) { q.key_ref = ""; }, false, false},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.name);
    CallOutcome outcome = Run("issue_record", [&](fiscal_call* call) {
      fiscal_sign_request request = Request("receipts", data);
      fiscal_sign_result result = EmptyResult();
      if (test.mutate) test.mutate(request, result);
      return Host().sign(call, test.null_request ? nullptr : &request, test.null_result ? nullptr : &result);
    });
    EXPECT_EQ(outcome.status, FISCAL_ERR_INVALID_INPUT) << outcome.error_message;
    EXPECT_NE(outcome.error_message.find("last host error"), std::string::npos) << outcome.error_message;
  }

  fiscal_sign_request request = Request("receipts", data);
  fiscal_sign_result result = EmptyResult();
  EXPECT_EQ(Host().sign(nullptr, &request, &result), FISCAL_ERR_INVALID_INPUT);
}

TEST_F(HostApiSignTest, MissingKeyUnavailableToStatus) {
  CallOutcome outcome = Run("issue_record", [&](fiscal_call* call) {
    fiscal_sign_request request = Request("receipts", "data");
    fiscal_sign_result result = EmptyResult();
    fiscal_status status = Host().sign(call, &request, &result);
    if (status != FISCAL_OK) {
      static const char kMessage[] = "the record could not be signed";
      Host().set_error(call, nullptr, 0, kMessage, sizeof(kMessage) - 1);
    }
    return status;
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNAVAILABLE);
  Status status = outcome.ToStatus("issue_record");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.error_code(), "signing_key_unavailable");
  EXPECT_NE(status.message().find("the record could not be signed"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("\"receipts\""), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("does not exist"), std::string::npos) << status.message();
}

TEST_F(HostApiSignTest, CorruptKeyUnavailableWithoutMessage) {
  ASSERT_TRUE(store_->EnsureKey(kAccount, "receipts").ok());
  std::filesystem::resize_file(root_ + "/keys/" + kAccount + "/receipts.pem", 40);

  CallOutcome outcome = Run("issue_record", [&](fiscal_call* call) {
    fiscal_sign_request request = Request("receipts", "data");
    fiscal_sign_result result = EmptyResult();
    return Host().sign(call, &request, &result);
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNAVAILABLE);
  Status status = outcome.ToStatus("issue_record");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.error_code(), "signing_key_unavailable");
  EXPECT_NE(status.message().find("\"receipts\""), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("BEGIN"), std::string::npos) << status.message();
}

TEST_F(HostApiSignTest, NoKeyStoreUnavailable) {
  context_.key_store = nullptr;
  CallOutcome outcome = Run("issue_record", [&](fiscal_call* call) {
    fiscal_sign_request request = Request("receipts", "data");
    fiscal_sign_result result = EmptyResult();
    return Host().sign(call, &request, &result);
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNAVAILABLE);
  EXPECT_EQ(outcome.ToStatus("issue_record").code(), StatusCode::kUnavailable);
}

TEST(CallOutcomeSignTest, UnavailableMapsTo503) {
  CallOutcome outcome;
  outcome.status = FISCAL_ERR_UNAVAILABLE;
  outcome.error_message = "signing key \"receipts\" is unavailable";
  outcome.plugin = "france-nf525";

  Status status = outcome.ToStatus("issue_record");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.error_code(), "signing_key_unavailable");
  EXPECT_NE(status.message().find("plugin \"france-nf525\" issue_record"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find(outcome.error_message), std::string::npos) << status.message();
}

// Replaces the SDK's host table for one test and restores it afterwards.
class SdkHostApiScope {
 public:
  explicit SdkHostApiScope(const fiscal_host_api* host) : saved_(sdk::HostApi()) { sdk::HostApi() = host; }
  ~SdkHostApiScope() { sdk::HostApi() = saved_; }

 private:
  const fiscal_host_api* saved_;
};

TEST_F(HostApiSignTest, SdkSignReturnsViews) {
  ASSERT_TRUE(store_->EnsureKey(kAccount, "receipts").ok());
  Result<std::string> public_pem = store_->PublicKeyPem(kAccount, "receipts");
  ASSERT_TRUE(public_pem.ok());
  SdkHostApiScope scope(&Host());

  std::string signature;
  std::string key_id;
  std::string chain = "unset";
  CallOutcome outcome = Run("issue_record", [&](fiscal_call* raw_call) {
    sdk::Call call(raw_call);
    sdk::SignResult result;
    fiscal_status status = call.Sign("receipts", "sdk data", &result);
    if (status != FISCAL_OK) return status;
    signature = std::string(result.signature);
    key_id = std::string(result.key_id);
    chain = std::string(result.certificate_chain_pem);
    if (result.public_key_pem != *public_pem) return call.Fail(FISCAL_ERR_INTERNAL, {}, "public key differs");
    return FISCAL_OK;
  });

  ASSERT_EQ(outcome.status, FISCAL_OK) << outcome.error_message;
  EXPECT_TRUE(VerifyRaw(*public_pem, "sdk data", signature));
  EXPECT_EQ(key_id.size(), 64u);
  EXPECT_EQ(chain, "");
}

TEST_F(HostApiSignTest, SdkSignPassesUnavailable) {
  SdkHostApiScope scope(&Host());
  sdk::SignResult result;
  result.key_id = "stale";
  CallOutcome outcome = Run("issue_record", [&](fiscal_call* raw_call) {
    sdk::Call call(raw_call);
    return call.Sign("missing", "data", &result);
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNAVAILABLE);
  EXPECT_TRUE(result.key_id.empty());
  EXPECT_NE(outcome.error_message.find("\"missing\""), std::string::npos) << outcome.error_message;
}

TEST_F(HostApiSignTest, SdkSignNeedsHost11) {
  ASSERT_TRUE(store_->EnsureKey(kAccount, "receipts").ok());
  // A 1.0 host's table: same functions, struct_size ending before `sign`.
  fiscal_host_api old_host = Host();
  old_host.struct_size = kHostApiSize_1_0;
  old_host.abi_minor = 0;
  SdkHostApiScope scope(&old_host);

  CallOutcome outcome = Run("issue_record", [&](fiscal_call* raw_call) {
    sdk::Call call(raw_call);
    sdk::SignResult result;
    return call.Sign("receipts", "data", &result);
  });

  EXPECT_EQ(outcome.status, FISCAL_ERR_INCOMPATIBLE);
  EXPECT_NE(outcome.error_message.find("host API 1.1"), std::string::npos) << outcome.error_message;
}

}  // namespace
}  // namespace fiscal::plugins
