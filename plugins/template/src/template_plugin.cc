// Template country plugin: the smallest plugin that does the whole job, to copy for a new country.
//
// Its "record" is a text line with the sale's invoice number and total, chained with SHA-256 to
// the previous record's hash. A real plugin replaces BuildRecord with its authority's format and
// SubmitBatch with its authority's protocol.
#include <openssl/evp.h>

#include <fiscal/plugin_sdk.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace {

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

// Returns the string value of "key" in a flat JSON text, or "". A real plugin uses a JSON parser
// (RapidJSON is header-only); this keeps the template free of dependencies.
std::string FindString(std::string_view json, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\":\"";
  size_t start = json.find(needle);
  if (start == std::string_view::npos) return "";
  start += needle.size();
  size_t end = json.find('"', start);
  return end == std::string_view::npos ? "" : std::string(json.substr(start, end - start));
}

class TemplatePlugin {
 public:
  static fiscal_status Create(std::string_view, fiscal::sdk::Call&, std::unique_ptr<TemplatePlugin>& out) {
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

  fiscal_status ValidateLocation(std::string_view config, fiscal::sdk::Call& call) {
    std::string tax_id = FindString(config, "tax_id");
    if (tax_id.empty()) {
      return call.Fail(FISCAL_ERR_INVALID_INPUT, "tax_id", "tax_id is required: the seller's tax number");
    }
    return call.Result("{\"config\":{\"system\":\"template\",\"tax_id\":\"" + tax_id + "\"},\"chain_key\":\"" +
                       tax_id + "\"}");
  }

  fiscal_status IssueRecord(std::string_view input, fiscal::sdk::Call& call) {
    std::string number = FindString(input, "invoice_number");
    std::string total = FindString(input, "total_amount");
    std::string previous = FindString(input, "last_hash");
    std::string document = number + "|" + total + "|" + previous;
    std::string hash = Sha256Hex(document);
    return call.Result("{\"fiscal_id\":\"" + number + "\",\"record_type\":\"sale\",\"document\":\"" + document +
                       "\",\"document_type\":\"text/plain\",\"hash\":\"" + hash +
                       "\",\"qr_payload\":\"\",\"chain_state\":{\"last_hash\":\"" + hash +
                       "\"},\"record_data\":{},\"receipt\":{}}");
  }

  fiscal_status SubmitBatch(std::string_view, fiscal::sdk::Call& call) {
    return call.Fail(FISCAL_ERR_UNSUPPORTED, {}, "the template plugin reports to no authority");
  }

  fiscal_status RenderReceipt(std::string_view, fiscal::sdk::Call& call) {
    return call.Result("{\"language\":\"en\",\"title\":\"Receipt\",\"lines\":[]}");
  }
};

}  // namespace

FISCAL_SDK_DEFINE_PLUGIN(TemplatePlugin, "template", "XX", "0.1.0")
