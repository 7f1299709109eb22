// issue_record: F2, F1, R5, R1 and anulación records, chaining, determinism, input errors and
// XSD validation of everything generated.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "huella.h"
#include "record_issuer.h"
#include "soap.h"
#include "spain_test_util.h"

namespace fiscal::spain {
namespace {

using testing::ValidateElement;

const char kLocation[] =
    R"({"system":"verifactu","nif":"89890001K","legal_name":"Tienda Ficticia & Hijos SL","invoice_series":"A",)"
    R"("installation_number":"1","territory":"peninsula","multiple_taxpayers":false})";

std::string SaleTransaction(const std::string& number, const std::string& customer = "null",
                            const std::string& total = "8.00") {
  return R"({"id":"t-)" + number + R"(","type":"sale","invoice_number":")" + number +
         R"(","currency":"EUR","payment_method":"card",)"
         R"("items":[{"description":"Café <solo>","quantity":"2","unit_price":"4.00","tax_rate":"21.00","amount":"8.00"}],)"
         R"("breakdown":[{"tax_rate":"21.00","base":"6.61","tax":"1.39"}],)"
         R"("pretax_amount":"6.61","tax_amount":"1.39","total_amount":")" + total + R"(","customer":)" + customer + "}";
}

std::string RefundTransaction(const std::string& number) {
  return R"({"id":"r-)" + number + R"(","type":"refund","invoice_number":")" + number +
         R"(","currency":"EUR","payment_method":"card",)"
         R"("items":[{"description":"Café","quantity":"-2","unit_price":"4.00","tax_rate":"21.00","amount":"-8.00"}],)"
         R"("breakdown":[{"tax_rate":"21.00","base":"-6.61","tax":"-1.39"}],)"
         R"("pretax_amount":"-6.61","tax_amount":"-1.39","total_amount":"-8.00","customer":null})";
}

std::string Input(const std::string& operation, const std::string& now, const std::string& transaction,
                  const std::string& original, const std::string& previous, int sequence = 1,
                  const std::string& location = kLocation) {
  return R"({"operation":")" + operation + R"(","environment":"test","now":")" + now + R"(","location":)" +
         location + R"(,"transaction":)" + transaction + R"(,"original":)" + original +
         R"(,"chain":{"key":"89890001K:1","sequence":)" + std::to_string(sequence) + R"(,"previous":)" + previous + "}}";
}

struct Issued {
  Status status;
  std::string json;
  rapidjson::Document doc;
};

void Issue(const std::string& input, Issued* out) {
  SystemInfo system;
  out->status = IssueRecord(system, input, &out->json);
  if (out->status.ok()) out->doc.Parse(out->json.c_str());
}

std::string Str(const rapidjson::Value& object, const char* name) {
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return "<absent>";
  return member->value.GetString();
}

std::string Json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

// The stored original for a refund or cancellation, as the host passes it back.
std::string OriginalOf(const Issued& issued) {
  return R"({"fiscal_id":")" + Str(issued.doc, "fiscal_id") + R"(","hash":")" + Str(issued.doc, "hash") +
         R"(","record_type":")" + Str(issued.doc, "record_type") + R"(","record_data":)" +
         Json(issued.doc["record_data"]) + "}";
}

// Wraps records in a request envelope and validates its RegFactuSistemaFacturacion.
std::string ValidateRecords(const std::vector<std::string>& documents) {
  EnvelopeHeader header{"Tienda Ficticia & Hijos SL", "89890001K", false};
  return ValidateElement(BuildSoapEnvelope(header, documents), "RegFactuSistemaFacturacion");
}

TEST(SpainIssueRecord, SimplifiedSaleF2) {
  Issued sale;
  Issue(Input("sale", "2026-12-04T19:55:53Z", SaleTransaction("A00000042"), "null", "null"), &sale);
  ASSERT_TRUE(sale.status.ok()) << sale.status.message();

  EXPECT_EQ(Str(sale.doc, "fiscal_id"), "A00000042");
  EXPECT_EQ(Str(sale.doc, "record_type"), "RegistroAlta");
  EXPECT_EQ(Str(sale.doc, "document_type"), "application/xml");
  EXPECT_EQ(Str(sale.doc["record_data"], "TipoFactura"), "F2");
  EXPECT_EQ(Str(sale.doc["record_data"], "FechaExpedicionFactura"), "04-12-2026");
  EXPECT_EQ(Str(sale.doc, "qr_payload"),
            "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=A00000042&fecha=04-12-2026&importe=8.00");

  std::string document = Str(sale.doc, "document");
  EXPECT_NE(document.find("<sum1:FechaHoraHusoGenRegistro>2026-12-04T20:55:53+01:00<"), std::string::npos);
  EXPECT_NE(document.find("<sum1:PrimerRegistro>S</sum1:PrimerRegistro>"), std::string::npos);
  EXPECT_NE(document.find("Tienda Ficticia &amp; Hijos SL"), std::string::npos);
  EXPECT_EQ(document.find("Destinatarios"), std::string::npos);
  EXPECT_NE(document.find("<sum1:DescripcionOperacion>Venta<"), std::string::npos);
  EXPECT_NE(document.find("<sum1:Impuesto>01</sum1:Impuesto>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:CuotaTotal>1.39</sum1:CuotaTotal>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:ImporteTotal>8.00</sum1:ImporteTotal>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:IndicadorMultiplesOT>N<"), std::string::npos);

  // The hash is the AEAT formula over the literal values written into the XML.
  AltaHuellaFields fields{"89890001K", "A00000042", "04-12-2026", "F2", "1.39", "8.00", "",
                          "2026-12-04T20:55:53+01:00"};
  EXPECT_EQ(Str(sale.doc, "hash"), ComputeAltaHuella(fields));
  EXPECT_NE(document.find("<sum1:Huella>" + Str(sale.doc, "hash") + "</sum1:Huella>"), std::string::npos);

  EXPECT_EQ(Str(sale.doc["chain_state"], "Huella"), Str(sale.doc, "hash"));
  EXPECT_EQ(Str(sale.doc["receipt"], "title"), "Factura simplificada");
  EXPECT_EQ(Str(sale.doc["receipt"], "qr_caption_before"), "QR tributario:");
  EXPECT_EQ(ValidateRecords({document}), "");
}

TEST(SpainIssueRecord, FullInvoiceHashMatchesVector) {
  std::string transaction =
      R"({"id":"t1","type":"sale","invoice_number":"A-2025-001","currency":"EUR",)"
      R"("items":[{"description":"Servicio","quantity":"1","unit_price":"100.00","tax_rate":"21.00","amount":"121.00"}],)"
      R"("breakdown":[{"tax_rate":"21.00","base":"100.00","tax":"21.00"}],"pretax_amount":"100.00",)"
      R"("tax_amount":"21.00","total_amount":"121.00","customer":{"tax_id":"89890002E","name":"Cliente Ficticio SL","country":"ES"}})";
  Issued sale;
  Issue(Input("sale", "2025-01-15T09:00:00Z", transaction, "null", "null"), &sale);
  ASSERT_TRUE(sale.status.ok()) << sale.status.message();
  EXPECT_EQ(Str(sale.doc, "hash"), "80853555ABB40FE4C4D54B728599B2B42EAEB34FC349932F6CE999116C5A295C");
  EXPECT_NE(Str(sale.doc, "qr_payload").find("?nif=89890001K&numserie=A-2025-001&fecha=15-01-2025&importe=121.00"),
            std::string::npos);
  EXPECT_EQ(ValidateRecords({Str(sale.doc, "document")}), "");
}

TEST(SpainIssueRecord, FullInvoiceRecipients) {
  Issued spanish;
  Issue(Input("sale", "2026-12-04T10:00:00Z",
              SaleTransaction("A1", R"({"tax_id":"ES89890002E","name":"Cliente Ficticio SL","country":"ES"})"), "null",
              "null"),
        &spanish);
  ASSERT_TRUE(spanish.status.ok()) << spanish.status.message();
  std::string document = Str(spanish.doc, "document");
  EXPECT_EQ(Str(spanish.doc["record_data"], "TipoFactura"), "F1");
  EXPECT_NE(document.find("<sum1:NIF>89890002E</sum1:NIF>"), std::string::npos);
  EXPECT_EQ(document.find("ES89890002E"), std::string::npos);
  EXPECT_EQ(Str(spanish.doc["receipt"], "title"), "Factura");
  EXPECT_EQ(ValidateRecords({document}), "");

  Issued french;
  Issue(Input("sale", "2026-12-04T10:00:00Z",
              SaleTransaction("A2", R"({"tax_id":"FR12345678901","name":"Client Fictif SARL","country":"FR"})"), "null",
              "null"),
        &french);
  ASSERT_TRUE(french.status.ok()) << french.status.message();
  document = Str(french.doc, "document");
  EXPECT_NE(document.find("<sum1:IDOtro>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:CodigoPais>FR</sum1:CodigoPais>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:IDType>02</sum1:IDType>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:ID>FR12345678901</sum1:ID>"), std::string::npos);
  EXPECT_EQ(ValidateRecords({document}), "");
}

TEST(SpainIssueRecord, RefundOfSimplifiedIsR5) {
  Issued sale;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", "null"), &sale);
  ASSERT_TRUE(sale.status.ok());

  Issued refund;
  Issue(Input("refund", "2026-12-05T10:00:00Z", RefundTransaction("A2"), OriginalOf(sale),
              Json(sale.doc["chain_state"]), 2),
        &refund);
  ASSERT_TRUE(refund.status.ok()) << refund.status.message();
  std::string document = Str(refund.doc, "document");
  EXPECT_EQ(Str(refund.doc["record_data"], "TipoFactura"), "R5");
  EXPECT_NE(document.find("<sum1:TipoRectificativa>I</sum1:TipoRectificativa>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:IDFacturaRectificada>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:NumSerieFactura>A1</sum1:NumSerieFactura>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:ImporteTotal>-8.00</sum1:ImporteTotal>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:DescripcionOperacion>Devolución<"), std::string::npos);
  EXPECT_EQ(document.find("Destinatarios"), std::string::npos);
  EXPECT_NE(Str(refund.doc, "qr_payload").find("&importe=-8.00"), std::string::npos);
  EXPECT_EQ(Str(refund.doc["receipt"], "rectifica_numero"), "A1");
  EXPECT_EQ(ValidateRecords({document}), "");
}

TEST(SpainIssueRecord, RefundOfFullInvoiceIsR1WithRecipients) {
  Issued sale;
  Issue(Input("sale", "2026-12-04T10:00:00Z",
              SaleTransaction("A1", R"({"tax_id":"89890002E","name":"Cliente Ficticio SL"})"), "null", "null"),
        &sale);
  ASSERT_TRUE(sale.status.ok());

  Issued refund;
  Issue(Input("refund", "2026-12-05T10:00:00Z", RefundTransaction("A2"), OriginalOf(sale),
              Json(sale.doc["chain_state"]), 2),
        &refund);
  ASSERT_TRUE(refund.status.ok()) << refund.status.message();
  std::string document = Str(refund.doc, "document");
  EXPECT_EQ(Str(refund.doc["record_data"], "TipoFactura"), "R1");
  EXPECT_NE(document.find("<sum1:NIF>89890002E</sum1:NIF>"), std::string::npos);
  EXPECT_NE(document.find("<sum1:NombreRazon>Cliente Ficticio SL</sum1:NombreRazon>"), std::string::npos);
  EXPECT_EQ(ValidateRecords({document}), "");
}

TEST(SpainIssueRecord, CancelIsChainedAnulacion) {
  Issued sale;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", "null"), &sale);
  ASSERT_TRUE(sale.status.ok());

  Issued cancel;
  Issue(Input("cancel", "2026-12-04T11:00:00Z", "null", OriginalOf(sale), Json(sale.doc["chain_state"]), 2),
        &cancel);
  ASSERT_TRUE(cancel.status.ok()) << cancel.status.message();
  EXPECT_EQ(Str(cancel.doc, "record_type"), "RegistroAnulacion");
  EXPECT_EQ(Str(cancel.doc, "fiscal_id"), "A1");
  EXPECT_EQ(Str(cancel.doc, "qr_payload"), "");
  EXPECT_EQ(Str(cancel.doc["record_data"], "NumSerieFacturaAnulada"), "A1");

  AnulacionHuellaFields fields{"89890001K", "A1", "04-12-2026", Str(sale.doc, "hash"), "2026-12-04T12:00:00+01:00"};
  EXPECT_EQ(Str(cancel.doc, "hash"), ComputeAnulacionHuella(fields));

  std::string document = Str(cancel.doc, "document");
  EXPECT_NE(document.find("<sum1:NumSerieFacturaAnulada>A1<"), std::string::npos);
  EXPECT_NE(document.find("<sum1:Huella>" + Str(sale.doc, "hash") + "</sum1:Huella>"), std::string::npos);
  EXPECT_EQ(ValidateRecords({Str(sale.doc, "document"), document}), "");

  // The record after an anulación chains to the cancelled invoice's IDs and the anulación's hash.
  EXPECT_EQ(Str(cancel.doc["chain_state"], "NumSerieFactura"), "A1");
  EXPECT_EQ(Str(cancel.doc["chain_state"], "FechaExpedicionFactura"), "04-12-2026");
  EXPECT_EQ(Str(cancel.doc["chain_state"], "Huella"), Str(cancel.doc, "hash"));

  Issued cancel_again;
  Issue(Input("cancel", "2026-12-04T11:00:00Z", "null",
              R"({"record_type":"RegistroAnulacion","record_data":)" + Json(cancel.doc["record_data"]) + "}", "null"),
        &cancel_again);
  EXPECT_EQ(cancel_again.status.field(), "original.record_type");
}

TEST(SpainIssueRecord, ChainOfThree) {
  Issued first, second, third;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", "null", 1), &first);
  ASSERT_TRUE(first.status.ok());
  Issue(Input("sale", "2026-12-04T10:00:05Z", SaleTransaction("A2"), "null", Json(first.doc["chain_state"]), 2),
        &second);
  ASSERT_TRUE(second.status.ok());
  Issue(Input("sale", "2026-12-04T10:00:10Z", SaleTransaction("A3"), "null", Json(second.doc["chain_state"]), 3),
        &third);
  ASSERT_TRUE(third.status.ok());

  std::string second_doc = Str(second.doc, "document");
  std::string third_doc = Str(third.doc, "document");
  EXPECT_NE(second_doc.find("<sum1:RegistroAnterior>"), std::string::npos);
  EXPECT_NE(second_doc.find("<sum1:Huella>" + Str(first.doc, "hash") + "</sum1:Huella>"), std::string::npos);
  EXPECT_NE(third_doc.find("<sum1:Huella>" + Str(second.doc, "hash") + "</sum1:Huella>"), std::string::npos);
  EXPECT_NE(third_doc.find("<sum1:NumSerieFactura>A2</sum1:NumSerieFactura>"), std::string::npos);

  AltaHuellaFields fields{"89890001K", "A3", "04-12-2026", "F2", "1.39", "8.00", Str(second.doc, "hash"),
                          "2026-12-04T11:00:10+01:00"};
  EXPECT_EQ(Str(third.doc, "hash"), ComputeAltaHuella(fields));
  EXPECT_EQ(ValidateRecords({Str(first.doc, "document"), second_doc, third_doc}), "");
}

TEST(SpainIssueRecord, Deterministic) {
  std::string input = Input("sale", "2026-12-04T19:55:53Z",
                            SaleTransaction("A1", R"({"tax_id":"89890002E","name":"Cliente Ñandú SL"})"), "null", "null");
  Issued once, twice;
  Issue(input, &once);
  Issue(input, &twice);
  ASSERT_TRUE(once.status.ok());
  EXPECT_EQ(once.json, twice.json);
}

TEST(SpainIssueRecord, SimplifiedInvoiceLimit) {
  std::string over = R"({"type":"sale","invoice_number":"A1","currency":"EUR",)"
                     R"("breakdown":[{"tax_rate":"21.00","base":"2479.35","tax":"520.66"}],)"
                     R"("tax_amount":"520.66","total_amount":"3000.01","customer":null})";
  Issued issued;
  Issue(Input("sale", "2026-12-04T10:00:00Z", over, "null", "null"), &issued);
  EXPECT_EQ(issued.status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(issued.status.field(), "total_amount");
  EXPECT_NE(issued.status.message().find("tax_id"), std::string::npos);

  std::string at_limit = over;
  at_limit.replace(at_limit.find("3000.01"), 7, "3000.00");
  Issue(Input("sale", "2026-12-04T10:00:00Z", at_limit, "null", "null"), &issued);
  EXPECT_TRUE(issued.status.ok()) << issued.status.message();
}

TEST(SpainIssueRecord, InputErrorsNameTheField) {
  struct Case {
    std::string transaction;
    std::string field;
  } cases[] = {
      {SaleTransaction(R"(A\"1)"), "invoice_number"},
      {SaleTransaction("A=1"), "invoice_number"},
      {SaleTransaction(std::string(61, 'A')), "invoice_number"},
      {SaleTransaction(""), "invoice_number"},
      {SaleTransaction("A1", R"({"tax_id":"89890002E"})"), "transaction.customer.name"},
      {SaleTransaction("A1", "null", "8"), "transaction.total_amount"},
      {SaleTransaction("A1", "null", "08.00"), "transaction.total_amount"},
      {SaleTransaction("A1", "null", "-8.00"), "transaction.total_amount"},
  };
  for (const Case& c : cases) {
    Issued issued;
    Issue(Input("sale", "2026-12-04T10:00:00Z", c.transaction, "null", "null"), &issued);
    EXPECT_EQ(issued.status.code(), FISCAL_ERR_INVALID_INPUT) << c.transaction;
    EXPECT_EQ(issued.status.field(), c.field) << c.transaction;
  }

  std::string thirteen = R"({"type":"sale","invoice_number":"A1","breakdown":[)";
  for (int i = 0; i < 13; ++i) thirteen += std::string(i ? "," : "") + R"({"tax_rate":"21.00","base":"1.00","tax":"0.21"})";
  thirteen += R"(],"tax_amount":"2.73","total_amount":"15.73"})";
  Issued issued;
  Issue(Input("sale", "2026-12-04T10:00:00Z", thirteen, "null", "null"), &issued);
  EXPECT_EQ(issued.status.field(), "transaction.breakdown");

  Issue(Input("sale", "2026-12-04T10:00:00", SaleTransaction("A1"), "null", "null"), &issued);
  EXPECT_EQ(issued.status.field(), "now");
  Issue(Input("sale", "2024-10-27T10:00:00Z", SaleTransaction("A1"), "null", "null"), &issued);
  EXPECT_EQ(issued.status.field(), "now");
  Issue(Input("refund", "2026-12-04T10:00:00Z", RefundTransaction("A2"), "null", "null"), &issued);
  EXPECT_EQ(issued.status.field(), "original");
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", R"({"IDEmisorFactura":"89890001K"})"),
        &issued);
  EXPECT_EQ(issued.status.field(), "chain.previous.NumSerieFactura");
}

// A one-line sale at `rate` percent; the amounts need not match the rate.
std::string SaleAtRate(const std::string& rate) {
  return R"({"type":"sale","invoice_number":"A1","currency":"EUR","breakdown":[{"tax_rate":")" + rate +
         R"(","base":"100.00","tax":"10.00"}],"tax_amount":"10.00","total_amount":"110.00","customer":null})";
}

TEST(SpainIssueRecord, IvaRatesAndTheirDates) {
  struct Case {
    const char* rate;
    const char* now;
    bool valid;
  } cases[] = {
      {"0.00", "2026-12-04T10:00:00Z", true},
      {"4.00", "2026-12-04T10:00:00Z", true},
      {"10.00", "2026-12-04T10:00:00Z", true},
      {"21.00", "2026-12-04T10:00:00Z", true},
      {"6.00", "2026-12-04T10:00:00Z", false},
      {"16.00", "2026-12-04T10:00:00Z", false},
      {"21.50", "2026-12-04T10:00:00Z", false},
      {"2.00", "2024-11-15T10:00:00Z", true},
      {"2.00", "2026-12-04T10:00:00Z", false},
      {"7.50", "2024-12-31T22:59:59Z", true},   // 23:59:59 on 31-12-2024 in Madrid
      {"7.50", "2024-12-31T23:00:00Z", false},  // 00:00:00 on 01-01-2025 in Madrid
      {"5.00", "2024-11-15T10:00:00Z", false},  // valid only up to 30-09-2024
  };
  for (const Case& c : cases) {
    Issued issued;
    Issue(Input("sale", c.now, SaleAtRate(c.rate), "null", "null"), &issued);
    if (c.valid) {
      EXPECT_TRUE(issued.status.ok()) << c.rate << " at " << c.now << ": " << issued.status.message();
      continue;
    }
    EXPECT_EQ(issued.status.code(), FISCAL_ERR_INVALID_INPUT) << c.rate << " at " << c.now;
    EXPECT_EQ(issued.status.field(), "transaction.breakdown[0].tax_rate") << c.rate << " at " << c.now;
  }

  Issued outside;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleAtRate("7.50"), "null", "null"), &outside);
  EXPECT_NE(outside.status.message().find("0, 4, 10, 21"), std::string::npos) << outside.status.message();
  EXPECT_NE(outside.status.message().find("01-10-2024 to 31-12-2024"), std::string::npos) << outside.status.message();
}

TEST(SpainIssueRecord, RateCheckedOnEveryLine) {
  std::string two_lines = R"({"type":"sale","invoice_number":"A1","currency":"EUR","breakdown":[)"
                          R"({"tax_rate":"21.00","base":"100.00","tax":"21.00"},)"
                          R"({"tax_rate":"8.00","base":"100.00","tax":"8.00"}],)"
                          R"("tax_amount":"29.00","total_amount":"229.00","customer":null})";
  Issued issued;
  Issue(Input("sale", "2026-12-04T10:00:00Z", two_lines, "null", "null"), &issued);
  EXPECT_EQ(issued.status.field(), "transaction.breakdown[1].tax_rate");
}

TEST(SpainIssueRecord, TotalOverTwelveDigitsNamesTotal) {
  std::string huge = R"({"type":"sale","invoice_number":"A1","currency":"EUR",)"
                     R"("breakdown":[{"tax_rate":"21.00","base":"1000000000000.00","tax":"210000000000.00"}],)"
                     R"("tax_amount":"210000000000.00","total_amount":"1210000000000.00",)"
                     R"("customer":{"tax_id":"89890002E","name":"Cliente Ficticio SL","country":"ES"}})";
  Issued issued;
  Issue(Input("sale", "2026-12-04T10:00:00Z", huge, "null", "null"), &issued);
  EXPECT_EQ(issued.status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(issued.status.field(), "transaction.total_amount");
  EXPECT_NE(issued.status.message().find("12 integer digits"), std::string::npos) << issued.status.message();
}

TEST(SpainIssueRecord, MacrodatoFromOneHundredMillion) {
  auto full_sale = [](const std::string& base, const std::string& tax, const std::string& total) {
    return R"({"type":"sale","invoice_number":"A1","currency":"EUR",)"
           R"("breakdown":[{"tax_rate":"21.00","base":")" + base + R"(","tax":")" + tax + R"("}],)"
           R"("tax_amount":")" + tax + R"(","total_amount":")" + total + R"(",)"
           R"("customer":{"tax_id":"89890002E","name":"Cliente Ficticio SL","country":"ES"}})";
  };

  Issued at_threshold;
  Issue(Input("sale", "2026-12-04T10:00:00Z", full_sale("82644628.10", "17355371.90", "100000000.00"), "null",
              "null"),
        &at_threshold);
  ASSERT_TRUE(at_threshold.status.ok()) << at_threshold.status.message();
  std::string document = Str(at_threshold.doc, "document");
  EXPECT_NE(document.find("<sum1:Macrodato>S</sum1:Macrodato>"), std::string::npos) << document;
  EXPECT_EQ(ValidateRecords({document}), "");

  Issued below;
  Issue(Input("sale", "2026-12-04T10:00:00Z", full_sale("82644628.09", "17355371.90", "99999999.99"), "null",
              "null"),
        &below);
  ASSERT_TRUE(below.status.ok()) << below.status.message();
  EXPECT_EQ(Str(below.doc, "document").find("Macrodato"), std::string::npos);
}

TEST(SpainIssueRecord, CanaryLocationIssuesNoAlta) {
  const std::string canarias =
      R"({"system":"verifactu","nif":"89890001K","legal_name":"Tienda Ficticia SL","invoice_series":"A",)"
      R"("installation_number":"1","territory":"canarias","multiple_taxpayers":false})";
  Issued sale;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", "null", 1, canarias), &sale);
  EXPECT_EQ(sale.status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(sale.status.field(), "location.territory");
  EXPECT_NE(sale.status.message().find("IGIC"), std::string::npos) << sale.status.message();

  // An anulación has no tax lines, so a record issued before the check can still be cancelled.
  Issued original;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", "null"), &original);
  ASSERT_TRUE(original.status.ok()) << original.status.message();
  Issued cancel;
  Issue(Input("cancel", "2026-12-04T11:00:00Z", "null", OriginalOf(original), "null", 2, canarias), &cancel);
  EXPECT_TRUE(cancel.status.ok()) << cancel.status.message();
}

TEST(SpainIssueRecord, CorrectionsNotIssued) {
  // Subsanacion and RechazoPrevio are not generated yet: a first alta carries neither flag.
  Issued sale;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", "null"), &sale);
  ASSERT_TRUE(sale.status.ok());
  EXPECT_EQ(Str(sale.doc, "document").find("Subsanacion"), std::string::npos);
  EXPECT_EQ(Str(sale.doc, "document").find("RechazoPrevio"), std::string::npos);
}

TEST(SpainXsd, ValidatorRejectsInvalidRecord) {
  Issued sale;
  Issue(Input("sale", "2026-12-04T10:00:00Z", SaleTransaction("A1"), "null", "null"), &sale);
  ASSERT_TRUE(sale.status.ok());
  std::string document = Str(sale.doc, "document");
  ASSERT_EQ(ValidateRecords({document}), "");

  std::string broken = document;
  broken.replace(broken.find("<sum1:TipoFactura>F2<"), 22, "<sum1:TipoFactura>F9<");
  EXPECT_NE(ValidateRecords({broken}), "");

  std::string missing = document;
  size_t start = missing.find("<sum1:CuotaTotal>");
  missing.erase(start, missing.find("</sum1:CuotaTotal>") + 18 - start);
  EXPECT_NE(ValidateRecords({missing}), "");
}

TEST(SpainXsd, AeatSampleRequestValidates) {
  // The validator accepts AEAT's own request (its placeholder NIFs break only the 9-char rule).
  std::string sample = testing::ReadFile(testing::SpainDataPath("sweb-01-alta-inicial.xml"));
  std::string errors = ValidateElement(sample, "RegFactuSistemaFacturacion");
  EXPECT_NE(errors.find("NIF"), std::string::npos) << errors;
}

}  // namespace
}  // namespace fiscal::spain
