// Tests of the host's exact decimals, JSON reading and transaction validation.
#include <gtest/gtest.h>

#include "api/input.h"
#include "api/transaction_input.h"
#include "common/decimal.h"
#include "common/json_tree.h"

namespace fiscal {
namespace {

Decimal D(const char* text) { return Decimal::Parse(text, "value").value(); }

TEST(DecimalTest, ParsesAndPrintsExactly) {
  EXPECT_EQ(D("12.30").ToString(), "12.30");
  EXPECT_EQ(D("-0.05").ToString(), "-0.05");
  EXPECT_EQ(D("7").ToString(), "7");
  EXPECT_EQ((D("0.1") + D("0.2")).ToString(), "0.3");
}

TEST(DecimalTest, RejectsMalformedText) {
  for (const char* bad : {"", "1e3", "+1", " 1", "1.", ".5", "1.2.3", "abc", "1.1234567", "1234567890123456"}) {
    EXPECT_FALSE(Decimal::Parse(bad, "x").ok()) << bad;
  }
}

TEST(DecimalTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(D("2.345").Rounded(2).ToString(), "2.35");
  EXPECT_EQ(D("-2.345").Rounded(2).ToString(), "-2.35");
  EXPECT_EQ(D("2.344").Rounded(2).ToString(), "2.34");
  EXPECT_EQ(D("8.00").DividedBy(D("1.10"), 2).ToString(), "7.27");
  EXPECT_EQ(D("100").DividedBy(D("3"), 2).ToString(), "33.33");
}

TEST(JsonTreeTest, KeepsNumberText) {
  auto node = json::Parse("{\"a\":12.30,\"b\":\"x\",\"c\":[1,true,null]}");
  ASSERT_TRUE(node.ok());
  EXPECT_TRUE(node->Find("a")->IsNumber());
  EXPECT_EQ(node->Find("a")->text(), "12.30");
  EXPECT_TRUE(node->Find("b")->IsString());
  EXPECT_EQ(node->ToJson(), "{\"a\":12.30,\"b\":\"x\",\"c\":[1,true,null]}");
}

TEST(JsonTreeTest, RejectsHostileInput) {
  EXPECT_FALSE(json::Parse("{\"a\":1,\"a\":2}").ok()) << "duplicate keys";
  EXPECT_FALSE(json::Parse(std::string(1000, '[') + std::string(1000, ']')).ok()) << "deep nesting";
  EXPECT_FALSE(json::Parse("{\"a\":\"\xff\"}").ok()) << "invalid UTF-8";
  EXPECT_FALSE(json::Parse("{} {}").ok()) << "two documents";
  EXPECT_FALSE(json::Parse("").ok()) << "empty";
}

TEST(InputTest, ChecksRfc3339) {
  EXPECT_TRUE(api::IsRfc3339("2026-12-04T10:00:00Z"));
  EXPECT_TRUE(api::IsRfc3339("2026-12-04T11:00:00.250+01:00"));
  EXPECT_FALSE(api::IsRfc3339("2026-12-04 10:00:00"));
  EXPECT_FALSE(api::IsRfc3339("2026-13-04T10:00:00Z"));
  EXPECT_FALSE(api::IsRfc3339("2026-12-04T10:00:00"));
}

api::TransactionInput ParseSale(const std::string& body, Status* error = nullptr) {
  auto node = json::Parse(body);
  EXPECT_TRUE(node.ok());
  auto input = api::ParseTransactionInput(*node);
  if (error != nullptr) *error = input.status();
  return input.ok() ? input.value() : api::TransactionInput();
}

const char* kSale =
    "{\"location_id\":\"3b241101-e2bb-4255-8caf-4136c566a962\",\"timestamp\":\"2026-12-04T10:15:00+01:00\","
    "\"items\":[{\"description\":\"Cafe\",\"quantity\":2,\"unit_price\":2.50,\"tax_rate\":0.10},"
    "{\"description\":\"Bread\",\"quantity\":\"1\",\"unit_price\":\"3.00\",\"tax_rate\":\"0.21\"}],"
    "\"total_amount\":8.00,\"currency\":\"EUR\",\"payment_method\":\"cash\"}";

TEST(TransactionInputTest, SplitsTaxPerRate) {
  api::TransactionInput input = ParseSale(kSale);
  ASSERT_EQ(input.tax_groups.size(), 2u);
  EXPECT_EQ(input.tax_groups[0].base.ToString(), "4.55");
  EXPECT_EQ(input.tax_groups[0].tax.ToString(), "0.45");
  EXPECT_EQ(input.tax_groups[1].base.ToString(), "2.48");
  EXPECT_EQ(input.tax_groups[1].tax.ToString(), "0.52");
  EXPECT_EQ(input.pretax_amount.ToString(), "7.03");
  EXPECT_EQ(input.tax_amount.ToString(), "0.97");
}

TEST(TransactionInputTest, RejectsWrongTotal) {
  std::string body = kSale;
  body.replace(body.find("8.00"), 4, "8.01");
  Status error;
  ParseSale(body, &error);
  EXPECT_EQ(error.field(), "total_amount");
  EXPECT_NE(error.message().find("8.00"), std::string::npos) << error.message();
}

TEST(TransactionInputTest, RejectsPercentTaxRate) {
  std::string body = kSale;
  body.replace(body.find("0.10"), 4, "10");
  Status error;
  ParseSale(body, &error);
  EXPECT_EQ(error.field(), "items[0].tax_rate");
}

TEST(TransactionInputTest, PluginJsonNegatesRefunds) {
  api::TransactionInput input = ParseSale(kSale);
  std::string json = api::TransactionToPluginJson(input, "id", "A1", true);
  EXPECT_NE(json.find("\"total_amount\":\"-8.00\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"tax_rate\":\"21.00\""), std::string::npos) << json;
}

}  // namespace
}  // namespace fiscal
