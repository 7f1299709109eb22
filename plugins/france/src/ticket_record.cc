// Tickets: sales, refunds and voids, in the "tickets" chain or, in training mode, the "training"
// chain. Each ticket moves the cumulative totals of its chain; training tickets have their own
// chain, so they never move the register's totals.
#include <vector>

#include "payload.h"
#include "nf525_receipt.h"
#include "records.h"
#include "signature.h"
#include "transaction.h"

namespace fiscal::france {
namespace {

constexpr std::string_view kTrainingPrefix = "FORMATION-";

std::string Decimal(int64_t cents) { return FormatAmount(cents, AmountStyle::kDecimal); }

std::string TicketType(const std::string& operation, bool training) {
  std::string type = operation == "sale"     ? "VENTE"
                     : operation == "refund" ? "REMBOURSEMENT"
                                             : "ANNULATION";
  return training ? std::string(kTrainingPrefix) + type : type;
}

// Per-rate totals and total that a ticket adds to its chain, whatever the operation.
struct TicketAmounts {
  RateAmounts vat_totals;
  int64_t total = 0;
};

// A void has no transaction of its own: it reverses the original's per-rate totals.
struct VoidHeader {
  std::string id;
  std::string type;
  std::string invoice_number;
};

Status ReadVoidHeader(const rapidjson::Value& input, VoidHeader* header) {
  const rapidjson::Value* transaction = nullptr;
  Status status = GetRequiredObject(input, "transaction", "", &transaction);
  if (!status.ok()) return status;
  status = GetRequiredString(*transaction, "id", "transaction", &header->id);
  if (!status.ok()) return status;
  status = CheckText(header->id, "transaction.id", 100);
  if (!status.ok()) return status;
  status = GetOptionalString(*transaction, "type", "transaction", &header->type);
  if (!status.ok()) return status;
  status = CheckText(header->type, "transaction.type", 100);
  if (!status.ok()) return status;
  status = GetOptionalString(*transaction, "invoice_number", "transaction", &header->invoice_number);
  if (!status.ok()) return status;
  return CheckText(header->invoice_number, "transaction.invoice_number", 100);
}

// Checks that the original can be refunded or voided from this chain.
Status CheckOriginal(const IssueContext& context, const OriginalTicket& original) {
  std::string expected_record_type = context.training ? "training" : "ticket";
  if (original.record_type != expected_record_type) {
    return Status::Invalid("original.record_type",
                           "original.record_type is \"" + original.record_type + "\"; a " +
                               (context.training ? "training" : "regular") + " " +
                               context.operation + " refers to a \"" + expected_record_type +
                               "\" record");
  }
  if (original.register_id != context.location.register_id) {
    return Status::Invalid("original.record_data.register",
                           "the original ticket " + original.fiscal_id + " belongs to register " +
                               original.register_id + "; refund or void it on that register");
  }
  std::string prefix = context.training ? std::string(kTrainingPrefix) : "";
  if (context.operation == "refund" && original.type != prefix + "VENTE") {
    return Status::Invalid("original.record_data.type",
                           "the original ticket " + original.fiscal_id + " is a " + original.type +
                               "; only a sale can be refunded");
  }
  if (context.operation == "cancel" && original.type == prefix + "ANNULATION") {
    return Status::Invalid("original.record_data.type",
                           "the original ticket " + original.fiscal_id +
                               " is itself a void; it cannot be voided");
  }
  return Status::Ok();
}

Status ReadPreviousTotals(const IssueContext& context, Totals* totals) {
  if (context.previous == nullptr) return Status::Ok();
  const rapidjson::Value* cumulative = nullptr;
  Status status = GetRequiredObject(*context.previous, "cumulative", "chain.previous", &cumulative);
  if (!status.ok()) return status;
  return ReadTotals(*cumulative, "chain.previous.cumulative", totals);
}

void WriteOriginalMember(JsonWriter& writer, const OriginalTicket* original) {
  writer.Key("original");
  if (original == nullptr) {
    writer.Null();
    return;
  }
  writer.StartObject();
  WriteStringMember(writer, "fiscal_id", original->fiscal_id);
  WriteStringMember(writer, "signature", original->signature);
  WriteStringMember(writer, "type", original->type);
  WriteStringMember(writer, "total", Decimal(original->total));
  writer.EndObject();
}

std::string BuildDocument(const IssueContext& context, const std::string& fiscal_id,
                          const std::string& type, const TicketTransaction* transaction,
                          const VoidHeader* void_header, const TicketAmounts& amounts,
                          const OriginalTicket* original) {
  JsonObjectText document;
  JsonWriter& writer = document.writer();
  WriteDocumentHead(writer, context, fiscal_id, type);
  if (transaction != nullptr) {
    WriteTransactionMembers(writer, *transaction);
  } else {
    writer.Key("transaction");
    writer.StartObject();
    WriteStringMember(writer, "id", void_header->id);
    WriteStringMember(writer, "type", void_header->type);
    WriteStringMember(writer, "invoice_number", void_header->invoice_number);
    writer.EndObject();
    writer.Key("vat_totals");
    WriteRateAmounts(writer, amounts.vat_totals);
    WriteStringMember(writer, "total_amount", Decimal(amounts.total));
  }
  WriteOriginalMember(writer, original);
  return document.Finish();
}

Status BuildPayload(const IssueContext& context, const PayloadFormat& format,
                    const std::string& type, const TicketAmounts& amounts,
                    const std::string& document, std::string* payload) {
  TicketPayloadFields fields;
  for (const auto& [rate, total] : amounts.vat_totals) fields.vat_totals.push_back({rate, total});
  fields.total_incl_tax_cents = amounts.total;
  fields.timestamp = context.now;
  fields.register_id = context.location.register_id;
  fields.sequence = context.sequence;
  fields.type = type;
  fields.first = context.first();
  fields.digest = Sha256Base64Url(document);
  Status status = BuildTicketPayload(fields, format, payload);
  if (!status.ok()) {
    return Status::Internal("building the ticket payload failed: " + status.message());
  }
  return Status::Ok();
}

std::string BuildRecordData(const IssueContext& context, const PayloadFormat& format,
                            const SignedPayload& signed_payload, const std::string& type,
                            const TicketAmounts& amounts, const OriginalTicket* original) {
  JsonObjectText data;
  JsonWriter& writer = data.writer();
  WriteRecordDataHead(writer, context, format.id, signed_payload, type);
  writer.Key("vat_totals");
  WriteRateAmounts(writer, amounts.vat_totals);
  WriteStringMember(writer, "total", Decimal(amounts.total));
  if (original != nullptr) WriteStringMember(writer, "original_fiscal_id", original->fiscal_id);
  return data.Finish();
}

std::string BuildChainState(const IssueContext& context, const SignedPayload& signed_payload,
                            const Totals& cumulative) {
  JsonObjectText chain_state;
  JsonWriter& writer = chain_state.writer();
  WriteChainStateHead(writer, context, signed_payload);
  writer.Key("cumulative");
  WriteTotals(writer, cumulative);
  return chain_state.Finish();
}

std::string BuildReceipt(const IssueContext& context, const std::string& fiscal_id,
                         const TicketTransaction* transaction, const TicketAmounts& amounts,
                         const OriginalTicket* original, const SignedPayload& signed_payload) {
  ReceiptFields receipt = StartReceipt(context, "TICKET", fiscal_id, signed_payload);
  receipt.mode_ecole = context.training;
  if (context.operation == "refund") {
    receipt.mentions.push_back("Remboursement du ticket n° " + original->fiscal_id);
  } else if (context.operation == "cancel") {
    receipt.mentions.push_back("Ce ticket annule le ticket n° " + original->fiscal_id);
  }
  if (transaction != nullptr) {
    FillTransactionReceipt(*transaction, &receipt);
  } else {
    for (const auto& [rate, total] : amounts.vat_totals) {
      receipt.tva.push_back(ReceiptVat{FormatRatePercent(rate), "", "", Decimal(total)});
    }
    receipt.total_ttc = Decimal(amounts.total);
    receipt.devise = "EUR";
  }
  receipt.qr = true;
  return ReceiptJson(receipt);
}

}  // namespace

Status IssueTicket(const IssueContext& context, const Signer& signer, IssuedRecord* out) {
  const rapidjson::Value& input = *context.input;
  const PayloadFormat& format = context.training ? kTrainingFormatV1 : kTicketFormatV1;
  std::string type = TicketType(context.operation, context.training);

  OriginalTicket original;
  bool has_original = context.operation != "sale";
  if (has_original) {
    Status status = ReadOriginalTicket(input, &original);
    if (!status.ok()) return status;
    status = CheckOriginal(context, original);
    if (!status.ok()) return status;
  }

  TicketTransaction transaction;
  VoidHeader void_header;
  TicketAmounts amounts;
  if (context.operation == "cancel") {
    Status status = ReadVoidHeader(input, &void_header);
    if (!status.ok()) return status;
    for (const auto& [rate, total] : original.vat_totals) amounts.vat_totals[rate] = -total;
    amounts.total = -original.total;
  } else {
    const rapidjson::Value* object = nullptr;
    Status status = GetRequiredObject(input, "transaction", "", &object);
    if (!status.ok()) return status;
    AmountSign sign = context.operation == "sale" ? AmountSign::kPositive : AmountSign::kNegative;
    status = ParseTransaction(*object, "transaction", sign, &transaction);
    if (!status.ok()) return status;
    amounts.vat_totals = transaction.VatTotals();
    amounts.total = transaction.total;
  }
  const TicketTransaction* ticket = context.operation == "cancel" ? nullptr : &transaction;
  const OriginalTicket* referenced = has_original ? &original : nullptr;

  Totals cumulative;
  Status status = ReadPreviousTotals(context, &cumulative);
  if (!status.ok()) return status;
  status = AddRecord(amounts.vat_totals, amounts.total, &cumulative);
  if (!status.ok()) return Status::Invalid("transaction", status.message());

  IssuedRecord record =
      StartRecord(context, context.training ? 'X' : 'T', context.training ? "training" : "ticket");
  record.document =
      BuildDocument(context, record.fiscal_id, type, ticket, &void_header, amounts, referenced);
  std::string payload;
  status = BuildPayload(context, format, type, amounts, record.document, &payload);
  if (!status.ok()) return status;
  SignedPayload signed_payload;
  status = SignRecord(context, signer, std::move(payload), &record, &signed_payload);
  if (!status.ok()) return status;

  record.qr_payload =
      QrPayload(context, record.fiscal_id, Decimal(amounts.total), signed_payload);
  record.record_data = BuildRecordData(context, format, signed_payload, type, amounts, referenced);
  record.chain_state = BuildChainState(context, signed_payload, cumulative);
  record.receipt =
      BuildReceipt(context, record.fiscal_id, ticket, amounts, referenced, signed_payload);
  *out = std::move(record);
  return Status::Ok();
}

}  // namespace fiscal::france
