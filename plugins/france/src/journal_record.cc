// The technical event journal (JET, "journal" chain) and the archives chain. Free text stays
// whole in the document; in the payload ',' and '|' become spaces so that it cannot add fields.
#include <algorithm>
#include <array>

#include "payload.h"
#include "nf525_receipt.h"
#include "records.h"
#include "time_util.h"

namespace fiscal::france {
namespace {

constexpr uint64_t kMaxEventCode = 9999;
constexpr size_t kMaxDescriptionLength = 2000;

struct KnownEvent {
  uint64_t code;
  std::string_view name;
};

// The event codes of docs/france.md. An unknown code is accepted with any name, so the host can
// add events; a known code must come with its own name.
constexpr std::array<KnownEvent, 15> kKnownEvents = {{{10, "start"},
                                                      {20, "stop"},
                                                      {30, "login"},
                                                      {40, "logout"},
                                                      {50, "reprint"},
                                                      {60, "offline_start"},
                                                      {61, "offline_end"},
                                                      {70, "closure"},
                                                      {80, "archive"},
                                                      {90, "signing_key_unavailable"},
                                                      {100, "purge"},
                                                      {110, "plugin_version_change"},
                                                      {120, "config_change"},
                                                      {130, "training_start"},
                                                      {131, "training_end"}}};

bool IsEventName(std::string_view name) {
  return !name.empty() && name.size() <= 40 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsHex64(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// "2026-12-31" prints "31/12/2026".
std::string FrenchDate(const std::string& date) {
  return date.substr(8, 2) + "/" + date.substr(5, 2) + "/" + date.substr(0, 4);
}

struct EventInput {
  uint64_t code = 0;
  std::string name;
  std::string description;
  std::string operator_name;
};

Status ReadEvent(const rapidjson::Value& input, EventInput* out) {
  const rapidjson::Value* event = nullptr;
  Status status = GetRequiredObject(input, "event", "", &event);
  if (!status.ok()) return status;

  EventInput result;
  status = GetRequiredUint(*event, "code", "event", kMaxEventCode, &result.code);
  if (!status.ok()) return status;
  if (result.code == 0) {
    return Status::Invalid("event.code", "event.code must be a journal event code from 1 to " +
                                             std::to_string(kMaxEventCode));
  }

  status = GetRequiredString(*event, "name", "event", &result.name);
  if (!status.ok()) return status;
  if (!IsEventName(result.name)) {
    return Status::Invalid("event.name", "event.name \"" + result.name +
                                             "\" must be 1 to 40 characters from a-z, 0-9 and "
                                             "'_', such as \"login\"");
  }
  for (const KnownEvent& known : kKnownEvents) {
    if (known.code == result.code && known.name != result.name) {
      return Status::Invalid("event.name", "event.name \"" + result.name + "\" does not match "
                                               "event code " + std::to_string(known.code) +
                                               ", which is \"" + std::string(known.name) + "\"");
    }
  }

  status = GetOptionalString(*event, "description", "event", &result.description);
  if (!status.ok()) return status;
  status = CheckLength(result.description, "event.description", kMaxDescriptionLength);
  if (!status.ok()) return status;
  status = GetOptionalString(*event, "operator", "event", &result.operator_name);
  if (!status.ok()) return status;
  status = CheckText(result.operator_name, "event.operator", 100);
  if (!status.ok()) return status;
  *out = std::move(result);
  return Status::Ok();
}

struct ArchiveInput {
  std::string id;
  std::string from;
  std::string to;
  std::string manifest_sha256;
};

Status ReadArchive(const rapidjson::Value& input, ArchiveInput* out) {
  const rapidjson::Value* archive = nullptr;
  Status status = GetRequiredObject(input, "archive", "", &archive);
  if (!status.ok()) return status;
  ArchiveInput result;
  status = GetRequiredString(*archive, "id", "archive", &result.id);
  if (!status.ok()) return status;
  if (result.id.empty()) return Status::Invalid("archive.id", "archive.id must not be empty");
  status = CheckText(result.id, "archive.id", 100);
  if (!status.ok()) return status;

  std::chrono::year_month_day from;
  std::chrono::year_month_day to;
  status = GetRequiredString(*archive, "from", "archive", &result.from);
  if (!status.ok()) return status;
  if (!ParseIsoDate(result.from, &from)) {
    return Status::Invalid("archive.from", "archive.from \"" + result.from +
                                               "\" must be a date such as \"2026-01-01\"");
  }
  status = GetRequiredString(*archive, "to", "archive", &result.to);
  if (!status.ok()) return status;
  if (!ParseIsoDate(result.to, &to)) {
    return Status::Invalid("archive.to", "archive.to \"" + result.to +
                                             "\" must be a date such as \"2026-12-31\"");
  }
  if (to < from) {
    return Status::Invalid("archive.to", "archive.to " + result.to + " is before archive.from " +
                                             result.from);
  }
  status = GetRequiredString(*archive, "manifest_sha256", "archive", &result.manifest_sha256);
  if (!status.ok()) return status;
  if (!IsHex64(result.manifest_sha256)) {
    return Status::Invalid("archive.manifest_sha256",
                           "archive.manifest_sha256 must be the SHA-256 of manifest.json as 64 "
                           "lower-case hex characters");
  }
  *out = std::move(result);
  return Status::Ok();
}

std::string EventDocument(const IssueContext& context, const std::string& fiscal_id,
                          const EventInput& event) {
  JsonObjectText document;
  JsonWriter& writer = document.writer();
  WriteDocumentHead(writer, context, fiscal_id);
  WriteUintMember(writer, "code", event.code);
  WriteStringMember(writer, "name", event.name);
  WriteStringMember(writer, "description", event.description);
  WriteStringMember(writer, "operator", event.operator_name);
  return document.Finish();
}

std::string EventPayload(const IssueContext& context, const EventInput& event,
                         const std::string& document) {
  std::string payload = FormatSequence(context.sequence, kSequenceWidth);
  payload += "," + std::to_string(event.code);
  payload += "," + event.name;
  payload += "," + FormatTimestamp(context.now);
  payload += "," + SanitizeFreeText(event.operator_name);
  payload += "," + context.location.register_id;
  payload += PayloadTail(context, document);
  return payload;
}

std::string EventRecordData(const IssueContext& context, const SignedPayload& signed_payload,
                            const EventInput& event) {
  JsonObjectText data;
  JsonWriter& writer = data.writer();
  WriteRecordDataHead(writer, context, kEventFormatId, signed_payload);
  WriteUintMember(writer, "code", event.code);
  WriteStringMember(writer, "name", event.name);
  return data.Finish();
}

std::string EventReceipt(const IssueContext& context, const std::string& fiscal_id,
                         const EventInput& event, const SignedPayload& signed_payload) {
  ReceiptFields receipt = StartReceipt(context, "ÉVÉNEMENT", fiscal_id, signed_payload);
  receipt.details.push_back(ReceiptDetail{"Code", std::to_string(event.code) + " " + event.name});
  receipt.details.push_back(ReceiptDetail{"Description", event.description});
  receipt.details.push_back(ReceiptDetail{"Opérateur", event.operator_name});
  return ReceiptJson(receipt);
}

std::string ArchiveDocument(const IssueContext& context, const std::string& fiscal_id,
                            const ArchiveInput& archive) {
  JsonObjectText document;
  JsonWriter& writer = document.writer();
  WriteDocumentHead(writer, context, fiscal_id);
  writer.Key("archive");
  writer.StartObject();
  WriteStringMember(writer, "id", archive.id);
  WriteStringMember(writer, "from", archive.from);
  WriteStringMember(writer, "to", archive.to);
  WriteStringMember(writer, "manifest_sha256", archive.manifest_sha256);
  writer.EndObject();
  return document.Finish();
}

std::string ArchivePayload(const IssueContext& context, const ArchiveInput& archive,
                           const std::string& document) {
  std::string payload = FormatSequence(context.sequence, kSequenceWidth);
  payload += "," + archive.from + "|" + archive.to;
  payload += "," + archive.manifest_sha256;
  payload += "," + FormatTimestamp(context.now);
  payload += "," + context.location.register_id;
  payload += PayloadTail(context, document);
  return payload;
}

std::string ArchiveRecordData(const IssueContext& context, const SignedPayload& signed_payload,
                              const ArchiveInput& archive) {
  JsonObjectText data;
  JsonWriter& writer = data.writer();
  WriteRecordDataHead(writer, context, kArchiveFormatId, signed_payload);
  WriteStringMember(writer, "archive_id", archive.id);
  WriteStringMember(writer, "from", archive.from);
  WriteStringMember(writer, "to", archive.to);
  WriteStringMember(writer, "manifest_sha256", archive.manifest_sha256);
  return data.Finish();
}

std::string ArchiveReceipt(const IssueContext& context, const std::string& fiscal_id,
                           const ArchiveInput& archive, const SignedPayload& signed_payload) {
  ReceiptFields receipt = StartReceipt(context, "ARCHIVE", fiscal_id, signed_payload);
  receipt.details.push_back(ReceiptDetail{"Archive", archive.id});
  receipt.details.push_back(
      ReceiptDetail{"Période", "du " + FrenchDate(archive.from) + " au " + FrenchDate(archive.to)});
  receipt.details.push_back(ReceiptDetail{"Empreinte SHA-256", archive.manifest_sha256});
  return ReceiptJson(receipt);
}

}  // namespace

Status IssueEvent(const IssueContext& context, const Signer& signer, IssuedRecord* out) {
  EventInput event;
  Status status = ReadEvent(*context.input, &event);
  if (!status.ok()) return status;
  IssuedRecord record = StartRecord(context, 'J', "event");

  record.document = EventDocument(context, record.fiscal_id, event);
  SignedPayload signed_payload;
  status = SignRecord(context, signer, EventPayload(context, event, record.document), &record,
                      &signed_payload);
  if (!status.ok()) return status;

  record.record_data = EventRecordData(context, signed_payload, event);
  record.chain_state = SimpleChainState(context, signed_payload);
  record.receipt = EventReceipt(context, record.fiscal_id, event, signed_payload);
  *out = std::move(record);
  return Status::Ok();
}

Status IssueArchive(const IssueContext& context, const Signer& signer, IssuedRecord* out) {
  ArchiveInput archive;
  Status status = ReadArchive(*context.input, &archive);
  if (!status.ok()) return status;
  IssuedRecord record = StartRecord(context, 'A', "archive");

  record.document = ArchiveDocument(context, record.fiscal_id, archive);
  SignedPayload signed_payload;
  status = SignRecord(context, signer, ArchivePayload(context, archive, record.document), &record,
                      &signed_payload);
  if (!status.ok()) return status;

  record.record_data = ArchiveRecordData(context, signed_payload, archive);
  record.chain_state = SimpleChainState(context, signed_payload);
  record.receipt = ArchiveReceipt(context, record.fiscal_id, archive, signed_payload);
  *out = std::move(record);
  return Status::Ok();
}

}  // namespace fiscal::france
