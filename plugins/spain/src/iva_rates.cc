#include "iva_rates.h"

#include <array>
#include <cstdint>
#include <cstdio>

#include "amount.h"

namespace fiscal::spain {
namespace {

// One IVA rate and the operation dates (yyyymmdd, inclusive) on which AEAT accepts it.
struct IvaRate {
  int64_t hundredths;  // the rate in hundredths of a percent: 750 is 7.5 %
  const char* text;
  int first_date;  // 0: no lower bound
  int last_date;   // 0: no upper bound
};

constexpr std::array<IvaRate, 7> kIvaRates = {{
    {0, "0", 0, 0},
    {200, "2", 20241001, 20241231},
    {400, "4", 0, 0},
    {500, "5", 20220701, 20240930},
    {750, "7.5", 20241001, 20241231},
    {1000, "10", 0, 0},
    {2100, "21", 0, 0},
}};

bool ValidOn(const IvaRate& rate, int date) {
  if (rate.first_date != 0 && date < rate.first_date) return false;
  if (rate.last_date != 0 && date > rate.last_date) return false;
  return true;
}

// Formats yyyymmdd as dd-mm-yyyy, the date format of VERI*FACTU records.
std::string FormatDate(int date) {
  char text[16];  // room for any int, so the compiler can prove no truncation
  std::snprintf(text, sizeof(text), "%02d-%02d-%04d", date % 100, date / 100 % 100, date / 10000);
  return text;
}

}  // namespace

std::string CheckIvaRate(std::string_view tax_rate, int date) {
  // IsTaxRate guarantees exactly two decimals, so the cents conversion gives hundredths.
  const int64_t hundredths = AmountToCents(tax_rate);

  std::string allowed;
  const IvaRate* match = nullptr;
  for (const IvaRate& rate : kIvaRates) {
    if (rate.hundredths == hundredths) match = &rate;
    if (!ValidOn(rate, date)) continue;
    if (!allowed.empty()) allowed += ", ";
    allowed += rate.text;
  }
  if (match != nullptr && ValidOn(*match, date)) return "";

  std::string reason = std::string(tax_rate) + " is not an IVA rate that AEAT accepts for an invoice dated " +
                       FormatDate(date) + ". Allowed rates (percent) on that date: " + allowed + ".";
  if (match != nullptr) {
    reason += " The " + std::string(match->text) + " % rate applied only from " + FormatDate(match->first_date) +
              " to " + FormatDate(match->last_date) + ".";
  }
  return reason;
}

}  // namespace fiscal::spain
