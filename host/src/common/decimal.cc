#include "common/decimal.h"

#include <algorithm>

namespace fiscal {
namespace {

__int128 PowerOfTen(int exponent) {
  __int128 value = 1;
  for (int i = 0; i < exponent; ++i) value *= 10;
  return value;
}

// Divides rounding half away from zero.
__int128 DivideRounded(__int128 numerator, __int128 denominator) {
  bool negative = (numerator < 0) != (denominator < 0);
  __int128 n = numerator < 0 ? -numerator : numerator;
  __int128 d = denominator < 0 ? -denominator : denominator;
  __int128 quotient = n / d;
  __int128 remainder = n % d;
  if (remainder * 2 >= d) ++quotient;
  return negative ? -quotient : quotient;
}

}  // namespace

Result<Decimal> Decimal::Parse(std::string_view text, const std::string& field) {
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument(field, field + " must be a decimal number such as \"12.30\" (" + why +
                                              ")");
  };
  if (text.empty()) return invalid("it is empty");

  size_t position = 0;
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    position = 1;
  }

  __int128 coefficient = 0;
  int integer_digits = 0;
  int scale = 0;
  bool seen_point = false;
  bool seen_digit = false;
  for (; position < text.size(); ++position) {
    char c = text[position];
    if (c == '.') {
      if (seen_point) return invalid("it has two decimal points");
      if (!seen_digit) return invalid("a digit must come before the decimal point");
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') return invalid(std::string("unexpected character '") + c + "'");
    seen_digit = true;
    if (seen_point) {
      if (++scale > kMaxScale) return invalid("more than 6 decimals");
    } else if (++integer_digits > kMaxIntegerDigits) {
      return invalid("more than 15 integer digits");
    }
    coefficient = coefficient * 10 + (c - '0');
  }
  if (!seen_digit) return invalid("it has no digits");
  if (seen_point && scale == 0) return invalid("a digit must follow the decimal point");
  return Decimal(negative ? -coefficient : coefficient, scale);
}

__int128 Decimal::ScaledTo(int scale) const {
  return coefficient_ * PowerOfTen(scale - scale_);
}

Decimal Decimal::Rounded(int scale) const {
  if (scale >= scale_) return Decimal(ScaledTo(scale), scale);
  return Decimal(DivideRounded(coefficient_, PowerOfTen(scale_ - scale)), scale);
}

std::string Decimal::ToString() const {
  __int128 magnitude = coefficient_ < 0 ? -coefficient_ : coefficient_;
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude > 0);
  while (static_cast<int>(digits.size()) <= scale_) digits.push_back('0');
  std::reverse(digits.begin(), digits.end());

  // Appended piece by piece: std::string::insert here makes GCC 12 at -O3 report a false
  // -Wrestrict overlap.
  const size_t integer_digits = digits.size() - static_cast<size_t>(scale_);
  std::string text;
  if (coefficient_ < 0) text.push_back('-');
  text.append(digits, 0, integer_digits);
  if (scale_ > 0) {
    text.push_back('.');
    text.append(digits, integer_digits, std::string::npos);
  }
  return text;
}

Decimal Decimal::operator+(const Decimal& other) const {
  int scale = std::max(scale_, other.scale_);
  return Decimal(ScaledTo(scale) + other.ScaledTo(scale), scale);
}

Decimal Decimal::operator-(const Decimal& other) const {
  int scale = std::max(scale_, other.scale_);
  return Decimal(ScaledTo(scale) - other.ScaledTo(scale), scale);
}

Decimal Decimal::operator*(const Decimal& other) const {
  return Decimal(coefficient_ * other.coefficient_, scale_ + other.scale_);
}

Decimal Decimal::DividedBy(const Decimal& divisor, int scale) const {
  // value = (c1 / 10^s1) / (c2 / 10^s2); scaled result = c1 * 10^(scale + s2 - s1) / c2.
  int exponent = scale + divisor.scale_ - scale_;
  __int128 numerator = coefficient_;
  __int128 denominator = divisor.coefficient_;
  if (exponent >= 0) {
    numerator *= PowerOfTen(exponent);
  } else {
    denominator *= PowerOfTen(-exponent);
  }
  return Decimal(DivideRounded(numerator, denominator), scale);
}

int Decimal::Compare(const Decimal& other) const {
  int scale = std::max(scale_, other.scale_);
  __int128 left = ScaledTo(scale);
  __int128 right = other.ScaledTo(scale);
  return left < right ? -1 : (left > right ? 1 : 0);
}

}  // namespace fiscal
