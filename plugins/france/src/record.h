// Pieces shared by every NF525 record: the issue context read from the common issue_record input,
// record ids, signing with the chain rule, and the result object the host stores. The writers
// below add the members that every document, payload, record_data, chain_state and receipt start
// or end with, so each record kind writes only its own.
#ifndef FISCAL_FRANCE_RECORD_H_
#define FISCAL_FRANCE_RECORD_H_

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "json_util.h"
#include "location.h"
#include "nf525_receipt.h"
#include "signer.h"
#include "status.h"

namespace fiscal::france {

inline constexpr std::string_view kPluginName = "france-nf525";
inline constexpr std::string_view kPluginVersion = "1.0.0";

// Format ids, stored in each record's record_data.format.
inline constexpr std::string_view kDuplicateFormatId = "fr-duplicate-v1";
inline constexpr std::string_view kClosureFormatId = "fr-closure-v1";
inline constexpr std::string_view kEventFormatId = "fr-event-v1";
inline constexpr std::string_view kArchiveFormatId = "fr-archive-v1";

// Sequences in payloads and record ids are zero-padded to at least 6 digits.
inline constexpr int kSequenceWidth = 6;

// The common part of the issue_record input, read and checked.
struct IssueContext {
  const rapidjson::Value* input = nullptr;  // the whole input object
  std::string operation;
  std::chrono::sys_seconds now;
  LocationConfig location;
  std::string chain_name;
  uint64_t sequence = 0;
  const rapidjson::Value* previous = nullptr;  // chain.previous, null on the chain's first record
  std::string previous_signature;              // empty on the chain's first record
  bool training = false;

  bool first() const { return sequence == 1; }
};

// Result of one signing.
struct SignedPayload {
  std::string payload;
  std::string signature;  // base64url of r||s, 86 characters
  std::string extract;    // characters 3, 7, 13 and 19 of the signature
  std::string key_id;
};

// The issue_record result.
struct IssuedRecord {
  std::string fiscal_id;
  std::string record_type;
  std::string document;
  std::string hash;
  std::string qr_payload;
  std::string record_data;  // JSON object
  std::string chain_state;  // JSON object
  std::string receipt;      // JSON object
};

// Returns a result with the members known before anything is written: the record type and the
// fiscal id "<register>-<letter>-<sequence padded to 6 digits>", such as "CAISSE-01-T-000042".
IssuedRecord StartRecord(const IssueContext& context, char letter, std::string record_type);

// Signs payload + "," + the chain's previous signature with the register's key and stores the
// signature as the record's hash. A signer failure is returned unchanged.
Status SignRecord(const IssueContext& context, const Signer& signer, std::string payload,
                  IssuedRecord* record, SignedPayload* out);

// Replaces ',' and '|' with a space, so that free text cannot add payload fields.
std::string SanitizeFreeText(std::string_view text);

// Returns the first-record flag of the NF525 formats: "Y" on a chain's first record, else "N".
std::string_view FirstFlag(bool first);

// Returns "," + the first-record flag + "," + the base64url SHA-256 of `document`: the last two
// fields of every payload but a ticket's, whose PayloadFormat writes them.
std::string PayloadTail(const IssueContext& context, std::string_view document);

// Returns the QR code text of a record, "NF525|<fiscal id>|<fields>|<time>|<extract>". `fields`
// are the record kind's own fields joined with '|', and <time> is the UTC YYYYMMDDHHMMSS time.
std::string QrPayload(const IssueContext& context, std::string_view fiscal_id,
                      std::string_view fields, const SignedPayload& signed_payload);

// Writes the members every document starts with: fiscal_id, then `ticket_type` when it is not
// empty (tickets only), the location members, sequence and timestamp.
void WriteDocumentHead(JsonWriter& writer, const IssueContext& context, std::string_view fiscal_id,
                       std::string_view ticket_type = {});

// Writes the members every record_data starts with: format, payload, signature, extract, key_id,
// then `ticket_type` when it is not empty (tickets only), register, sequence and timestamp.
void WriteRecordDataHead(JsonWriter& writer, const IssueContext& context, std::string_view format,
                         const SignedPayload& signed_payload, std::string_view ticket_type = {});

// Writes the members every chain_state starts with: signature and sequence.
void WriteChainStateHead(JsonWriter& writer, const IssueContext& context,
                         const SignedPayload& signed_payload);

// Returns the chain_state {signature, sequence} of the chains that keep nothing else:
// duplicates, journal and archives.
std::string SimpleChainState(const IssueContext& context, const SignedPayload& signed_payload);

// Returns a receipt with the fields every record prints: the title, the establishment's mentions,
// the fiscal id as number, the Paris time of issue and the signature extract.
ReceiptFields StartReceipt(const IssueContext& context, std::string title,
                           std::string_view fiscal_id, const SignedPayload& signed_payload);

// Returns the issue_record result JSON.
std::string IssuedRecordJson(const IssuedRecord& record);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_RECORD_H_
