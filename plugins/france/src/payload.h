// NF525 ticket payload: the comma-joined string that is signed for each ticket, and the chaining
// rule Sig(N) = sign(payload(N) + "," + Sig(N-1)), where the first record signs payload + ",".
//
// The NF525 data dictionary is not public, so the exact field layout is a format definition
// (PayloadFormat) stored with every record. Fields, in order:
//   1. total including tax per VAT rate, "rate:amount" entries joined with "|", highest rate first;
//   2. total including tax;
//   3. timestamp YYYYMMDDHHMMSS;
//   4. register id (only when the format has a register field);
//   5. sequence number, gap-free per chain, zero-padded;
//   6. operation type, for example SALE or VENTE;
//   7. first-record flag;
//   8. digest of the record's stored document (only when the format has a digest field).
// Rates are written in hundredths of a percent on 4 digits (20% is "2000", 5.5% is "0550"), the
// convention shared by Maxxton, efsta and other public NF525 implementations. Refunds carry
// negative amounts in the same chain.
#ifndef FISCAL_FRANCE_PAYLOAD_H_
#define FISCAL_FRANCE_PAYLOAD_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace fiscal::france {

// How amounts are written: "12.00" (two decimals) or "1200" (cents).
enum class AmountStyle { kDecimal, kCents };

// Meaning of the first-record flag. Public implementations use two opposite conventions:
// kYesOnFirst writes "Y" on the first record and "N" after it (Microsoft Dynamics 365 Commerce);
// kCarriedOver writes "N" on the first record ("no previous signature carried over") and "O"
// after it (Electron POS, the RFC 6979 chain vectors).
enum class FirstFlagStyle { kYesOnFirst, kCarriedOver };

// Layout of the ticket payload. Records keep the id of the format they were signed with, so that
// a later format change never breaks verification of older records.
struct PayloadFormat {
  std::string_view id;
  AmountStyle amounts;
  bool rate_labels;     // writes "2000:120.00" when true, "120.00" when false
  bool register_field;  // includes field 4 (register id)
  std::string_view sequence_prefix;
  int sequence_width;  // minimum digits of the zero-padded sequence number
  FirstFlagStyle first_flag;
  bool digest_field;  // includes field 8 (document digest)
};

// Ticket format of the france-nf525 plugin: decimal amounts, register id, sequence padded to 6
// digits, Y on the first record, and the base64url SHA-256 of the record's document last.
// NOTE: a published example of this layout, "120.00,120.00,20260315143022,CAISSE-01,000042,SALE,N",
// writes the per-rate field without a rate label. This format keeps the label so that the signature
// covers the VAT rate. The certifier's data dictionary decides which one is final.
inline constexpr PayloadFormat kTicketFormatV1{"fr-ticket-v1", AmountStyle::kDecimal, true, true,
                                               "", 6, FirstFlagStyle::kYesOnFirst, true};

// Training ("mode école") tickets: the ticket layout in a chain of their own, types prefixed
// "FORMATION-".
inline constexpr PayloadFormat kTrainingFormatV1{"fr-training-v1", AmountStyle::kDecimal, true,
                                                 true, "", 6, FirstFlagStyle::kYesOnFirst, true};

// Format of the deterministic (RFC 6979) chain test vectors: amounts in cents, no register field, sequence
// "T" + 5 digits, N on the first record and O after it, no digest.
inline constexpr PayloadFormat kTicketFormatCentsCarriedOver{
    "fr-ticket-cents-on", AmountStyle::kCents, true, false, "T", 5, FirstFlagStyle::kCarriedOver,
    false};

// Total including tax of one VAT rate.
struct VatTotal {
  int32_t rate_basis_points = 0;  // hundredths of a percent: 20% is 2000
  int64_t total_incl_tax_cents = 0;
};

// Values of one ticket that enter the signed payload.
struct TicketPayloadFields {
  std::vector<VatTotal> vat_totals;
  int64_t total_incl_tax_cents = 0;
  // Written in UTC so that the string does not depend on the host's time zone or DST rules.
  // NOTE: whether the certifier wants Paris local time instead is still open.
  std::chrono::sys_seconds timestamp;
  std::string register_id;
  uint64_t sequence = 0;  // starts at 1
  std::string type;
  bool first = false;
  std::string digest;  // base64url SHA-256 of the document; used when the format has a digest field
};

// Fields read back from a payload string by ParseTicketPayload.
struct ParsedTicketPayload {
  std::string register_id;  // empty when the format has no register field
  uint64_t sequence = 0;
  std::string type;
  bool first = false;
  std::string digest;  // empty when the format has no digest field
};

// Largest sequence number a payload may carry (18 digits).
inline constexpr uint64_t kMaxSequence = 999999999999999999;

// Parses an exact decimal amount such as "18.50", "-12.00" or "7" into cents. Rejects more than two
// decimals (no rounding), signs other than a leading '-', spaces and more than 15 integer digits.
Status ParseAmount(std::string_view text, int64_t* cents);

// Parses a VAT rate in percent such as "20", "5.5" or "2.10" into hundredths of a percent.
// Accepts 0 to 99.99 with at most two decimals.
Status ParseVatRate(std::string_view text, int32_t* basis_points);

// Formats cents as "-12.00" (kDecimal) or "-1200" (kCents).
std::string FormatAmount(int64_t cents, AmountStyle style);

// Formats a timestamp as YYYYMMDDHHMMSS in UTC.
std::string FormatTimestamp(std::chrono::sys_seconds timestamp);

// Formats a sequence number zero-padded to `width` digits ("000042"); wider numbers keep all
// their digits.
std::string FormatSequence(uint64_t sequence, int width);

// Parses a sequence written by FormatSequence with the same width. Rejects padding beyond the
// width, signs, 0 and values above kMaxSequence.
bool ParseSequence(std::string_view text, int width, uint64_t* sequence);

// Returns true when `text` is 43 base64url characters, the encoding of a SHA-256 digest.
bool IsDigestText(std::string_view text);

// Builds the payload of one ticket. Rejects an empty VAT breakdown, duplicate rates, an amount
// above 15 integer digits, a total that differs from the sum of the per-rate totals, a sequence of
// 0 or above kMaxSequence, a register id or type that is empty or contains ',', '|' or a
// non-printable character, and a digest that is not 43 base64url characters.
Status BuildTicketPayload(const TicketPayloadFields& fields, const PayloadFormat& format,
                          std::string* payload);

// Parses the fields of a payload that the verifier needs (sequence, flag, register, type, digest).
Status ParseTicketPayload(std::string_view payload, const PayloadFormat& format,
                          ParsedTicketPayload* parsed);

// Returns the string that is signed: payload + "," + previous signature (empty on the first record).
std::string ChainedSigningInput(std::string_view payload, std::string_view previous_signature);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_PAYLOAD_H_
