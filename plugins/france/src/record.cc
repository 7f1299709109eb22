#include "record.h"

#include "payload.h"
#include "signature.h"

namespace fiscal::france {

Status SignPayload(const IssueContext& context, const Signer& signer, std::string payload,
                   SignedPayload* out) {
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
  return Status::Ok();
}

std::string FiscalId(std::string_view register_id, char letter, uint64_t sequence) {
  return std::string(register_id) + "-" + letter + "-" + FormatSequence(sequence, kSequenceWidth);
}

std::string SanitizeFreeText(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == ',' || c == '|') c = ' ';
  }
  return out;
}

std::string_view FirstFlag(bool first) { return first ? "Y" : "N"; }

void WriteRecordDataHead(JsonWriter& writer, std::string_view format,
                         const SignedPayload& signed_payload) {
  WriteStringMember(writer, "format", format);
  WriteStringMember(writer, "payload", signed_payload.payload);
  WriteStringMember(writer, "signature", signed_payload.signature);
  WriteStringMember(writer, "extract", signed_payload.extract);
  WriteStringMember(writer, "key_id", signed_payload.key_id);
}

void WriteLocationMembers(JsonWriter& writer, const LocationConfig& location) {
  WriteStringMember(writer, "siret", location.siret);
  WriteStringMember(writer, "register", location.register_id);
  if (!location.establishment.empty()) {
    WriteStringMember(writer, "establishment", location.establishment);
  }
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
