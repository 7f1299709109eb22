// Duplicates: each reprint of a stored ticket is a record of the "duplicates" chain, numbered by
// its copy number, and prints "DUPLICATA".
#include "payload.h"
#include "nf525_receipt.h"
#include "records.h"
#include "transaction.h"

namespace fiscal::france {
namespace {

constexpr uint64_t kMaxCopyNumber = 999999;

struct DuplicateInput {
  OriginalTicket original;
  TicketTransaction transaction;
  uint64_t copy_number = 0;
  std::string operator_name;
  std::string reason;
};

// The transaction's amounts have the original's sign: negative for a refund.
AmountSign SignOf(const OriginalTicket& original) {
  if (original.type.find("ANNULATION") != std::string::npos) return AmountSign::kAny;
  if (original.type.find("REMBOURSEMENT") != std::string::npos) return AmountSign::kNegative;
  return AmountSign::kPositive;
}

Status ReadInput(const IssueContext& context, DuplicateInput* out) {
  const rapidjson::Value& input = *context.input;
  DuplicateInput duplicate;
  Status status = ReadOriginalTicket(input, &duplicate.original);
  if (!status.ok()) return status;
  // The duplicates chain belongs to the register's real records, and training mode keeps its
  // records apart from them.
  if (duplicate.original.record_type == "training") {
    return Status::Invalid("original", "the original " + duplicate.original.fiscal_id +
                                           " is a training ticket; training tickets are not "
                                           "reprinted as duplicates, because training mode "
                                           "keeps its records apart from the register's chains");
  }
  if (duplicate.original.register_id != context.location.register_id) {
    return Status::Invalid("original.record_data.register",
                           "the original ticket " + duplicate.original.fiscal_id +
                               " belongs to register " + duplicate.original.register_id +
                               "; reprint it on that register");
  }

  status = GetRequiredUint(input, "copy_number", "", kMaxCopyNumber, &duplicate.copy_number);
  if (!status.ok()) return status;
  if (duplicate.copy_number == 0) {
    return Status::Invalid("copy_number", "copy_number must be 1 for the first reprint and grow "
                                          "by one with each further reprint");
  }
  status = GetRequiredString(input, "operator", "", &duplicate.operator_name);
  if (!status.ok()) return status;
  status = CheckText(duplicate.operator_name, "operator", 100);
  if (!status.ok()) return status;
  status = GetOptionalString(input, "reason", "", &duplicate.reason);
  if (!status.ok()) return status;
  status = CheckLength(duplicate.reason, "reason", 500);
  if (!status.ok()) return status;

  const rapidjson::Value* transaction = nullptr;
  status = GetRequiredObject(input, "transaction", "", &transaction);
  if (!status.ok()) return status;
  AmountSign sign = SignOf(duplicate.original);
  status = ParseTransaction(*transaction, "transaction", sign, &duplicate.transaction);
  if (!status.ok()) return status;
  if (sign != AmountSign::kAny && duplicate.transaction.total != duplicate.original.total) {
    return Status::Invalid("transaction.total_amount",
                           "transaction.total_amount " +
                               FormatAmount(duplicate.transaction.total, AmountStyle::kDecimal) +
                               " differs from the total " +
                               FormatAmount(duplicate.original.total, AmountStyle::kDecimal) +
                               " of the original ticket " + duplicate.original.fiscal_id +
                               "; pass the transaction the ticket was issued for");
  }
  *out = std::move(duplicate);
  return Status::Ok();
}

std::string BuildDocument(const IssueContext& context, const std::string& fiscal_id,
                          const DuplicateInput& duplicate) {
  const OriginalTicket& original = duplicate.original;
  JsonObjectText document;
  JsonWriter& writer = document.writer();
  WriteDocumentHead(writer, context, fiscal_id);
  WriteUintMember(writer, "copy_number", duplicate.copy_number);
  WriteStringMember(writer, "operator", duplicate.operator_name);
  WriteStringMember(writer, "reason", duplicate.reason);
  writer.Key("original");
  writer.StartObject();
  WriteStringMember(writer, "fiscal_id", original.fiscal_id);
  WriteStringMember(writer, "signature", original.signature);
  WriteStringMember(writer, "type", original.type);
  WriteStringMember(writer, "register", original.register_id);
  WriteUintMember(writer, "sequence", original.sequence);
  WriteStringMember(writer, "total", FormatAmount(original.total, AmountStyle::kDecimal));
  writer.EndObject();
  WriteTransactionMembers(writer, duplicate.transaction);
  return document.Finish();
}

std::string BuildPayload(const IssueContext& context, const DuplicateInput& duplicate,
                         const std::string& document) {
  const OriginalTicket& original = duplicate.original;
  std::string payload = context.location.register_id;
  payload += "," + FormatSequence(context.sequence, kSequenceWidth);
  payload += "," + original.type;
  payload += "," + std::to_string(duplicate.copy_number);
  payload += "," + SanitizeFreeText(duplicate.operator_name);
  payload += "," + FormatTimestamp(context.now);
  payload += "," + original.register_id;
  payload += "," + FormatSequence(original.sequence, kSequenceWidth);
  payload += PayloadTail(context, document);
  return payload;
}

std::string BuildRecordData(const IssueContext& context, const SignedPayload& signed_payload,
                            const DuplicateInput& duplicate) {
  JsonObjectText data;
  JsonWriter& writer = data.writer();
  WriteRecordDataHead(writer, context, kDuplicateFormatId, signed_payload);
  WriteUintMember(writer, "copy_number", duplicate.copy_number);
  WriteStringMember(writer, "original_fiscal_id", duplicate.original.fiscal_id);
  return data.Finish();
}

std::string BuildReceipt(const IssueContext& context, const std::string& fiscal_id,
                         const DuplicateInput& duplicate, const SignedPayload& signed_payload) {
  const OriginalTicket& original = duplicate.original;
  ReceiptFields receipt = StartReceipt(context, "TICKET", fiscal_id, signed_payload);
  receipt.duplicata = duplicate.copy_number;
  receipt.mentions.push_back("Duplicata du ticket n° " + original.fiscal_id);
  FillTransactionReceipt(duplicate.transaction, &receipt);
  receipt.details.push_back(ReceiptDetail{"Signature du ticket original", original.extract});
  receipt.qr = true;
  return ReceiptJson(receipt);
}

}  // namespace

Status IssueDuplicate(const IssueContext& context, const Signer& signer, IssuedRecord* out) {
  DuplicateInput duplicate;
  Status status = ReadInput(context, &duplicate);
  if (!status.ok()) return status;
  IssuedRecord record = StartRecord(context, 'D', "duplicate");

  record.document = BuildDocument(context, record.fiscal_id, duplicate);
  SignedPayload signed_payload;
  status = SignRecord(context, signer, BuildPayload(context, duplicate, record.document), &record,
                      &signed_payload);
  if (!status.ok()) return status;

  std::string qr_fields =
      duplicate.original.fiscal_id + "|" + std::to_string(duplicate.copy_number);
  record.qr_payload = QrPayload(context, record.fiscal_id, qr_fields, signed_payload);
  record.record_data = BuildRecordData(context, signed_payload, duplicate);
  record.chain_state = SimpleChainState(context, signed_payload);
  record.receipt = BuildReceipt(context, record.fiscal_id, duplicate, signed_payload);
  *out = std::move(record);
  return Status::Ok();
}

}  // namespace fiscal::france
