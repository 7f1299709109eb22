// NF525 ticket payload: exact amounts, timestamps, field layout and input checks.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "payload.h"

namespace fiscal::france {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

std::chrono::sys_seconds At(std::chrono::year_month_day date, std::chrono::seconds time) {
  return sys_days(date) + time;
}

// base64url SHA-256 of "document", standing for the digest of a record's document.
const std::string kDigest = "Q8wj-lK4e0zB0CtbEUFUFR1q3dsXyf3cBrAn-pniQAg";

TicketPayloadFields LandscapeExample() {
  TicketPayloadFields fields;
  fields.vat_totals = {{2000, 12000}};
  fields.total_incl_tax_cents = 12000;
  fields.timestamp = At(2026y / 3 / 15, 14h + 30min + 22s);
  fields.register_id = "CAISSE-01";
  fields.sequence = 42;
  fields.type = "SALE";
  fields.first = false;
  fields.digest = kDigest;
  return fields;
}

int64_t Cents(std::string_view text) {
  int64_t cents = 0;
  Status status = ParseAmount(text, &cents);
  EXPECT_TRUE(status.ok()) << text << ": " << status.message();
  return cents;
}

TEST(FrancePayload, ParseAmountExact) {
  EXPECT_EQ(Cents("18.50"), 1850);
  EXPECT_EQ(Cents("-12.00"), -1200);
  EXPECT_EQ(Cents("7"), 700);
  EXPECT_EQ(Cents("0.1"), 10);
  EXPECT_EQ(Cents("-0.00"), 0);
  EXPECT_EQ(Cents("999999999999999.99"), 99999999999999999);
}

TEST(FrancePayload, ParseAmountRejects) {
  for (const char* text : {"", "-", "1.234", "+1", " 1", "1 ", ".5", "1.", "1e3", "1,00",
                           "--1", "1.-5", "1000000000000000"}) {
    int64_t cents = 0;
    EXPECT_FALSE(ParseAmount(text, &cents).ok()) << text;
  }
}

// Field case C21: 0.10 + 0.20 must be written "0.30", never a binary floating-point rendering.
TEST(FrancePayload, DecimalSumIsExact) {
  int64_t sum = Cents("0.10") + Cents("0.20");
  EXPECT_EQ(FormatAmount(sum, AmountStyle::kDecimal), "0.30");
  EXPECT_EQ(FormatAmount(sum, AmountStyle::kCents), "30");
}

TEST(FrancePayload, FormatAmountNegative) {
  EXPECT_EQ(FormatAmount(-1200, AmountStyle::kDecimal), "-12.00");
  EXPECT_EQ(FormatAmount(-5, AmountStyle::kDecimal), "-0.05");
  EXPECT_EQ(FormatAmount(-1200, AmountStyle::kCents), "-1200");
  EXPECT_EQ(FormatAmount(0, AmountStyle::kDecimal), "0.00");
}

TEST(FrancePayload, ParseVatRate) {
  int32_t rate = -1;
  ASSERT_TRUE(ParseVatRate("20", &rate).ok());
  EXPECT_EQ(rate, 2000);
  ASSERT_TRUE(ParseVatRate("5.5", &rate).ok());
  EXPECT_EQ(rate, 550);
  ASSERT_TRUE(ParseVatRate("2.10", &rate).ok());
  EXPECT_EQ(rate, 210);
  ASSERT_TRUE(ParseVatRate("0", &rate).ok());
  EXPECT_EQ(rate, 0);
  for (const char* text : {"100", "-5", "5.555", "", "20%"}) {
    EXPECT_FALSE(ParseVatRate(text, &rate).ok()) << text;
  }
}

// Field case C21: the timestamp is written in UTC, so a record near midnight on the Paris DST
// day gives the same string whatever the process time zone is.
TEST(FrancePayload, TimestampIgnoresTimeZone) {
  auto timestamp = At(2025y / 3 / 30, 30min);
  EXPECT_EQ(FormatTimestamp(timestamp), "20250330003000");

  const char* saved = std::getenv("TZ");
  std::optional<std::string> saved_tz = saved ? std::optional<std::string>(saved) : std::nullopt;
  setenv("TZ", "Europe/Paris", 1);
  tzset();
  std::string in_paris = FormatTimestamp(timestamp);
  if (saved_tz) {
    setenv("TZ", saved_tz->c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(in_paris, "20250330003000");
}

TEST(FrancePayload, LandscapeExampleByteForByte) {
  PayloadFormat unlabelled = kTicketFormatV1;
  unlabelled.rate_labels = false;
  unlabelled.digest_field = false;
  std::string payload;
  ASSERT_TRUE(BuildTicketPayload(LandscapeExample(), unlabelled, &payload).ok());
  EXPECT_EQ(payload, "120.00,120.00,20260315143022,CAISSE-01,000042,SALE,N");
}

TEST(FrancePayload, DefaultFormatLabelsRates) {
  std::string payload;
  ASSERT_TRUE(BuildTicketPayload(LandscapeExample(), kTicketFormatV1, &payload).ok());
  EXPECT_EQ(payload, "2000:120.00,120.00,20260315143022,CAISSE-01,000042,SALE,N," + kDigest);

  TicketPayloadFields first = LandscapeExample();
  first.sequence = 1;
  first.first = true;
  ASSERT_TRUE(BuildTicketPayload(first, kTicketFormatV1, &payload).ok());
  EXPECT_EQ(payload, "2000:120.00,120.00,20260315143022,CAISSE-01,000001,SALE,Y," + kDigest);
}

TEST(FrancePayload, RatesSortedHighestFirst) {
  TicketPayloadFields fields = LandscapeExample();
  fields.vat_totals = {{550, 211}, {2000, 1200}, {1000, 850}};
  fields.total_incl_tax_cents = 2261;
  std::string payload;
  ASSERT_TRUE(BuildTicketPayload(fields, kTicketFormatV1, &payload).ok());
  EXPECT_EQ(payload, "2000:12.00|1000:8.50|0550:2.11,22.61,20260315143022,CAISSE-01,000042,SALE,N," +
                         kDigest);
}

TEST(FrancePayload, RefundHasNegativeAmounts) {
  TicketPayloadFields fields = LandscapeExample();
  fields.vat_totals = {{2000, -1200}, {550, -211}};
  fields.total_incl_tax_cents = -1411;
  fields.type = "REFUND";
  std::string payload;
  ASSERT_TRUE(BuildTicketPayload(fields, kTicketFormatV1, &payload).ok());
  EXPECT_EQ(payload,
            "2000:-12.00|0550:-2.11,-14.11,20260315143022,CAISSE-01,000042,REFUND,N," + kDigest);

  ParsedTicketPayload parsed;
  ASSERT_TRUE(ParseTicketPayload(payload, kTicketFormatV1, &parsed).ok());
  EXPECT_EQ(parsed.type, "REFUND");
  EXPECT_EQ(parsed.digest, kDigest);
}

TEST(FrancePayload, CentsFormatWritesVectorLayout) {
  TicketPayloadFields fields;
  fields.vat_totals = {{2000, -1200}};
  fields.total_incl_tax_cents = -1200;
  fields.timestamp = At(2026y / 3 / 2, 10h + 10min + 1s);
  fields.sequence = 3;
  fields.type = "REMBOURSEMENT";
  std::string payload;
  ASSERT_TRUE(BuildTicketPayload(fields, kTicketFormatCentsCarriedOver, &payload).ok());
  EXPECT_EQ(payload, "2000:-1200,-1200,20260302101001,T00003,REMBOURSEMENT,O");
}

TEST(FrancePayload, BuildRejectsBadInput) {
  std::string payload = "unchanged";
  auto expect_invalid = [&](const TicketPayloadFields& fields, const char* field) {
    Status status = BuildTicketPayload(fields, kTicketFormatV1, &payload);
    EXPECT_FALSE(status.ok()) << field;
    EXPECT_EQ(status.field(), field);
    EXPECT_EQ(payload, "unchanged");
  };

  TicketPayloadFields fields = LandscapeExample();
  fields.vat_totals.clear();
  expect_invalid(fields, "vat_totals");

  fields = LandscapeExample();
  fields.vat_totals = {{2000, 6000}, {2000, 6000}};
  expect_invalid(fields, "vat_totals");

  fields = LandscapeExample();
  fields.vat_totals = {{10000, 12000}};
  expect_invalid(fields, "vat_totals");

  fields = LandscapeExample();
  fields.vat_totals = {{2000, 100000000000000000}};
  fields.total_incl_tax_cents = 100000000000000000;
  expect_invalid(fields, "vat_totals");

  fields = LandscapeExample();
  fields.total_incl_tax_cents = 12001;
  expect_invalid(fields, "total_incl_tax");

  fields = LandscapeExample();
  fields.sequence = 0;
  expect_invalid(fields, "sequence");

  fields = LandscapeExample();
  fields.sequence = kMaxSequence + 1;
  expect_invalid(fields, "sequence");

  fields = LandscapeExample();
  fields.digest = kDigest.substr(1);
  expect_invalid(fields, "digest");

  fields = LandscapeExample();
  fields.digest = kDigest.substr(0, 42) + "l";  // non-zero unused bits in the last character
  expect_invalid(fields, "digest");

  fields = LandscapeExample();
  fields.register_id = "CAISSE,01";
  expect_invalid(fields, "register_id");

  fields = LandscapeExample();
  fields.register_id = "";
  expect_invalid(fields, "register_id");

  fields = LandscapeExample();
  fields.type = "SALE|X";
  expect_invalid(fields, "type");

  fields = LandscapeExample();
  fields.type = "VENTE ÉCOLE";
  expect_invalid(fields, "type");
}

TEST(FrancePayload, ParseReadsFields) {
  ParsedTicketPayload parsed;
  ASSERT_TRUE(ParseTicketPayload("2000:120.00,120.00,20260315143022,CAISSE-01,000042,SALE,N," + kDigest,
                                 kTicketFormatV1, &parsed)
                  .ok());
  EXPECT_EQ(parsed.register_id, "CAISSE-01");
  EXPECT_EQ(parsed.sequence, 42u);
  EXPECT_EQ(parsed.type, "SALE");
  EXPECT_FALSE(parsed.first);
  EXPECT_EQ(parsed.digest, kDigest);
}

// A register outlives a million tickets: the sequence grows past 6 digits instead of stopping.
TEST(FrancePayload, SequenceWiderThanPadding) {
  TicketPayloadFields fields = LandscapeExample();
  fields.sequence = 1234567;
  std::string payload;
  ASSERT_TRUE(BuildTicketPayload(fields, kTicketFormatV1, &payload).ok());
  EXPECT_EQ(payload, "2000:120.00,120.00,20260315143022,CAISSE-01,1234567,SALE,N," + kDigest);
  ParsedTicketPayload parsed;
  ASSERT_TRUE(ParseTicketPayload(payload, kTicketFormatV1, &parsed).ok());
  EXPECT_EQ(parsed.sequence, 1234567u);
}

TEST(FrancePayload, ParseRejectsMalformed) {
  const std::string payloads[] = {
      "2000:120.00,120.00,20260315143022,CAISSE-01,000042,SALE,N",        // no digest
      "2000:120.00,120.00,20260315143022,CAISSE-01,000042,SALE,O,",       // wrong flag letter
      "2000:120.0,120.00,20260315143022,CAISSE-01,000042,SALE,N,",        // one decimal
      "2000:120.00,120.01,20260315143022,CAISSE-01,000042,SALE,N,",       // total mismatch
      "200:120.00,120.00,20260315143022,CAISSE-01,000042,SALE,N,",        // 3-digit rate
      "2000:60.00|2000:60.00,120.00,20260315143022,CAISSE-01,000042,SALE,N,",  // duplicate rate
      "2000:120.00,120.00,2026031514302,CAISSE-01,000042,SALE,N,",        // short timestamp
      "2000:120.00,120.00,20260315143022,CAISSE-01,00042,SALE,N,",        // 5-digit sequence
      "2000:120.00,120.00,20260315143022,CAISSE-01,0000042,SALE,N,",      // over-padded sequence
      "2000:120.00,120.00,20260315143022,CAISSE-01,000000,SALE,N,",       // sequence 0
      "2000:120.00,120.00,20260315143022,,000042,SALE,N,",                // empty register
      "2000:-0.00,0.00,20260315143022,CAISSE-01,000042,SALE,N,",          // non-canonical zero
  };
  for (const std::string& payload : payloads) {
    std::string with_digest = payload.back() == ',' ? payload + kDigest : payload;
    ParsedTicketPayload parsed;
    EXPECT_FALSE(ParseTicketPayload(with_digest, kTicketFormatV1, &parsed).ok()) << with_digest;
  }

  ParsedTicketPayload parsed;
  EXPECT_FALSE(ParseTicketPayload("2000:120.00,120.00,20260315143022,CAISSE-01,000042,SALE,N," +
                                      kDigest.substr(1),
                                  kTicketFormatV1, &parsed)
                   .ok());
}

TEST(FrancePayload, ChainedSigningInput) {
  EXPECT_EQ(ChainedSigningInput("A,B", ""), "A,B,");
  EXPECT_EQ(ChainedSigningInput("A,B", "sig"), "A,B,sig");
}

}  // namespace
}  // namespace fiscal::france
