#include "payload.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <set>

namespace fiscal::france {
namespace {

constexpr int kMaxIntegerDigits = 15;
constexpr int64_t kMaxCents = 99999999999999999;  // 15 integer digits and 2 decimals

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses "[-]digits[.d[d]]" into a value scaled by 100. Returns false on any other text.
bool ParseScaledDecimal(std::string_view text, bool allow_negative, int64_t* scaled) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    if (!allow_negative) return false;
    negative = true;
    text.remove_prefix(1);
  }
  size_t dot = text.find('.');
  std::string_view integer_part = text.substr(0, dot);
  std::string_view fraction_part =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (integer_part.empty() || integer_part.size() > kMaxIntegerDigits) return false;
  if (dot != std::string_view::npos && (fraction_part.empty() || fraction_part.size() > 2)) {
    return false;
  }
  if (!std::all_of(integer_part.begin(), integer_part.end(), IsDigit)) return false;
  if (!std::all_of(fraction_part.begin(), fraction_part.end(), IsDigit)) return false;

  int64_t value = 0;
  for (char c : integer_part) value = value * 10 + (c - '0');
  int64_t fraction = 0;
  for (size_t i = 0; i < 2; ++i) {
    fraction = fraction * 10 + (i < fraction_part.size() ? fraction_part[i] - '0' : 0);
  }
  value = value * 100 + fraction;
  *scaled = negative ? -value : value;
  return true;
}

// Parses an amount as the format writes it ("-12.00" or "-1200"), exactly, without tolerance.
bool ParseFormattedAmount(std::string_view text, AmountStyle style, int64_t* cents) {
  if (style == AmountStyle::kDecimal) {
    size_t dot = text.find('.');
    if (dot == std::string_view::npos || text.size() - dot != 3) return false;
    if (!ParseScaledDecimal(text, true, cents)) return false;
  } else {
    std::string_view digits = text;
    if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
    if (digits.empty() || digits.size() > kMaxIntegerDigits + 2) return false;
    if (!std::all_of(digits.begin(), digits.end(), IsDigit)) return false;
    auto result = std::from_chars(text.data(), text.data() + text.size(), *cents);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return false;
  }
  return FormatAmount(*cents, style) == text;
}

std::string FormatRate(int32_t basis_points) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%04d", static_cast<int>(basis_points));
  return buffer;
}

// Text fields (register id, type) must not contain the payload separators.
Status CheckTextField(std::string_view value, const char* field) {
  if (value.empty()) return Status::Invalid(field, std::string(field) + " is missing");
  for (char c : value) {
    if (c == ',' || c == '|' || c < 0x21 || c > 0x7e) {
      return Status::Invalid(field, std::string(field) + " \"" + std::string(value) +
                                        "\" contains ',', '|', a space or a character outside "
                                        "printable ASCII; remove it");
    }
  }
  return Status::Ok();
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

std::string_view FirstFlag(FirstFlagStyle style, bool first) {
  if (style == FirstFlagStyle::kYesOnFirst) return first ? "Y" : "N";
  return first ? "N" : "O";
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_';
}

}  // namespace

std::string FormatSequence(uint64_t sequence, int width) {
  std::string text = std::to_string(sequence);
  if (text.size() < static_cast<size_t>(width)) text.insert(0, width - text.size(), '0');
  return text;
}

bool ParseSequence(std::string_view text, int width, uint64_t* sequence) {
  if (text.size() < static_cast<size_t>(width) || text.size() > 18) return false;
  if (!std::all_of(text.begin(), text.end(), IsDigit)) return false;
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  // One accepted spelling per number: "0000042" is not a 6-digit "000042".
  if (value == 0 || FormatSequence(value, width) != text) return false;
  *sequence = value;
  return true;
}

bool IsDigestText(std::string_view text) {
  // 32 bytes encode to 43 characters whose last one carries 2 unused bits, which must be zero.
  if (text.size() != 43 || !std::all_of(text.begin(), text.end(), IsBase64UrlChar)) return false;
  return std::string_view("AEIMQUYcgkosw048").find(text.back()) != std::string_view::npos;
}

Status ParseAmount(std::string_view text, int64_t* cents) {
  if (!ParseScaledDecimal(text, true, cents)) {
    return Status::Invalid("amount", "amount \"" + std::string(text) +
                                         "\" is not a decimal number with at most 2 decimals");
  }
  return Status::Ok();
}

Status ParseVatRate(std::string_view text, int32_t* basis_points) {
  int64_t scaled = 0;
  if (!ParseScaledDecimal(text, false, &scaled) || scaled > 9999) {
    return Status::Invalid("vat_rate", "VAT rate \"" + std::string(text) +
                                           "\" must be a percentage from 0 to 99.99");
  }
  *basis_points = static_cast<int32_t>(scaled);
  return Status::Ok();
}

std::string FormatAmount(int64_t cents, AmountStyle style) {
  bool negative = cents < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(cents) : static_cast<uint64_t>(cents);
  std::string text = negative ? "-" : "";
  if (style == AmountStyle::kCents) return text + std::to_string(magnitude);

  char fraction[4];
  std::snprintf(fraction, sizeof(fraction), "%02u", static_cast<unsigned>(magnitude % 100));
  return text + std::to_string(magnitude / 100) + "." + fraction;
}

std::string FormatTimestamp(std::chrono::sys_seconds timestamp) {
  auto day = std::chrono::floor<std::chrono::days>(timestamp);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss<std::chrono::seconds> time{timestamp - day};
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d%02u%02u%02d%02d%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buffer;
}

Status BuildTicketPayload(const TicketPayloadFields& fields, const PayloadFormat& format,
                          std::string* payload) {
  if (fields.vat_totals.empty()) {
    return Status::Invalid("vat_totals", "VAT breakdown is empty; give at least one rate");
  }

  std::vector<VatTotal> vat_totals = fields.vat_totals;
  std::sort(vat_totals.begin(), vat_totals.end(), [](const VatTotal& a, const VatTotal& b) {
    return a.rate_basis_points > b.rate_basis_points;
  });
  int64_t sum = 0;
  for (size_t i = 0; i < vat_totals.size(); ++i) {
    int32_t rate = vat_totals[i].rate_basis_points;
    if (rate < 0 || rate > 9999) {
      return Status::Invalid("vat_totals", "VAT rate " + std::to_string(rate) +
                                               " is outside 0 to 9999 hundredths of a percent");
    }
    if (i > 0 && vat_totals[i - 1].rate_basis_points == rate) {
      return Status::Invalid("vat_totals", "VAT rate " + FormatRate(rate) + " appears twice");
    }
    int64_t cents = vat_totals[i].total_incl_tax_cents;
    if (cents > kMaxCents || cents < -kMaxCents) {
      return Status::Invalid("vat_totals", "amount " + std::to_string(cents) +
                                               " cents exceeds 15 integer digits");
    }
    sum += cents;
  }
  if (sum != fields.total_incl_tax_cents) {
    return Status::Invalid("total_incl_tax",
                           "total including tax " + FormatAmount(fields.total_incl_tax_cents,
                                                                 AmountStyle::kDecimal) +
                               " differs from the sum of the VAT breakdown " +
                               FormatAmount(sum, AmountStyle::kDecimal));
  }
  if (fields.sequence == 0 || fields.sequence > kMaxSequence) {
    return Status::Invalid("sequence", "sequence number " + std::to_string(fields.sequence) +
                                           " is outside 1 to " + std::to_string(kMaxSequence));
  }
  if (format.digest_field && !IsDigestText(fields.digest)) {
    return Status::Invalid("digest", "document digest \"" + fields.digest +
                                         "\" is not the 43-character base64url SHA-256");
  }
  if (format.register_field) {
    Status status = CheckTextField(fields.register_id, "register_id");
    if (!status.ok()) return status;
  }
  Status status = CheckTextField(fields.type, "type");
  if (!status.ok()) return status;

  std::string text;
  for (size_t i = 0; i < vat_totals.size(); ++i) {
    if (i > 0) text += '|';
    if (format.rate_labels) text += FormatRate(vat_totals[i].rate_basis_points) + ":";
    text += FormatAmount(vat_totals[i].total_incl_tax_cents, format.amounts);
  }
  text += ',' + FormatAmount(fields.total_incl_tax_cents, format.amounts);
  text += ',' + FormatTimestamp(fields.timestamp);
  if (format.register_field) text += ',' + fields.register_id;

  text += ',' + std::string(format.sequence_prefix) +
          FormatSequence(fields.sequence, format.sequence_width);
  text += ',' + fields.type;
  text += ',' + std::string(FirstFlag(format.first_flag, fields.first));
  if (format.digest_field) text += ',' + fields.digest;
  *payload = std::move(text);
  return Status::Ok();
}

Status ParseTicketPayload(std::string_view payload, const PayloadFormat& format,
                          ParsedTicketPayload* parsed) {
  std::vector<std::string_view> fields = Split(payload, ',');
  size_t expected_fields = 6 + (format.register_field ? 1 : 0) + (format.digest_field ? 1 : 0);
  if (fields.size() != expected_fields) {
    return Status::Invalid("payload", "payload has " + std::to_string(fields.size()) +
                                          " fields, format " + std::string(format.id) +
                                          " has " + std::to_string(expected_fields));
  }

  int64_t sum = 0;
  std::set<int32_t> rates;
  for (std::string_view entry : Split(fields[0], '|')) {
    std::string_view amount = entry;
    if (format.rate_labels) {
      size_t colon = entry.find(':');
      std::string_view rate = entry.substr(0, colon);
      if (colon == std::string_view::npos || rate.size() != 4 ||
          !std::all_of(rate.begin(), rate.end(), IsDigit) ||
          !rates.insert(std::stoi(std::string(rate))).second) {
        return Status::Invalid("payload", "VAT breakdown entry \"" + std::string(entry) +
                                              "\" is not a unique rate:amount pair");
      }
      amount = entry.substr(colon + 1);
    }
    int64_t cents = 0;
    if (!ParseFormattedAmount(amount, format.amounts, &cents)) {
      return Status::Invalid("payload", "amount \"" + std::string(amount) + "\" is malformed");
    }
    sum += cents;
  }
  int64_t total = 0;
  if (!ParseFormattedAmount(fields[1], format.amounts, &total)) {
    return Status::Invalid("payload", "total \"" + std::string(fields[1]) + "\" is malformed");
  }
  if (total != sum) {
    return Status::Invalid("payload", "total " + std::string(fields[1]) +
                                          " differs from the sum of the VAT breakdown");
  }
  if (fields[2].size() != 14 || !std::all_of(fields[2].begin(), fields[2].end(), IsDigit)) {
    return Status::Invalid("payload",
                           "timestamp \"" + std::string(fields[2]) + "\" is not YYYYMMDDHHMMSS");
  }

  size_t next = 3;
  ParsedTicketPayload result;
  if (format.register_field) {
    result.register_id = std::string(fields[next++]);
    Status status = CheckTextField(result.register_id, "register_id");
    if (!status.ok()) return status;
  }

  std::string_view sequence = fields[next++];
  if (sequence.substr(0, format.sequence_prefix.size()) != format.sequence_prefix) {
    return Status::Invalid("payload", "sequence \"" + std::string(sequence) +
                                          "\" lacks the prefix \"" +
                                          std::string(format.sequence_prefix) + "\"");
  }
  sequence.remove_prefix(format.sequence_prefix.size());
  if (!ParseSequence(sequence, format.sequence_width, &result.sequence)) {
    return Status::Invalid("payload", "sequence \"" + std::string(sequence) +
                                          "\" is not a number from 1 zero-padded to " +
                                          std::to_string(format.sequence_width) + " digits");
  }

  result.type = std::string(fields[next++]);
  Status status = CheckTextField(result.type, "type");
  if (!status.ok()) return status;

  std::string_view flag = fields[next++];
  if (flag == FirstFlag(format.first_flag, true)) {
    result.first = true;
  } else if (flag == FirstFlag(format.first_flag, false)) {
    result.first = false;
  } else {
    return Status::Invalid("payload", "first-record flag \"" + std::string(flag) +
                                          "\" is not valid in format " + std::string(format.id));
  }
  if (format.digest_field) {
    result.digest = std::string(fields[next]);
    if (!IsDigestText(result.digest)) {
      return Status::Invalid("payload", "document digest \"" + result.digest +
                                            "\" is not the 43-character base64url SHA-256");
    }
  }
  *parsed = std::move(result);
  return Status::Ok();
}

std::string ChainedSigningInput(std::string_view payload, std::string_view previous_signature) {
  std::string input;
  input.reserve(payload.size() + 1 + previous_signature.size());
  input.append(payload);
  input += ',';
  input.append(previous_signature);
  return input;
}

}  // namespace fiscal::france
