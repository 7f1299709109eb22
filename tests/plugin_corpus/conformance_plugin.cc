// A plugin that passes the conformance kit (plugin-api/conformance) with its built-in samples,
// compiled into several corpus libraries that each break one rule the kit checks. Each CORPUS_*
// macro (set by CMakeLists.txt) selects one fault; with none set the plugin conforms. The kit's
// CTest tests assert that each faulty library fails exactly the checks its fault breaks.
//
//   CORPUS_LEAKS             issue_record leaks 64 bytes per call (found only under valgrind)
//   CORPUS_CRASHES           issue_record writes through a null pointer when its input is not JSON
//   CORPUS_NULL_TABLE        the entry point returns FISCAL_OK without a function table
//   CORPUS_BLOCKS            issue_record sleeps for up to 60 seconds
//   CORPUS_THROWS_ACROSS_ABI issue_record lets a C++ exception escape into the host
//
// The input format is the template plugin's (plugins/template), which the kit's built-in samples
// use.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fiscal/plugin_sdk.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#ifndef CORPUS_NAME
#define CORPUS_NAME "corpus-conformant"
#endif

namespace {

using rapidjson::Value;

// Parses `text` as one JSON object: no NUL bytes, valid UTF-8, no recursion on nesting.
bool ParseObject(std::string_view text, rapidjson::Document& document) {
  if (text.find('\0') != std::string_view::npos) return false;
  document.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !document.HasParseError() && document.IsObject();
}

// Returns the non-empty string at `object`.`name`, or nullptr.
const char* StringMember(const Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString() || member->value.GetStringLength() == 0) {
    return nullptr;
  }
  return member->value.GetString();
}

const Value& ObjectMember(const Value& object, const char* name) {
  static const Value kNull;
  if (!object.IsObject()) return kNull;
  auto member = object.FindMember(name);
  return member == object.MemberEnd() ? kNull : member->value;
}

fiscal_status Malformed(fiscal::sdk::Call& call, std::string_view what) {
  return call.Fail(FISCAL_ERR_INVALID_INPUT, {}, std::string(what) + " is not a JSON object");
}

class ConformantPlugin {
 public:
  static fiscal_status Create(std::string_view config, fiscal::sdk::Call& call, std::unique_ptr<ConformantPlugin>& out) {
    rapidjson::Document document;
    if (!ParseObject(config, document)) return Malformed(call, "the plugin configuration");
    out = std::make_unique<ConformantPlugin>();
    return FISCAL_OK;
  }

  fiscal_status SelfTest(fiscal::sdk::Call& call) { return call.Result(R"({"checks":0})"); }

  fiscal_status ValidateLocation(std::string_view input, fiscal::sdk::Call& call) {
    rapidjson::Document document;
    if (!ParseObject(input, document)) return Malformed(call, "country_config");
    const char* tax_id = StringMember(document, "tax_id");
    if (tax_id == nullptr) return call.Fail(FISCAL_ERR_INVALID_INPUT, "country_config.tax_id", "tax_id is required");
    return call.Result(Json({"chain_key", tax_id}));
  }

  fiscal_status IssueRecord(std::string_view input, fiscal::sdk::Call& call) {
#if defined(CORPUS_LEAKS)
    // Allocated, written and dropped: valgrind reports it as definitely lost.
    char* leaked = static_cast<char*>(std::malloc(64));
    if (leaked != nullptr) std::memset(leaked, 'x', 64);
#endif
#if defined(CORPUS_BLOCKS)
    for (int second = 0; second < 60; ++second) std::this_thread::sleep_for(std::chrono::seconds(1));
#endif
    rapidjson::Document document;
    if (!ParseObject(input, document)) {
#if defined(CORPUS_CRASHES)
      if (input.find('\0') == std::string_view::npos) {
        volatile int* null_pointer = nullptr;
        *null_pointer = 1;
      }
#endif
      return Malformed(call, "the issue_record input");
    }
    const char* number = StringMember(ObjectMember(document, "transaction"), "invoice_number");
    if (number == nullptr) {
      return call.Fail(FISCAL_ERR_INVALID_INPUT, "transaction.invoice_number", "transaction.invoice_number is required");
    }
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    for (const char* name : {"fiscal_id", "document", "hash"}) {
      writer.Key(name);
      writer.String(number);
    }
    writer.Key("record_type");
    writer.String("sale");
    writer.Key("document_type");
    writer.String("text/plain");
    writer.Key("qr_payload");
    writer.String("");
    writer.Key("chain_state");
    writer.StartObject();
    writer.EndObject();
    writer.Key("receipt");
    writer.StartObject();
    writer.EndObject();
    writer.EndObject();
    return call.Result(std::string_view(buffer.GetString(), buffer.GetSize()));
  }

  fiscal_status SubmitBatch(std::string_view input, fiscal::sdk::Call& call) {
    rapidjson::Document document;
    if (!ParseObject(input, document)) return Malformed(call, "the submit_batch input");
    return call.Fail(FISCAL_ERR_UNSUPPORTED, {}, "the corpus plugin reports to no authority");
  }

  fiscal_status RenderReceipt(std::string_view input, fiscal::sdk::Call& call) {
    rapidjson::Document document;
    if (!ParseObject(input, document)) return Malformed(call, "the render_receipt input");
    const char* fiscal_id = StringMember(ObjectMember(document, "record"), "fiscal_id");
    if (fiscal_id == nullptr) return call.Fail(FISCAL_ERR_INVALID_INPUT, "record.fiscal_id", "record.fiscal_id is required");
    return call.Result(R"({"language":"en","title":"Receipt","lines":[]})");
  }

 private:
  // Writes {"config":{},"<key>":"<value>"}.
  static std::string Json(std::pair<const char*, const char*> member) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("config");
    writer.StartObject();
    writer.EndObject();
    writer.Key(member.first);
    writer.String(member.second);
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }
};

using Adapter = fiscal::sdk::detail::Adapter<ConformantPlugin>;

#if defined(CORPUS_THROWS_ACROSS_ABI)
// Unlike the SDK's adapter, no try/catch: the exception leaves the plugin.
fiscal_status ThrowingIssueRecord(fiscal_instance*, const char*, size_t, fiscal_call*) {
  throw std::runtime_error("corpus plugin: issue_record throws across the ABI");
}
#endif

}  // namespace

FISCAL_PLUGIN_DECLARE(CORPUS_NAME, "XX", "1.0.0", 0);

FISCAL_PLUGIN_ENTRY {
  fiscal_status status = Adapter::Entry(access, out_api, 0);
  if (status != FISCAL_OK) return status;
#if defined(CORPUS_NULL_TABLE)
  *out_api = nullptr;
#elif defined(CORPUS_THROWS_ACROSS_ABI)
  static const fiscal_plugin_api table = [] {
    fiscal_plugin_api copy = *Adapter::Table();
    copy.issue_record = &ThrowingIssueRecord;
    return copy;
  }();
  *out_api = &table;
#endif
  return FISCAL_OK;
}
