#include "verify.h"

#include "signature.h"

namespace fiscal::france {
namespace {

ChainVerification Broken(ChainFailure failure, size_t index, uint64_t sequence,
                         std::string message) {
  ChainVerification result;
  result.failure = failure;
  result.index = index;
  result.sequence = sequence;
  result.message = "record " + std::to_string(index) + " (sequence " + std::to_string(sequence) +
                   "): " + std::move(message);
  return result;
}

// Positions of the fields that chain verification needs, per non-ticket format. The digest is
// always the last field.
struct RecordLayout {
  std::string_view format_id;
  size_t field_count;
  size_t sequence_field;
  size_t timestamp_field;
  int register_field;  // -1 when the format has none
  size_t flag_field;
};

constexpr RecordLayout kRecordLayouts[] = {
    {"fr-duplicate-v1", 10, 1, 5, 0, 8},
    {"fr-closure-v1", 8, 5, 3, -1, 6},
    {"fr-event-v1", 8, 0, 3, 5, 6},
    {"fr-archive-v1", 7, 0, 3, 4, 5},
};

bool IsTimestamp(std::string_view text) {
  return text.size() == 14 && text.find_first_not_of("0123456789") == std::string_view::npos;
}

std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) {
      fields.push_back(text.substr(start));
      return fields;
    }
    fields.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

Status ParseRecordPayload(std::string_view format_id, std::string_view payload,
                          ParsedRecordPayload* parsed) {
  for (const PayloadFormat* format : {&kTicketFormatV1, &kTrainingFormatV1}) {
    if (format_id != format->id) continue;
    ParsedTicketPayload ticket;
    Status status = ParseTicketPayload(payload, *format, &ticket);
    if (!status.ok()) return status;
    parsed->register_id = ticket.register_id;
    parsed->sequence = ticket.sequence;
    parsed->first = ticket.first;
    parsed->digest = ticket.digest;
    return Status::Ok();
  }

  for (const RecordLayout& layout : kRecordLayouts) {
    if (format_id != layout.format_id) continue;
    std::vector<std::string_view> fields = SplitFields(payload);
    if (fields.size() != layout.field_count) {
      return Status::Invalid("payload", "payload has " + std::to_string(fields.size()) +
                                            " fields, format " + std::string(format_id) +
                                            " has " + std::to_string(layout.field_count));
    }
    ParsedRecordPayload result;
    if (!ParseSequence(fields[layout.sequence_field], 6, &result.sequence)) {
      return Status::Invalid("payload", "sequence \"" +
                                            std::string(fields[layout.sequence_field]) +
                                            "\" is not a number zero-padded to 6 digits");
    }
    if (!IsTimestamp(fields[layout.timestamp_field])) {
      return Status::Invalid("payload", "timestamp \"" +
                                            std::string(fields[layout.timestamp_field]) +
                                            "\" is not YYYYMMDDHHMMSS");
    }
    if (layout.register_field >= 0) {
      result.register_id = std::string(fields[layout.register_field]);
      if (result.register_id.empty()) {
        return Status::Invalid("payload", "the register field is empty");
      }
    }
    std::string_view flag = fields[layout.flag_field];
    if (flag != "Y" && flag != "N") {
      return Status::Invalid("payload", "first-record flag \"" + std::string(flag) +
                                            "\" is not Y or N");
    }
    result.first = flag == "Y";
    result.digest = std::string(fields.back());
    if (!IsDigestText(result.digest)) {
      return Status::Invalid("payload", "document digest \"" + result.digest +
                                            "\" is not the 43-character base64url SHA-256");
    }
    *parsed = std::move(result);
    return Status::Ok();
  }
  return Status::Invalid("format", "format \"" + std::string(format_id) +
                                       "\" is not a record format of the france-nf525 plugin");
}

ChainVerification VerifyRecordChain(const std::vector<StoredRecord>& records,
                                    EVP_PKEY* public_key, const ChainAnchor* anchor) {
  std::string previous_signature = anchor != nullptr ? anchor->signature : "";
  uint64_t previous_sequence = anchor != nullptr ? anchor->sequence : 0;
  std::string register_id = anchor != nullptr ? anchor->register_id : "";
  bool have_register = anchor != nullptr && !register_id.empty();

  for (size_t i = 0; i < records.size(); ++i) {
    const StoredRecord& record = records[i];
    ParsedRecordPayload parsed;
    Status status = ParseRecordPayload(record.format, record.payload, &parsed);
    if (!status.ok()) return Broken(ChainFailure::kMalformedPayload, i, 0, status.message());

    bool expect_first = anchor == nullptr && i == 0;
    if (parsed.first != expect_first) {
      return Broken(ChainFailure::kFirstFlagMismatch, i, parsed.sequence,
                    expect_first ? "the chain's first record is not flagged as first"
                                 : "a record after the first is flagged as first");
    }
    if (parsed.sequence != previous_sequence + 1) {
      return Broken(ChainFailure::kSequenceGap, i, parsed.sequence,
                    "expected sequence " + std::to_string(previous_sequence + 1));
    }
    if (!parsed.register_id.empty()) {
      if (have_register && parsed.register_id != register_id) {
        return Broken(ChainFailure::kRegisterMismatch, i, parsed.sequence,
                      "register \"" + parsed.register_id + "\" differs from \"" + register_id +
                          "\"");
      }
      register_id = parsed.register_id;
      have_register = true;
    }
    if (Sha256Base64Url(record.document) != parsed.digest) {
      return Broken(ChainFailure::kDigestMismatch, i, parsed.sequence,
                    "the stored document does not match the digest in the signed payload");
    }

    std::string input = ChainedSigningInput(record.payload, previous_signature);
    switch (VerifyMessage(public_key, input, record.signature)) {
      case SignatureCheck::kValid:
        break;
      case SignatureCheck::kMalformed:
        return Broken(ChainFailure::kMalformedSignature, i, parsed.sequence,
                      "signature is not 86 base64url characters of r||s");
      case SignatureCheck::kMismatch:
        return Broken(ChainFailure::kSignatureMismatch, i, parsed.sequence,
                      "signature does not verify over the payload and the previous signature");
    }

    previous_signature = record.signature;
    previous_sequence = parsed.sequence;
  }
  return ChainVerification();
}

std::string_view ChainFailureName(ChainFailure failure) {
  switch (failure) {
    case ChainFailure::kNone:
      return "none";
    case ChainFailure::kMalformedPayload:
      return "malformed_payload";
    case ChainFailure::kFirstFlagMismatch:
      return "first_flag_mismatch";
    case ChainFailure::kSequenceGap:
      return "sequence_gap";
    case ChainFailure::kRegisterMismatch:
      return "register_mismatch";
    case ChainFailure::kMalformedSignature:
      return "malformed_signature";
    case ChainFailure::kSignatureMismatch:
      return "signature_mismatch";
    case ChainFailure::kDigestMismatch:
      return "digest_mismatch";
  }
  return "unknown";
}

ChainVerification VerifyChain(const std::vector<ChainRecord>& records, EVP_PKEY* public_key,
                              const PayloadFormat& format, const ChainAnchor* anchor) {
  std::string previous_signature = anchor != nullptr ? anchor->signature : "";
  uint64_t previous_sequence = anchor != nullptr ? anchor->sequence : 0;
  std::string register_id = anchor != nullptr ? anchor->register_id : "";
  bool have_register = anchor != nullptr && format.register_field;

  for (size_t i = 0; i < records.size(); ++i) {
    const ChainRecord& record = records[i];
    ParsedTicketPayload parsed;
    Status status = ParseTicketPayload(record.payload, format, &parsed);
    if (!status.ok()) {
      return Broken(ChainFailure::kMalformedPayload, i, 0, status.message());
    }

    bool expect_first = anchor == nullptr && i == 0;
    if (parsed.first != expect_first) {
      return Broken(ChainFailure::kFirstFlagMismatch, i, parsed.sequence,
                    expect_first ? "the chain's first record is not flagged as first"
                                 : "a record after the first is flagged as first");
    }
    if (parsed.sequence != previous_sequence + 1) {
      return Broken(ChainFailure::kSequenceGap, i, parsed.sequence,
                    "expected sequence " + std::to_string(previous_sequence + 1));
    }
    if (format.register_field) {
      if (have_register && parsed.register_id != register_id) {
        return Broken(ChainFailure::kRegisterMismatch, i, parsed.sequence,
                      "register \"" + parsed.register_id + "\" differs from \"" + register_id +
                          "\"");
      }
      register_id = parsed.register_id;
      have_register = true;
    }

    std::string input = ChainedSigningInput(record.payload, previous_signature);
    switch (VerifyMessage(public_key, input, record.signature)) {
      case SignatureCheck::kValid:
        break;
      case SignatureCheck::kMalformed:
        return Broken(ChainFailure::kMalformedSignature, i, parsed.sequence,
                      "signature is not 86 base64url characters of r||s");
      case SignatureCheck::kMismatch:
        return Broken(ChainFailure::kSignatureMismatch, i, parsed.sequence,
                      "signature does not verify over the payload and the previous signature");
    }

    previous_signature = record.signature;
    previous_sequence = parsed.sequence;
  }
  return ChainVerification();
}

}  // namespace fiscal::france
