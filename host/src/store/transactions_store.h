// Transactions and their fiscal records.
//
// Issue() is the heart of the server's guarantee: in ONE database transaction it locks the chain
// head, calls the plugin (through a callback) for the record that follows the previous one, stores
// the transaction, the record and its outbox entry, and advances the chain. Either all of it is
// committed or none of it, so an acknowledged sale always has its record and its place in the
// chain, and two concurrent sales can never take the same place.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/database.h"

namespace fiscal::store {

// The record a plugin produced, as the host stores it.
struct IssuedRecord {
  std::string fiscal_id, record_type, document, document_type, hash, qr_payload;
  std::string chain_state = "{}", record_data = "{}", receipt = "{}";  // JSON texts
};

// Input of the callback that builds the next record.
struct ChainPosition {
  long long chain_id = 0;
  long long sequence = 0;         // sequence of the new record
  std::string previous_state;     // JSON text, empty for the first record of the chain
  std::string transaction_id;     // the new (sale, refund) or the cancelled transaction
  std::string invoice_number;     // assigned number (sale, refund)
  std::string original_record;    // JSON {"fiscal_id","hash","record_type","record_data"} or empty
  std::string generated_at;       // RFC 3339 UTC, seconds: the record's generation time
  // Closures only: the last ticket the closure covers and that ticket's chain state (JSON text,
  // empty when the tickets chain has no record before the boundary).
  long long subject_sequence = 0;
  std::string subject_state;
  // Duplicates only: 1 for the first reprint of the transaction, then 2, 3...
  int copy_number = 0;
};

using RecordBuilder = std::function<Result<IssuedRecord>(const ChainPosition&)>;

struct IssueRequest {
  std::string account_id, location_id, environment, plugin_name, plugin_version, chain_key;
  std::string issuer_key;  // invoice numbers are unique per issuer (for Spain, the NIF)
  std::string operation;  // "sale" | "refund" | "cancel"
  int max_attempts = 50;  // sending attempts before the outbox entry is dead
  // False for locations whose records are final once signed (submission "none"): no outbox entry,
  // and the record and transaction get status "signed".
  bool submit = true;
  bool training = false;  // a training-mode sale, kept in its own chain
  // sale and refund:
  std::string invoice_series;
  std::string client_invoice_number;  // empty: assign the next number of the series
  std::string client_timestamp, currency, payment_method, pretax_amount, tax_amount, total_amount;
  std::string body_json;  // the validated request, stored with the transaction
  // refund and cancel:
  std::string original_transaction_id;
  // The idempotency key the request runs under (all empty without one); the transaction id is
  // recorded on it in the same database transaction.
  std::string idempotency_scope, idempotency_method, idempotency_path, idempotency_key;
};

struct RecordRow {
  std::string id, operation, record_type, plugin_name, plugin_version, fiscal_id, hash, qr_payload, status,
      authority_code, authority_message, authority_reference, generated_at, submitted_at, resolved_at, document,
      document_type, receipt, record_data;
  long long sequence = 0;
};

struct TransactionRow {
  std::string id, account_id, location_id, environment, type, status, invoice_number, client_timestamp, currency,
      payment_method, pretax_amount, tax_amount, total_amount, body, original_transaction_id, cancelled_at, created_at,
      updated_at;
  bool training = false;
  std::vector<RecordRow> records;  // in chain order
};

struct TransactionFilter {
  std::string location_id, status, type, from, to;  // empty = no filter
  int limit = 20;
  int offset = 0;
};

class TransactionsStore {
 public:
  explicit TransactionsStore(Database& database) : database_(database) {}

  // Stores a sale, refund or cancellation with its record, atomically (see above). Returns the
  // transaction id.
  Result<std::string> Issue(const IssueRequest& request, const RecordBuilder& build_record);

  // Returns the transaction with its records when it belongs to `account_id`, else kNotFound.
  Result<TransactionRow> Get(const std::string& account_id, const std::string& transaction_id);

  Result<std::vector<TransactionRow>> List(const std::string& account_id, const TransactionFilter& filter,
                                           long& total);

 private:
  Database& database_;
};

}  // namespace fiscal::store
