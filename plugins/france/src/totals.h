// Grand totals of a register, in cents: the algebraic total (refunds and voids subtract), the
// absolute total (every record adds its absolute value) and the algebraic total per VAT rate.
#ifndef FISCAL_FRANCE_TOTALS_H_
#define FISCAL_FRANCE_TOTALS_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "json_util.h"
#include "status.h"

namespace fiscal::france {

// Per-rate amounts keyed by the rate in hundredths of a percent, highest rate first, the order of
// payloads and documents.
using RateAmounts = std::map<int32_t, int64_t, std::greater<int32_t>>;

struct Totals {
  int64_t total = 0;
  int64_t absolute = 0;
  RateAmounts rates;
};

// Formats a rate in hundredths of a percent on 4 digits: 2000 is "2000", 550 is "0550".
std::string FormatRateKey(int32_t basis_points);

// Formats a rate as a percentage with two decimals: 2000 is "20.00".
std::string FormatRatePercent(int32_t basis_points);

// Adds one record (its per-rate totals and total) to running totals. Fails when a sum leaves the
// 15 integer digits that amounts may have.
Status AddRecord(const RateAmounts& rates, int64_t total, Totals* totals);

// Returns `end - start` for every member. Rates whose difference is zero are left out. Fails when
// the absolute total decreased, which means the two states are not of one chain in order.
Status Difference(const Totals& end, const Totals& start, Totals* difference);

// Reads {"total", "absolute", "rates": {"2000": "12.00"}} written by WriteTotals. `path` names
// the object in errors.
Status ReadTotals(const rapidjson::Value& object, std::string_view path, Totals* out);

// Reads {"2000": "12.00", ...}.
Status ReadRateAmounts(const rapidjson::Value& object, std::string_view path, RateAmounts* out);

// Writes {"total", "absolute", "rates"} with decimal amounts.
void WriteTotals(JsonWriter& writer, const Totals& totals);

// Writes {"2000": "12.00", ...}, highest rate first.
void WriteRateAmounts(JsonWriter& writer, const RateAmounts& rates);

// Writes the payload's breakdown field: "2000:12.00|0550:2.11", or "0000:0.00" when it is empty
// (a period without sales), the convention of the NF525 implementations for "no VAT lines".
std::string PayloadBreakdown(const RateAmounts& rates);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_TOTALS_H_
