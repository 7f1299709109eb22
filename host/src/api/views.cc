#include "api/views.h"

#include "common/json.h"
#include "common/json_tree.h"

namespace fiscal::api {
namespace {

using json::Quote;

std::string OrNull(const std::string& text) { return text.empty() ? "null" : Quote(text); }

// Amounts leave the database as exact text ("8.00") and are written as JSON numbers with that text.
std::string Amount(const std::string& text) { return text.empty() ? "null" : text; }

// Returns a member of a stored JSON document as JSON text, or "null".
std::string Member(const std::string& document, const char* name) {
  Result<json::Node> parsed = json::Parse(document, "stored document");
  if (!parsed.ok()) return "null";
  const json::Node* node = parsed->Find(name);
  return node == nullptr ? "null" : node->ToJson();
}

}  // namespace

std::string AccountJson(const store::AccountRow& account) {
  return "{\"id\":" + Quote(account.id) + ",\"object\":\"account\",\"name\":" + Quote(account.name) +
         ",\"billing_email\":" + Quote(account.billing_email) + ",\"status\":" + Quote(account.status) +
         ",\"created_at\":" + Quote(account.created_at) + "}";
}

std::string ApiKeyJson(const store::ApiKeyRow& key, const std::string& plain_key) {
  std::string out = "{\"id\":" + Quote(key.id) + ",\"object\":\"api_key\",\"name\":" + OrNull(key.name) +
                    ",\"key_prefix\":" + Quote(key.key_prefix) + ",\"environment\":" + Quote(key.environment) +
                    ",\"key_type\":" + Quote(key.key_type) + ",\"created_at\":" + Quote(key.created_at);
  if (!plain_key.empty()) out += ",\"key\":" + Quote(plain_key);
  return out + "}";
}

std::string LocationJson(const store::LocationRow& location) {
  return "{\"id\":" + Quote(location.id) + ",\"object\":\"location\",\"account_id\":" + Quote(location.account_id) +
         ",\"name\":" + Quote(location.name) + ",\"country\":" + Quote(location.country) + ",\"address\":" +
         OrNull(location.address) + ",\"tax_id\":" + OrNull(location.tax_id) + ",\"country_config\":" +
         location.country_config + ",\"plugin\":" + Quote(location.plugin_name) + ",\"signing_key_id\":" +
         Member(location.profile, "signing_key_id") + ",\"status\":" +
         Quote(location.status) + ",\"created_at\":" + Quote(location.created_at) + ",\"updated_at\":" +
         Quote(location.updated_at) + "}";
}

std::string RecordJson(const store::RecordRow& record, const std::string& transaction_id) {
  return "{\"id\":" + Quote(record.id) + ",\"operation\":" + Quote(record.operation) + ",\"record_type\":" +
         Quote(record.record_type) + ",\"sequence\":" + std::to_string(record.sequence) + ",\"fiscal_id\":" +
         Quote(record.fiscal_id) + ",\"hash\":" + Quote(record.hash) + ",\"qr_payload\":" + OrNull(record.qr_payload) +
         ",\"status\":" + Quote(record.status) + ",\"authority_code\":" + OrNull(record.authority_code) +
         ",\"authority_message\":" + OrNull(record.authority_message) + ",\"authority_reference\":" +
         OrNull(record.authority_reference) + ",\"plugin\":{\"name\":" + Quote(record.plugin_name) + ",\"version\":" +
         Quote(record.plugin_version) + "},\"generated_at\":" + Quote(record.generated_at) + ",\"submitted_at\":" +
         OrNull(record.submitted_at) + ",\"resolved_at\":" + OrNull(record.resolved_at) + ",\"document_url\":" +
         Quote("/v1/transactions/" + transaction_id + "/document" + (record.operation == "cancel" ? "?record=cancel" : "")) +
         "}";
}

std::string TransactionJson(const store::TransactionRow& t) {
  const store::RecordRow* own = nullptr;
  const store::RecordRow* cancel = nullptr;
  int duplicates = 0;
  for (const store::RecordRow& record : t.records) {
    if (record.operation == "cancel") {
      cancel = &record;
    } else if (record.operation == "duplicate") {
      ++duplicates;
    } else {
      own = &record;
    }
  }
  // Countries that print a signature extract (France) keep it in the record data.
  std::string extract = own ? Member(own->record_data, "extract") : "null";
  // Records final once signed (France) are sent nowhere, not even to an emulator.
  std::string sandbox_mode = t.environment == "test" && t.status != "signed" ? "\"emulator\"" : "null";

  std::string out = "{\"id\":" + Quote(t.id) + ",\"object\":\"transaction\",\"location_id\":" + Quote(t.location_id) +
                    ",\"environment\":" + Quote(t.environment) + ",\"sandbox_mode\":" + sandbox_mode +
                    ",\"type\":" + Quote(t.type) +
                    ",\"status\":" + Quote(t.status) + ",\"training\":" + (t.training ? "true" : "false") +
                    ",\"cancelled\":" + (t.cancelled_at.empty() ? "false" : "true") +
                    ",\"invoice_number\":" + Quote(t.invoice_number) + ",\"fiscal_id\":" +
                    (own ? Quote(own->fiscal_id) : "null") + ",\"hash\":" + (own ? Quote(own->hash) : "null") +
                    ",\"qr_payload\":" + (own ? OrNull(own->qr_payload) : "null") + ",\"authority_reference\":" +
                    (own ? OrNull(own->authority_reference) : "null") + ",\"signature_extract\":" + extract +
                    ",\"duplicates\":" + std::to_string(duplicates) + ",\"timestamp\":" + Quote(t.client_timestamp) +
                    ",\"currency\":" + Quote(t.currency) + ",\"payment_method\":" + Quote(t.payment_method) +
                    ",\"pretax_amount\":" + Amount(t.pretax_amount) + ",\"tax_amount\":" + Amount(t.tax_amount) +
                    ",\"total_amount\":" + Amount(t.total_amount) + ",\"items\":" + Member(t.body, "items") +
                    ",\"customer\":" + Member(t.body, "customer") + ",\"original_transaction_id\":" +
                    OrNull(t.original_transaction_id) + ",\"fiscal_record\":" +
                    (own ? RecordJson(*own, t.id) : "null") + ",\"cancellation\":" +
                    (cancel ? RecordJson(*cancel, t.id) : "null") + ",\"receipt_url\":" +
                    Quote("/v1/transactions/" + t.id + "/receipt") + ",\"cancelled_at\":" + OrNull(t.cancelled_at) +
                    ",\"created_at\":" + Quote(t.created_at) + ",\"updated_at\":" + Quote(t.updated_at) + "}";
  return out;
}

std::string PageJson(const std::string& items, long total, int limit, int offset) {
  return "{\"data\":[" + items + "],\"total\":" + std::to_string(total) + ",\"limit\":" + std::to_string(limit) +
         ",\"offset\":" + std::to_string(offset) + "}";
}

}  // namespace fiscal::api
