// UTC to Spanish local time: winter and summer offsets, the switch instants, the Canary Islands.
#include <gtest/gtest.h>

#include "local_time.h"

namespace fiscal::spain {
namespace {

int64_t Utc(const char* text) {
  int64_t seconds = 0;
  EXPECT_TRUE(ParseUtcTimestamp(text, &seconds)) << text;
  return seconds;
}

TEST(SpainLocalTime, PeninsulaWinterIsPlusOne) {
  LocalTime local = ToLocalTime(Utc("2026-12-04T19:55:53Z"), Territory::kPeninsula);
  EXPECT_EQ(local.date_time, "2026-12-04T20:55:53+01:00");
  EXPECT_EQ(local.fecha, "04-12-2026");
}

TEST(SpainLocalTime, PeninsulaSummerIsPlusTwo) {
  LocalTime local = ToLocalTime(Utc("2025-07-15T10:00:00Z"), Territory::kPeninsula);
  EXPECT_EQ(local.date_time, "2025-07-15T12:00:00+02:00");
}

TEST(SpainLocalTime, LocalDateCrossesMidnight) {
  LocalTime local = ToLocalTime(Utc("2025-12-31T23:30:00Z"), Territory::kPeninsula);
  EXPECT_EQ(local.fecha, "01-01-2026");
  EXPECT_EQ(local.date_time, "2026-01-01T00:30:00+01:00");
  LocalTime canary = ToLocalTime(Utc("2025-12-31T23:30:00Z"), Territory::kCanarias);
  EXPECT_EQ(canary.fecha, "31-12-2025");
}

TEST(SpainLocalTime, MarchSwitchInstant) {
  // 2026: last Sunday of March is the 29th; summer time starts at 01:00 UTC.
  EXPECT_EQ(ToLocalTime(Utc("2026-03-29T00:59:59Z"), Territory::kPeninsula).date_time, "2026-03-29T01:59:59+01:00");
  EXPECT_EQ(ToLocalTime(Utc("2026-03-29T01:00:00Z"), Territory::kPeninsula).date_time, "2026-03-29T03:00:00+02:00");
  EXPECT_EQ(ToLocalTime(Utc("2026-03-29T00:59:59Z"), Territory::kCanarias).date_time, "2026-03-29T00:59:59+00:00");
  EXPECT_EQ(ToLocalTime(Utc("2026-03-29T01:00:00Z"), Territory::kCanarias).date_time, "2026-03-29T02:00:00+01:00");
}

TEST(SpainLocalTime, OctoberSwitchInstant) {
  // 2026: last Sunday of October is the 25th; summer time ends at 01:00 UTC.
  EXPECT_EQ(ToLocalTime(Utc("2026-10-25T00:59:59Z"), Territory::kPeninsula).date_time, "2026-10-25T02:59:59+02:00");
  EXPECT_EQ(ToLocalTime(Utc("2026-10-25T01:00:00Z"), Territory::kPeninsula).date_time, "2026-10-25T02:00:00+01:00");
  EXPECT_EQ(ToLocalTime(Utc("2026-10-25T00:59:59Z"), Territory::kCanarias).date_time, "2026-10-25T01:59:59+01:00");
  EXPECT_EQ(ToLocalTime(Utc("2026-10-25T01:00:00Z"), Territory::kCanarias).date_time, "2026-10-25T01:00:00+00:00");
}

TEST(SpainLocalTime, SwitchDatesOtherYears) {
  // 2024: 31 March and 27 October. 2025: 30 March and 26 October.
  EXPECT_FALSE(IsEuSummerTime(Utc("2024-03-31T00:59:59Z")));
  EXPECT_TRUE(IsEuSummerTime(Utc("2024-03-31T01:00:00Z")));
  EXPECT_TRUE(IsEuSummerTime(Utc("2024-10-27T00:59:59Z")));
  EXPECT_FALSE(IsEuSummerTime(Utc("2024-10-27T01:00:00Z")));
  EXPECT_TRUE(IsEuSummerTime(Utc("2025-03-30T01:00:00Z")));
  EXPECT_FALSE(IsEuSummerTime(Utc("2025-10-26T01:00:00Z")));
}

TEST(SpainLocalTime, CanaryWinterAndSummer) {
  EXPECT_EQ(ToLocalTime(Utc("2026-01-10T12:00:00Z"), Territory::kCanarias).date_time, "2026-01-10T12:00:00+00:00");
  EXPECT_EQ(ToLocalTime(Utc("2026-08-10T12:00:00Z"), Territory::kCanarias).date_time, "2026-08-10T13:00:00+01:00");
}

TEST(SpainLocalTime, LeapDay) {
  EXPECT_EQ(ToLocalTime(Utc("2028-02-29T12:00:00Z"), Territory::kPeninsula).fecha, "29-02-2028");
  EXPECT_EQ(ToLocalTime(Utc("2100-02-28T23:30:00Z"), Territory::kPeninsula).fecha, "01-03-2100");
}

TEST(SpainLocalTime, RejectsMalformedTimestamps) {
  int64_t seconds = 0;
  EXPECT_FALSE(ParseUtcTimestamp("2026-12-04T19:55:53", &seconds));
  EXPECT_FALSE(ParseUtcTimestamp("2026-12-04T19:55:53+01:00", &seconds));
  EXPECT_FALSE(ParseUtcTimestamp("2026-12-04T19:55:53.123Z", &seconds));
  EXPECT_FALSE(ParseUtcTimestamp("2026-02-30T10:00:00Z", &seconds));
  EXPECT_FALSE(ParseUtcTimestamp("2026-12-04 19:55:53Z", &seconds));
  EXPECT_FALSE(ParseUtcTimestamp("2026-12-04T24:00:00Z", &seconds));
  EXPECT_TRUE(ParseUtcTimestamp("1970-01-01T00:00:00Z", &seconds));
  EXPECT_EQ(seconds, 0);
}

}  // namespace
}  // namespace fiscal::spain
