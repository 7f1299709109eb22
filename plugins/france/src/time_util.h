// Times of NF525 records: the generation time read from the host (RFC 3339), the UTC forms written
// into documents and payloads, and the Paris legal time printed on receipts.
#ifndef FISCAL_FRANCE_TIME_UTIL_H_
#define FISCAL_FRANCE_TIME_UTIL_H_

#include <chrono>
#include <string>
#include <string_view>

#include "status.h"

namespace fiscal::france {

// Parses an RFC 3339 date-time, "2026-12-04T10:15:00Z", "2026-12-04T10:15:00.123Z" or
// "2026-12-04T11:15:00+01:00", for years 1970 to 9999. Fractions of a second are dropped, because
// payloads carry whole seconds. `field` names the value in errors.
Status ParseRfc3339(std::string_view text, std::string_view field, std::chrono::sys_seconds* out);

// Formats a UTC instant as "2026-12-04T10:15:00Z".
std::string FormatUtc(std::chrono::sys_seconds time);

// Parses a calendar date "YYYY-MM-DD" (years 1970 to 9999). Returns false for any other text or
// an impossible date.
bool ParseIsoDate(std::string_view text, std::chrono::year_month_day* out);

// Returns true when EU summer time is in force at the UTC instant: from the last Sunday of March
// 01:00 UTC (inclusive) to the last Sunday of October 01:00 UTC (exclusive), the rule of
// Directive 2000/84/EC that mainland France follows.
bool IsEuSummerTime(std::chrono::sys_seconds time);

// Formats the instant in Paris legal time (UTC+1, UTC+2 in summer) as "04/12/2026 11:15:00", for
// receipts.
std::string FormatParisTime(std::chrono::sys_seconds time);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_TIME_UTIL_H_
