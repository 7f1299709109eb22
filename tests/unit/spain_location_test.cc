// NIF checks, customer identification, location and plugin configuration.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "customer.h"
#include "location_config.h"
#include "nif.h"
#include "system_info.h"

namespace fiscal::spain {
namespace {

TEST(SpainNif, AcceptsValidNifs) {
  for (const char* nif : {"89890001K", "89890002E", "12345678Z", "X1234567L", "Y1234567X", "Z1234567R",
                          "B00000000", "A00000000", "A58818501", "B12345674", "Q2826000H", "P2807900B",
                          "K1234567L"}) {
    EXPECT_EQ(CheckSpanishNif(nif), "") << nif;
  }
}

TEST(SpainNif, RejectsInvalidNifs) {
  for (const char* nif : {"89890001A", "12345678", "1234567890", "X1234567A", "B12345675", "B1234567D",
                          "Q2826000A", "Q28260008", "I12345678", "ABCDEFGHI", "8989000KK"}) {
    EXPECT_NE(CheckSpanishNif(nif), "") << nif;
  }
}

TEST(SpainNif, Normalisation) {
  EXPECT_EQ(NormaliseSpanishNif("es 89890002-e"), "89890002E");
  EXPECT_EQ(NormaliseSpanishNif("ES89890002E"), "89890002E");
  EXPECT_EQ(NormaliseSpanishNif("b-0000000.0"), "B00000000");
}

TEST(SpainCustomer, SpanishPrefixStripped) {
  Destinatario destinatario;
  Status status = BuildDestinatario("ES89890002E", "Cliente Ficticio SL", "ES", "customer", &destinatario);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(destinatario.NIF, "89890002E");
  EXPECT_EQ(destinatario.IDType, "");
  EXPECT_EQ(destinatario.NombreRazon, "Cliente Ficticio SL");

  status = BuildDestinatario("es 8989-0002e", "Cliente Ficticio SL", "", "customer", &destinatario);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(destinatario.NIF, "89890002E");
}

TEST(SpainCustomer, EuVatInIdOtro) {
  Destinatario destinatario;
  Status status = BuildDestinatario("FR12345678901", "Client Fictif SARL", "FR", "customer", &destinatario);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(destinatario.NIF, "");
  EXPECT_EQ(destinatario.CodigoPais, "FR");
  EXPECT_EQ(destinatario.IDType, "02");
  EXPECT_EQ(destinatario.ID, "FR12345678901");

  // The prefix is added when the client sends the number without it; Greece uses EL.
  status = BuildDestinatario("123456789", "Pelatis", "GR", "customer", &destinatario);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(destinatario.CodigoPais, "GR");
  EXPECT_EQ(destinatario.ID, "EL123456789");

  status = BuildDestinatario("DE123456789", "Kunde GmbH", "", "customer", &destinatario);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(destinatario.CodigoPais, "DE");
  EXPECT_EQ(destinatario.IDType, "02");
}

TEST(SpainCustomer, NonEuUsesResidenceId) {
  Destinatario destinatario;
  Status status = BuildDestinatario("123-45-6789", "Customer Inc", "US", "customer", &destinatario);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(destinatario.CodigoPais, "US");
  EXPECT_EQ(destinatario.IDType, "04");
  EXPECT_EQ(destinatario.ID, "123456789");
}

TEST(SpainCustomer, Errors) {
  Destinatario destinatario;
  Status status = BuildDestinatario("89890002E", "", "ES", "transaction.customer", &destinatario);
  EXPECT_EQ(status.field(), "transaction.customer.name");
  status = BuildDestinatario("89890002A", "Cliente", "ES", "transaction.customer", &destinatario);
  EXPECT_EQ(status.field(), "transaction.customer.tax_id");
  status = BuildDestinatario("DE123456789", "Kunde", "FR", "transaction.customer", &destinatario);
  EXPECT_EQ(status.field(), "transaction.customer.tax_id");
}

TEST(SpainLocation, NormalisesAndReturnsChainKey) {
  std::string result;
  Status status = ValidateLocation(
      R"({"system":"verifactu","nif":"es b-00000000","legal_name":"  Tienda Ficticia SL ","installation_number":7,"territory":"peninsula"})",
      &result);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(result,
            R"({"config":{"system":"verifactu","nif":"B00000000","legal_name":"Tienda Ficticia SL","invoice_series":"",)"
            R"("installation_number":"7","territory":"peninsula","multiple_taxpayers":false},"chain_key":"B00000000:7",)"
            R"("issuer_key":"B00000000"})");
}

TEST(SpainLocation, IssuerKeyIgnoresInstallation) {
  std::string first;
  std::string second;
  ASSERT_TRUE(ValidateLocation(R"({"system":"verifactu","nif":"89890001K","legal_name":"X","installation_number":"1"})",
                               &first)
                  .ok());
  ASSERT_TRUE(ValidateLocation(R"({"system":"verifactu","nif":"ES89890001K","legal_name":"X","installation_number":"2"})",
                               &second)
                  .ok());
  rapidjson::Document a;
  rapidjson::Document b;
  a.Parse(first.c_str());
  b.Parse(second.c_str());
  EXPECT_STREQ(a["issuer_key"].GetString(), "89890001K");
  EXPECT_STREQ(b["issuer_key"].GetString(), "89890001K");
  EXPECT_STRNE(a["chain_key"].GetString(), b["chain_key"].GetString());
}

TEST(SpainLocation, RejectsUnknownKeys) {
  std::string result;
  Status status = ValidateLocation(
      R"({"system":"verifactu","nif":"89890001K","legal_name":"X","teritory":"peninsula"})", &result);
  EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(status.field(), "country_config.teritory");
  for (const char* key : {"system", "nif", "legal_name", "invoice_series", "installation_number", "territory",
                          "multiple_taxpayers"}) {
    EXPECT_NE(status.message().find(key), std::string::npos) << key << " missing in: " << status.message();
  }
}

TEST(SpainLocation, RejectsCanaryIslands) {
  std::string result;
  Status status = ValidateLocation(
      R"({"system":"verifactu","nif":"89890001K","legal_name":"X","territory":"canarias"})", &result);
  EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(status.field(), "country_config.territory");
  EXPECT_NE(status.message().find("IGIC"), std::string::npos) << status.message();
}

TEST(SpainLocation, DefaultsInstallationAndTerritory) {
  std::string result;
  Status status = ValidateLocation(R"({"system":"verifactu","nif":"89890001K","legal_name":"X"})", &result);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_NE(result.find(R"("installation_number":"1","territory":"peninsula")"), std::string::npos);
  EXPECT_NE(result.find(R"("chain_key":"89890001K:1")"), std::string::npos);
}

TEST(SpainLocation, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"nif":"89890001K","legal_name":"X"})", "country_config.system"},
      {R"({"system":"ticketbai","nif":"89890001K","legal_name":"X"})", "country_config.system"},
      {R"({"system":"verifactu","legal_name":"X"})", "country_config.nif"},
      {R"({"system":"verifactu","nif":"89890001A","legal_name":"X"})", "country_config.nif"},
      {R"({"system":"verifactu","nif":"89890001K"})", "country_config.legal_name"},
      {R"({"system":"verifactu","nif":"89890001K","legal_name":""})", "country_config.legal_name"},
      {R"({"system":"verifactu","nif":"89890001K","legal_name":"X","invoice_series":"A<1"})", "country_config.invoice_series"},
      {R"({"system":"verifactu","nif":"89890001K","legal_name":"X","invoice_series":"123456789012345678901"})",
       "country_config.invoice_series"},
      {R"({"system":"verifactu","nif":"89890001K","legal_name":"X","installation_number":""})",
       "country_config.installation_number"},
      {R"({"system":"verifactu","nif":"89890001K","legal_name":"X","territory":"baleares"})", "country_config.territory"},
      {R"([1])", "country_config"},
  };
  for (const Case& c : cases) {
    std::string result;
    Status status = ValidateLocation(c.json, &result);
    EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT) << c.json;
    EXPECT_EQ(status.field(), c.field) << c.json;
    EXPECT_FALSE(status.message().empty()) << c.json;
  }

  std::string long_name(121, 'a');
  std::string result;
  Status status = ValidateLocation(
      R"({"system":"verifactu","nif":"89890001K","legal_name":")" + long_name + R"("})", &result);
  EXPECT_EQ(status.field(), "country_config.legal_name");
}

TEST(SpainSystemInfo, DefaultsAndOverrides) {
  SystemInfo info;
  ASSERT_TRUE(ParseSystemInfo("{}", &info).ok());
  EXPECT_EQ(info.producer_nif, "B00000000");
  EXPECT_EQ(info.system_version, "1.0.0");
  EXPECT_EQ(info.system_id, "FS");

  ASSERT_TRUE(ParseSystemInfo(R"({"producer_nif":"ES89890002E","system_id":"A7","system_name":"Caja"})", &info).ok());
  EXPECT_EQ(info.producer_nif, "89890002E");
  EXPECT_EQ(info.system_id, "A7");

  EXPECT_EQ(ParseSystemInfo(R"({"system_id":"Ñ1"})", &info).field(), "config.system_id");
  EXPECT_EQ(ParseSystemInfo(R"({"system_id":"ab"})", &info).field(), "config.system_id");
  EXPECT_EQ(ParseSystemInfo(R"({"producer_nif":"123"})", &info).field(), "config.producer_nif");
  EXPECT_EQ(ParseSystemInfo(R"({"system_name":"0123456789012345678901234567890"})", &info).field(),
            "config.system_name");
}

}  // namespace
}  // namespace fiscal::spain
