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

}  // namespace

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
