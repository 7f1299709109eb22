// Verification of one NF525 signature chain: every signature, every link to the previous record,
// the first-record flag and the gap-free sequence. Reports the first broken record.
#ifndef FISCAL_FRANCE_VERIFY_H_
#define FISCAL_FRANCE_VERIFY_H_

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "payload.h"

namespace fiscal::france {

// One stored record: the payload without the previous signature, and its signature.
struct ChainRecord {
  std::string payload;
  std::string signature;
};

// Last verified record before a chain segment, for verifying a segment that does not start at
// the first record of the chain.
struct ChainAnchor {
  std::string signature;
  uint64_t sequence = 0;
  std::string register_id;  // ignored when the format has no register field
};

enum class ChainFailure {
  kNone,
  kMalformedPayload,
  kFirstFlagMismatch,  // first record not flagged first, or a later record flagged first
  kSequenceGap,        // sequence not previous + 1 (or not 1 on the first record)
  kRegisterMismatch,   // register id differs from the previous record's
  kMalformedSignature,
  kSignatureMismatch,  // payload + "," + previous signature does not verify
  kDigestMismatch,     // the payload's digest is not the SHA-256 of the stored document
};

// Returns a stable lower-case name such as "sequence_gap".
std::string_view ChainFailureName(ChainFailure failure);

// Result of VerifyChain. When `failure` is not kNone, `index` is the 0-based position of the first
// broken record and `sequence` its sequence number (0 when the payload could not be parsed).
struct ChainVerification {
  ChainFailure failure = ChainFailure::kNone;
  size_t index = 0;
  uint64_t sequence = 0;
  std::string message;

  bool ok() const { return failure == ChainFailure::kNone; }
};

// Verifies `records` in order with `public_key`. Without an anchor the first record must be the
// chain's first (flagged first, sequence 1, signing payload + ","). Checks stop at the first
// broken record, because every later link depends on it.
ChainVerification VerifyChain(const std::vector<ChainRecord>& records, EVP_PKEY* public_key,
                              const PayloadFormat& format, const ChainAnchor* anchor = nullptr);

// Fields every record payload of the france-nf525 formats carries.
struct ParsedRecordPayload {
  std::string register_id;  // empty for fr-closure-v1, which has no register field
  uint64_t sequence = 0;
  bool first = false;
  std::string digest;
};

// Parses a payload of format fr-ticket-v1, fr-training-v1, fr-duplicate-v1, fr-closure-v1,
// fr-event-v1 or fr-archive-v1 (see docs/france.md for the field order). Checks the field count,
// the timestamp, the sequence, the first-record flag and the digest.
Status ParseRecordPayload(std::string_view format_id, std::string_view payload,
                          ParsedRecordPayload* parsed);

// One stored record of the france-nf525 plugin: its record_data format, payload and signature,
// and its document.
struct StoredRecord {
  std::string format;
  std::string payload;
  std::string signature;
  std::string document;
};

// Verifies a chain of stored records like VerifyChain, and also that each payload's digest is the
// base64url SHA-256 of the record's document, so an altered line or payment in a stored document
// is reported at its record.
ChainVerification VerifyRecordChain(const std::vector<StoredRecord>& records,
                                    EVP_PKEY* public_key, const ChainAnchor* anchor = nullptr);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_VERIFY_H_
