// Reads the result document of a plugin's issue_record call into the form the stores keep.
#pragma once

#include <string>

#include "common/status.h"
#include "store/transactions_store.h"

namespace fiscal::plugins {

// Parses {"fiscal_id", "record_type", "document", "document_type", "hash", "qr_payload"?,
// "chain_state": {}, "record_data": {}, "receipt": {}}. A missing or mistyped member is a plugin
// bug: kInternal naming the plugin and the member.
Result<store::IssuedRecord> ParseIssuedRecord(const std::string& plugin_name, const std::string& text);

}  // namespace fiscal::plugins
