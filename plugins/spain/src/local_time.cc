#include "local_time.h"

#include <cstdio>

namespace fiscal::spain {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

// Leap years in [1, year].
int64_t LeapYearsUpTo(int64_t year) { return year / 4 - year / 100 + year / 400; }

// Day of the week of a day count since the epoch, 0 = Sunday. 1970-01-01 was a Thursday.
int WeekdayOf(int64_t days) { return static_cast<int>((days + 4) % 7); }

// Epoch seconds of 01:00 UTC on the last Sunday of `month` in `year`.
int64_t LastSundayAtOneUtc(int year, int month) {
  int64_t last_day = DaysSinceEpoch(year, month, DaysInMonth(year, month));
  int64_t last_sunday = last_day - WeekdayOf(last_day);
  return last_sunday * kSecondsPerDay + 3600;
}

// Reads exactly `width` decimal digits.
bool ReadDigits(std::string_view text, size_t pos, size_t width, int* out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

// A year no later than the year containing `days`: no year has more than 366 days, so at most
// one or two steps forward remain.
int YearLowerBound(int64_t days) { return 1970 + static_cast<int>(days / 366); }

}  // namespace

int64_t DaysSinceEpoch(int year, int month, int day) {
  int64_t days = static_cast<int64_t>(year - 1970) * 365 + LeapYearsUpTo(year - 1) - LeapYearsUpTo(1969);
  for (int m = 1; m < month; ++m) days += DaysInMonth(year, m);
  return days + day - 1;
}

bool ParseUtcTimestamp(std::string_view text, int64_t* epoch_seconds) {
  // Fixed layout: yyyy-mm-ddThh:mm:ssZ (20 characters).
  if (text.size() != 20) return false;
  if (text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text[19] != 'Z') {
    return false;
  }

  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, 0, 4, &year) || !ReadDigits(text, 5, 2, &month) ||
      !ReadDigits(text, 8, 2, &day) || !ReadDigits(text, 11, 2, &hour) ||
      !ReadDigits(text, 14, 2, &minute) || !ReadDigits(text, 17, 2, &second)) {
    return false;
  }
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;

  *epoch_seconds = DaysSinceEpoch(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  return true;
}

bool IsEuSummerTime(int64_t epoch_seconds) {
  // The UTC year decides the switch dates: both switches happen at 01:00 UTC, far from New Year.
  int64_t days = epoch_seconds / kSecondsPerDay;
  int year = YearLowerBound(days);
  while (DaysSinceEpoch(year + 1, 1, 1) <= days) ++year;

  int64_t start = LastSundayAtOneUtc(year, 3);
  int64_t end = LastSundayAtOneUtc(year, 10);
  return epoch_seconds >= start && epoch_seconds < end;
}

LocalTime ToLocalTime(int64_t epoch_seconds, Territory territory) {
  int offset_minutes = territory == Territory::kCanarias ? 0 : 60;
  if (IsEuSummerTime(epoch_seconds)) offset_minutes += 60;

  int64_t local = epoch_seconds + offset_minutes * 60;
  int64_t days = local / kSecondsPerDay;
  int64_t second_of_day = local % kSecondsPerDay;

  // Find the year, then walk the months; both loops take a few steps at most.
  LocalTime out;
  out.year = YearLowerBound(days);
  while (DaysSinceEpoch(out.year + 1, 1, 1) <= days) ++out.year;
  int64_t day_of_year = days - DaysSinceEpoch(out.year, 1, 1);
  out.month = 1;
  while (day_of_year >= DaysInMonth(out.year, out.month)) {
    day_of_year -= DaysInMonth(out.year, out.month);
    ++out.month;
  }
  out.day = static_cast<int>(day_of_year) + 1;
  out.offset_minutes = offset_minutes;

  int hour = static_cast<int>(second_of_day / 3600);
  int minute = static_cast<int>(second_of_day / 60 % 60);
  int second = static_cast<int>(second_of_day % 60);

  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%02d-%02d-%04d", out.day, out.month, out.year);
  out.fecha = buffer;
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d+%02d:%02d", out.year, out.month,
                out.day, hour, minute, second, offset_minutes / 60, offset_minutes % 60);
  out.date_time = buffer;
  return out;
}

}  // namespace fiscal::spain
