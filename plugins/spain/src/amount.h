// Decimal amounts as the host sends them: strings with exactly two decimals. The plugin writes
// them into the XML and the hash unchanged and never does arithmetic on them.
#ifndef FISCAL_SPAIN_AMOUNT_H_
#define FISCAL_SPAIN_AMOUNT_H_

#include <cstdint>
#include <string_view>

namespace fiscal::spain {

// True for "-?(0|[1-9][0-9]{0,11}).[0-9]{2}": at most 12 integer digits without leading zeros
// and exactly 2 decimals, which fits AEAT's ImporteSgn12.2Type and its "no leading zeros" rule.
bool IsAmount(std::string_view text);

// True for a tax rate "[0-9]{1,3}.[0-9]{2}" (AEAT Tipo2.2Type, written with 2 decimals).
bool IsTaxRate(std::string_view text);

// Converts an amount accepted by IsAmount to cents, for comparisons against legal limits.
int64_t AmountToCents(std::string_view text);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_AMOUNT_H_
