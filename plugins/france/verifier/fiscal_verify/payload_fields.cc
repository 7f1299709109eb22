#include "fiscal_verify/payload_fields.h"

#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "payload.h"
#include "signature.h"

namespace fiscal::france::verifier {
namespace {

constexpr size_t kMinSequenceDigits = 6;
constexpr size_t kMaxSequenceDigits = 18;  // keeps previous + 1 far from overflow
constexpr size_t kDigestLength = 43;       // base64url of 32 bytes without padding
constexpr size_t kMaxRegisterLength = 20;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsDigit);
}

uint64_t DigitsValue(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) value = value * 10 + static_cast<uint64_t>(c - '0');
  return value;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Builds "field N (name) "value" <problem>".
std::string FieldError(size_t index, std::string_view name, std::string_view value,
                       std::string_view problem) {
  return "field " + std::to_string(index + 1) + " (" + std::string(name) + ") " + Quoted(value) +
         " " + std::string(problem);
}

bool IsValidCivilDate(int year, int month, int day) {
  return std::chrono::year_month_day(std::chrono::year(year),
                                     std::chrono::month(static_cast<unsigned>(month)),
                                     std::chrono::day(static_cast<unsigned>(day)))
      .ok();
}

bool IsTimestamp(std::string_view text) {
  if (text.size() != 14 || !AllDigits(text)) return false;
  int year = static_cast<int>(DigitsValue(text.substr(0, 4)));
  int month = static_cast<int>(DigitsValue(text.substr(4, 2)));
  int day = static_cast<int>(DigitsValue(text.substr(6, 2)));
  uint64_t hour = DigitsValue(text.substr(8, 2));
  uint64_t minute = DigitsValue(text.substr(10, 2));
  uint64_t second = DigitsValue(text.substr(12, 2));
  return IsValidCivilDate(year, month, day) && hour < 24 && minute < 60 && second < 60;
}

// YYYY-MM-DD.
bool IsDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  std::string_view year = text.substr(0, 4);
  std::string_view month = text.substr(5, 2);
  std::string_view day = text.substr(8, 2);
  if (!AllDigits(year) || !AllDigits(month) || !AllDigits(day)) return false;
  return IsValidCivilDate(static_cast<int>(DigitsValue(year)), static_cast<int>(DigitsValue(month)),
                          static_cast<int>(DigitsValue(day)));
}

// Zero-padded to 6 digits; a wider number has no leading zero. Sequences start at 1.
bool ParseSequence(std::string_view text, uint64_t* sequence) {
  if (!AllDigits(text) || text.size() < kMinSequenceDigits || text.size() > kMaxSequenceDigits) {
    return false;
  }
  if (text.size() > kMinSequenceDigits && text.front() == '0') return false;
  *sequence = DigitsValue(text);
  return *sequence >= 1;
}

// A positive integer without leading zeros.
bool ParsePositiveInteger(std::string_view text, uint64_t* value) {
  if (!AllDigits(text) || text.size() > 9 || text.front() == '0') return false;
  *value = DigitsValue(text);
  return true;
}

// Only the canonical form is accepted ("-12.00", "0.00"), so that one amount has one text.
bool ParseCanonicalAmount(std::string_view text, int64_t* cents) {
  int64_t value = 0;
  if (!ParseAmount(text, &value).ok()) return false;
  if (FormatAmount(value, AmountStyle::kDecimal) != text) return false;
  *cents = value;
  return true;
}

bool IsRegister(std::string_view text) {
  if (text.empty() || text.size() > kMaxRegisterLength) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-';
  });
}

// Free text (operator) may hold anything but the separators and control characters.
bool IsFreeText(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return c == ',' || c == '|' || byte < 0x20 || byte == 0x7f;
  });
}

bool IsDigest(std::string_view text) {
  std::string bytes;
  return text.size() == kDigestLength && Base64UrlDecode(text, &bytes) && bytes.size() == 32;
}

bool IsLowerHex(std::string_view text, size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return IsDigit(c) || (c >= 'a' && c <= 'f');
         });
}

bool IsTicketType(std::string_view type) {
  return type == "VENTE" || type == "REMBOURSEMENT" || type == "ANNULATION";
}

bool IsTrainingType(std::string_view type) {
  constexpr std::string_view kPrefix = "FORMATION-";
  return type.substr(0, kPrefix.size()) == kPrefix && IsTicketType(type.substr(kPrefix.size()));
}

// Parses "2000:12.00|0550:2.11". An empty text is an empty breakdown.
std::string ParseRateTotals(std::string_view text, RateTotals* totals, int64_t* sum) {
  totals->clear();
  *sum = 0;
  if (text.empty()) return "";
  for (std::string_view entry : Split(text, '|')) {
    size_t colon = entry.find(':');
    if (colon == std::string_view::npos) return "entry " + Quoted(entry) + " has no ':'";
    std::string_view rate = entry.substr(0, colon);
    std::string_view amount = entry.substr(colon + 1);
    if (rate.size() != 4 || !AllDigits(rate)) {
      return "rate " + Quoted(rate) + " is not 4 digits in hundredths of a percent";
    }
    int64_t cents = 0;
    if (!ParseCanonicalAmount(amount, &cents)) {
      return "amount " + Quoted(amount) + " is not a decimal with two places such as -12.00";
    }
    auto basis_points = static_cast<int32_t>(DigitsValue(rate));
    if (!totals->emplace(basis_points, cents).second)
      return "rate " + Quoted(rate) + " is repeated";
    if (__builtin_add_overflow(*sum, cents, sum)) return "the per-rate totals overflow";
  }
  return "";
}

std::string ParseFirstFlag(const std::vector<std::string_view>& fields, size_t index,
                           PayloadFields* out) {
  std::string_view flag = fields[index];
  if (flag != "Y" && flag != "N") return FieldError(index, "first flag", flag, "is not Y or N");
  out->first = flag == "Y";
  return "";
}

std::string ParseCommon(const std::vector<std::string_view>& fields, size_t sequence_index,
                        size_t timestamp_index, size_t flag_index, PayloadFields* out) {
  if (!ParseSequence(fields[sequence_index], &out->sequence)) {
    return FieldError(sequence_index, "sequence", fields[sequence_index],
                      "is not a sequence of at least 6 digits starting at 000001");
  }
  if (!IsTimestamp(fields[timestamp_index])) {
    return FieldError(timestamp_index, "timestamp", fields[timestamp_index],
                      "is not a valid YYYYMMDDHHMMSS time");
  }
  out->timestamp = fields[timestamp_index];
  std::string error = ParseFirstFlag(fields, flag_index, out);
  if (!error.empty()) return error;
  std::string_view digest = fields.back();
  if (!IsDigest(digest)) {
    return FieldError(fields.size() - 1, "digest", digest,
                      "is not 43 base64url characters of a SHA-256");
  }
  out->digest = digest;
  return "";
}

std::string ParseRegister(const std::vector<std::string_view>& fields, size_t index,
                          PayloadFields* out) {
  if (!IsRegister(fields[index])) {
    return FieldError(index, "register", fields[index], "is not 1 to 20 characters [A-Za-z0-9_-]");
  }
  out->has_register = true;
  out->register_id = fields[index];
  return "";
}

// fr-ticket-v1 and fr-training-v1: rates, total, timestamp, register, sequence, type, flag, digest.
std::string ParseTicket(const std::vector<std::string_view>& fields, bool training,
                        PayloadFields* out) {
  int64_t sum = 0;
  std::string error = ParseRateTotals(fields[0], &out->rate_totals, &sum);
  if (!error.empty()) return FieldError(0, "per-rate totals", fields[0], error);
  if (out->rate_totals.empty()) return FieldError(0, "per-rate totals", fields[0], "is empty");
  if (!ParseCanonicalAmount(fields[1], &out->total_cents)) {
    return FieldError(1, "total", fields[1], "is not a decimal with two places such as -12.00");
  }
  if (sum != out->total_cents) {
    return FieldError(1, "total", fields[1],
                      "differs from the sum of the per-rate totals " + FormatCents(sum));
  }
  error = ParseRegister(fields, 3, out);
  if (!error.empty()) return error;
  std::string_view type = fields[5];
  bool type_ok = training ? IsTrainingType(type) : IsTicketType(type);
  if (!type_ok) {
    return FieldError(5, "type", type,
                      training ? "is not FORMATION-VENTE, FORMATION-REMBOURSEMENT or "
                                 "FORMATION-ANNULATION"
                               : "is not VENTE, REMBOURSEMENT or ANNULATION");
  }
  out->type = type;
  return ParseCommon(fields, 4, 2, 6, out);
}

// fr-duplicate-v1: register, sequence, original type, copy number, operator, timestamp,
// original register, original sequence, first flag, digest.
std::string ParseDuplicate(const std::vector<std::string_view>& fields, PayloadFields* out) {
  std::string error = ParseRegister(fields, 0, out);
  if (!error.empty()) return error;
  if (!IsTicketType(fields[2]) && !IsTrainingType(fields[2])) {
    return FieldError(2, "original type", fields[2], "is not a ticket or training type");
  }
  uint64_t copy_number = 0;
  if (!ParsePositiveInteger(fields[3], &copy_number)) {
    return FieldError(3, "copy number", fields[3], "is not a positive integer");
  }
  if (!IsFreeText(fields[4])) {
    return FieldError(4, "operator", fields[4], "contains '|' or a control character");
  }
  if (!IsRegister(fields[6])) {
    return FieldError(6, "original register", fields[6], "is not 1 to 20 characters [A-Za-z0-9_-]");
  }
  uint64_t original_sequence = 0;
  if (!ParseSequence(fields[7], &original_sequence)) {
    return FieldError(7, "original sequence", fields[7],
                      "is not a sequence of at least 6 digits starting at 000001");
  }
  return ParseCommon(fields, 1, 5, 8, out);
}

// fr-closure-v1: rates, period total, perpetual total (absolute), timestamp, period, sequence,
// first flag, digest.
std::string ParseClosure(const std::vector<std::string_view>& fields, PayloadFields* out) {
  int64_t sum = 0;
  std::string error = ParseRateTotals(fields[0], &out->rate_totals, &sum);
  if (!error.empty()) return FieldError(0, "per-rate totals", fields[0], error);
  if (!ParseCanonicalAmount(fields[1], &out->total_cents)) {
    return FieldError(1, "period total", fields[1],
                      "is not a decimal with two places such as -12.00");
  }
  if (sum != out->total_cents) {
    return FieldError(1, "period total", fields[1],
                      "differs from the sum of the per-rate totals " + FormatCents(sum));
  }
  if (!ParseCanonicalAmount(fields[2], &out->perpetual_absolute_cents) ||
      out->perpetual_absolute_cents < 0) {
    return FieldError(2, "perpetual total", fields[2],
                      "is not a non-negative decimal with two places");
  }

  std::string_view period = fields[4];
  size_t colon = period.find(':');
  std::string_view level = period.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : period.substr(colon + 1);
  bool period_ok = false;
  if (level == "day") {
    period_ok = IsDate(value);
  } else if (level == "month") {
    period_ok = value.size() == 7 && value[4] == '-' && IsDate(std::string(value) + "-01");
  } else if (level == "year") {
    period_ok = value.size() == 4 && AllDigits(value);
  }
  if (!period_ok) {
    return FieldError(4, "period", period, "is not day:YYYY-MM-DD, month:YYYY-MM or year:YYYY");
  }
  out->period_level = level;
  out->period = value;
  return ParseCommon(fields, 5, 3, 6, out);
}

// Names of the journal event codes of docs/france.md. Other codes are accepted with any name.
std::string_view KnownEventName(uint64_t code) {
  switch (code) {
    case 10:
      return "start";
    case 20:
      return "stop";
    case 30:
      return "login";
    case 40:
      return "logout";
    case 50:
      return "reprint";
    case 60:
      return "offline_start";
    case 61:
      return "offline_end";
    case 70:
      return "closure";
    case 80:
      return "archive";
    case 90:
      return "signing_key_unavailable";
    case 100:
      return "purge";
    case 110:
      return "plugin_version_change";
    case 120:
      return "config_change";
    case 130:
      return "training_start";
    case 131:
      return "training_end";
    default:
      return "";
  }
}

// fr-event-v1: sequence, event code, event name, timestamp, operator, register, first flag, digest.
std::string ParseEvent(const std::vector<std::string_view>& fields, PayloadFields* out) {
  uint64_t code = 0;
  if (!ParsePositiveInteger(fields[1], &code)) {
    return FieldError(1, "event code", fields[1], "is not a positive integer");
  }
  std::string_view name = fields[2];
  bool name_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '_';
  });
  if (!name_ok) return FieldError(2, "event name", name, "is not [a-z0-9_]+");
  std::string_view known = KnownEventName(code);
  if (!known.empty() && name != known) {
    return FieldError(
        2, "event name", name,
        "is not the name of code " + std::to_string(code) + " (" + std::string(known) + ")");
  }
  if (!IsFreeText(fields[4])) {
    return FieldError(4, "operator", fields[4], "contains '|' or a control character");
  }
  std::string error = ParseRegister(fields, 5, out);
  if (!error.empty()) return error;
  return ParseCommon(fields, 0, 3, 6, out);
}

// fr-archive-v1: sequence, period from|to, manifest SHA-256 hex, timestamp, register, first flag,
// digest.
std::string ParseArchive(const std::vector<std::string_view>& fields, PayloadFields* out) {
  std::string_view period = fields[1];
  size_t bar = period.find('|');
  std::string_view from = period.substr(0, bar);
  std::string_view to = bar == std::string_view::npos ? "" : period.substr(bar + 1);
  if (!IsDate(from) || !IsDate(to) || to < from) {
    return FieldError(1, "period", period, "is not YYYY-MM-DD|YYYY-MM-DD with from <= to");
  }
  if (!IsLowerHex(fields[2], 64)) {
    return FieldError(2, "manifest SHA-256", fields[2], "is not 64 lower-case hex characters");
  }
  std::string error = ParseRegister(fields, 4, out);
  if (!error.empty()) return error;
  return ParseCommon(fields, 0, 3, 5, out);
}

size_t FieldCount(std::string_view format) {
  if (format == "fr-ticket-v1" || format == "fr-training-v1") return 8;
  if (format == "fr-duplicate-v1") return 10;
  if (format == "fr-closure-v1") return 8;
  if (format == "fr-event-v1") return 8;
  if (format == "fr-archive-v1") return 7;
  return 0;
}

}  // namespace

bool IsKnownFormat(std::string_view format) { return FieldCount(format) != 0; }

std::string_view DigestField(std::string_view payload) {
  size_t comma = payload.rfind(',');
  return comma == std::string_view::npos ? payload : payload.substr(comma + 1);
}

std::string ParsePayload(std::string_view format, std::string_view payload, PayloadFields* fields) {
  size_t expected_count = FieldCount(format);
  if (expected_count == 0) return "format " + Quoted(format) + " is unknown";
  std::vector<std::string_view> parts = Split(payload, ',');
  if (parts.size() != expected_count) {
    return "has " + std::to_string(parts.size()) + " comma-separated fields, " +
           std::string(format) + " has " + std::to_string(expected_count);
  }

  *fields = PayloadFields();
  if (format == "fr-ticket-v1") return ParseTicket(parts, false, fields);
  if (format == "fr-training-v1") return ParseTicket(parts, true, fields);
  if (format == "fr-duplicate-v1") return ParseDuplicate(parts, fields);
  if (format == "fr-closure-v1") return ParseClosure(parts, fields);
  if (format == "fr-event-v1") return ParseEvent(parts, fields);
  return ParseArchive(parts, fields);
}

std::string DocumentDigest(std::string_view document) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(document.data()), document.size(), digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

std::string FormatCents(int64_t cents) { return FormatAmount(cents, AmountStyle::kDecimal); }

std::string FormatRateTotals(const RateTotals& totals) {
  if (totals.empty()) return "(none)";
  std::string text;
  for (auto it = totals.rbegin(); it != totals.rend(); ++it) {
    if (!text.empty()) text += "|";
    char rate[8];
    std::snprintf(rate, sizeof(rate), "%04d", static_cast<int>(it->first));
    text += std::string(rate) + ":" + FormatCents(it->second);
  }
  return text;
}

}  // namespace fiscal::france::verifier
