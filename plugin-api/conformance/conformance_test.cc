// The checks of the conformance kit. Each test states one rule of fiscal/plugin_abi.h and fails with
// the call and the input that broke it. Plugin calls run through RunScript (see harness.h), so a
// crash, an escaping exception or a blocking call fails only the test that caused it.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace fiscal::conformance {
namespace {

constexpr size_t kPluginApiSize10 = offsetof(fiscal_plugin_api, render_receipt) + sizeof(void*);
constexpr size_t kHostApiSize10 = offsetof(fiscal_host_api, http_send) + sizeof(void*);
// The host rejects larger declared table sizes as corrupt (host/src/plugins/compatibility.cc).
constexpr uint32_t kMaxTableSize = 64 * 1024;

// Adds one test failure per failed expectation of the script, and one for an abnormal end.
void Report(const Outcome& outcome) {
  for (const std::string& failure : outcome.failures) ADD_FAILURE() << failure;
  if (!outcome.abnormal_end.empty()) ADD_FAILURE() << outcome.abnormal_end;
}

void RunChecks(const std::function<void(Script&)>& body) { Report(RunScript(body)); }

// Returns the NUL-terminated string in a fixed-size array, or sets `terminated` to false.
std::string FixedString(const char* data, size_t size, bool* terminated) {
  const void* nul = std::memchr(data, '\0', size);
  *terminated = nul != nullptr;
  return nul == nullptr ? std::string(data, size) : std::string(data, static_cast<const char*>(nul) - data);
}

bool IsPluginName(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// MAJOR.MINOR.PATCH with an optional "-pre" or "+build" suffix.
bool IsSemanticVersion(const std::string& version) {
  size_t i = 0;
  for (int part = 0; part < 3; ++part) {
    size_t start = i;
    while (i < version.size() && version[i] >= '0' && version[i] <= '9') ++i;
    if (i == start) return false;
    if (part < 2) {
      if (i >= version.size() || version[i] != '.') return false;
      ++i;
    }
  }
  return i == version.size() || version[i] == '-' || version[i] == '+';
}

// The compatibility block of the plugin under test; reading it runs no plugin code.
struct Block {
  InfoSection section;
  fiscal_plugin_info info{};
};

const Block& GetBlock() {
  static const Block block = [] {
    Block read;
    read.section = ReadInfoSection(GlobalOptions().plugin_path);
    if (read.section.found) {
      std::memcpy(&read.info, read.section.bytes.data(), std::min(read.section.bytes.size(), sizeof(read.info)));
    }
    return read;
  }();
  return block;
}

// ---------------------------------------------------------------------------------------------------
// Compatibility block
// ---------------------------------------------------------------------------------------------------

TEST(CompatibilityBlock, SectionPresent) {
  const Block& block = GetBlock();
  ASSERT_TRUE(block.section.found) << block.section.error;
  EXPECT_EQ(block.section.count, 1) << "the library has " << block.section.count << " sections named "
                                    << FISCAL_PLUGIN_INFO_SECTION << "; declare the block exactly once";
  EXPECT_GE(block.section.bytes.size(), sizeof(fiscal_plugin_info))
      << "section " << FISCAL_PLUGIN_INFO_SECTION << " is smaller than fiscal_plugin_info";
}

TEST(CompatibilityBlock, LayoutFields) {
  const Block& block = GetBlock();
  ASSERT_TRUE(block.section.found) << block.section.error;
  const fiscal_plugin_info& info = block.info;
  EXPECT_EQ(info.magic, FISCAL_PLUGIN_MAGIC) << "magic must be FISCAL_PLUGIN_MAGIC";
  EXPECT_GE(info.struct_size, sizeof(fiscal_plugin_info)) << "struct_size is smaller than ABI 1.0's block";
  EXPECT_LE(info.struct_size, block.section.bytes.size()) << "struct_size is larger than the section";
  EXPECT_EQ(info.byte_order_mark, FISCAL_BYTE_ORDER_MARK) << "byte_order_mark must be FISCAL_BYTE_ORDER_MARK";
  EXPECT_EQ(info.pointer_size, sizeof(void*)) << "pointer_size must be sizeof(void*) of the build";
  EXPECT_EQ(info.abi_major, static_cast<uint32_t>(FISCAL_ABI_MAJOR)) << "abi_major differs from this kit's ABI";
  EXPECT_LE(info.abi_minor, static_cast<uint32_t>(FISCAL_ABI_MINOR))
      << "abi_minor (the host minor the plugin needs) is newer than this kit's ABI " << FISCAL_ABI_MAJOR << "."
      << FISCAL_ABI_MINOR;
  EXPECT_GE(info.host_api_size, kHostApiSize10) << "host_api_size is smaller than ABI 1.0's host table";
  EXPECT_LE(info.host_api_size, kMaxTableSize) << "host_api_size is implausibly large";
  EXPECT_GE(info.plugin_api_size, kPluginApiSize10) << "plugin_api_size is smaller than ABI 1.0's function table";
  EXPECT_LE(info.plugin_api_size, kMaxTableSize) << "plugin_api_size is implausibly large";
}

TEST(CompatibilityBlock, StringFields) {
  const Block& block = GetBlock();
  ASSERT_TRUE(block.section.found) << block.section.error;
  bool terminated = false;

  std::string name = FixedString(block.info.name, sizeof(block.info.name), &terminated);
  EXPECT_TRUE(terminated) << "name is not NUL-terminated within " << FISCAL_NAME_SIZE << " bytes";
  EXPECT_TRUE(IsPluginName(name)) << "name \"" << Excerpt(name) << "\" must be non-empty and use only a-z, 0-9, '_', '-'";

  std::string country = FixedString(block.info.country, sizeof(block.info.country), &terminated);
  EXPECT_TRUE(terminated) << "country is not NUL-terminated within " << FISCAL_COUNTRY_SIZE << " bytes";
  const bool alpha_2 = country.size() == 2 && std::isupper(static_cast<unsigned char>(country[0])) &&
                       std::isupper(static_cast<unsigned char>(country[1]));
  EXPECT_TRUE(alpha_2) << "country \"" << Excerpt(country) << "\" must be an ISO 3166-1 alpha-2 code such as \"ES\"";

  std::string version = FixedString(block.info.version, sizeof(block.info.version), &terminated);
  EXPECT_TRUE(terminated) << "version is not NUL-terminated within " << FISCAL_VERSION_SIZE << " bytes";
  EXPECT_TRUE(IsSemanticVersion(version)) << "version \"" << Excerpt(version)
                                          << "\" must be a semantic version such as 1.2.3";
}

TEST(CompatibilityBlock, ExportedCopyMatchesSection) {
  const Block& block = GetBlock();
  ASSERT_TRUE(block.section.found) << block.section.error;
  RunChecks([&block](Script& script) {
    if (!script.Load()) return;
    const void* exported = script.FindSymbol(FISCAL_PLUGIN_INFO_SYMBOL);
    // The symbol is optional, but when present the host may read it, so it must equal the section.
    if (exported == nullptr) return;
    script.Expect(std::memcmp(exported, block.section.bytes.data(), sizeof(fiscal_plugin_info)) == 0,
                  "the exported " FISCAL_PLUGIN_INFO_SYMBOL " differs from section " FISCAL_PLUGIN_INFO_SECTION);
  });
}

// ---------------------------------------------------------------------------------------------------
// Handshake and function table
// ---------------------------------------------------------------------------------------------------

TEST(Handshake, RequestsSupportedVersion) {
  const uint32_t declared_minor = GetBlock().info.abi_minor;
  RunChecks([declared_minor](Script& script) {
    HandshakeRecord record = script.Handshake(true);
    if (!script.Expect(record.entry_found, "the library does not export " FISCAL_PLUGIN_ENTRY_SYMBOL)) return;
    if (!script.Expect(!record.threw, "the entry point let an exception cross the ABI: " + record.exception)) return;
    script.Expect(!record.requests.empty(), "the entry point never called access->get_host_api");
    for (const auto& [major, minor] : record.requests) {
      script.Expect(major == FISCAL_ABI_MAJOR, "the entry point asked for host API major " + std::to_string(major));
      script.Expect(minor <= FISCAL_ABI_MINOR, "the entry point asked for host API minor " + std::to_string(minor) +
                                                   ", newer than this kit's " + std::to_string(FISCAL_ABI_MINOR));
      script.Expect(minor <= declared_minor,
                    "the entry point asked for host API minor " + std::to_string(minor) +
                        " but the compatibility block declares abi_minor " + std::to_string(declared_minor) +
                        "; the host checks the block before loading, so the block must declare what the plugin needs");
    }
    script.Expect(record.status == FISCAL_OK,
                  "the entry point returned status " + std::to_string(record.status) + ": " + record.error_message);
    script.Expect(record.status != FISCAL_OK || record.table != nullptr,
                  "the entry point returned FISCAL_OK but stored no function table");
  });
}

TEST(Handshake, FailsCleanlyWithoutHostApi) {
  RunChecks([](Script& script) {
    HandshakeRecord record = script.Handshake(false);
    if (!script.Expect(record.entry_found, "the library does not export " FISCAL_PLUGIN_ENTRY_SYMBOL)) return;
    if (!script.Expect(!record.threw, "the entry point let an exception cross the ABI: " + record.exception)) return;
    script.Expect(record.status == FISCAL_ERR_INCOMPATIBLE,
                  "the entry point returned status " + std::to_string(record.status) +
                      " when get_host_api returned NULL; expected FISCAL_ERR_INCOMPATIBLE");
    script.Expect(record.error_calls > 0 && !record.error_message.empty(),
                  "the entry point did not explain the refusal through access->set_error");
  });
}

TEST(FunctionTable, SizeAndVersion) {
  const fiscal_plugin_info info = GetBlock().info;
  RunChecks([info](Script& script) {
    if (!script.Open()) return;
    const fiscal_plugin_api* table = script.table();
    script.Expect(table->struct_size == info.plugin_api_size,
                  "the table's struct_size " + std::to_string(table->struct_size) +
                      " differs from plugin_api_size " + std::to_string(info.plugin_api_size) +
                      " in the compatibility block");
    script.Expect(table->abi_minor >= info.abi_minor,
                  "the table's abi_minor " + std::to_string(table->abi_minor) +
                      " is older than the block's abi_minor " + std::to_string(info.abi_minor));
  });
}

TEST(FunctionTable, EveryAbi10SlotSet) {
  RunChecks([](Script& script) {
    if (!script.Open()) return;
    const fiscal_plugin_api* table = script.table();
    script.Expect(table->create != nullptr, "the create slot is NULL");
    script.Expect(table->destroy != nullptr, "the destroy slot is NULL");
    script.Expect(table->self_test != nullptr, "the self_test slot is NULL");
    script.Expect(table->validate_location != nullptr, "the validate_location slot is NULL");
    script.Expect(table->issue_record != nullptr, "the issue_record slot is NULL");
    script.Expect(table->submit_batch != nullptr, "the submit_batch slot is NULL");
    script.Expect(table->render_receipt != nullptr, "the render_receipt slot is NULL");
  });
}

// ---------------------------------------------------------------------------------------------------
// Lifecycle and valid samples
// ---------------------------------------------------------------------------------------------------

void ExpectSelfTestPasses(Script& script, fiscal_instance* instance, const std::string& name) {
  CallRecord record = script.Call(Function::kSelfTest, name, "", instance);
  if (!script.ExpectAccepted(record)) return;
  rapidjson::Document result;
  result.Parse(record.result.data(), record.result.size());
  auto checks = result.FindMember("checks");
  script.Expect(checks != result.MemberEnd() && checks->value.IsInt() && checks->value.GetInt() >= 0,
                record.label + " must return {\"checks\": N} with N >= 0; got " + Excerpt(record.result));
}

TEST(Lifecycle, CreateSelfTestDestroy) {
  RunChecks([](Script& script) {
    if (!script.Start()) return;
    ExpectSelfTestPasses(script, script.instance(), "");
    script.Destroy(script.instance());
  });
}

TEST(Lifecycle, IndependentInstances) {
  RunChecks([](Script& script) {
    if (!script.Start()) return;
    CallRecord record;
    fiscal_instance* second = script.Create(GlobalSamples().plugin_config, "second instance", &record);
    if (!script.Expect(second != nullptr, "a second create on the sample configuration failed: " + record.message)) {
      return;
    }
    script.Expect(second != script.instance(), "create returned the same instance twice");
    ExpectSelfTestPasses(script, script.instance(), "first instance");
    ExpectSelfTestPasses(script, second, "second instance");
    script.Destroy(script.instance());
    ExpectSelfTestPasses(script, second, "second instance after the first was destroyed");
    script.Destroy(second);
  });
}

// Checks that `result` has each member in `names` with the JSON type `type`.
void ExpectMembers(Script& script, const CallRecord& record, const std::vector<const char*>& names,
                   rapidjson::Type type) {
  rapidjson::Document result;
  result.Parse(record.result.data(), record.result.size());
  if (!result.IsObject()) return;  // ExpectAccepted reported it
  static const char* const kTypeNames[] = {"null", "false", "true", "object", "array", "string", "number"};
  for (const char* name : names) {
    auto member = result.FindMember(name);
    bool matches = member != result.MemberEnd() &&
                   (member->value.GetType() == type ||
                    (type == rapidjson::kTrueType && member->value.GetType() == rapidjson::kFalseType));
    script.Expect(matches, record.label + ": the result has no " + kTypeNames[type] + " member \"" + name + "\": " +
                               Excerpt(record.result, 400));
  }
}

TEST(Samples, ValidateLocationAccepts) {
  RunChecks([](Script& script) {
    if (!script.Start()) return;
    CallRecord record = script.Call(Function::kValidateLocation, "sample", GlobalSamples().location_config);
    if (!script.ExpectAccepted(record)) return;
    ExpectMembers(script, record, {"config"}, rapidjson::kObjectType);
    ExpectMembers(script, record, {"chain_key"}, rapidjson::kStringType);
  });
}

TEST(Samples, IssueRecordAccepts) {
  RunChecks([](Script& script) {
    if (!script.Start()) return;
    CallRecord record = script.Call(Function::kIssueRecord, "sample", GlobalSamples().issue_record);
    if (!script.ExpectAccepted(record)) return;
    ExpectMembers(script, record, {"fiscal_id", "record_type", "document", "document_type", "hash", "qr_payload"},
                  rapidjson::kStringType);
    ExpectMembers(script, record, {"receipt"}, rapidjson::kObjectType);
    rapidjson::Document result;
    result.Parse(record.result.data(), record.result.size());
    script.Expect(result.IsObject() && result.HasMember("chain_state"),
                  record.label + ": the result has no member \"chain_state\"");
  });
}

TEST(Samples, RenderReceiptAccepts) {
  if (GlobalSamples().render_receipt.empty()) {
    GTEST_SKIP() << "the samples have no \"render_receipt\" input";
  }
  RunChecks([](Script& script) {
    if (!script.Start()) return;
    CallRecord record = script.Call(Function::kRenderReceipt, "sample", GlobalSamples().render_receipt);
    if (!script.ExpectAccepted(record)) return;
    ExpectMembers(script, record, {"language"}, rapidjson::kStringType);
    ExpectMembers(script, record, {"lines"}, rapidjson::kArrayType);
  });
}

TEST(Latency, IssueRecordWithinBudget) {
  const int budget_ms = GlobalOptions().issue_record_budget_ms;
  if (budget_ms <= 0) GTEST_SKIP() << "turned off with --issue-record-budget-ms=0";
  RunChecks([budget_ms](Script& script) {
    if (!script.Start()) return;
    std::vector<double> elapsed;
    for (int i = 0; i < 5; ++i) {
      CallRecord record = script.Call(Function::kIssueRecord, "sample", GlobalSamples().issue_record);
      if (!script.ExpectAccepted(record)) return;
      elapsed.push_back(record.elapsed_ms);
    }
    std::sort(elapsed.begin(), elapsed.end());
    script.Expect(elapsed[2] <= budget_ms,
                  "issue_record(sample) took " + std::to_string(elapsed[2]) + " ms (median of 5), over the budget of " +
                      std::to_string(budget_ms) + " ms; the host calls it while holding the chain lock");
  });
}

// ---------------------------------------------------------------------------------------------------
// Determinism and concurrency
// ---------------------------------------------------------------------------------------------------

TEST(Determinism, IssueRecordIsByteIdentical) {
  RunChecks([](Script& script) {
    if (!script.Start()) return;
    const std::string& input = GlobalSamples().issue_record;
    CallRecord first = script.Call(Function::kIssueRecord, "sample", input);
    if (!script.ExpectAccepted(first)) return;
    CallRecord second = script.Call(Function::kIssueRecord, "sample, again", input);
    if (!script.ExpectAccepted(second)) return;
    script.Expect(first.result == second.result, "issue_record gave two different results for the same input:\n  " +
                                                     Excerpt(first.result, 400) + "\n  " + Excerpt(second.result, 400));

    CallRecord record;
    fiscal_instance* other = script.Create(GlobalSamples().plugin_config, "second instance", &record);
    if (!script.Expect(other != nullptr, "a second create on the sample configuration failed: " + record.message)) {
      return;
    }
    CallRecord third = script.Call(Function::kIssueRecord, "sample, second instance", input, other);
    script.Destroy(other);
    if (!script.ExpectAccepted(third)) return;
    script.Expect(first.result == third.result,
                  "issue_record gave a different result on a second instance for the same input:\n  " +
                      Excerpt(first.result, 400) + "\n  " + Excerpt(third.result, 400));
  });
}

TEST(Concurrency, ParallelCallsMatchSerial) {
  const int threads = GlobalOptions().threads;
  const int calls_per_thread = GlobalOptions().calls_per_thread;
  RunChecks([threads, calls_per_thread](Script& script) {
    if (!script.Start()) return;
    const Samples& samples = GlobalSamples();
    CallRecord issue = script.Call(Function::kIssueRecord, "sample", samples.issue_record);
    if (!script.ExpectAccepted(issue)) return;
    CallRecord location = script.Call(Function::kValidateLocation, "sample", samples.location_config);
    if (!script.ExpectAccepted(location)) return;

    std::atomic<int> mismatches{0};
    std::mutex first_mismatch_mutex;
    std::string first_mismatch;
    script.sink()->BeginCall(std::to_string(threads) + " threads calling issue_record and validate_location");
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < calls_per_thread; ++i) {
          const bool issue_call = (i + t) % 2 == 0;
          const CallRecord& expected = issue_call ? issue : location;
          CallRecord got = issue_call ? script.Invoke(Function::kIssueRecord, "sample", samples.issue_record, nullptr)
                                      : script.Invoke(Function::kValidateLocation, "sample", samples.location_config,
                                                      nullptr);
          if (got.status == expected.status && got.result == expected.result && !got.threw) continue;
          mismatches.fetch_add(1);
          std::lock_guard<std::mutex> lock(first_mismatch_mutex);
          if (first_mismatch.empty()) {
            first_mismatch = got.label + " on thread " + std::to_string(t) + " returned status " +
                             std::to_string(got.status) + " with " + Excerpt(got.result.empty() ? got.message : got.result, 400);
          }
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    script.sink()->EndCall();
    script.Expect(mismatches.load() == 0, std::to_string(mismatches.load()) + " of " +
                                              std::to_string(threads * calls_per_thread) +
                                              " concurrent calls differed from the single-threaded result; first: " +
                                              first_mismatch);
  });
}

// ---------------------------------------------------------------------------------------------------
// Error reporting
// ---------------------------------------------------------------------------------------------------

void ExpectFieldNamed(Script& script, Function function, const std::string& input) {
  if (!script.Start()) return;
  CallRecord record = script.Call(function, "invalid sample", input);
  if (!script.ExpectRejected(record)) return;
  script.Expect(record.status == FISCAL_ERR_INVALID_INPUT,
                record.label + " returned status " + std::to_string(record.status) + "; expected FISCAL_ERR_INVALID_INPUT");
  script.Expect(!record.field_null && !record.field.empty(),
                record.label + " did not name the offending field in set_error; message: " + Excerpt(record.message));
}

TEST(ErrorReporting, ValidateLocationNamesField) {
  RunChecks([](Script& script) {
    ExpectFieldNamed(script, Function::kValidateLocation, GlobalSamples().invalid_location_config);
  });
}

TEST(ErrorReporting, IssueRecordNamesField) {
  RunChecks([](Script& script) {
    ExpectFieldNamed(script, Function::kIssueRecord, GlobalSamples().invalid_issue_record);
  });
}

// ---------------------------------------------------------------------------------------------------
// Malformed and hostile input
// ---------------------------------------------------------------------------------------------------

enum class Hostile {
  kEmpty,
  kNotJson,
  kTruncated,
  kNotAnObject,
  kDeeplyNested,
  kTenMegabytes,
  kInvalidUtf8,
  kNulInString,
  kNulThenGarbage,
};

const char* HostileName(Hostile kind) {
  switch (kind) {
    case Hostile::kEmpty:
      return "empty";
    case Hostile::kNotJson:
      return "not_json";
    case Hostile::kTruncated:
      return "truncated";
    case Hostile::kNotAnObject:
      return "not_an_object";
    case Hostile::kDeeplyNested:
      return "deeply_nested";
    case Hostile::kTenMegabytes:
      return "ten_megabytes";
    case Hostile::kInvalidUtf8:
      return "invalid_utf8";
    case Hostile::kNulInString:
      return "nul_in_string";
    case Hostile::kNulThenGarbage:
      return "nul_then_garbage";
  }
  return "unknown";
}

// 100,000 open brackets are 100 KB, small enough for an API request body, and deep enough to
// overflow the stack of a recursive-descent parser with no depth limit.
constexpr size_t kNestingDepth = 100000;
constexpr size_t kLargeSize = 10 * 1024 * 1024;

// Returns the valid input the hostile variants of `function` start from.
std::string BaseInput(Function function) {
  const Samples& samples = GlobalSamples();
  switch (function) {
    case Function::kCreate:
      return samples.plugin_config;
    case Function::kValidateLocation:
      return samples.location_config;
    case Function::kIssueRecord:
      return samples.issue_record;
    case Function::kRenderReceipt:
      return samples.render_receipt.empty() ? R"({"transaction":{},"record":{},"location":{}})"
                                            : samples.render_receipt;
    case Function::kSubmitBatch:
    case Function::kSelfTest:
      break;
  }
  return R"({"environment":"test","location":)" + samples.location_config + R"(,"late":false,"records":[]})";
}

// Inserts `bytes` at the start of the first string value (not key) of the JSON text `json`, or
// returns {"text":"<bytes>"} when it has no string value.
std::string InsertIntoFirstStringValue(const std::string& json, const std::string& bytes) {
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == ':') {
      size_t value = json.find_first_not_of(" \t\r\n", i + 1);
      if (value != std::string::npos && json[value] == '"') {
        return json.substr(0, value + 1) + bytes + json.substr(value + 1);
      }
    }
  }
  return "{\"text\":\"" + bytes + "\"}";
}

std::string HostileInput(Hostile kind, const std::string& base) {
  switch (kind) {
    case Hostile::kEmpty:
      return "";
    case Hostile::kNotJson:
      return "this is not JSON";
    case Hostile::kTruncated:
      return base.substr(0, base.size() / 2);
    case Hostile::kNotAnObject:
      return "[" + base + "]";
    case Hostile::kDeeplyNested:
      return "{\"nested\":" + std::string(kNestingDepth, '[');
    case Hostile::kTenMegabytes:
      return "{\"padding\":\"" + std::string(kLargeSize, 'a');
    case Hostile::kInvalidUtf8:
      // 0xC3 0x28 is a two-byte lead followed by '(' and 0xFF never occurs in UTF-8.
      return InsertIntoFirstStringValue(base, "\xC3\x28\xFF");
    case Hostile::kNulInString:
      return InsertIntoFirstStringValue(base, std::string("a\0b", 3));
    case Hostile::kNulThenGarbage:
      return base + std::string("\0{\"garbage\":", 13);
  }
  return "";
}

// Names the parameters in GoogleTest's output instead of printing their bytes.
void PrintTo(Hostile kind, std::ostream* out) { *out << HostileName(kind); }

using HostileCase = std::tuple<Function, Hostile>;

class HostileInputTest : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileInputTest, Rejected) {
  const Function function = std::get<0>(GetParam());
  const Hostile kind = std::get<1>(GetParam());
  const std::string input = HostileInput(kind, BaseInput(function));
  RunChecks([function, kind, &input](Script& script) {
    if (function == Function::kCreate) {
      if (!script.Open()) return;
      CallRecord record = script.Call(Function::kCreate, HostileName(kind), input);
      script.ExpectRejected(record);
      return;
    }
    if (!script.Start()) return;
    CallRecord record = script.Call(function, HostileName(kind), input);
    script.ExpectRejected(record);
  });
}

INSTANTIATE_TEST_SUITE_P(
    AllFunctions, HostileInputTest,
    ::testing::Combine(::testing::Values(Function::kCreate, Function::kValidateLocation, Function::kIssueRecord,
                                         Function::kSubmitBatch, Function::kRenderReceipt),
                       ::testing::Values(Hostile::kEmpty, Hostile::kNotJson, Hostile::kTruncated,
                                         Hostile::kNotAnObject, Hostile::kDeeplyNested, Hostile::kTenMegabytes,
                                         Hostile::kInvalidUtf8, Hostile::kNulInString, Hostile::kNulThenGarbage)),
    [](const ::testing::TestParamInfo<HostileCase>& info) {
      return std::string(FunctionName(std::get<0>(info.param))) + "_" + HostileName(std::get<1>(info.param));
    });

}  // namespace
}  // namespace fiscal::conformance
