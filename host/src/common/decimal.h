// Exact decimal numbers for money, quantities and tax rates.
//
// Amounts never pass through binary floating point: JSON numbers are read as their literal text and
// parsed here. A Decimal is a signed integer coefficient with a decimal scale (value =
// coefficient / 10^scale). Rounding is half away from zero, the rule Spanish, Italian and French
// tax texts use for cents.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace fiscal {

class Decimal {
 public:
  // Largest number of digits after the decimal point that Parse accepts.
  static constexpr int kMaxScale = 6;
  // Largest number of digits before the decimal point that Parse accepts.
  static constexpr int kMaxIntegerDigits = 15;

  Decimal() = default;

  // Parses "123", "-0.5", "12.345". Rejects exponents, a leading '+', spaces, empty text, more than
  // kMaxScale decimals and more than kMaxIntegerDigits integer digits. `field` names the input in the
  // error.
  static Result<Decimal> Parse(std::string_view text, const std::string& field);

  static Decimal FromInteger(long long value) { return Decimal(value, 0); }

  // Returns the value rounded half away from zero to `scale` decimals.
  Decimal Rounded(int scale) const;

  // Exact text with exactly scale() decimals, e.g. "12.30", "-0.05", "7".
  std::string ToString() const;

  int scale() const { return scale_; }
  bool IsNegative() const { return coefficient_ < 0; }
  bool IsZero() const { return coefficient_ == 0; }

  Decimal operator+(const Decimal& other) const;
  Decimal operator-(const Decimal& other) const;
  Decimal operator*(const Decimal& other) const;
  Decimal operator-() const { return Decimal(-coefficient_, scale_); }

  // Returns this / divisor rounded half away from zero to `scale` decimals. `divisor` must not be 0.
  Decimal DividedBy(const Decimal& divisor, int scale) const;

  int Compare(const Decimal& other) const;
  bool operator==(const Decimal& other) const { return Compare(other) == 0; }
  bool operator!=(const Decimal& other) const { return Compare(other) != 0; }
  bool operator<(const Decimal& other) const { return Compare(other) < 0; }
  bool operator>(const Decimal& other) const { return Compare(other) > 0; }
  bool operator<=(const Decimal& other) const { return Compare(other) <= 0; }
  bool operator>=(const Decimal& other) const { return Compare(other) >= 0; }

  Decimal Abs() const { return coefficient_ < 0 ? -*this : *this; }

 private:
  Decimal(__int128 coefficient, int scale) : coefficient_(coefficient), scale_(scale) {}
  __int128 ScaledTo(int scale) const;

  __int128 coefficient_ = 0;
  int scale_ = 0;
};

}  // namespace fiscal
