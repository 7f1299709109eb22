// Conversion of a UTC instant to the legal time of mainland Spain or the Canary Islands, which
// VERI*FACTU records carry (FechaExpedicionFactura and FechaHoraHusoGenRegistro, OM art. 7.e).
#ifndef FISCAL_SPAIN_LOCAL_TIME_H_
#define FISCAL_SPAIN_LOCAL_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace fiscal::spain {

// Peninsula (with the Balearic Islands, Ceuta and Melilla) follows Europe/Madrid, UTC+1 in
// winter; the Canary Islands follow Atlantic/Canary, UTC+0 in winter. Both add one hour of
// summer time under the EU rule (Directive 2000/84/EC).
enum class Territory { kPeninsula, kCanarias };

// A UTC instant rendered in a territory's local time.
struct LocalTime {
  int year = 0;
  int month = 0;
  int day = 0;
  int offset_minutes = 0;
  std::string fecha;      // "dd-mm-yyyy", the format of FechaExpedicionFactura
  std::string date_time;  // "yyyy-mm-ddThh:mm:ss+hh:mm", the format of FechaHoraHusoGenRegistro
};

// Parses "yyyy-mm-ddThh:mm:ssZ" (UTC, whole seconds, years 1970-9999) into seconds since the Unix
// epoch. Returns false for any other form.
bool ParseUtcTimestamp(std::string_view text, int64_t* epoch_seconds);

// Returns true when EU summer time is in force at the UTC instant: from the last Sunday of March
// 01:00 UTC (inclusive) to the last Sunday of October 01:00 UTC (exclusive).
bool IsEuSummerTime(int64_t epoch_seconds);

// Renders the UTC instant in the territory's local time.
LocalTime ToLocalTime(int64_t epoch_seconds, Territory territory);

// Days since 1970-01-01 of a proleptic Gregorian date, for years 1970-9999.
int64_t DaysSinceEpoch(int year, int month, int day);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_LOCAL_TIME_H_
