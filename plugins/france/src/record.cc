#include "record.h"

#include "payload.h"
#include "signature.h"
#include "time_util.h"

namespace fiscal::france {

namespace {

std::string FiscalId(std::string_view register_id, char letter, uint64_t sequence) {
  return std::string(register_id) + "-" + letter + "-" + FormatSequence(sequence, kSequenceWidth);
}

void WriteLocationMembers(JsonWriter& writer, const LocationConfig& location) {
  WriteStringMember(writer, "siret", location.siret);
  WriteStringMember(writer, "register", location.register_id);
  if (!location.establishment.empty()) {
    WriteStringMember(writer, "establishment", location.establishment);
  }
}

}  // namespace

IssuedRecord StartRecord(const IssueContext& context, char letter, std::string record_type) {
  IssuedRecord record;
  record.fiscal_id = FiscalId(context.location.register_id, letter, context.sequence);
  record.record_type = std::move(record_type);
  return record;
}

Status SignRecord(const IssueContext& context, const Signer& signer, std::string payload,
                  IssuedRecord* record, SignedPayload* out) {
  SignerOutput output;
  Status status = signer(SigningKeyRef(context.location),
                         ChainedSigningInput(payload, context.previous_signature), &output);
  if (!status.ok()) return status;
  if (output.raw_signature.size() != 64) {
    return Status::Internal("the signer returned " + std::to_string(output.raw_signature.size()) +
                            " bytes instead of the 64-byte ECDSA P-256 r||s; no record was "
                            "issued");
  }
  if (output.key_id.empty()) {
    return Status::Internal("the signer returned no key id; no record was issued");
  }
  out->payload = std::move(payload);
  out->signature = Base64UrlEncode(output.raw_signature);
  out->extract = SignatureExtract(out->signature);
  out->key_id = std::move(output.key_id);
  // The hash the host stores is the signature, which also commits to the previous record.
  record->hash = out->signature;
  return Status::Ok();
}

std::string SanitizeFreeText(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == ',' || c == '|') c = ' ';
  }
  return out;
}

std::string_view FirstFlag(bool first) { return first ? "Y" : "N"; }

std::string PayloadTail(const IssueContext& context, std::string_view document) {
  return "," + std::string(FirstFlag(context.first())) + "," + Sha256Base64Url(document);
}

std::string QrPayload(const IssueContext& context, std::string_view fiscal_id,
                      std::string_view fields, const SignedPayload& signed_payload) {
  return "NF525|" + std::string(fiscal_id) + "|" + std::string(fields) + "|" +
         FormatTimestamp(context.now) + "|" + signed_payload.extract;
}

void WriteDocumentHead(JsonWriter& writer, const IssueContext& context, std::string_view fiscal_id,
                       std::string_view ticket_type) {
  WriteStringMember(writer, "fiscal_id", fiscal_id);
  if (!ticket_type.empty()) WriteStringMember(writer, "type", ticket_type);
  WriteLocationMembers(writer, context.location);
  WriteUintMember(writer, "sequence", context.sequence);
  WriteStringMember(writer, "timestamp", FormatUtc(context.now));
}

void WriteRecordDataHead(JsonWriter& writer, const IssueContext& context, std::string_view format,
                         const SignedPayload& signed_payload, std::string_view ticket_type) {
  WriteStringMember(writer, "format", format);
  WriteStringMember(writer, "payload", signed_payload.payload);
  WriteStringMember(writer, "signature", signed_payload.signature);
  WriteStringMember(writer, "extract", signed_payload.extract);
  WriteStringMember(writer, "key_id", signed_payload.key_id);
  if (!ticket_type.empty()) WriteStringMember(writer, "type", ticket_type);
  WriteStringMember(writer, "register", context.location.register_id);
  WriteUintMember(writer, "sequence", context.sequence);
  WriteStringMember(writer, "timestamp", FormatUtc(context.now));
}

void WriteChainStateHead(JsonWriter& writer, const IssueContext& context,
                         const SignedPayload& signed_payload) {
  WriteStringMember(writer, "signature", signed_payload.signature);
  WriteUintMember(writer, "sequence", context.sequence);
}

std::string SimpleChainState(const IssueContext& context, const SignedPayload& signed_payload) {
  JsonObjectText state;
  WriteChainStateHead(state.writer(), context, signed_payload);
  return state.Finish();
}

ReceiptFields StartReceipt(const IssueContext& context, std::string title,
                           std::string_view fiscal_id, const SignedPayload& signed_payload) {
  ReceiptFields receipt;
  receipt.titre = std::move(title);
  FillLocationReceipt(context.location, &receipt);
  receipt.numero = std::string(fiscal_id);
  receipt.date = FormatParisTime(context.now);
  receipt.signature = signed_payload.extract;
  return receipt;
}

std::string IssuedRecordJson(const IssuedRecord& record) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  WriteStringMember(writer, "fiscal_id", record.fiscal_id);
  WriteStringMember(writer, "record_type", record.record_type);
  WriteStringMember(writer, "document", record.document);
  WriteStringMember(writer, "document_type", "application/json");
  WriteStringMember(writer, "hash", record.hash);
  WriteStringMember(writer, "qr_payload", record.qr_payload);
  // The three objects are already canonical JSON text written by this plugin.
  writer.Key("record_data");
  writer.RawValue(record.record_data.data(), record.record_data.size(), rapidjson::kObjectType);
  writer.Key("chain_state");
  writer.RawValue(record.chain_state.data(), record.chain_state.size(), rapidjson::kObjectType);
  writer.Key("receipt");
  writer.RawValue(record.receipt.data(), record.receipt.size(), rapidjson::kObjectType);
  writer.EndObject();
  return BufferText(buffer);
}

}  // namespace fiscal::france
