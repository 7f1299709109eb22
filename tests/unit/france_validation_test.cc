// france-nf525 input checks: validate_location, every issue_record error naming its field,
// render_receipt in French, and the time helpers.
#include <gtest/gtest.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "issuer.h"
#include "location.h"
#include "nf525_receipt.h"
#include "nf525_self_test.h"
#include "signature.h"
#include "signer.h"
#include "time_util.h"

namespace fiscal::france {
namespace {

using namespace std::chrono_literals;

// Replaces the first `from` in `text`; fails the test when it is absent.
std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t position = text.find(from);
  EXPECT_NE(position, std::string::npos) << from;
  if (position != std::string::npos) text.replace(position, from.size(), to);
  return text;
}

TEST(FranceLocation, ValidConfigNormalised) {
  std::string result;
  Status status = ValidateLocation(
      R"({"system":"nf525","siret":"732 829 320 00074","register_id":"CAISSE-01",)"
      R"("establishment":"Librairie du Port","naf":"4761z","vat_number":"fr 44 732829320"})",
      &result);
  ASSERT_TRUE(status.ok()) << status.field() << ": " << status.message();
  EXPECT_EQ(result,
            R"({"config":{"system":"nf525","siret":"73282932000074","register_id":"CAISSE-01",)"
            R"("establishment":"Librairie du Port","naf":"47.61Z","vat_number":"FR44732829320"},)"
            R"("chain_key":"FR-73282932000074-CAISSE-01","issuer_key":"FR-73282932000074",)"
            R"("signing_key":"nf525-73282932000074-CAISSE-01",)"
            R"("features":["training","duplicates","closures","journal","archives"],)"
            R"("submission":"none","time_zone":"Europe/Paris"})");
}

TEST(FranceLocation, MinimalConfig) {
  std::string result;
  ASSERT_TRUE(ValidateLocation(R"({"siret":"73282932000074","register_id":"1"})", &result).ok());
  EXPECT_EQ(result.substr(0, result.find(R"(,"chain_key")")),
            R"({"config":{"siret":"73282932000074","register_id":"1"})");
}

TEST(FranceLocation, SiretChecksum) {
  EXPECT_TRUE(IsValidSiret("73282932000074"));
  EXPECT_FALSE(IsValidSiret("73282932000075"));
  EXPECT_FALSE(IsValidSiret("7328293200007"));
  EXPECT_FALSE(IsValidSiret("7328293200007a"));
  // La Poste's establishments follow INSEE's digit-sum rule instead of Luhn.
  EXPECT_TRUE(IsValidSiret("35600000000001"));
  EXPECT_FALSE(IsValidSiret("35600000000002"));
}

// 60 "é" are 120 bytes but 60 characters, within the limit of 100 characters.
TEST(FranceLocation, EstablishmentCountsCharacters) {
  auto config = [](const std::string& establishment) {
    return R"({"siret":"73282932000074","register_id":"C","establishment":")" + establishment +
           R"("})";
  };
  auto repeat = [](const std::string& text, int count) {
    std::string out;
    for (int i = 0; i < count; ++i) out += text;
    return out;
  };
  std::string result;
  for (int count : {60, 100}) {
    Status status = ValidateLocation(config(repeat(R"(\u00e9)", count)), &result);
    EXPECT_TRUE(status.ok()) << count << ": " << status.message();
    status = ValidateLocation(config(repeat("\xc3\xa9", count)), &result);
    EXPECT_TRUE(status.ok()) << count << ": " << status.message();
  }
  // A character outside the Basic Multilingual Plane is 4 bytes and one character.
  Status status = ValidateLocation(config(repeat("\xf0\x9f\x8d\x9e", 100)), &result);
  EXPECT_TRUE(status.ok()) << status.message();

  status = ValidateLocation(config(repeat("\xc3\xa9", 101)), &result);
  EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(status.field(), "country_config.establishment");
  EXPECT_EQ(status.message(),
            "country_config.establishment has 101 characters, more than the maximum of 100; "
            "shorten it");
}

TEST(FranceLocation, ErrorsNameTheField) {
  struct Case {
    std::string config;
    std::string field;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {R"({"register_id":"CAISSE-01"})", "country_config.siret", "missing"},
      {R"({"siret":"7328293200007","register_id":"C"})", "country_config.siret", "14-digit"},
      {R"({"siret":"73282932000075","register_id":"C"})", "country_config.siret", "check digit"},
      {R"({"siret":73282932000074,"register_id":"C"})", "country_config.siret", "JSON string"},
      {R"({"siret":"73282932000074"})", "country_config.register_id", "missing"},
      {R"({"siret":"73282932000074","register_id":"CAISSE 01"})", "country_config.register_id",
       "1 to 20 characters"},
      {R"({"siret":"73282932000074","register_id":"ABCDEFGHIJKLMNOPQRSTU"})",
       "country_config.register_id", "1 to 20 characters"},
      {R"({"siret":"73282932000074","register_id":""})", "country_config.register_id",
       "1 to 20 characters"},
      {R"({"siret":"73282932000074","register_id":"C","naf":"47.1F"})", "country_config.naf",
       "NAF rev. 2"},
      {R"({"siret":"73282932000074","register_id":"C","vat_number":"FR45732829320"})",
       "country_config.vat_number", "invalid key"},
      {R"({"siret":"73282932000074","register_id":"C","vat_number":"FR44123456782"})",
       "country_config.vat_number", "SIREN 123456782"},
      {R"({"siret":"73282932000074","register_id":"C","vat_number":"DE123456789"})",
       "country_config.vat_number", "French VAT number"},
      {R"({"siret":"73282932000074","register_id":"C","establishment":"A\nB"})",
       "country_config.establishment", "control character"},
      {R"({"siret":"73282932000074","register_id":"C","etablishment":"X"})",
       "country_config.etablishment", "not a setting"},
  };
  for (const Case& c : cases) {
    std::string result = "unchanged";
    Status status = ValidateLocation(c.config, &result);
    EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT) << c.config;
    EXPECT_EQ(status.field(), c.field) << c.config;
    EXPECT_NE(status.message().find(c.message_part), std::string::npos)
        << c.config << ": " << status.message();
    EXPECT_EQ(result, "unchanged");
  }
  std::string result;
  EXPECT_EQ(ValidateLocation("[1]", &result).code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(ValidateLocation("{", &result).code(), FISCAL_ERR_INVALID_INPUT);
}

constexpr char kSaleInput[] =
    R"({"operation":"sale","environment":"test","now":"2026-12-04T10:15:00Z",)"
    R"("location":{"siret":"73282932000074","register_id":"CAISSE-01"},)"
    R"("chain":{"name":"tickets","key":"FR-73282932000074-CAISSE-01","sequence":1,"previous":null},)"
    R"("transaction":{"id":"t-1","type":"sale","currency":"EUR","payment_method":"card",)"
    R"("items":[{"description":"Livre","quantity":"1","unit_price":"10.55","tax_rate":"5.50","amount":"10.55"},)"
    R"({"description":"Stylo","quantity":"2","unit_price":"6.00","tax_rate":"20.00","amount":"12.00"},)"
    R"({"description":"Gomme","quantity":"1","unit_price":"1.20","tax_rate":"20.00","amount":"1.20"}],)"
    R"("breakdown":[{"tax_rate":"5.50","base":"10.00","tax":"0.55"},{"tax_rate":"20.00","base":"11.00","tax":"2.20"}],)"
    R"("pretax_amount":"21.00","tax_amount":"2.75","total_amount":"23.75","customer":null}})";

class FranceIssueErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GenerateP256Key(&key_).ok());
    signer_ = MakeLocalKeySigner(key_.get());
  }

  Status Issue(const std::string& input) {
    std::string result = "unchanged";
    Status status = IssueRecord(input, signer_, &result);
    if (!status.ok()) {
      EXPECT_EQ(result, "unchanged");
    }
    return status;
  }

  EvpPkeyPtr key_;
  Signer signer_;
};

TEST_F(FranceIssueErrors, ValidSaleAccepted) {
  Status status = Issue(kSaleInput);
  EXPECT_TRUE(status.ok()) << status.field() << ": " << status.message();
}

TEST_F(FranceIssueErrors, TransactionFields) {
  const std::string sale = kSaleInput;
  struct Case {
    std::string input;
    std::string field;
  };
  const std::vector<Case> cases = {
      {Replace(sale, R"("tax_rate":"20.00","amount":"1.20")", R"("tax_rate":"20 %","amount":"1.20")"),
       "transaction.items[2].tax_rate"},
      {Replace(sale, R"("amount":"10.55")", R"("amount":"10.555")"), "transaction.items[0].amount"},
      {Replace(sale, R"("amount":"10.55")", R"("amount":10.55)"), "transaction.items[0].amount"},
      {Replace(sale, R"("quantity":"2")", R"("quantity":"2e0")"), "transaction.items[1].quantity"},
      {Replace(sale, R"("description":"Gomme",)", ""), "transaction.items[2].description"},
      {Replace(sale, R"("amount":"10.55")", R"("amount":"-10.55")"), "transaction.items[0].amount"},
      {Replace(sale, R"("total_amount":"23.75")", R"("total_amount":"23.76")"),
       "transaction.total_amount"},
      {Replace(sale, R"("pretax_amount":"21.00")", R"("pretax_amount":"21.01")"),
       "transaction.pretax_amount"},
      {Replace(sale, R"("tax_amount":"2.75")", R"("tax_amount":"2.74")"), "transaction.tax_amount"},
      {Replace(sale, R"("base":"11.00")", R"("base":"11.01")"), "transaction.breakdown[1].base"},
      {Replace(sale, R"({"tax_rate":"5.50","base":"10.00","tax":"0.55"},)", ""),
       "transaction.items[0].tax_rate"},
      {Replace(sale, R"({"tax_rate":"5.50","base":"10.00","tax":"0.55"})",
               R"({"tax_rate":"5.50","base":"10.00","tax":"0.55"},{"tax_rate":"10.00","base":"0.00","tax":"0.00"})"),
       "transaction.breakdown[1].tax_rate"},
      {Replace(sale, R"("tax_rate":"20.00","base":"11.00")", R"("tax_rate":"5.5","base":"11.00")"),
       "transaction.breakdown[1].tax_rate"},
      {Replace(sale, R"("currency":"EUR")", R"("currency":"USD")"), "transaction.currency"},
      {Replace(sale, R"("payment_method":"card",)", ""), "transaction.payment_method"},
      {Replace(sale, R"("payment_method":"card")", R"("payment_method":"Carte")"),
       "transaction.payment_method"},
      {Replace(sale, R"("payment_method":"card")",
               R"("payment_method":"card","payments":[{"method":"card","amount":"20.00"}])"),
       "transaction.payments"},
      {Replace(sale, R"("payment_method":"card")",
               R"("payments":[{"method":"card","amount":"30.00"}])"),
       "transaction.payments"},
      {Replace(sale, R"("payment_method":"card")",
               R"("payments":[{"method":"card","amount":"20.00"},{"method":"cash","amount":"-1.00"}])"),
       "transaction.payments[1].amount"},
      {Replace(sale, R"("payment_method":"card")", R"("payments":[{"method":"cash","amount":"x"}])"),
       "transaction.payments[0].amount"},
      {Replace(sale, R"("id":"t-1",)", ""), "transaction.id"},
      {Replace(sale, R"("customer":null)", R"("customer":"Dupont")"), "transaction.customer"},
      {Replace(sale, R"("customer":null)", R"("customer":{"name":"A\u0001"})"),
       "transaction.customer.name"},
      {Replace(sale, R"(,"transaction":{)", R"(,"transactions":{)"), "transaction"},
  };
  for (const Case& c : cases) {
    Status status = Issue(c.input);
    EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT) << c.field;
    EXPECT_EQ(status.field(), c.field) << status.message();
    EXPECT_NE(status.message().find(c.field), std::string::npos) << status.message();
  }
}

// A sale of one 1.00 line per rate, each line's whole amount as the rate's base.
std::string SaleAtRates(const std::vector<std::string>& rates) {
  std::string items;
  std::string breakdown;
  for (const std::string& rate : rates) {
    if (!items.empty()) items += ",";
    if (!breakdown.empty()) breakdown += ",";
    items += R"({"description":"Article","quantity":"1","unit_price":"1.00","tax_rate":")" + rate +
             R"(","amount":"1.00"})";
    breakdown += R"({"tax_rate":")" + rate + R"(","base":"1.00","tax":"0.00"})";
  }
  std::string total = std::to_string(rates.size()) + ".00";
  return R"({"operation":"sale","environment":"test","now":"2026-12-04T10:15:00Z",)"
         R"("location":{"siret":"73282932000074","register_id":"CAISSE-01"},)"
         R"("chain":{"name":"tickets","key":"FR-73282932000074-CAISSE-01","sequence":1,)"
         R"("previous":null},"transaction":{"id":"t-1","type":"sale","currency":"EUR",)"
         R"("payment_method":"card","items":[)" +
         items + R"(],"breakdown":[)" + breakdown + R"(],"pretax_amount":")" + total +
         R"(","tax_amount":"0.00","total_amount":")" + total + R"(","customer":null}})";
}

TEST_F(FranceIssueErrors, FrenchVatRatesAccepted) {
  Status status = Issue(SaleAtRates(
      {"20.00", "13.00", "10.00", "8.50", "5.50", "2.10", "1.75", "1.05", "0.90", "0.00"}));
  EXPECT_TRUE(status.ok()) << status.field() << ": " << status.message();
  status = Issue(SaleAtRates({"20", "8.5", "0.9", "0"}));
  EXPECT_TRUE(status.ok()) << status.field() << ": " << status.message();
}

TEST_F(FranceIssueErrors, OtherVatRatesRejected) {
  const std::string accepted = "0, 0.9, 1.05, 1.75, 2.1, 5.5, 8.5, 10, 13 and 20";
  const std::string sale = kSaleInput;
  struct Case {
    std::string rate;
    std::string message_rate;  // the rate as the error message writes it
  };
  const std::vector<Case> cases = {{"21.00", "21"}, {"37.00", "37"}, {"19.60", "19.6"},
                                   {"7.00", "7"},   {"2.20", "2.2"}, {"0.85", "0.85"},
                                   {"85.00", "85"}, {"0.01", "0.01"}};
  for (const Case& c : cases) {
    Status status = Issue(Replace(sale, R"("tax_rate":"20.00","amount":"1.20")",
                                  R"("tax_rate":")" + c.rate + R"(","amount":"1.20")"));
    EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT) << c.rate;
    EXPECT_EQ(status.field(), "transaction.items[2].tax_rate") << status.message();
    EXPECT_EQ(status.message(), "transaction.items[2].tax_rate " + c.message_rate +
                                    " % is not a VAT rate of France; the accepted rates in "
                                    "percent are " +
                                    accepted);
  }

  // A breakdown entry is checked the same way, before its lines.
  Status status = Issue(Replace(sale, R"({"tax_rate":"5.50","base":"10.00","tax":"0.55"})",
                                R"({"tax_rate":"5.50","base":"10.00","tax":"0.55"},)"
                                R"({"tax_rate":"21.00","base":"0.00","tax":"0.00"})"));
  EXPECT_EQ(status.field(), "transaction.breakdown[1].tax_rate") << status.message();
  EXPECT_NE(status.message().find("21 % is not a VAT rate of France"), std::string::npos)
      << status.message();
}

// Length limits count Unicode characters, so accented text gets the same room as ASCII.
TEST_F(FranceIssueErrors, TextLimitsCountCharacters) {
  auto repeat = [](const std::string& text, size_t count) {
    std::string out;
    for (size_t i = 0; i < count; ++i) out += text;
    return out;
  };
  const std::string e_acute = "\xc3\xa9";
  const std::string sale = kSaleInput;
  const std::string event =
      R"({"operation":"event","environment":"test","now":"2026-12-04T10:15:00Z",)"
      R"("location":{"siret":"73282932000074","register_id":"CAISSE-01"},)"
      R"("chain":{"name":"journal","key":"k","sequence":1,"previous":null},)"
      R"("event":{"code":30,"name":"login","operator":"Marie","description":""}})";
  struct Case {
    std::string field;
    size_t limit;
    std::function<std::string(const std::string&)> input;
  };
  const std::vector<Case> cases = {
      {"transaction.items[0].description", 500,
       [&](const std::string& text) {
         return Replace(sale, R"("description":"Livre")", R"("description":")" + text + "\"");
       }},
      {"transaction.description", 500,
       [&](const std::string& text) {
         return Replace(sale, R"("currency":"EUR",)",
                        R"("currency":"EUR","description":")" + text + "\",");
       }},
      {"transaction.id", 100,
       [&](const std::string& text) {
         return Replace(sale, R"("id":"t-1")", R"("id":")" + text + "\"");
       }},
      {"transaction.customer.name", 500,
       [&](const std::string& text) {
         return Replace(sale, R"("customer":null)", R"("customer":{"name":")" + text + "\"}");
       }},
      {"event.operator", 100,
       [&](const std::string& text) {
         return Replace(event, R"("operator":"Marie")", R"("operator":")" + text + "\"");
       }},
      {"event.description", 2000,
       [&](const std::string& text) {
         return Replace(event, R"("description":"")", R"("description":")" + text + "\"");
       }},
  };
  for (const Case& c : cases) {
    Status status = Issue(c.input(repeat(e_acute, c.limit)));
    EXPECT_TRUE(status.ok()) << c.field << ": " << status.message();
    status = Issue(c.input(repeat(e_acute, c.limit + 1)));
    EXPECT_EQ(status.field(), c.field) << status.message();
    EXPECT_EQ(status.message(), c.field + " has " + std::to_string(c.limit + 1) +
                                    " characters, more than the maximum of " +
                                    std::to_string(c.limit) + "; shorten it");
  }
}

TEST_F(FranceIssueErrors, AtMostThousandLines) {
  std::string items;
  for (int i = 0; i < 1001; ++i) {
    if (i > 0) items += ",";
    items += R"({"description":"Bille","quantity":"1","unit_price":"0.01","tax_rate":"20.00","amount":"0.01"})";
  }
  std::string input = kSaleInput;
  size_t start = input.find(R"("items":[)") + 9;
  size_t end = input.find(R"(],"breakdown")");
  input.replace(start, end - start, items);
  Status status = Issue(input);
  EXPECT_EQ(status.field(), "transaction.items");
  EXPECT_NE(status.message().find("1 to 1000"), std::string::npos) << status.message();
}

TEST_F(FranceIssueErrors, CommonFields) {
  const std::string sale = kSaleInput;
  struct Case {
    std::string input;
    std::string field;
  };
  const std::vector<Case> cases = {
      {Replace(sale, R"("now":"2026-12-04T10:15:00Z")", R"("now":"04/12/2026 10:15")"), "now"},
      {Replace(sale, R"("now":"2026-12-04T10:15:00Z")", R"("now":"2026-02-30T10:15:00Z")"), "now"},
      {Replace(sale, R"("now":"2026-12-04T10:15:00Z",)", ""), "now"},
      {Replace(sale, R"("siret":"73282932000074")", R"("siret":"73282932000075")"), "location.siret"},
      {Replace(sale, R"("register_id":"CAISSE-01")", R"("register_id":"CAISSE,01")"),
       "location.register_id"},
      {Replace(sale, R"("name":"tickets")", R"("name":"journal")"), "chain.name"},
      {Replace(sale, R"("sequence":1,"previous":null)", R"("sequence":0,"previous":null)"),
       "chain.sequence"},
      {Replace(sale, R"("sequence":1,"previous":null)", R"("sequence":2,"previous":null)"),
       "chain.previous"},
      {Replace(sale, R"("sequence":1,"previous":null)",
               R"("sequence":1,"previous":{"signature":"x","sequence":0})"),
       "chain.previous"},
      {Replace(sale, R"("sequence":1,"previous":null)",
               R"("sequence":3,"previous":{"signature":"x","sequence":1})"),
       "chain.previous.sequence"},
      {Replace(sale, R"("sequence":1,"previous":null)",
               R"("sequence":2,"previous":{"signature":"x","sequence":1})"),
       "chain.previous.signature"},
      {Replace(sale, R"("sequence":1,"previous":null)",
               R"("sequence":2,"previous":{"signature":")" + std::string(86, 'A') +
                   R"(","sequence":1})"),
       "chain.previous.cumulative"},
      {Replace(sale, R"("operation":"sale")", R"("operation":"refund")"), "original"},
      {Replace(Replace(sale, R"("name":"tickets")", R"("name":"training")"),
               R"("operation":"sale",)", R"("operation":"sale","training":false,)"),
       "training"},
      {Replace(sale, R"("operation":"sale",)", R"("operation":"sale","training":true,)"),
       "training"},
  };
  for (const Case& c : cases) {
    Status status = Issue(c.input);
    EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT) << c.field;
    EXPECT_EQ(status.field(), c.field) << status.message();
    EXPECT_FALSE(status.message().empty());
  }

  Status status = Issue(Replace(sale, R"("operation":"sale")", R"("operation":"invoice")"));
  EXPECT_EQ(status.code(), FISCAL_ERR_UNSUPPORTED);
  EXPECT_NE(status.message().find("invoice"), std::string::npos);
  EXPECT_EQ(Issue("not json").code(), FISCAL_ERR_INVALID_INPUT);
}

TEST_F(FranceIssueErrors, OtherOperationFields) {
  const std::string common =
      R"({"environment":"test","now":"2026-12-04T10:15:00Z",)"
      R"("location":{"siret":"73282932000074","register_id":"CAISSE-01"},)";
  auto input = [&](const std::string& operation, const std::string& chain, const std::string& members) {
    return common + R"("operation":")" + operation + R"(","chain":{"name":")" + chain +
           R"(","key":"k","sequence":1,"previous":null},)" + members + "}";
  };
  struct Case {
    std::string input;
    std::string field;
  };
  const std::vector<Case> cases = {
      {input("event", "journal", R"("event":{"code":30,"name":"logout"})"), "event.name"},
      {input("event", "journal", R"("event":{"code":0,"name":"x"})"), "event.code"},
      {input("event", "journal", R"("event":{"code":"30","name":"login"})"), "event.code"},
      {input("event", "journal", R"("event":{"code":999,"name":"Login"})"), "event.name"},
      {input("event", "journal", R"("event":{"code":30,"name":"login","operator":"a\nb"})"),
       "event.operator"},
      {input("event", "journal", R"("evt":{})"), "event"},
      {input("closure", "closures",
             R"("closure":{"period":"week","label":"2026-12","tickets":{"sequence":0,"state":null}})"),
       "closure.period"},
      {input("closure", "closures",
             R"("closure":{"period":"month","label":"2026-13","tickets":{"sequence":0,"state":null}})"),
       "closure.label"},
      {input("closure", "closures",
             R"("closure":{"period":"day","label":"2026-12-04","tickets":{"sequence":2,"state":null}})"),
       "closure.tickets.state"},
      {input("closure", "closures",
             R"("closure":{"period":"day","label":"2026-12-04","tickets":{"sequence":0,"state":{}}})"),
       "closure.tickets.state"},
      {input("closure", "closures", R"("closure":{"period":"day","label":"2026-12-04"})"),
       "closure.tickets"},
      {input("archive", "archives",
             R"("archive":{"id":"a","from":"2026-01-01","to":"2026-12-31","manifest_sha256":"ABC"})"),
       "archive.manifest_sha256"},
      {input("archive", "archives",
             R"("archive":{"id":"a","from":"2026-12-31","to":"2026-01-01","manifest_sha256":")" +
                 Sha256Hex("m") + R"("})"),
       "archive.to"},
      {input("archive", "archives",
             R"("archive":{"id":"","from":"2026-01-01","to":"2026-12-31","manifest_sha256":")" +
                 Sha256Hex("m") + R"("})"),
       "archive.id"},
      {input("duplicate", "duplicates", R"("copy_number":1,"operator":"M")"), "original"},
      {input("duplicate", "tickets", R"("copy_number":1,"operator":"M")"), "chain.name"},
  };
  for (const Case& c : cases) {
    Status status = Issue(c.input);
    EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT) << c.input;
    EXPECT_EQ(status.field(), c.field) << status.message();
    EXPECT_FALSE(status.message().empty());
  }
}

TEST(FranceReceipt, RenderInFrench) {
  std::string receipt =
      R"({"titre":"TICKET","mode_ecole":true,"duplicata":2,"etablissement":"Librairie du Port",)"
      R"("siret":"73282932000074","naf":"47.61Z","tva_intracom":"FR44732829320","caisse":"CAISSE-01",)"
      R"("numero":"CAISSE-01-D-000002","date":"04/12/2026 11:45:00",)"
      R"("mentions":["Duplicata du ticket n° CAISSE-01-T-000001"],)"
      R"("lignes":[{"libelle":"Stylo","quantite":"2","prix_unitaire":"6.00","taux_tva":"20.00","montant":"12.00"}],)"
      R"("tva":[{"taux":"20.00","base":"10.00","tva":"2.00","ttc":"12.00"}],)"
      R"("total_ht":"10.00","total_tva":"2.00","total_ttc":"12.00","devise":"EUR",)"
      R"("paiements":[{"mode":"Espèces","montant":"20.00"},{"mode":"Rendu monnaie","montant":"-8.00"}],)"
      R"("details":[],"signature":"BEYw","logiciel":"france-nf525 1.0.0","qr":true})";
  std::string result;
  ASSERT_TRUE(RenderReceipt(R"({"transaction":{},"location":{},"record":{"receipt":)" + receipt + "}}",
                            &result)
                  .ok());
  EXPECT_EQ(result,
            R"({"language":"fr","title":"TICKET","lines":["MODE ÉCOLE — ticket sans valeur",)"
            R"("DUPLICATA n°2","Librairie du Port","SIRET : 73282932000074","NAF : 47.61Z",)"
            R"("TVA intracommunautaire : FR44732829320","Caisse : CAISSE-01",)"
            R"("N° : CAISSE-01-D-000002","Date : 04/12/2026 11:45:00",)"
            R"("Duplicata du ticket n° CAISSE-01-T-000001","2 x Stylo",)"
            R"j("    6,00 = 12,00 (TVA 20,00 %)","TVA 20,00 % : base 10,00, TVA 2,00, TTC 12,00",)j"
            R"("Total HT : 10,00 EUR","Total TVA : 2,00 EUR","Total TTC : 12,00 EUR",)"
            R"("Espèces : 20,00 EUR","Rendu monnaie : -8,00 EUR","Signature : BEYw",)"
            R"("Logiciel : france-nf525 1.0.0","MODE ÉCOLE — ticket sans valeur"],)"
            R"("qr_caption_before":"","qr_caption_after":"Code de contrôle NF525"})");

  EXPECT_EQ(RenderReceipt(R"({"record":{}})", &result).code(), FISCAL_ERR_INVALID_INPUT);
}

// The conformance kit's samples for this plugin must stay valid inputs.
TEST(FranceConformanceSamples, StayValid) {
  std::ifstream file(std::string(FISCAL_SOURCE_DIR) + "/plugins/france/conformance/samples.json");
  std::stringstream text;
  text << file.rdbuf();
  rapidjson::Document samples;
  samples.Parse(text.str().c_str());
  ASSERT_TRUE(samples.IsObject());
  auto json = [&](const char* name) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    samples[name].Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
  };

  std::string result;
  EXPECT_TRUE(ValidateLocation(json("location_config"), &result).ok());
  Status status = ValidateLocation(json("invalid_location_config"), &result);
  EXPECT_EQ(status.field(), "country_config.siret");

  EvpPkeyPtr key;
  ASSERT_TRUE(GenerateP256Key(&key).ok());
  status = IssueRecord(json("issue_record"), MakeLocalKeySigner(key.get()), &result);
  EXPECT_TRUE(status.ok()) << status.field() << ": " << status.message();
  status = IssueRecord(json("invalid_issue_record"), MakeLocalKeySigner(key.get()), &result);
  EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_FALSE(status.field().empty());
  EXPECT_TRUE(RenderReceipt(json("render_receipt"), &result).ok());
}

TEST(FranceTime, ParsesRfc3339) {
  std::chrono::sys_seconds time;
  ASSERT_TRUE(ParseRfc3339("2026-12-04T10:15:00Z", "now", &time).ok());
  EXPECT_EQ(FormatUtc(time), "2026-12-04T10:15:00Z");
  ASSERT_TRUE(ParseRfc3339("2026-12-04T11:15:00.999+01:00", "now", &time).ok());
  EXPECT_EQ(FormatUtc(time), "2026-12-04T10:15:00Z");
  ASSERT_TRUE(ParseRfc3339("2026-12-31T23:30:00-01:00", "now", &time).ok());
  EXPECT_EQ(FormatUtc(time), "2027-01-01T00:30:00Z");
  for (const char* text : {"2026-12-04", "2026-12-04T10:15:00", "2026-12-04 10:15:00Z",
                           "2026-12-04T24:00:00Z", "2026-12-04T10:15:00.Z", "2026-12-04T10:15:60Z",
                           "2026-12-04T10:15:00+0100", "1969-12-31T23:59:59Z"}) {
    Status status = ParseRfc3339(text, "now", &time);
    EXPECT_FALSE(status.ok()) << text;
    EXPECT_EQ(status.field(), "now");
  }
}

// Paris follows the EU summer-time rule: from the last Sunday of March to the last Sunday of
// October, at 01:00 UTC.
TEST(FranceTime, ParisLegalTime) {
  using std::chrono::sys_days;
  EXPECT_EQ(FormatParisTime(sys_days(2025y / 3 / 30) + 0h + 59min + 59s), "30/03/2025 01:59:59");
  EXPECT_EQ(FormatParisTime(sys_days(2025y / 3 / 30) + 1h), "30/03/2025 03:00:00");
  EXPECT_EQ(FormatParisTime(sys_days(2025y / 10 / 26) + 0h + 59min + 59s), "26/10/2025 02:59:59");
  EXPECT_EQ(FormatParisTime(sys_days(2025y / 10 / 26) + 1h), "26/10/2025 02:00:00");
  EXPECT_EQ(FormatParisTime(sys_days(2026y / 12 / 31) + 23h + 30min), "01/01/2027 00:30:00");
}

TEST(FranceSelfTest, AllChecksPass) {
  int checks = 0;
  Status status = RunSelfTest(&checks);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(checks, 7);
}

}  // namespace
}  // namespace fiscal::france
