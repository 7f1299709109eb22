// Template country plugin: the smallest plugin that does the whole job, to copy for a new country.
//
// Its "record" is a text line with the seller's tax id, the invoice number, the issue time and the
// total, chained with SHA-256 to the previous record's hash. A real plugin replaces BuildDocument
// with its authority's record format and SubmitBatch with its authority's protocol.
//
// Every input is parsed strictly (see ParseObject), because the conformance kit sends malformed and
// hostile documents to every function and expects a clean FISCAL_ERR_INVALID_INPUT each time.
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fiscal/plugin_sdk.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace {

using rapidjson::Value;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr size_t kMaxTaxIdLength = 32;
constexpr size_t kMaxInvoiceNumberLength = 64;

std::string Sha256Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kDigits[digest[i] >> 4]);
    hex.push_back(kDigits[digest[i] & 0xF]);
  }
  return hex;
}

// Parses `text` as one JSON object. The iterative parser keeps deeply nested input off the call
// stack, encoding validation rejects invalid UTF-8, and the explicit NUL check stops RapidJSON from
// taking a NUL byte for the end of the input and ignoring what follows it.
fiscal_status ParseObject(std::string_view text, std::string_view what, rapidjson::Document& document,
                          fiscal::sdk::Call& call) {
  if (text.find('\0') != std::string_view::npos) {
    return call.Fail(FISCAL_ERR_INVALID_INPUT, {}, std::string(what) + " contains a NUL byte");
  }
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  document.Parse<kFlags>(text.data(), text.size());
  if (document.HasParseError()) {
    return call.Fail(FISCAL_ERR_INVALID_INPUT, {},
                     std::string(what) + " is not valid JSON: " + rapidjson::GetParseError_En(document.GetParseError()) +
                         " (at byte " + std::to_string(document.GetErrorOffset()) + ")");
  }
  if (!document.IsObject()) {
    return call.Fail(FISCAL_ERR_INVALID_INPUT, {}, std::string(what) + " must be a JSON object");
  }
  return FISCAL_OK;
}

// Reads the string member `name` of `object` into `out`. `path` is the member's JSON path for the
// error message.
fiscal_status RequireString(const Value& object, const char* name, const std::string& path, size_t max_length,
                            std::string& out, fiscal::sdk::Call& call) {
  auto member = object.FindMember(name);
  if (member == object.MemberEnd()) {
    return call.Fail(FISCAL_ERR_INVALID_INPUT, path, path + " is required");
  }
  if (!member->value.IsString() || member->value.GetStringLength() == 0) {
    return call.Fail(FISCAL_ERR_INVALID_INPUT, path, path + " must be a non-empty string");
  }
  if (member->value.GetStringLength() > max_length) {
    return call.Fail(FISCAL_ERR_INVALID_INPUT, path,
                     path + " is longer than " + std::to_string(max_length) + " characters");
  }
  out.assign(member->value.GetString(), member->value.GetStringLength());
  return FISCAL_OK;
}

const Value* FindObject(const Value& object, const char* name) {
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsObject()) return nullptr;
  return &member->value;
}

// An amount is a decimal string with at most two decimals, as plugin_abi.h requires of every amount.
bool IsDecimalAmount(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  size_t digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  if (digits == 0 || digits > 15) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  ++i;
  size_t decimals = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++decimals;
  return i == text.size() && decimals >= 1 && decimals <= 2;
}

bool IsTaxId(std::string_view text) {
  for (char c : text) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return !text.empty();
}

std::string BuildDocument(const std::string& tax_id, const std::string& number, const std::string& now,
                          const std::string& total, const std::string& previous_hash) {
  return tax_id + "|" + number + "|" + now + "|" + total + "|" + previous_hash;
}

class TemplatePlugin {
 public:
  // The template takes no settings, so its configuration must be an empty JSON object.
  static fiscal_status Create(std::string_view config, fiscal::sdk::Call& call, std::unique_ptr<TemplatePlugin>& out) {
    rapidjson::Document document;
    if (fiscal_status status = ParseObject(config, "the plugin configuration", document, call)) return status;
    if (document.MemberCount() != 0) {
      std::string name = document.MemberBegin()->name.GetString();
      return call.Fail(FISCAL_ERR_INVALID_INPUT, "config." + name, "unknown setting \"" + name + "\"");
    }
    out = std::make_unique<TemplatePlugin>();
    return FISCAL_OK;
  }

  fiscal_status SelfTest(fiscal::sdk::Call& call) {
    // Known answer: SHA-256 of "abc" (FIPS 180-2 example).
    if (Sha256Hex("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
      return call.Fail(FISCAL_ERR_INTERNAL, {}, "SHA-256 known-answer test failed");
    }
    return call.Result("{\"checks\":1}");
  }

  // Input: {"tax_id": "B12345678"} plus an optional "system": "template".
  fiscal_status ValidateLocation(std::string_view config_json, fiscal::sdk::Call& call) {
    rapidjson::Document config;
    if (fiscal_status status = ParseObject(config_json, "country_config", config, call)) return status;
    for (auto it = config.MemberBegin(); it != config.MemberEnd(); ++it) {
      std::string name(it->name.GetString(), it->name.GetStringLength());
      if (name != "tax_id" && name != "system") {
        return call.Fail(FISCAL_ERR_INVALID_INPUT, "country_config." + name, "unknown key \"" + name + "\"");
      }
    }
    std::string tax_id;
    if (fiscal_status status = RequireString(config, "tax_id", "country_config.tax_id", kMaxTaxIdLength, tax_id, call)) {
      return status;
    }
    if (!IsTaxId(tax_id)) {
      return call.Fail(FISCAL_ERR_INVALID_INPUT, "country_config.tax_id",
                       "country_config.tax_id may contain only A-Z and 0-9");
    }

    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("config");
    writer.StartObject();
    writer.Key("system");
    writer.String("template");
    writer.Key("tax_id");
    writer.String(tax_id.c_str(), tax_id.size());
    writer.EndObject();
    writer.Key("chain_key");
    writer.String(tax_id.c_str(), tax_id.size());
    writer.EndObject();
    return call.Result(std::string_view(buffer.GetString(), buffer.GetSize()));
  }

  // Reads location.tax_id, transaction.invoice_number, transaction.total_amount, now and
  // chain.previous.last_hash (chain.previous is null for the first record of a chain).
  fiscal_status IssueRecord(std::string_view input_json, fiscal::sdk::Call& call) {
    rapidjson::Document input;
    if (fiscal_status status = ParseObject(input_json, "the issue_record input", input, call)) return status;

    std::string operation;
    if (fiscal_status status = RequireString(input, "operation", "operation", 16, operation, call)) return status;
    if (operation != "sale") {
      return call.Fail(FISCAL_ERR_UNSUPPORTED, "operation", "the template plugin issues only sales, not " + operation);
    }
    std::string now;
    if (fiscal_status status = RequireString(input, "now", "now", 40, now, call)) return status;

    const Value* location = FindObject(input, "location");
    if (location == nullptr) return call.Fail(FISCAL_ERR_INVALID_INPUT, "location", "location must be an object");
    std::string tax_id;
    if (fiscal_status status = RequireString(*location, "tax_id", "location.tax_id", kMaxTaxIdLength, tax_id, call)) {
      return status;
    }

    const Value* transaction = FindObject(input, "transaction");
    if (transaction == nullptr) {
      return call.Fail(FISCAL_ERR_INVALID_INPUT, "transaction", "transaction must be an object");
    }
    std::string number;
    if (fiscal_status status = RequireString(*transaction, "invoice_number", "transaction.invoice_number",
                                             kMaxInvoiceNumberLength, number, call)) {
      return status;
    }
    std::string total;
    if (fiscal_status status =
            RequireString(*transaction, "total_amount", "transaction.total_amount", 20, total, call)) {
      return status;
    }
    if (!IsDecimalAmount(total)) {
      return call.Fail(FISCAL_ERR_INVALID_INPUT, "transaction.total_amount",
                       "transaction.total_amount must be a decimal string such as \"12.10\"");
    }

    const Value* chain = FindObject(input, "chain");
    if (chain == nullptr) return call.Fail(FISCAL_ERR_INVALID_INPUT, "chain", "chain must be an object");
    std::string previous_hash;
    auto previous = chain->FindMember("previous");
    if (previous != chain->MemberEnd() && !previous->value.IsNull()) {
      if (!previous->value.IsObject()) {
        return call.Fail(FISCAL_ERR_INVALID_INPUT, "chain.previous", "chain.previous must be an object or null");
      }
      if (fiscal_status status = RequireString(previous->value, "last_hash", "chain.previous.last_hash", 64,
                                               previous_hash, call)) {
        return status;
      }
    }

    std::string document = BuildDocument(tax_id, number, now, total, previous_hash);
    std::string hash = Sha256Hex(document);

    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("fiscal_id");
    writer.String(number.c_str(), number.size());
    writer.Key("record_type");
    writer.String("sale");
    writer.Key("document");
    writer.String(document.c_str(), document.size());
    writer.Key("document_type");
    writer.String("text/plain");
    writer.Key("hash");
    writer.String(hash.c_str(), hash.size());
    writer.Key("qr_payload");
    writer.String("");
    writer.Key("chain_state");
    writer.StartObject();
    writer.Key("last_hash");
    writer.String(hash.c_str(), hash.size());
    writer.EndObject();
    writer.Key("receipt");
    writer.StartObject();
    writer.Key("tax_id");
    writer.String(tax_id.c_str(), tax_id.size());
    writer.EndObject();
    writer.EndObject();
    return call.Result(std::string_view(buffer.GetString(), buffer.GetSize()));
  }

  fiscal_status SubmitBatch(std::string_view input_json, fiscal::sdk::Call& call) {
    rapidjson::Document input;
    if (fiscal_status status = ParseObject(input_json, "the submit_batch input", input, call)) return status;
    return call.Fail(FISCAL_ERR_UNSUPPORTED, {}, "the template plugin reports to no authority");
  }

  // Reads record.fiscal_id, record.hash and transaction.total_amount.
  fiscal_status RenderReceipt(std::string_view input_json, fiscal::sdk::Call& call) {
    rapidjson::Document input;
    if (fiscal_status status = ParseObject(input_json, "the render_receipt input", input, call)) return status;
    const Value* record = FindObject(input, "record");
    if (record == nullptr) return call.Fail(FISCAL_ERR_INVALID_INPUT, "record", "record must be an object");
    const Value* transaction = FindObject(input, "transaction");
    if (transaction == nullptr) {
      return call.Fail(FISCAL_ERR_INVALID_INPUT, "transaction", "transaction must be an object");
    }
    std::string fiscal_id;
    if (fiscal_status status =
            RequireString(*record, "fiscal_id", "record.fiscal_id", kMaxInvoiceNumberLength, fiscal_id, call)) {
      return status;
    }
    std::string hash;
    if (fiscal_status status = RequireString(*record, "hash", "record.hash", 64, hash, call)) return status;
    std::string total;
    if (fiscal_status status =
            RequireString(*transaction, "total_amount", "transaction.total_amount", 20, total, call)) {
      return status;
    }

    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    writer.Key("language");
    writer.String("en");
    writer.Key("title");
    writer.String("Receipt");
    writer.Key("lines");
    writer.StartArray();
    std::string invoice_line = "Invoice " + fiscal_id;
    writer.String(invoice_line.c_str(), invoice_line.size());
    std::string total_line = "Total " + total;
    writer.String(total_line.c_str(), total_line.size());
    writer.EndArray();
    writer.Key("qr_caption_before");
    writer.String("");
    writer.Key("qr_caption_after");
    std::string hash_line = "Record hash " + hash.substr(0, 16);
    writer.String(hash_line.c_str(), hash_line.size());
    writer.EndObject();
    return call.Result(std::string_view(buffer.GetString(), buffer.GetSize()));
  }
};

}  // namespace

// The name and version must equal those given to fiscal_plugin_sdk_add_plugin in CMakeLists.txt.
FISCAL_SDK_DEFINE_PLUGIN(TemplatePlugin, "template", "XX", "0.1.0")
