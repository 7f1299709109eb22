// Parsing of the signed payload strings of docs/france.md ("Payload formats"), written apart from
// the plugin so that fiscal-verify is a second, independent reading of the format.
//
// Every payload is a comma-joined list of fields ending with the document digest. Amounts are
// canonical decimals with two places ("-12.00"), timestamps YYYYMMDDHHMMSS, sequences zero-padded
// to 6 digits, rates 4 digits in hundredths of a percent and per-rate totals "rate:amount" joined
// with '|'.
#ifndef FISCAL_FRANCE_VERIFIER_PAYLOAD_FIELDS_H_
#define FISCAL_FRANCE_VERIFIER_PAYLOAD_FIELDS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace fiscal::france::verifier {

// Totals including tax per VAT rate: rate in hundredths of a percent to cents.
using RateTotals = std::map<int32_t, int64_t>;

// Fields of one payload. Members that a format lacks keep their default value.
struct PayloadFields {
  uint64_t sequence = 0;
  bool first = false;
  bool has_register = false;  // false for fr-closure-v1, which has no register field
  std::string register_id;
  std::string timestamp;  // YYYYMMDDHHMMSS
  std::string digest;     // base64url SHA-256 of the record's document

  // fr-ticket-v1, fr-training-v1 and fr-closure-v1.
  RateTotals rate_totals;
  int64_t total_cents = 0;
  // fr-ticket-v1 and fr-training-v1: VENTE, REMBOURSEMENT, ANNULATION (FORMATION- prefixed).
  std::string type;

  // fr-closure-v1.
  int64_t perpetual_absolute_cents = 0;
  std::string period_level;  // "day", "month" or "year"
  std::string period;        // "2026-12-04", "2026-12" or "2026"
};

// Returns true for the six format ids of docs/france.md.
bool IsKnownFormat(std::string_view format);

// Returns the text after the last ',' of `payload`: the digest field of every format.
std::string_view DigestField(std::string_view payload);

// Parses `payload` as `format`. Returns an empty string when it is well formed, else the reason,
// for example "field 3 (timestamp) \"20261304101500\" is not a valid YYYYMMDDHHMMSS time".
std::string ParsePayload(std::string_view format, std::string_view payload, PayloadFields* fields);

// Returns base64url (no padding) of SHA-256(`document`), the digest every payload ends with.
std::string DocumentDigest(std::string_view document);

// Formats cents as "-12.00".
std::string FormatCents(int64_t cents);

// Formats per-rate totals as "2000:12.00|0550:2.11", highest rate first, or "(none)" when empty.
std::string FormatRateTotals(const RateTotals& totals);

}  // namespace fiscal::france::verifier

#endif  // FISCAL_FRANCE_VERIFIER_PAYLOAD_FIELDS_H_
