#include "nif.h"

#include <cctype>

namespace fiscal::spain {
namespace {

constexpr std::string_view kDniLetters = "TRWAGMYFPDXBNJZSQVHLCKE";
constexpr std::string_view kEntityLetters = "ABCDEFGHJNPQRSUVW";
// Control letters of legal-entity NIFs, indexed by the control digit.
constexpr std::string_view kEntityControlLetters = "JABCDEFGHI";

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

long ParseNumber(std::string_view digits) {
  long value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

std::string CheckDniLetter(long number, char letter) {
  char expected = kDniLetters[number % 23];
  if (letter == expected) return "";
  return std::string("has a wrong check letter (expected ") + expected + ")";
}

std::string CheckEntityNif(std::string_view nif) {
  std::string_view digits = nif.substr(1, 7);
  if (!AllDigits(digits)) return "must have 7 digits after the organisation letter";

  // Digits in odd positions (1st, 3rd, 5th, 7th) are doubled and their digits summed; digits in
  // even positions are added as they are.
  int sum = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    int digit = digits[i] - '0';
    if (i % 2 == 0) {
      int doubled = digit * 2;
      sum += doubled / 10 + doubled % 10;
    } else {
      sum += digit;
    }
  }
  int control_digit = (10 - sum % 10) % 10;
  char control_letter = kEntityControlLetters[control_digit];

  char organisation = nif[0];
  char control = nif[8];
  bool digit_only = std::string_view("ABEH").find(organisation) != std::string_view::npos;
  bool letter_only = std::string_view("PQRSNW").find(organisation) != std::string_view::npos;
  bool digit_ok = control == static_cast<char>('0' + control_digit) && !letter_only;
  bool letter_ok = control == control_letter && !digit_only;
  if (digit_ok || letter_ok) return "";
  return "has a wrong control character";
}

}  // namespace

std::string NormaliseTaxId(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == '-' || c == '.') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string NormaliseSpanishNif(std::string_view text) {
  std::string nif = NormaliseTaxId(text);
  if (nif.size() > 9 && nif.compare(0, 2, "ES") == 0) nif.erase(0, 2);
  return nif;
}

std::string CheckSpanishNif(std::string_view nif) {
  if (nif.size() != 9) return "must have 9 characters";

  char first = nif[0];
  char last = nif[8];
  if (std::isdigit(static_cast<unsigned char>(first))) {
    if (!AllDigits(nif.substr(0, 8))) return "must be 8 digits and a letter";
    return CheckDniLetter(ParseNumber(nif.substr(0, 8)), last);
  }

  if (first == 'X' || first == 'Y' || first == 'Z') {
    if (!AllDigits(nif.substr(1, 7))) return "must be X, Y or Z, 7 digits and a letter";
    long prefix = first - 'X';
    return CheckDniLetter(prefix * 10000000 + ParseNumber(nif.substr(1, 7)), last);
  }

  if (first == 'K' || first == 'L' || first == 'M') {
    if (!AllDigits(nif.substr(1, 7)) || !std::isalpha(static_cast<unsigned char>(last))) {
      return "must be K, L or M, 7 digits and a letter";
    }
    return CheckDniLetter(ParseNumber(nif.substr(1, 7)), last);
  }

  if (kEntityLetters.find(first) == std::string_view::npos) {
    return "starts with a letter that no Spanish NIF uses";
  }
  return CheckEntityNif(nif);
}

}  // namespace fiscal::spain
