// submit_batch: the SOAP envelope, AEAT responses, duplicates after a lost response, faults and
// unsafe XML.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "batch.h"
#include "record_builder.h"
#include "record_issuer.h"
#include "soap.h"
#include "spain_test_util.h"

namespace fiscal::spain {
namespace {

using testing::ReadFile;
using testing::SpainDataPath;

const char kLocation[] =
    R"({"system":"verifactu","nif":"A00000000","legal_name":"Perico de los Palotes, S.A."})";

// Issues an F2 sale of `number` for A00000000 on 13-10-2025.
std::string IssueDocument(const std::string& number, const std::string& now = "2025-10-13T10:00:00Z") {
  std::string input = R"({"operation":"sale","environment":"test","now":")" + now + R"(","location":)" +
                      kLocation + R"(,"transaction":{"invoice_number":")" + number +
                      R"(","breakdown":[{"tax_rate":"21.00","base":"10.00","tax":"2.10"}],)"
                      R"("tax_amount":"2.10","total_amount":"12.10"},"original":null,)"
                      R"("chain":{"key":"k","sequence":1,"previous":null}})";
  std::string result;
  SystemInfo system;
  Status status = IssueRecord(system, input, &result);
  EXPECT_TRUE(status.ok()) << status.message();
  rapidjson::Document doc;
  doc.Parse(result.c_str());
  return doc["document"].GetString();
}

std::string AnulacionDocument(const std::string& number, const std::string& fecha) {
  RegistroAnulacionData data;
  data.anulada = {"A00000000", number, fecha};
  data.sistema = {"Fiscal Server Project", "B00000000", "Fiscal Server", "FS", "1.0.0", "1", "S", "S", "N"};
  data.FechaHoraHusoGenRegistro = "2025-10-13T12:00:00+02:00";
  return BuildRegistroAnulacion(data).xml;
}

std::string JsonString(const std::string& text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
  return buffer.GetString();
}

std::string BatchInput(const std::vector<std::string>& documents, bool late) {
  std::string input = R"({"environment":"test","location":)" + std::string(kLocation) + R"(,"late":)" +
                      (late ? "true" : "false") + R"(,"records":[)";
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i) input += ",";
    input += R"({"id":"rec-)" + std::to_string(i + 1) + R"(","record_type":"RegistroAlta","document":)" +
             JsonString(documents[i]) + R"(,"hash":"","record_data":{},"attempt":1})";
  }
  return input + "]}";
}

struct FakeAeat {
  int status_code = 200;
  std::string body;
  fiscal_status transport = FISCAL_OK;
  std::string last_request;
  int calls = 0;

  SoapSender Sender() {
    return [this](std::string_view request) {
      ++calls;
      last_request = std::string(request);
      HttpExchange exchange;
      exchange.status = transport;
      exchange.status_code = status_code;
      exchange.body = body;
      if (transport != FISCAL_OK) exchange.transport_error = "timed out";
      return exchange;
    };
  }
};

rapidjson::Document ParseResult(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  return doc;
}

TEST(SpainSoapEnvelope, MatchesAeatLayoutAndValidates) {
  std::string first = IssueDocument("TEST-202510-123");
  std::string body = BuildSoapEnvelope({"Perico de los Palotes, S.A.", "A00000000", false},
                                       {first, AnulacionDocument("TEST-202510-120", "11-10-2025")});
  EXPECT_EQ(body.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  EXPECT_NE(body.find(R"(xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/")"), std::string::npos);
  EXPECT_NE(body.find("<sum:RegFactuSistemaFacturacion>"), std::string::npos);
  EXPECT_NE(body.find("<sum1:NIF>A00000000</sum1:NIF>"), std::string::npos);
  EXPECT_EQ(testing::ValidateElement(body, "RegFactuSistemaFacturacion"), "");
}

TEST(SpainSoapEnvelope, IncidenciaOnlyWhenLate) {
  std::string document = IssueDocument("TEST-1");
  std::string on_time = BuildSoapEnvelope({"X", "A00000000", false}, {document});
  std::string late = BuildSoapEnvelope({"X", "A00000000", true}, {document});

  EXPECT_EQ(on_time.find("Incidencia"), std::string::npos);
  EXPECT_NE(late.find("<sum1:RemisionVoluntaria>"), std::string::npos);
  EXPECT_NE(late.find("<sum1:Incidencia>S</sum1:Incidencia>"), std::string::npos);
  EXPECT_EQ(testing::ValidateElement(late, "RegFactuSistemaFacturacion"), "");

  // The record text, with its timestamp and hash, is embedded unchanged in both.
  std::string element = document.substr(0, document.find_last_not_of('\n') + 1);
  EXPECT_NE(on_time.find(element), std::string::npos);
  EXPECT_NE(late.find(element), std::string::npos);
}

TEST(SpainSubmitBatch, CorrectAnswerMatchesLines) {
  FakeAeat aeat;
  aeat.body = ReadFile(SpainDataPath("josemmo-respuesta-correcto.xml"));
  std::vector<std::string> documents = {IssueDocument("TEST-202510-123"), IssueDocument("TEST-202510-124"),
                                        AnulacionDocument("TEST-202510-120", "11-10-2025"),
                                        IssueDocument("TEST-202510-999")};
  std::string result;
  Status status = SubmitBatch(BatchInput(documents, false), aeat.Sender(), &result);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(aeat.calls, 1);

  rapidjson::Document doc = ParseResult(result);
  const auto& results = doc["results"];
  ASSERT_EQ(results.Size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_STREQ(results[i]["outcome"].GetString(), "registered") << i;
    EXPECT_STREQ(results[i]["authority_reference"].GetString(), "A-86U4KHPACUMVZE") << i;
  }
  EXPECT_STREQ(results[0]["id"].GetString(), "rec-1");
  // A record with no response line is sent again.
  EXPECT_STREQ(results[3]["outcome"].GetString(), "retry");
  EXPECT_STREQ(results[3]["authority_reference"].GetString(), "");
  EXPECT_EQ(doc["retry_after_seconds"].GetInt(), 60);
  EXPECT_EQ(std::string(doc["authority_response"].GetString()), aeat.body);
}

TEST(SpainSubmitBatch, OperationMustMatch) {
  // The answer's third line is an Anulacion; an alta with the same IDs must not take it.
  FakeAeat aeat;
  aeat.body = ReadFile(SpainDataPath("josemmo-respuesta-correcto.xml"));
  std::string result;
  Status status = SubmitBatch(BatchInput({IssueDocument("TEST-202510-120", "2025-10-11T10:00:00Z")}, false),
                              aeat.Sender(), &result);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_STREQ(ParseResult(result)["results"][0]["outcome"].GetString(), "retry");
}

TEST(SpainSubmitBatch, IncorrectLineIsRejected) {
  FakeAeat aeat;
  aeat.body = ReadFile(SpainDataPath("josemmo-respuesta-incorrecto-3002.xml"));
  std::string result;
  Status status = SubmitBatch(BatchInput({AnulacionDocument("NO-EXISTE", "11-10-2025")}, false), aeat.Sender(), &result);
  ASSERT_TRUE(status.ok()) << status.message();
  rapidjson::Document doc = ParseResult(result);
  EXPECT_STREQ(doc["results"][0]["outcome"].GetString(), "rejected");
  EXPECT_STREQ(doc["results"][0]["code"].GetString(), "3002");
  EXPECT_STREQ(doc["results"][0]["message"].GetString(), "3002: No existe el registro de facturación.");
  EXPECT_STREQ(doc["results"][0]["authority_reference"].GetString(), "");
}

std::string AnswerWithLine(const std::string& line) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>
<tikR:RespuestaRegFactuSistemaFacturacion xmlns:tikR="https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/RespuestaSuministro.xsd" xmlns:tik="https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/SuministroInformacion.xsd">
<tikR:CSV>A-DUPLICADO00001</tikR:CSV>
<tikR:Cabecera><tik:ObligadoEmision><tik:NombreRazon>X</tik:NombreRazon><tik:NIF>A00000000</tik:NIF></tik:ObligadoEmision></tikR:Cabecera>
<tikR:TiempoEsperaEnvio>120</tikR:TiempoEsperaEnvio>
<tikR:EstadoEnvio>ParcialmenteCorrecto</tikR:EstadoEnvio>
<tikR:RespuestaLinea>
<tikR:IDFactura><tik:IDEmisorFactura>A00000000</tik:IDEmisorFactura><tik:NumSerieFactura>F0004</tik:NumSerieFactura><tik:FechaExpedicionFactura>13-10-2025</tik:FechaExpedicionFactura></tikR:IDFactura>
<tikR:Operacion><tik:TipoOperacion>Alta</tik:TipoOperacion></tikR:Operacion>
)" + line + R"(
</tikR:RespuestaLinea>
</tikR:RespuestaRegFactuSistemaFacturacion></env:Body></env:Envelope>)";
}

TEST(SpainSubmitBatch, DuplicateIsRegistered) {
  FakeAeat aeat;
  aeat.body = AnswerWithLine(R"(<tikR:EstadoRegistro>Incorrecto</tikR:EstadoRegistro>
<tikR:CodigoErrorRegistro>3000</tikR:CodigoErrorRegistro>
<tikR:DescripcionErrorRegistro>Registro de facturación duplicado.</tikR:DescripcionErrorRegistro>
<tikR:RegistroDuplicado><tik:IdPeticionRegistroDuplicado>202510131234</tik:IdPeticionRegistroDuplicado>
<tik:EstadoRegistroDuplicado>Correcta</tik:EstadoRegistroDuplicado></tikR:RegistroDuplicado>)");
  EXPECT_EQ(ParseSubmitResponse(200, aeat.body).kind, SubmitResponse::Kind::kAnswer);
  std::string result;
  Status status = SubmitBatch(BatchInput({IssueDocument("F0004")}, false), aeat.Sender(), &result);
  ASSERT_TRUE(status.ok()) << status.message();
  rapidjson::Document doc = ParseResult(result);
  EXPECT_STREQ(doc["results"][0]["outcome"].GetString(), "registered");
  EXPECT_STREQ(doc["results"][0]["code"].GetString(), "3000");
  EXPECT_NE(std::string(doc["results"][0]["message"].GetString()).find("already registered"), std::string::npos);
  EXPECT_STREQ(doc["results"][0]["authority_reference"].GetString(), "A-DUPLICADO00001");
  EXPECT_EQ(doc["retry_after_seconds"].GetInt(), 120);
}

TEST(SpainSubmitBatch, DuplicateWithErrors) {
  FakeAeat aeat;
  aeat.body = AnswerWithLine(R"(<tikR:EstadoRegistro>Incorrecto</tikR:EstadoRegistro>
<tikR:CodigoErrorRegistro>3000</tikR:CodigoErrorRegistro>
<tikR:DescripcionErrorRegistro>Registro de facturación duplicado.</tikR:DescripcionErrorRegistro>
<tikR:RegistroDuplicado><tik:IdPeticionRegistroDuplicado>1</tik:IdPeticionRegistroDuplicado>
<tik:EstadoRegistroDuplicado>AceptadaConErrores</tik:EstadoRegistroDuplicado>
<tik:CodigoErrorRegistro>2004</tik:CodigoErrorRegistro>
<tik:DescripcionErrorRegistro>Fecha fuera de margen</tik:DescripcionErrorRegistro></tikR:RegistroDuplicado>)");
  std::string result;
  ASSERT_TRUE(SubmitBatch(BatchInput({IssueDocument("F0004")}, false), aeat.Sender(), &result).ok());
  rapidjson::Document doc = ParseResult(result);
  EXPECT_STREQ(doc["results"][0]["outcome"].GetString(), "registered_with_errors");
  EXPECT_STREQ(doc["results"][0]["code"].GetString(), "2004");
}

TEST(SpainSubmitBatch, LateRecordAcceptedWithErrors) {
  FakeAeat aeat;
  aeat.body = AnswerWithLine(R"(<tikR:EstadoRegistro>AceptadoConErrores</tikR:EstadoRegistro>
<tikR:CodigoErrorRegistro>2004</tikR:CodigoErrorRegistro>
<tikR:DescripcionErrorRegistro>El valor del campo FechaHoraHusoGenRegistro debe ser la fecha actual del sistema de la AEAT</tikR:DescripcionErrorRegistro>)");
  std::string result;
  ASSERT_TRUE(SubmitBatch(BatchInput({IssueDocument("F0004")}, false), aeat.Sender(), &result).ok());
  rapidjson::Document doc = ParseResult(result);
  EXPECT_STREQ(doc["results"][0]["outcome"].GetString(), "registered_with_errors");
  EXPECT_STREQ(doc["results"][0]["code"].GetString(), "2004");
  EXPECT_STREQ(doc["results"][0]["authority_reference"].GetString(), "A-DUPLICADO00001");
}

TEST(SpainSubmitBatch, LateFlagReachesEnvelope) {
  FakeAeat aeat;
  aeat.body = ReadFile(SpainDataPath("josemmo-respuesta-correcto.xml"));
  std::string document = IssueDocument("TEST-202510-123");
  std::string result;
  ASSERT_TRUE(SubmitBatch(BatchInput({document}, true), aeat.Sender(), &result).ok());
  EXPECT_NE(aeat.last_request.find("<sum1:Incidencia>S</sum1:Incidencia>"), std::string::npos);
  std::string late_request = aeat.last_request;
  ASSERT_TRUE(SubmitBatch(BatchInput({document}, false), aeat.Sender(), &result).ok());
  EXPECT_EQ(aeat.last_request.find("Incidencia"), std::string::npos);
  std::string element = document.substr(0, document.find_last_not_of('\n') + 1);
  EXPECT_NE(late_request.find(element), std::string::npos);
  EXPECT_NE(aeat.last_request.find(element), std::string::npos);
}

TEST(SpainSubmitBatch, ServerFaultIsTransport) {
  FakeAeat aeat;
  aeat.status_code = 500;
  aeat.body = ReadFile(SpainDataPath("josemmo-respuesta-soapfault-server.xml"));
  std::string result;
  Status status = SubmitBatch(BatchInput({IssueDocument("A1")}, false), aeat.Sender(), &result);
  EXPECT_EQ(status.code(), FISCAL_ERR_TRANSPORT);
  EXPECT_NE(status.message().find("20009"), std::string::npos);
}

TEST(SpainSubmitBatch, ClientFaultRejectsAll) {
  FakeAeat aeat;
  aeat.status_code = 500;
  aeat.body = ReadFile(SpainDataPath("sweb-00-respuesta-soapfault-4104.xml"));
  std::string result;
  Status status = SubmitBatch(BatchInput({IssueDocument("A1"), IssueDocument("A2")}, false), aeat.Sender(), &result);
  ASSERT_TRUE(status.ok()) << status.message();
  rapidjson::Document doc = ParseResult(result);
  ASSERT_EQ(doc["results"].Size(), 2u);
  for (const auto& entry : doc["results"].GetArray()) {
    EXPECT_STREQ(entry["outcome"].GetString(), "rejected");
    EXPECT_STREQ(entry["code"].GetString(), "4104");
    EXPECT_NE(std::string(entry["message"].GetString()).find("NIF del titular"), std::string::npos);
  }
  EXPECT_EQ(doc["retry_after_seconds"].GetInt(), 0);
}

TEST(SpainSubmitBatch, UnknownOutcomesAreTransport) {
  std::string input = BatchInput({IssueDocument("A1")}, false);
  std::string result;

  FakeAeat no_answer;
  no_answer.transport = FISCAL_ERR_TRANSPORT;
  EXPECT_EQ(SubmitBatch(input, no_answer.Sender(), &result).code(), FISCAL_ERR_TRANSPORT);

  FakeAeat gateway;
  gateway.status_code = 502;
  gateway.body = "<html>Bad gateway</html>";
  EXPECT_EQ(SubmitBatch(input, gateway.Sender(), &result).code(), FISCAL_ERR_TRANSPORT);

  FakeAeat garbage;
  garbage.body = "not xml";
  EXPECT_EQ(SubmitBatch(input, garbage.Sender(), &result).code(), FISCAL_ERR_TRANSPORT);

  FakeAeat wrong_document;
  wrong_document.body = R"(<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body/></env:Envelope>)";
  EXPECT_EQ(SubmitBatch(input, wrong_document.Sender(), &result).code(), FISCAL_ERR_TRANSPORT);
}

TEST(SpainSubmitBatch, DoctypeAndEntitiesRefused) {
  std::string xxe = R"(<?xml version="1.0"?>
<!DOCTYPE env:Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><env:Fault>
<faultcode>env:Client</faultcode><faultstring>&xxe;</faultstring></env:Fault></env:Body></env:Envelope>)";
  SubmitResponse response = ParseSubmitResponse(500, xxe);
  EXPECT_EQ(response.kind, SubmitResponse::Kind::kUnknown);
  EXPECT_EQ(response.fault_string.find("root:"), std::string::npos);
}

TEST(SpainSubmitBatch, InputErrors) {
  FakeAeat aeat;
  std::string result;
  EXPECT_EQ(SubmitBatch(BatchInput({}, false), aeat.Sender(), &result).field(), "records");
  EXPECT_EQ(SubmitBatch(BatchInput({"<x/>"}, false), aeat.Sender(), &result).field(), "records[0].document");
  std::vector<std::string> too_many(1001, AnulacionDocument("A1", "01-01-2025"));
  EXPECT_EQ(SubmitBatch(BatchInput(too_many, false), aeat.Sender(), &result).field(), "records");
  EXPECT_EQ(aeat.calls, 0);
}

}  // namespace
}  // namespace fiscal::spain
