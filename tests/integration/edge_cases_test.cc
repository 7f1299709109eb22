// Edge cases found by testing the API as a newcomer: issuer ownership, invoice numbering, amount
// bounds, calendar checks, headers and query decoding.
#include <gtest/gtest.h>

#include "harness.h"

namespace fiscal::testing {
namespace {

class EdgeCaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = MissingEnvironment();
    if (!missing.empty()) GTEST_SKIP() << missing;
    ResetEmulator();
    database_ = std::make_unique<TestDatabase>();
    host_ = std::make_unique<HostProcess>(*database_);
    base_ = host_->base_url();
    key_ = CreateAccount(base_);
    location_ = CreateSpainLocation(base_, key_);
  }

  HttpResult Post(const std::string& body, const std::string& key = "") {
    return HttpCall("POST", base_ + "/v1/transactions", body, Auth(key.empty() ? key_ : key));
  }

  static std::string Replace(std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return text;
  }

  std::unique_ptr<TestDatabase> database_;
  std::unique_ptr<HostProcess> host_;
  std::string base_, key_, location_;
};

TEST_F(EdgeCaseTest, IssuerBelongsToOneAccount) {
  std::string other = CreateAccount(base_);
  HttpResult claimed = HttpCall("POST", base_ + "/v1/locations",
                                "{\"name\":\"x\",\"country\":\"ES\",\"country_config\":{\"system\":\"verifactu\","
                                "\"nif\":\"89890001K\",\"legal_name\":\"Otra SL\"}}",
                                Auth(other));
  EXPECT_EQ(claimed.status, 409) << claimed.body;
  EXPECT_EQ(Text(ParseJson(claimed.body), "code"), "issuer_claimed");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM locations"), "1");
}

TEST_F(EdgeCaseTest, InvoiceNumberUniquePerIssuer) {
  std::string second_installation = CreateSpainLocation(base_, key_, "89890001K", "2");
  std::string sale = SaleBody(location_);
  sale.insert(1, "\"invoice_number\":\"X-1\",");
  ASSERT_EQ(Post(sale).status, 201);
  HttpResult reused = Post(Replace(sale, location_, second_installation));
  EXPECT_EQ(reused.status, 409) << reused.body;
  EXPECT_EQ(Text(ParseJson(reused.body), "code"), "duplicate_invoice_number");
}

TEST_F(EdgeCaseTest, ChosenNumberDoesNotBlockSeries) {
  // The location's series prefix comes from CreateSpainLocation; learn it from a first sale.
  HttpResult first = Post(SaleBody(location_));
  ASSERT_EQ(first.status, 201);
  std::string number = Text(ParseJson(first.body), "invoice_number");
  std::string next = number.substr(0, number.size() - 1) + "2";
  std::string chosen = SaleBody(location_);
  chosen.insert(1, "\"invoice_number\":\"" + next + "\",");
  ASSERT_EQ(Post(chosen).status, 201);

  HttpResult automatic = Post(SaleBody(location_));
  ASSERT_EQ(automatic.status, 201) << automatic.body;
  EXPECT_EQ(Text(ParseJson(automatic.body), "invoice_number"), number.substr(0, number.size() - 1) + "3");
}

TEST_F(EdgeCaseTest, HugeAmountsRejected) {
  std::string sale = Replace(SaleBody(location_), "\"quantity\":2", "\"quantity\":\"999999999999999.998423\"");
  sale = Replace(sale, "\"unit_price\":2.50", "\"unit_price\":\"340282366920.938464\"");
  HttpResult result = Post(sale);
  EXPECT_EQ(result.status, 400) << result.body;
  EXPECT_EQ(Text(ParseJson(result.body), "field"), "items[0].quantity");

  std::string pricey = Replace(SaleBody(location_), "\"unit_price\":2.50", "\"unit_price\":\"1000000000000\"");
  EXPECT_EQ(Text(ParseJson(Post(pricey).body), "field"), "items[0].unit_price");
  EXPECT_EQ(database_->Query("SELECT count(*) FROM transactions"), "0");
}

TEST_F(EdgeCaseTest, ImpossibleDatesRejected) {
  for (const char* timestamp : {"2026-02-31T10:15:00+01:00", "0000-01-01T10:15:00Z", "2026-12-04T10:15:00+23:00",
                                "2026-12-04T24:00:00Z"}) {
    HttpResult result = Post(Replace(SaleBody(location_), "2026-12-04T10:15:00+01:00", timestamp));
    EXPECT_EQ(result.status, 400) << timestamp << ": " << result.body;
    EXPECT_EQ(Text(ParseJson(result.body), "field"), "timestamp") << timestamp;
  }
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/transactions?from=2026-02-31T00:00:00Z", "", Auth(key_)).status, 400);
  HttpResult nul = Post(Replace(SaleBody(location_), "\"Cafe\"", "\"Ca\\u0000fe\""));
  EXPECT_EQ(nul.status, 400) << nul.body;
  EXPECT_EQ(database_->Query("SELECT count(*) FROM transactions"), "0");
}

TEST_F(EdgeCaseTest, QueryValuesArePercentDecoded) {
  ASSERT_EQ(Post(SaleBody(location_)).status, 201);
  HttpResult encoded = HttpCall("GET", base_ + "/v1/transactions?to=2099-12-04T10%3A15%3A00%2B01%3A00", "", Auth(key_));
  EXPECT_EQ(encoded.status, 200) << encoded.body;
  EXPECT_EQ(Text(ParseJson(encoded.body), "total"), "1");
}

TEST_F(EdgeCaseTest, ResponseHeadersAreSent) {
  HttpResult echoed = HttpCall("GET", base_ + "/v1/transactions", "", {"Authorization: Bearer " + key_, "X-Request-Id: trace-42"});
  EXPECT_EQ(echoed.headers["x-request-id"], "trace-42");
  HttpResult generated = HttpCall("GET", base_ + "/health");
  EXPECT_EQ(generated.headers["x-request-id"].size(), 16u);
  HttpResult not_allowed = HttpCall("DELETE", base_ + "/v1/transactions", "", Auth(key_));
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_NE(not_allowed.headers["allow"].find("GET"), std::string::npos);
}

TEST_F(EdgeCaseTest, PluginErrorsNameRequestFields) {
  std::string sale = Replace(SaleBody(location_), "\"currency\"", "\"customer\":{\"tax_id\":\"B12345674\"},\"currency\"");
  HttpResult result = Post(sale);
  EXPECT_EQ(result.status, 400) << result.body;
  EXPECT_EQ(Text(ParseJson(result.body), "field"), "customer.name");
}

TEST_F(EdgeCaseTest, RejectedSaleCannotBeCancelled) {
  SetEmulatorFault("{\"mode\":\"reject_all\",\"count\":1}");
  HttpResult sale = Post(SaleBody(location_));
  ASSERT_EQ(sale.status, 201);
  std::string id = Text(ParseJson(sale.body), "id");
  ASSERT_EQ(WaitAllResolved(*database_, 30), 0);
  HttpResult cancel = HttpCall("POST", base_ + "/v1/transactions/" + id + "/cancel", "", Auth(key_));
  EXPECT_EQ(cancel.status, 409) << cancel.body;
  EXPECT_EQ(Text(ParseJson(cancel.body), "code"), "original_rejected");
}

TEST_F(EdgeCaseTest, AuthSchemeIsCaseInsensitive) {
  EXPECT_EQ(HttpCall("GET", base_ + "/v1/transactions", "", {"Authorization: bearer " + key_}).status, 200);
  HttpResult live = HttpCall("POST", base_ + "/v1/api-keys", "{\"environment\":\"live\"}", Auth(key_));
  EXPECT_EQ(live.status, 403) << live.body;
}

}  // namespace
}  // namespace fiscal::testing
