#include "plugins/issued_record.h"

#include "common/json_tree.h"

namespace fiscal::plugins {

Result<store::IssuedRecord> ParseIssuedRecord(const std::string& plugin_name, const std::string& text) {
  auto malformed = [&](const std::string& what) {
    return Status::Internal("plugin " + plugin_name + " returned a malformed issue_record result: " + what);
  };
  Result<json::Node> parsed = json::Parse(text, "issue_record result");
  if (!parsed.ok()) return malformed(parsed.status().message());

  store::IssuedRecord record;
  struct Field {
    const char* name;
    std::string* target;
    bool required;
  } strings[] = {{"fiscal_id", &record.fiscal_id, true},   {"record_type", &record.record_type, true},
                 {"document", &record.document, true},     {"document_type", &record.document_type, true},
                 {"hash", &record.hash, true},             {"qr_payload", &record.qr_payload, false}};
  for (const Field& field : strings) {
    const json::Node* node = parsed->Find(field.name);
    if (node == nullptr || !node->IsString()) {
      if (field.required) return malformed(std::string("\"") + field.name + "\" is missing or not a string");
      continue;
    }
    *field.target = node->text();
  }
  struct Document {
    const char* name;
    std::string* target;
  } documents[] = {{"chain_state", &record.chain_state}, {"record_data", &record.record_data}, {"receipt", &record.receipt}};
  for (const Document& document : documents) {
    const json::Node* node = parsed->Find(document.name);
    if (node == nullptr || !node->IsObject()) return malformed(std::string("\"") + document.name + "\" is not an object");
    *document.target = node->ToJson();
  }
  return record;
}

}  // namespace fiscal::plugins
