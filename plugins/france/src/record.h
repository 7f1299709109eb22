// Pieces shared by every NF525 record: the issue context read from the common issue_record input,
// signing with the chain rule, record ids, and the result object the host stores.
#ifndef FISCAL_FRANCE_RECORD_H_
#define FISCAL_FRANCE_RECORD_H_

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "json_util.h"
#include "location.h"
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

// Signs payload + "," + the chain's previous signature with the register's key. A signer failure
// is returned unchanged.
Status SignPayload(const IssueContext& context, const Signer& signer, std::string payload,
                   SignedPayload* out);

// Returns "<register>-<letter>-<sequence padded to 6 digits>", such as "CAISSE-01-T-000042".
std::string FiscalId(std::string_view register_id, char letter, uint64_t sequence);

// Replaces ',' and '|' with a space, so that free text cannot add payload fields.
std::string SanitizeFreeText(std::string_view text);

// Returns the first-record flag of the NF525 formats: "Y" on a chain's first record, else "N".
std::string_view FirstFlag(bool first);

// Writes the members every record_data starts with: format, payload, signature, extract, key_id.
void WriteRecordDataHead(JsonWriter& writer, std::string_view format, const SignedPayload& signed_payload);

// Writes the members of the location every document carries: siret, register and, when set,
// establishment.
void WriteLocationMembers(JsonWriter& writer, const LocationConfig& location);

// Returns the issue_record result JSON.
std::string IssuedRecordJson(const IssuedRecord& record);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_RECORD_H_
