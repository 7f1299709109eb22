#include "time_util.h"

#include <algorithm>
#include <cstdio>

namespace fiscal::france {
namespace {

using namespace std::chrono;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads `count` digits at `position`; returns -1 when one of them is not a digit.
int Digits(std::string_view text, size_t position, size_t count) {
  if (position + count > text.size()) return -1;
  int value = 0;
  for (size_t i = position; i < position + count; ++i) {
    if (!IsDigit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool ReadDate(std::string_view text, year_month_day* out) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return false;
  int year = Digits(text, 0, 4);
  int month = Digits(text, 5, 2);
  int day = Digits(text, 8, 2);
  if (year < 1970 || month < 1 || day < 1) return false;
  year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                      std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return false;
  *out = date;
  return true;
}

sys_seconds LastSundayAt1Utc(int year, unsigned month) {
  sys_days last_sunday{std::chrono::year(year) / std::chrono::month(month) / Sunday[last]};
  return last_sunday + hours(1);
}

}  // namespace

Status ParseRfc3339(std::string_view text, std::string_view field, sys_seconds* out) {
  std::string name(field);
  Status invalid = Status::Invalid(
      name, name + " \"" + std::string(text) +
                "\" is not an RFC 3339 date-time; write it like \"2026-12-04T10:15:00Z\"");
  year_month_day date;
  if (text.size() < 20 || !ReadDate(text, &date) || (text[10] != 'T' && text[10] != 't') ||
      text[13] != ':' || text[16] != ':') {
    return invalid;
  }
  int hour = Digits(text, 11, 2);
  int minute = Digits(text, 14, 2);
  int second = Digits(text, 17, 2);
  // A leap second (":60") has no sys_seconds value; it is rejected like any other invalid time.
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return invalid;
  }

  size_t position = 19;
  if (text[position] == '.') {
    size_t end = position + 1;
    while (end < text.size() && IsDigit(text[end])) ++end;
    if (end == position + 1) return invalid;
    position = end;
  }
  std::string_view zone = text.substr(position);
  seconds offset{0};
  if (zone == "Z" || zone == "z") {
    offset = seconds(0);
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int offset_hours = Digits(zone, 1, 2);
    int offset_minutes = Digits(zone, 4, 2);
    if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59) {
      return invalid;
    }
    offset = hours(offset_hours) + minutes(offset_minutes);
    if (zone[0] == '-') offset = -offset;
  } else {
    return invalid;
  }

  sys_seconds local = sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
  *out = local - offset;
  return Status::Ok();
}

std::string FormatUtc(sys_seconds time) {
  sys_days day = floor<days>(time);
  year_month_day date{day};
  hh_mm_ss<seconds> clock{time - day};
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return buffer;
}

bool ParseIsoDate(std::string_view text, year_month_day* out) {
  return text.size() == 10 && ReadDate(text, out);
}

bool IsEuSummerTime(sys_seconds time) {
  int year = static_cast<int>(year_month_day{floor<days>(time)}.year());
  return time >= LastSundayAt1Utc(year, 3) && time < LastSundayAt1Utc(year, 10);
}

std::string FormatParisTime(sys_seconds time) {
  sys_seconds local = time + hours(IsEuSummerTime(time) ? 2 : 1);
  sys_days day = floor<days>(local);
  year_month_day date{day};
  hh_mm_ss<seconds> clock{local - day};
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%02u/%02u/%04d %02d:%02d:%02d",
                static_cast<unsigned>(date.day()), static_cast<unsigned>(date.month()),
                static_cast<int>(date.year()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return buffer;
}

}  // namespace fiscal::france
