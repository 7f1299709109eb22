#include "store/transactions_store.h"

#include <cstdio>
#include <map>

#include <soci/soci.h>

#include "common/json.h"
#include "store/accounts_store.h"
#include "store/chains.h"

namespace fiscal::store {
namespace {

bool InvoiceNumberUsed(soci::session& session, const IssueRequest& request, const std::string& number) {
  int used = 0;
  session << "SELECT count(*) FROM invoice_numbers WHERE plugin_name = :p AND environment = :e AND issuer_key = :i "
             "AND invoice_number = :n",
      soci::use(request.plugin_name), soci::use(request.environment), soci::use(request.issuer_key), soci::use(number),
      soci::into(used);
  return used > 0;
}

// Assigns the next free number of the issuer's series. A number a client already chose by hand is
// skipped, so hand-picked numbers never block automatic numbering. The counter row stays locked
// until commit, so two installations of one issuer never get the same number.
Result<std::string> NextInvoiceNumber(soci::session& session, const IssueRequest& request) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    long long number = 0;
    session << "INSERT INTO issuer_invoice_counters (plugin_name, environment, issuer_key, series, last_number) "
               "VALUES (:p, :e, :i, :s, 1) ON CONFLICT (plugin_name, environment, issuer_key, series) "
               "DO UPDATE SET last_number = issuer_invoice_counters.last_number + 1 RETURNING last_number",
        soci::use(request.plugin_name), soci::use(request.environment), soci::use(request.issuer_key),
        soci::use(request.invoice_series), soci::into(number);
    char digits[32];
    std::snprintf(digits, sizeof(digits), "%08lld", number);
    std::string candidate = request.invoice_series + digits;
    if (!InvoiceNumberUsed(session, request, candidate)) return candidate;
  }
  return Status::Conflict("invoice_numbers_exhausted", "no free invoice number found in series \"" +
                                                           request.invoice_series + "\" after 1000 tries");
}

// Reads the record of the original transaction that a refund or cancellation refers to.
Status LoadOriginal(soci::session& session, const IssueRequest& request, ChainPosition& position,
                    std::string& original_type) {
  soci::row row;
  session << "SELECT t.type, CASE WHEN t.cancelled_at IS NULL THEN 'no' ELSE 'yes' END, t.location_id::text, r.fiscal_id, r.hash, r.record_type, "
             "r.record_data::text, r.status, t.training::int FROM transactions t JOIN fiscal_records r ON r.transaction_id = t.id AND "
             "r.operation IN ('sale', 'refund') WHERE t.id = :t::uuid AND t.account_id = :a::uuid FOR UPDATE OF t",
      soci::use(request.original_transaction_id), soci::use(request.account_id), soci::into(row);
  if (!session.got_data()) {
    return Status::NotFound("transaction " + request.original_transaction_id + " not found");
  }
  original_type = row.get<std::string>(0);
  bool cancelled = row.get<std::string>(1) == "yes";
  if (cancelled) {
    return Status::Conflict("already_cancelled", "transaction " + request.original_transaction_id +
                                                     " is cancelled; it cannot be cancelled or refunded again");
  }
  if (row.get<std::string>(7) == "rejected") {
    return Status::Conflict("original_rejected", "the authority rejected the record of transaction " +
                                                     request.original_transaction_id +
                                                     ", so it holds nothing to cancel or refund");
  }
  if ((row.get<int>(8) != 0) != request.training) {
    return Status::InvalidArgument("original_transaction_id",
                                   request.training ? "the original transaction is not a training transaction"
                                                    : "the original transaction is a training transaction; refund or "
                                                      "cancel it in training mode");
  }
  if (row.get<std::string>(2) != request.location_id) {
    return Status::InvalidArgument("original_transaction_id",
                                   "the original transaction belongs to another location; refund it there");
  }
  position.original_record = "{\"fiscal_id\":" + json::Quote(row.get<std::string>(3)) + ",\"hash\":" +
                             json::Quote(row.get<std::string>(4)) + ",\"record_type\":" +
                             json::Quote(row.get<std::string>(5)) + ",\"record_data\":" + row.get<std::string>(6) + "}";
  return Status::Ok();
}

Status CheckRefundable(soci::session& session, const IssueRequest& request, const std::string& original_type) {
  if (original_type != "sale") {
    return Status::InvalidArgument("original_transaction_id", "only a sale can be refunded, not a " + original_type);
  }
  // The refunds of a sale, this one included, may not exceed what was sold.
  std::string remaining;
  session << "SELECT (o.total_amount - coalesce((SELECT sum(r.total_amount) FROM transactions r "
             "WHERE r.original_transaction_id = o.id AND r.cancelled_at IS NULL), 0) - :amount::numeric)::text "
             "FROM transactions o WHERE o.id = :t::uuid",
      soci::use(request.total_amount), soci::use(request.original_transaction_id), soci::into(remaining);
  if (!remaining.empty() && remaining[0] == '-') {
    return Status::InvalidArgument("total_amount", "the refund exceeds what remains of the original sale (" +
                                                       remaining.substr(1) + " too much)");
  }
  return Status::Ok();
}

// Reads the record columns of `row` (kRecordColumns), which start at column `first`.
RecordRow ReadRecord(const soci::row& row, int first = 0) {
  RecordRow record;
  int i = first;
  record.id = row.get<std::string>(i++);
  record.operation = row.get<std::string>(i++);
  record.record_type = row.get<std::string>(i++);
  record.plugin_name = row.get<std::string>(i++);
  record.plugin_version = row.get<std::string>(i++);
  record.fiscal_id = row.get<std::string>(i++);
  record.hash = row.get<std::string>(i++);
  record.qr_payload = row.get<std::string>(i++);
  record.status = row.get<std::string>(i++);
  record.authority_code = row.get<std::string>(i++);
  record.authority_message = row.get<std::string>(i++);
  record.authority_reference = row.get<std::string>(i++);
  record.generated_at = row.get<std::string>(i++);
  record.submitted_at = row.get<std::string>(i++);
  record.resolved_at = row.get<std::string>(i++);
  record.document = row.get<std::string>(i++);
  record.document_type = row.get<std::string>(i++);
  record.receipt = row.get<std::string>(i++);
  record.record_data = row.get<std::string>(i++);
  record.sequence = row.get<long long>(i++);
  return record;
}

const char* kRecordColumns =
    "id::text, operation, record_type, plugin_name, plugin_version, fiscal_id, hash, qr_payload, status, "
    "coalesce(authority_code, ''), coalesce(authority_message, ''), coalesce(authority_reference, ''), "
    FISCAL_SQL_TIME("generated_at") ", coalesce(" FISCAL_SQL_TIME("submitted_at") ", ''), "
    "coalesce(" FISCAL_SQL_TIME("resolved_at") ", ''), document, document_type, receipt::text, record_data::text, sequence";

const char* kTransactionColumns =
    "id::text, account_id::text, location_id::text, environment, type, status, invoice_number, "
    FISCAL_SQL_TIME("client_timestamp") ", currency, payment_method, pretax_amount::text, tax_amount::text, "
    "total_amount::text, body::text, coalesce(original_transaction_id::text, ''), "
    "coalesce(" FISCAL_SQL_TIME("cancelled_at") ", ''), " FISCAL_SQL_TIME("created_at") ", " FISCAL_SQL_TIME("updated_at")
    ", training::int";

TransactionRow ReadTransaction(const soci::row& row) {
  TransactionRow t;
  int i = 0;
  t.id = row.get<std::string>(i++);
  t.account_id = row.get<std::string>(i++);
  t.location_id = row.get<std::string>(i++);
  t.environment = row.get<std::string>(i++);
  t.type = row.get<std::string>(i++);
  t.status = row.get<std::string>(i++);
  t.invoice_number = row.get<std::string>(i++);
  t.client_timestamp = row.get<std::string>(i++);
  t.currency = row.get<std::string>(i++);
  t.payment_method = row.get<std::string>(i++);
  t.pretax_amount = row.get<std::string>(i++);
  t.tax_amount = row.get<std::string>(i++);
  t.total_amount = row.get<std::string>(i++);
  t.body = row.get<std::string>(i++);
  t.original_transaction_id = row.get<std::string>(i++);
  t.cancelled_at = row.get<std::string>(i++);
  t.created_at = row.get<std::string>(i++);
  t.updated_at = row.get<std::string>(i++);
  t.training = row.get<int>(i++) != 0;
  return t;
}

void LoadRecords(soci::session& session, TransactionRow& transaction) {
  soci::rowset<soci::row> rows = (session.prepare << std::string("SELECT ") + kRecordColumns +
                                                         " FROM fiscal_records WHERE transaction_id = :t::uuid "
                                                         "ORDER BY created_at, sequence",
                                  soci::use(transaction.id));
  for (const soci::row& row : rows) transaction.records.push_back(ReadRecord(row));
}

// Loads the records of a page of transactions in one query rather than one per transaction.
void LoadPageRecords(soci::session& session, std::vector<TransactionRow>& transactions) {
  if (transactions.empty()) return;
  std::string ids = "{";
  std::map<std::string, TransactionRow*> by_id;
  for (TransactionRow& transaction : transactions) {
    ids += (ids.size() > 1 ? "," : "") + transaction.id;
    by_id[transaction.id] = &transaction;
  }
  ids += "}";
  soci::rowset<soci::row> rows =
      (session.prepare << std::string("SELECT transaction_id::text, ") + kRecordColumns +
                              " FROM fiscal_records WHERE transaction_id = ANY(:ids::uuid[]) "
                              "ORDER BY transaction_id, created_at, sequence",
       soci::use(ids));
  for (const soci::row& row : rows) {
    auto owner = by_id.find(row.get<std::string>(0));
    if (owner == by_id.end()) continue;
    owner->second->records.push_back(ReadRecord(row, 1));
  }
}

}  // namespace

Result<std::string> TransactionsStore::Issue(const IssueRequest& request, const RecordBuilder& build_record) {
  std::string transaction_id;
  Status status = database_.Run([&](soci::session& session) {
    soci::transaction transaction(session);
    ChainPosition position;
    bool is_cancel = request.operation == "cancel";
    const std::string initial_status = request.submit ? "pending" : "signed";
    const int training = request.training ? 1 : 0;

    // Refunds and cancellations first lock the original transaction, so that two cancellations
    // of the same sale cannot both pass the checks.
    std::string original_type;
    if (!request.original_transaction_id.empty()) {
      FISCAL_RETURN_IF_ERROR(LoadOriginal(session, request, position, original_type));
    }
    if (request.operation == "refund") FISCAL_RETURN_IF_ERROR(CheckRefundable(session, request, original_type));
    if (is_cancel) {
      int refunds = 0;
      session << "SELECT count(*) FROM transactions WHERE original_transaction_id = :t::uuid AND cancelled_at IS NULL",
          soci::use(request.original_transaction_id), soci::into(refunds);
      if (refunds > 0) {
        return Status::Conflict("has_refunds", "the transaction has refunds; cancel the refunds first");
      }
    }

    // Lock the chain head: from here until commit no other record can join this chain.
    ChainHead head = LockChain(session, request.plugin_name, request.environment, request.chain_key);
    position.chain_id = head.id;
    position.sequence = head.last_sequence + 1;
    position.previous_state = head.last_state;
    // clock_timestamp(), not now(): now() is the transaction's start, which for a transaction that
    // waited on the chain lock is earlier than the record generated just before it.
    session << "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        soci::into(position.generated_at);

    if (is_cancel) {
      position.transaction_id = request.original_transaction_id;
    } else {
      session << "SELECT gen_random_uuid()::text", soci::into(position.transaction_id);
      if (request.client_invoice_number.empty()) {
        Result<std::string> number = NextInvoiceNumber(session, request);
        if (!number.ok()) return number.status();
        position.invoice_number = *number;
      } else if (InvoiceNumberUsed(session, request, request.client_invoice_number)) {
        return Status::Conflict("duplicate_invoice_number", "invoice number " + request.client_invoice_number +
                                                                " is already used by this issuer; send another "
                                                                "invoice_number or omit it to have one assigned");
      } else {
        position.invoice_number = request.client_invoice_number;
      }
    }

    // The plugin builds the record that follows the previous one.
    Result<IssuedRecord> record = build_record(position);
    if (!record.ok()) return record.status();

    if (!is_cancel) {
      session << "INSERT INTO transactions (id, account_id, location_id, chain_id, environment, type, "
                 "original_transaction_id, invoice_number, client_timestamp, currency, payment_method, pretax_amount, "
                 "tax_amount, total_amount, body, training, status) VALUES (:id::uuid, :a::uuid, :l::uuid, :c, :e, :ty, "
                 "nullif(:o, '')::uuid, :n, :ts::timestamptz, :cu, :pm, :pre::numeric, :tax::numeric, :tot::numeric, "
                 ":b::jsonb, :tr = 1, :st)",
          soci::use(position.transaction_id), soci::use(request.account_id), soci::use(request.location_id),
          soci::use(head.id), soci::use(request.environment), soci::use(request.operation),
          soci::use(request.original_transaction_id), soci::use(position.invoice_number),
          soci::use(request.client_timestamp), soci::use(request.currency), soci::use(request.payment_method),
          soci::use(request.pretax_amount), soci::use(request.tax_amount), soci::use(request.total_amount),
          soci::use(request.body_json), soci::use(training), soci::use(initial_status);
      session << "INSERT INTO invoice_numbers (plugin_name, environment, issuer_key, invoice_number, transaction_id) "
                 "VALUES (:p, :e, :i, :n, :t::uuid)",
          soci::use(request.plugin_name), soci::use(request.environment), soci::use(request.issuer_key),
          soci::use(position.invoice_number), soci::use(position.transaction_id);
    } else {
      session << "UPDATE transactions SET cancelled_at = now(), updated_at = now() WHERE id = :t::uuid",
          soci::use(request.original_transaction_id);
    }

    std::string record_id;
    session << "INSERT INTO fiscal_records (transaction_id, account_id, chain_id, sequence, operation, record_type, "
               "plugin_name, plugin_version, fiscal_id, hash, document, document_type, qr_payload, record_data, "
               "chain_state, receipt, generated_at, location_id, status) VALUES (:t::uuid, :a::uuid, :c, :s, :op, :rt, "
               ":pn, :pv, :f, :h, :d, :dt, :q, :rd::jsonb, :cs::jsonb, :rc::jsonb, :g::timestamptz, :l::uuid, :st) "
               "RETURNING id::text",
        soci::use(position.transaction_id), soci::use(request.account_id), soci::use(head.id),
        soci::use(position.sequence), soci::use(request.operation), soci::use(record->record_type),
        soci::use(request.plugin_name), soci::use(request.plugin_version), soci::use(record->fiscal_id),
        soci::use(record->hash), soci::use(record->document), soci::use(record->document_type),
        soci::use(record->qr_payload), soci::use(record->record_data), soci::use(record->chain_state),
        soci::use(record->receipt), soci::use(position.generated_at), soci::use(request.location_id),
        soci::use(initial_status), soci::into(record_id);

    // Queue the record for sending in the same transaction, unless it is final once signed.
    if (request.submit) {
      session << "INSERT INTO outbox (record_id, account_id, chain_id, sequence, max_attempts) "
                 "VALUES (:r::uuid, :a::uuid, :c, :s, :m)",
          soci::use(record_id), soci::use(request.account_id), soci::use(head.id), soci::use(position.sequence),
          soci::use(request.max_attempts);
      session << "INSERT INTO submission_streams (chain_id) VALUES (:c) ON CONFLICT (chain_id) DO NOTHING",
          soci::use(head.id);
    }

    session << "UPDATE chains SET last_sequence = :s, last_state = :st::jsonb, last_record_id = :r::uuid, "
               "updated_at = now() WHERE id = :c",
        soci::use(position.sequence), soci::use(record->chain_state), soci::use(record_id), soci::use(head.id);

    if (!request.idempotency_key.empty()) {
      session << "UPDATE idempotency_keys SET resource_id = :r WHERE scope = :s AND method = :m AND path = :p "
                 "AND idempotency_key = :k",
          soci::use(position.transaction_id), soci::use(request.idempotency_scope),
          soci::use(request.idempotency_method), soci::use(request.idempotency_path),
          soci::use(request.idempotency_key);
    }

    transaction.commit();
    transaction_id = position.transaction_id;
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return transaction_id;
}

Result<TransactionRow> TransactionsStore::Get(const std::string& account_id, const std::string& transaction_id) {
  TransactionRow transaction;
  Status status = database_.Run([&](soci::session& session) {
    soci::row row;
    session << std::string("SELECT ") + kTransactionColumns +
                   " FROM transactions WHERE id = :id::uuid AND account_id = :a::uuid",
        soci::use(transaction_id), soci::use(account_id), soci::into(row);
    if (!session.got_data()) return Status::NotFound("transaction " + transaction_id + " not found");
    transaction = ReadTransaction(row);
    LoadRecords(session, transaction);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return transaction;
}

Result<std::vector<TransactionRow>> TransactionsStore::List(const std::string& account_id,
                                                            const TransactionFilter& filter, long& total) {
  std::vector<TransactionRow> transactions;
  Status status = database_.Run([&](soci::session& session) {
    // Every filter is bound; an empty value disables its condition.
    const std::string where =
        " WHERE account_id = :a::uuid AND (:l = '' OR location_id = nullif(:l2, '')::uuid) "
        "AND (:s = '' OR status = :s2) AND (:ty = '' OR type = :ty2) "
        "AND (:f = '' OR created_at >= nullif(:f2, '')::timestamptz) AND (:to = '' OR created_at < nullif(:to2, '')::timestamptz)";
    long long count = 0;
    session << "SELECT count(*) FROM transactions" + where, soci::use(account_id, "a"),
        soci::use(filter.location_id, "l"), soci::use(filter.location_id, "l2"), soci::use(filter.status, "s"),
        soci::use(filter.status, "s2"), soci::use(filter.type, "ty"), soci::use(filter.type, "ty2"),
        soci::use(filter.from, "f"), soci::use(filter.from, "f2"), soci::use(filter.to, "to"),
        soci::use(filter.to, "to2"), soci::into(count);
    total = static_cast<long>(count);

    soci::rowset<soci::row> rows =
        (session.prepare << std::string("SELECT ") + kTransactionColumns + " FROM transactions" + where +
                                " ORDER BY created_at DESC, id LIMIT :lim OFFSET :off",
         soci::use(account_id, "a"), soci::use(filter.location_id, "l"), soci::use(filter.location_id, "l2"),
         soci::use(filter.status, "s"), soci::use(filter.status, "s2"), soci::use(filter.type, "ty"),
         soci::use(filter.type, "ty2"), soci::use(filter.from, "f"), soci::use(filter.from, "f2"),
         soci::use(filter.to, "to"), soci::use(filter.to, "to2"), soci::use(filter.limit, "lim"),
         soci::use(filter.offset, "off"));
    for (const soci::row& row : rows) transactions.push_back(ReadTransaction(row));
    LoadPageRecords(session, transactions);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return transactions;
}

}  // namespace fiscal::store
