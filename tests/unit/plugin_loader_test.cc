// Loads the plugin corpus (tests/plugin_corpus) through LoadPlugin: every broken library must be
// rejected with a message that names the failed check, and the working ones must return results.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <fiscal/plugin_abi.h>

#include "plugins/plugin_loader.h"
#include "plugins/plugin_registry.h"

namespace fiscal::plugins {
namespace {

std::string CorpusPath(const std::string& file) {
  return std::string(FISCAL_PLUGIN_DIR) + "/corpus/" + file + ".so";
}

PluginConfig CorpusConfig(const std::string& file, const std::string& name) {
  PluginConfig config;
  config.name = name;
  config.country = "XX";
  config.system = "corpus";
  config.path = CorpusPath(file);
  return config;
}

// Records every request and returns a fixed exchange.
class FakeSender : public net::HttpSender {
 public:
  net::HttpExchange Send(const net::EndpointConfig& endpoint, const net::HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mutex_);
    endpoints.push_back(endpoint);
    requests.push_back(request);
    return answer;
  }

  std::mutex mutex_;
  std::vector<net::EndpointConfig> endpoints;
  std::vector<net::HttpRequest> requests;
  net::HttpExchange answer;
};

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A file name under the test temporary directory that no other test uses.
std::string TempPath(const std::string& name) {
  return (std::filesystem::path(testing::TempDir()) / (name + "_" + std::to_string(::getpid()))).string();
}

class PluginLoaderTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(CorpusPath("good"))) {
      GTEST_SKIP() << "plugin corpus not built: " << CorpusPath("good")
                   << " is missing (build the test_plugin_corpus target)";
    }
  }

  std::shared_ptr<const LoadedPlugin> LoadGood(PluginConfig config) {
    Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, sender_);
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return loaded.ok() ? *loaded : nullptr;
  }

  std::shared_ptr<FakeSender> sender_ = std::make_shared<FakeSender>();
};

TEST_F(PluginLoaderTest, GoodPluginLoads) {
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(CorpusConfig("good", "corpus-good"));
  ASSERT_NE(plugin, nullptr);

  const PluginDescriptor& descriptor = plugin->descriptor();
  EXPECT_EQ(descriptor.name, "corpus-good");
  EXPECT_EQ(descriptor.country, "XX");
  EXPECT_EQ(descriptor.version, "1.0.0");
  EXPECT_EQ(descriptor.path, CorpusPath("good"));
  EXPECT_EQ(descriptor.abi_major, 1u);
  EXPECT_EQ(descriptor.abi_minor, 0u);
  Result<std::string> sha256 = Sha256OfFile(CorpusPath("good"));
  ASSERT_TRUE(sha256.ok());
  EXPECT_EQ(descriptor.sha256, *sha256);
  EXPECT_EQ(descriptor.sha256.size(), 64u);
  EXPECT_EQ(plugin->config().system, "corpus");
}

TEST_F(PluginLoaderTest, Sha256OfKnownFile) {
  std::string path = TempPath("sha256_input");
  std::ofstream(path) << "abc";
  Result<std::string> sha256 = Sha256OfFile(path);
  ASSERT_TRUE(sha256.ok()) << sha256.status().ToString();
  EXPECT_EQ(*sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::filesystem::remove(path);
}

TEST_F(PluginLoaderTest, GoodPluginAnswersCalls) {
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(CorpusConfig("good", "corpus-good"));
  ASSERT_NE(plugin, nullptr);
  CallContext context;
  context.request_id = "req-1";

  CallOutcome self_test = plugin->SelfTest(context);
  EXPECT_TRUE(self_test.ok()) << self_test.error_message;
  EXPECT_EQ(self_test.result, R"({"checks":1})");

  CallOutcome issued = plugin->IssueRecord(R"({"a":1})", context);
  EXPECT_TRUE(issued.ok()) << issued.error_message;
  EXPECT_EQ(issued.result, R"({"fiscal_id":"ECHO-7","input_size":7})");
  EXPECT_EQ(issued.plugin, "corpus-good");

  CallOutcome receipt = plugin->RenderReceipt("{}", context);
  EXPECT_TRUE(receipt.ok()) << receipt.error_message;
  EXPECT_EQ(receipt.result, R"({"language":"en","lines":[]})");

  CallOutcome location = plugin->ValidateLocation(R"({"nif":"B12345678"})", context);
  EXPECT_TRUE(location.ok()) << location.error_message;
  EXPECT_EQ(location.result, R"({"config":{},"chain_key":"corpus"})");
}

TEST_F(PluginLoaderTest, InvalidInputMapsToInvalidArgument) {
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(CorpusConfig("good", "corpus-good"));
  ASSERT_NE(plugin, nullptr);

  CallOutcome outcome = plugin->ValidateLocation("{}", CallContext());
  EXPECT_EQ(outcome.status, FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(outcome.error_field, "country_config.nif");
  EXPECT_EQ(outcome.error_message, "nif is missing");
  EXPECT_TRUE(outcome.result.empty());

  Status status = outcome.ToStatus("validate_location");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.field(), "country_config.nif");
  EXPECT_EQ(status.message(), "nif is missing");
}

TEST_F(PluginLoaderTest, SubmitBatchSendsThroughHost) {
  PluginConfig config = CorpusConfig("good", "corpus-good");
  config.endpoints["authority"]["test"].url = "https://authority.test/submit";
  config.endpoints["authority"]["live"].url = "https://authority.live/submit";
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(config);
  ASSERT_NE(plugin, nullptr);
  sender_->answer.status_code = 200;
  sender_->answer.body = "accepted";
  sender_->answer.content_type = "text/plain";

  CallContext context;
  context.environment = "live";
  context.allow_network = true;
  CallOutcome outcome = plugin->SubmitBatch(R"({"records":[]})", context);

  ASSERT_TRUE(outcome.ok()) << outcome.error_message;
  EXPECT_EQ(outcome.result, R"({"status_code":200,"body":"accepted"})");
  ASSERT_EQ(sender_->requests.size(), 1u);
  EXPECT_EQ(sender_->endpoints[0].url, "https://authority.live/submit");
  EXPECT_EQ(sender_->requests[0].method, "POST");
  EXPECT_EQ(sender_->requests[0].content_type, "application/json");
  EXPECT_EQ(sender_->requests[0].extra_headers, "X-Corpus: 1");
  EXPECT_EQ(sender_->requests[0].body, R"({"records":[]})");
  EXPECT_EQ(sender_->requests[0].timeout_ms, 2000u);
}

TEST_F(PluginLoaderTest, HttpSendRefusedWithoutNetwork) {
  PluginConfig config = CorpusConfig("good", "corpus-good");
  config.endpoints["authority"]["test"].url = "https://authority.test/submit";
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(config);
  ASSERT_NE(plugin, nullptr);

  CallContext context;
  context.allow_network = false;
  CallOutcome outcome = plugin->SubmitBatch("{}", context);

  EXPECT_EQ(outcome.status, FISCAL_ERR_UNSUPPORTED);
  EXPECT_NE(outcome.error_message.find("not allowed in submit_batch"), std::string::npos)
      << outcome.error_message;
  EXPECT_TRUE(sender_->requests.empty());
}

TEST_F(PluginLoaderTest, HttpSendUnknownEndpoint) {
  PluginConfig config = CorpusConfig("good", "corpus-good");
  config.endpoints["authority"]["test"].url = "https://authority.test/submit";
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(config);
  ASSERT_NE(plugin, nullptr);

  CallContext context;
  context.allow_network = true;
  CallOutcome outcome = plugin->SubmitBatch(R"({"unknown_endpoint":true})", context);

  EXPECT_EQ(outcome.status, FISCAL_ERR_INVALID_INPUT);
  EXPECT_NE(outcome.error_message.find("unknown endpoint \"nowhere\""), std::string::npos)
      << outcome.error_message;
  EXPECT_TRUE(sender_->requests.empty());
}

TEST_F(PluginLoaderTest, HttpSendTransportErrorMapsToUnavailable) {
  PluginConfig config = CorpusConfig("good", "corpus-good");
  config.endpoints["authority"]["test"].url = "https://authority.test/submit";
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(config);
  ASSERT_NE(plugin, nullptr);
  sender_->answer.transport_error = "Timeout was reached";
  sender_->answer.timed_out = true;

  CallContext context;
  context.allow_network = true;
  CallOutcome outcome = plugin->SubmitBatch("{}", context);

  EXPECT_EQ(outcome.status, FISCAL_ERR_TRANSPORT);
  EXPECT_NE(outcome.error_message.find("Timeout was reached"), std::string::npos) << outcome.error_message;
  Status status = outcome.ToStatus("submit_batch");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("corpus-good"), std::string::npos) << status.message();
}

TEST_F(PluginLoaderTest, DestroyRunsWhenLastReferenceGoes) {
  std::string marker = TempPath("destroy_marker");
  std::filesystem::remove(marker);
  PluginConfig config = CorpusConfig("good", "corpus-good");
  config.config_json = R"({"marker":")" + marker + R"("})";

  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(config);
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(ReadFile(marker), "");

  plugin.reset();
  EXPECT_EQ(ReadFile(marker), "destroyed\n");
  std::filesystem::remove(marker);
}

// glibc maps a path once, so both generations share one mapping and one handshake.
TEST_F(PluginLoaderTest, SamePathLoadsTwice) {
  std::shared_ptr<const LoadedPlugin> first = LoadGood(CorpusConfig("good", "corpus-good"));
  std::shared_ptr<const LoadedPlugin> second = LoadGood(CorpusConfig("good", "corpus-good"));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_NE(first, second);

  first.reset();
  CallOutcome outcome = second->IssueRecord("{}", CallContext());
  EXPECT_TRUE(outcome.ok()) << outcome.error_message;

  second.reset();
  std::shared_ptr<const LoadedPlugin> third = LoadGood(CorpusConfig("good", "corpus-good"));
  ASSERT_NE(third, nullptr);
  EXPECT_TRUE(third->IssueRecord("{}", CallContext()).ok());
}

TEST_F(PluginLoaderTest, FailedSelfTestDestroysInstance) {
  std::string marker = TempPath("self_test_marker");
  std::filesystem::remove(marker);
  PluginConfig config = CorpusConfig("self_test_fails", "corpus-self-test-fails");
  config.config_json = R"({"marker":")" + marker + R"("})";

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, sender_);

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(ReadFile(marker), "destroyed\n");
  std::filesystem::remove(marker);
}

struct RejectionCase {
  std::string file;
  std::string name;
  std::vector<std::string> expected;  // substrings of the error message
};

// Prints a case by its library name, so that test listings stay short.
void PrintTo(const RejectionCase& rejection, std::ostream* out) { *out << rejection.file; }

class CorpusRejectionTest : public PluginLoaderTest, public testing::WithParamInterface<RejectionCase> {};

TEST_P(CorpusRejectionTest, RejectedWithReason) {
  const RejectionCase& test_case = GetParam();
  PluginConfig config = CorpusConfig(test_case.file, test_case.name);

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, sender_);

  ASSERT_FALSE(loaded.ok()) << test_case.file << " loaded, but must be rejected";
  const std::string& message = loaded.status().message();
  std::string prefix = "plugin \"" + test_case.name + "\" (" + config.path + "): ";
  EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
  for (const std::string& expected : test_case.expected) {
    EXPECT_NE(message.find(expected), std::string::npos) << "expected \"" << expected << "\" in: " << message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, CorpusRejectionTest,
    testing::Values(
        RejectionCase{"missing_entry", "corpus-missing-entry", {"missing entry point", "fiscal_plugin_entry"}},
        RejectionCase{"no_info_section", "corpus-no-info",
                      {"cannot read the compatibility block", "no section named fiscal_plugin_info"}},
        RejectionCase{"wrong_magic", "corpus-wrong-magic",
                      {"incompatible magic: plugin has 0x12345678, host has 0x43534946"}},
        RejectionCase{"abi_major_2", "corpus-abi-major-2", {"incompatible abi_major: plugin has 2, host has 1"}},
        RejectionCase{"needs_minor_5", "corpus-needs-minor-5",
                      {"incompatible abi_minor: plugin needs host ABI 1.5, this host provides 1.1"}},
        RejectionCase{"pointer_size_4", "corpus-pointer-size-4",
                      {"incompatible pointer_size: plugin has 4, host has 8"}},
        RejectionCase{"entry_incompatible", "corpus-entry-incompatible",
                      {"entry point fiscal_plugin_entry failed with FISCAL_ERR_INCOMPATIBLE",
                       "(plugin requested host API 1.5, this host provides 1.1)",
                       "corpus plugin needs host API 1.5"}},
        RejectionCase{"create_fails", "corpus-create-fails",
                      {"create failed with FISCAL_ERR_INVALID_INPUT", "create always fails"}},
        RejectionCase{"self_test_fails", "corpus-self-test-fails",
                      {"self_test failed with FISCAL_ERR_INTERNAL", "known-answer test 3 does not match"}},
        RejectionCase{"null_function", "corpus-null-function", {"null validate_location function"}},
        RejectionCase{"name_mismatch", "corpus-name-mismatch",
                      {"name mismatch: plugin has \"corpus-other-name\", the configuration expects "
                       "\"corpus-name-mismatch\""}},
        RejectionCase{"exported_info_differs", "corpus-exported-info-differs",
                      {"exported fiscal_plugin_info_block differs from section fiscal_plugin_info"}},
        RejectionCase{"undefined_symbol", "corpus-undefined-symbol",
                      {"dlopen failed", "undefined symbol: corpus_symbol_that_does_not_exist"}},
        RejectionCase{"does_not_exist", "corpus-missing-file", {"cannot open", "No such file or directory"}}),
    [](const testing::TestParamInfo<RejectionCase>& info) { return info.param.file; });

TEST_F(PluginLoaderTest, CountryMismatchRejected) {
  PluginConfig config = CorpusConfig("good", "corpus-good");
  config.country = "ES";

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, sender_);

  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("country mismatch: plugin has \"XX\", the configuration expects \"ES\""),
            std::string::npos)
      << loaded.status().message();
}

TEST_F(PluginLoaderTest, NonElfFileRejected) {
  std::string path = TempPath("not_a_plugin.so");
  std::ofstream(path) << "this is a text file, not a shared library\n";
  PluginConfig config = CorpusConfig("good", "corpus-good");
  config.path = path;

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, sender_);

  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("not an ELF file"), std::string::npos) << loaded.status().message();
  std::filesystem::remove(path);
}

TEST_F(PluginLoaderTest, ExceptionBecomesInternal) {
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(CorpusConfig("throws", "corpus-throws"));
  ASSERT_NE(plugin, nullptr);

  CallOutcome outcome = plugin->IssueRecord("{}", CallContext());

  EXPECT_EQ(outcome.status, FISCAL_ERR_INTERNAL);
  EXPECT_EQ(outcome.error_message, "plugin exception: corpus plugin: issue_record always throws");
  Status status = outcome.ToStatus("issue_record");
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_NE(status.message().find("plugin \"corpus-throws\" issue_record failed with FISCAL_ERR_INTERNAL"),
            std::string::npos)
      << status.message();
}

TEST_F(PluginLoaderTest, ErrorWithoutMessageGetsGenericMessage) {
  std::shared_ptr<const LoadedPlugin> plugin =
      LoadGood(CorpusConfig("error_without_message", "corpus-error-without-message"));
  ASSERT_NE(plugin, nullptr);

  CallOutcome outcome = plugin->IssueRecord("{}", CallContext());

  EXPECT_EQ(outcome.status, FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(outcome.error_message,
            "plugin \"corpus-error-without-message\" returned FISCAL_ERR_INVALID_INPUT from issue_record "
            "without an error message");
}

TEST_F(PluginLoaderTest, OkWithoutResultIsInternal) {
  std::shared_ptr<const LoadedPlugin> plugin = LoadGood(CorpusConfig("no_result", "corpus-no-result"));
  ASSERT_NE(plugin, nullptr);

  CallOutcome outcome = plugin->IssueRecord("{}", CallContext());

  EXPECT_EQ(outcome.status, FISCAL_ERR_INTERNAL);
  EXPECT_EQ(outcome.error_message, "plugin \"corpus-no-result\" returned no result from issue_record");
}

// The Spain plugin is built by its own target; this test only checks that the loader accepts it.
TEST(SpainPluginTest, LoadsAndSelfTests) {
  const char* override_path = std::getenv("FISCAL_SPAIN_PLUGIN");
  std::string path = override_path != nullptr
                         ? override_path
                         : std::string(FISCAL_PLUGIN_DIR) + "/spain-verifactu/1.0.0/libfiscal_spain_verifactu.so";
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << "Spain plugin not built: " << path << " is missing";
  }
  PluginConfig config;
  config.name = "spain-verifactu";
  config.country = "ES";
  config.system = "verifactu";
  config.path = path;

  Result<std::shared_ptr<const LoadedPlugin>> loaded = LoadPlugin(config, nullptr);

  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->descriptor().name, "spain-verifactu");
  CallOutcome self_test = (*loaded)->SelfTest(CallContext());
  EXPECT_TRUE(self_test.ok()) << self_test.error_message;
}

}  // namespace
}  // namespace fiscal::plugins
