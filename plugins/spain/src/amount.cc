#include "amount.h"

namespace fiscal::spain {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Checks "<integer part>.<2 digits>" where the integer part has 1..max_integer_digits digits.
bool IsFixedTwoDecimals(std::string_view text, size_t max_integer_digits, bool allow_leading_zero) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > max_integer_digits) return false;
  if (text.size() != dot + 3) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != dot && !IsDigit(text[i])) return false;
  }
  if (!allow_leading_zero && dot > 1 && text[0] == '0') return false;
  return true;
}

}  // namespace

bool IsAmount(std::string_view text) {
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  return IsFixedTwoDecimals(text, 12, false);
}

bool IsTaxRate(std::string_view text) { return IsFixedTwoDecimals(text, 3, false); }

int64_t AmountToCents(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  int64_t cents = 0;
  for (char c : text) {
    if (c == '.') continue;
    cents = cents * 10 + (c - '0');
  }
  return negative ? -cents : cents;
}

}  // namespace fiscal::spain
