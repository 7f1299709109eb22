// Tests of the AEAT emulator's logic without sockets: huella recomputation, chain and duplicate
// checks, SOAP faults, fault modes, the control API and state persistence. Every response is also
// validated against RespuestaSuministro.xsd.

#include <gtest/gtest.h>
#include <libxml/tree.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "aeat_emulator/emulator.h"
#include "aeat_emulator/huella.h"
#include "aeat_emulator/json_log.h"
#include "aeat_emulator/xml_support.h"

namespace aeat_emulator {
namespace {

// Huellas of the fixture records, computed with Python's hashlib when the fixtures were written.
constexpr char kHuellaAlta1[] = "1DB2FD9592AB61D0A66BB6D41A4474BF67F6CAE9C844B2EF80278833DD512552";
constexpr char kHuellaAlta2[] = "82AA1E95131DEBBD21E38A20607D222233A295702E441064E76DA17F6179D313";
constexpr char kHuellaAlta3[] = "12E4A46641B9364D8D68C18542AFD9A36BDC45E5DDA979C65BAD44DE35C8A1A3";
constexpr char kHuellaAnulacion1[] =
    "EFD6B02C742DF4E0ADF4F9AAB957CEF617547A1618F9A3BBE6D9045D9C70EEE1";
constexpr char kHuellaAlta4[] = "7C90829C396293C42BE2A8F453667EB74241FC728272019CDA05733301CEB2EC";

// The fixtures are generated at 2025-06-02T10:00:00+02:00 to 10:00:20+02:00.
std::chrono::system_clock::time_point Utc(int hour, int minute, int second) {
  // 2025-06-02T00:00:00Z is 1748822400 seconds after the epoch.
  return std::chrono::system_clock::time_point(
      std::chrono::seconds(1748822400 + hour * 3600 + minute * 60 + second));
}

std::string ReadFixture(const std::string& name) {
  const std::string path = std::string(FISCAL_SOURCE_DIR) + "/tests/data/emulator/" + name;
  std::ifstream input(path, std::ios::binary);
  EXPECT_TRUE(input.good()) << "cannot open fixture " << path;
  std::stringstream content;
  content << input.rdbuf();
  return content.str();
}

// Replaces the first occurrence of `from`, failing the test when it is absent.
std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  const size_t position = text.find(from);
  EXPECT_NE(position, std::string::npos) << "fixture does not contain: " << from;
  if (position != std::string::npos) text.replace(position, from.size(), to);
  return text;
}

struct Line {
  std::string num_serie;
  std::string tipo_operacion;
  std::string estado;
  std::string code;
  std::string description;
  std::string duplicate_id_peticion;
  std::string duplicate_estado;
  std::string duplicate_code;
};

struct Answer {
  int http_status = 0;
  bool schema_valid = false;
  std::string schema_error;
  std::string fault_code;
  std::string fault_string;
  std::string csv;
  std::string nif_presentador;
  std::string wait_seconds;
  std::string estado_envio;
  std::string cabecera_nif;
  std::vector<Line> lines;
  HttpReply reply;
};

class EmulatorCoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogEnabled(false);
    std::string error;
    schemas_ = SchemaSet::Load(std::string(FISCAL_SOURCE_DIR) + "/plugins/spain/xsd", &error);
    ASSERT_NE(schemas_, nullptr) << error;
  }

  void SetUp() override {
    ASSERT_NE(schemas_, nullptr);
    Recreate("");
  }

  void Recreate(const std::string& state_file) {
    EmulatorConfig config;
    config.wait_seconds = 2;
    config.state_file = state_file;
    config.clock = [this] { return now_; };
    emulator_ = std::make_unique<Emulator>(config, schemas_);
    std::string error;
    ASSERT_TRUE(emulator_->Open(&error)) << error;
  }

  Answer Submit(const std::string& soap) {
    Answer answer;
    answer.reply = emulator_->HandleSoap(soap, ClientInfo{"127.0.0.1:1", "test", ""});
    answer.http_status = answer.reply.status;

    std::string error;
    int error_code = 0;
    XmlDocPtr doc = ParseXmlSafely(answer.reply.body, &error, &error_code);
    if (doc == nullptr) {
      ADD_FAILURE() << "answer is not XML: " << error << "\n" << answer.reply.body;
      return answer;
    }
    xmlNode* body = FindChild(xmlDocGetRootElement(doc.get()), "Body");
    xmlNode* fault = FindChild(body, "Fault");
    if (fault != nullptr) {
      answer.fault_code = TextAt(fault, "faultcode");
      answer.fault_string = TextAt(fault, "faultstring");
      return answer;
    }

    xmlNode* response = FindChild(body, "RespuestaRegFactuSistemaFacturacion");
    answer.schema_valid = schemas_->ValidateResponseElement(response, &answer.schema_error);
    answer.csv = TextAt(response, "CSV");
    answer.nif_presentador = TextAt(response, "DatosPresentacion/NIFPresentador");
    answer.wait_seconds = TextAt(response, "TiempoEsperaEnvio");
    answer.estado_envio = TextAt(response, "EstadoEnvio");
    answer.cabecera_nif = TextAt(response, "Cabecera/ObligadoEmision/NIF");
    for (xmlNode* child = response->children; child != nullptr; child = child->next) {
      if (child->type != XML_ELEMENT_NODE || std::string("RespuestaLinea") !=
                                                 reinterpret_cast<const char*>(child->name)) {
        continue;
      }
      Line line;
      line.num_serie = TextAt(child, "IDFactura/NumSerieFactura");
      line.tipo_operacion = TextAt(child, "Operacion/TipoOperacion");
      line.estado = TextAt(child, "EstadoRegistro");
      line.code = TextAt(child, "CodigoErrorRegistro");
      line.description = TextAt(child, "DescripcionErrorRegistro");
      line.duplicate_id_peticion = TextAt(child, "RegistroDuplicado/IdPeticionRegistroDuplicado");
      line.duplicate_estado = TextAt(child, "RegistroDuplicado/EstadoRegistroDuplicado");
      line.duplicate_code = TextAt(child, "RegistroDuplicado/CodigoErrorRegistro");
      answer.lines.push_back(line);
    }
    return answer;
  }

  HttpReply Control(const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.target = path;
    request.body = body;
    return emulator_->HandleControl(request);
  }

  static std::shared_ptr<const SchemaSet> schemas_;
  std::chrono::system_clock::time_point now_ = Utc(8, 1, 0);
  std::unique_ptr<Emulator> emulator_;
};

std::shared_ptr<const SchemaSet> EmulatorCoreTest::schemas_;

TEST(EmulatorHuellaTest, MatchesAeatAltaExamples) {
  AltaHuellaInput first{"89890001K", "12345678/G33", "01-01-2024", "F1", "12.35", "123.45", "",
                        "2024-01-01T19:20:30+01:00"};
  EXPECT_EQ(BuildAltaHuellaString(first),
            "IDEmisorFactura=89890001K&NumSerieFactura=12345678/G33&FechaExpedicionFactura=01-01-2024"
            "&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45&Huella="
            "&FechaHoraHusoGenRegistro=2024-01-01T19:20:30+01:00");
  EXPECT_EQ(ComputeAltaHuella(first),
            "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60");

  AltaHuellaInput chained{"89890001K", "12345679/G34", "01-01-2024", "F1", "12.35", "123.45",
                          "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60",
                          "2024-01-01T19:20:35+01:00"};
  EXPECT_EQ(ComputeAltaHuella(chained),
            "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97");
}

TEST(EmulatorHuellaTest, MatchesAeatAnulacionExample) {
  AnulacionHuellaInput anulacion{"89890001K", "12345679/G34", "01-01-2024",
                                 "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97",
                                 "2024-01-01T19:20:40+01:00"};
  EXPECT_EQ(ComputeAnulacionHuella(anulacion),
            "177547C0D57AC74748561D054A9CEC14B4C4EA23D1BEFD6F2E69E3A388F90C68");
}

TEST(EmulatorHuellaTest, HashesLiteralAmountText) {
  AltaHuellaInput record{"89890001K", "12345678-G66", "03-02-2025", "R3", "41.4", "241.4",
                         "C9AF4AF1EF5EBBA700350DE3EEF12C2D355C56AC56F13DB2A25E0031BD2B7ED5",
                         "2025-02-03T14:30:00+01:00"};
  EXPECT_EQ(ComputeAltaHuella(record),
            "FF954378B64ED331A9B2366AD317D86E9DEC1716B12DD0ACCB172A6DC4C105AA");

  record.cuota_total = "41.40";
  record.importe_total = "241.40";
  EXPECT_EQ(ComputeAltaHuella(record),
            "7F422CFC6C1F396693406A5C4AE281E83A8A907678250A0A7E150CD54291F7EB");
}

TEST(EmulatorHuellaTest, TrimsOnlyOuterControlAndSpaceCharacters) {
  EXPECT_EQ(TrimAeat(" \t\n 12345678 / G33 \r\n"), "12345678 / G33");
  EXPECT_EQ(TrimAeat(""), "");
  EXPECT_EQ(TrimAeat("   "), "");
}

TEST(EmulatorDateTimeTest, ParsesOffsetsAndRejectsMissingZone) {
  EXPECT_EQ(ParseDateTimeWithOffset("2025-06-02T10:00:00+02:00"), 1748851200);
  EXPECT_EQ(ParseDateTimeWithOffset("2025-06-02T08:00:00Z"), 1748851200);
  EXPECT_EQ(ParseDateTimeWithOffset("2025-06-02T06:30:00.250-01:30"), 1748851200);
  EXPECT_FALSE(ParseDateTimeWithOffset("2025-06-02T10:00:00").has_value());
  EXPECT_FALSE(ParseDateTimeWithOffset("02-06-2025").has_value());
}

TEST_F(EmulatorCoreTest, ValidAltaIsCorrectWithCsv) {
  const Answer answer = Submit(ReadFixture("alta-primer.xml"));

  EXPECT_EQ(answer.http_status, 200);
  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
  EXPECT_EQ(answer.estado_envio, "Correcto");
  EXPECT_EQ(answer.csv.size(), 16u);
  EXPECT_EQ(answer.nif_presentador, "89890001K");
  EXPECT_EQ(answer.wait_seconds, "2");
  EXPECT_EQ(answer.cabecera_nif, "89890001K");
  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].num_serie, "EMU-2025-0001");
  EXPECT_EQ(answer.lines[0].tipo_operacion, "Alta");
  EXPECT_EQ(answer.lines[0].estado, "Correcto");
  EXPECT_EQ(answer.lines[0].code, "");

  const std::string records = emulator_->RecordsJson();
  EXPECT_NE(records.find("\"huella\":\"" + std::string(kHuellaAlta1) + "\""), std::string::npos);
  EXPECT_NE(records.find("\"89890001K:EMU-INST-01\":{\"last_huella\":\"" +
                         std::string(kHuellaAlta1) + "\",\"count\":1}"),
            std::string::npos)
      << records;
  EXPECT_NE(records.find("\"requests\":1"), std::string::npos) << records;
}

TEST_F(EmulatorCoreTest, ChainedAltasAndBatchWithAnulacionAreCorrect) {
  EXPECT_EQ(Submit(ReadFixture("alta-primer.xml")).estado_envio, "Correcto");
  EXPECT_EQ(Submit(ReadFixture("alta-encadenada.xml")).estado_envio, "Correcto");

  const Answer batch = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));
  EXPECT_TRUE(batch.schema_valid) << batch.schema_error;
  EXPECT_EQ(batch.estado_envio, "Correcto");
  ASSERT_EQ(batch.lines.size(), 3u);
  EXPECT_EQ(batch.lines[0].num_serie, "EMU-2025-0003");
  EXPECT_EQ(batch.lines[1].num_serie, "EMU-2025-0001");
  EXPECT_EQ(batch.lines[1].tipo_operacion, "Anulacion");
  EXPECT_EQ(batch.lines[2].num_serie, "EMU-2025-0004");
  for (const Line& line : batch.lines) EXPECT_EQ(line.estado, "Correcto") << line.num_serie;

  const std::string records = emulator_->RecordsJson();
  EXPECT_NE(records.find("\"last_huella\":\"" + std::string(kHuellaAlta4) + "\",\"count\":5"),
            std::string::npos)
      << records;
  EXPECT_NE(records.find("\"huella\":\"" + std::string(kHuellaAnulacion1) + "\""),
            std::string::npos);
  EXPECT_NE(records.find("\"tipo\":\"anulacion\""), std::string::npos);
}

TEST_F(EmulatorCoreTest, WrongHuellaIsAcceptedWithError2000) {
  const std::string soap = ReplaceOnce(ReadFixture("alta-primer.xml"), kHuellaAlta1,
                                       std::string(64, 'A'));

  const Answer answer = Submit(soap);

  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
  EXPECT_EQ(answer.estado_envio, "ParcialmenteCorrecto");
  EXPECT_EQ(answer.csv.size(), 16u);
  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].estado, "AceptadoConErrores");
  EXPECT_EQ(answer.lines[0].code, "2000");
  EXPECT_EQ(answer.lines[0].description, "El cálculo de la huella suministrada es incorrecta.");
  EXPECT_NE(emulator_->RecordsJson().find("\"estado\":\"AceptadoConErrores\""), std::string::npos);
}

TEST_F(EmulatorCoreTest, BrokenChainIsAcceptedWithError2003) {
  Submit(ReadFixture("alta-primer.xml"));

  // The batch chains to EMU-2025-0002, which was never sent.
  const Answer answer = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  ASSERT_EQ(answer.lines.size(), 3u);
  EXPECT_EQ(answer.lines[0].estado, "AceptadoConErrores");
  EXPECT_EQ(answer.lines[0].code, "2003");
  // The following records chain to the huella that was just stored, so they are fine.
  EXPECT_EQ(answer.lines[1].estado, "Correcto");
  EXPECT_EQ(answer.lines[2].estado, "Correcto");
  EXPECT_EQ(answer.estado_envio, "ParcialmenteCorrecto");
  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
}

TEST_F(EmulatorCoreTest, PrimerRegistroOnNonEmptyChainGives2007) {
  Submit(ReadFixture("alta-primer.xml"));

  // Another invoice that again claims to be the first record of the installation.
  std::string soap = ReplaceOnce(ReadFixture("alta-primer.xml"), "EMU-2025-0001", "EMU-2025-0099");
  const std::string huella = ComputeAltaHuella({"89890001K", "EMU-2025-0099", "02-06-2025", "F1",
                                                "21.00", "121.00", "", "2025-06-02T10:00:00+02:00"});
  soap = ReplaceOnce(soap, kHuellaAlta1, huella);
  const Answer answer = Submit(soap);

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].estado, "AceptadoConErrores");
  EXPECT_EQ(answer.lines[0].code, "2007");
}

TEST_F(EmulatorCoreTest, DuplicateAltaGives3000WithRegistroDuplicado) {
  const Answer first = Submit(ReadFixture("alta-primer.xml"));
  ASSERT_EQ(first.estado_envio, "Correcto");

  const Answer second = Submit(ReadFixture("alta-primer.xml"));

  EXPECT_TRUE(second.schema_valid) << second.schema_error;
  EXPECT_EQ(second.estado_envio, "Incorrecto");
  EXPECT_EQ(second.csv, "");
  EXPECT_EQ(second.nif_presentador, "");
  ASSERT_EQ(second.lines.size(), 1u);
  EXPECT_EQ(second.lines[0].estado, "Incorrecto");
  EXPECT_EQ(second.lines[0].code, "3000");
  EXPECT_EQ(second.lines[0].description, "Registro de facturación duplicado.");
  EXPECT_EQ(second.lines[0].duplicate_estado, "Correcta");
  EXPECT_EQ(second.lines[0].duplicate_id_peticion.size(), 20u);

  const std::string records = emulator_->RecordsJson();
  EXPECT_NE(records.find("\"id_peticion\":\"" + second.lines[0].duplicate_id_peticion + "\""),
            std::string::npos);
  EXPECT_NE(records.find("\"times_received\":2"), std::string::npos) << records;
  EXPECT_NE(records.find("\"count\":1}"), std::string::npos) << "a duplicate must not advance the chain";
}

TEST_F(EmulatorCoreTest, DuplicateReportsAceptadaConErrores) {
  const std::string soap = ReplaceOnce(ReadFixture("alta-primer.xml"), kHuellaAlta1,
                                       std::string(64, 'B'));
  Submit(soap);

  const Answer again = Submit(soap);

  ASSERT_EQ(again.lines.size(), 1u);
  EXPECT_EQ(again.lines[0].code, "3000");
  EXPECT_EQ(again.lines[0].duplicate_estado, "AceptadaConErrores");
  EXPECT_EQ(again.lines[0].duplicate_code, "2000");
  EXPECT_TRUE(again.schema_valid) << again.schema_error;
}

TEST_F(EmulatorCoreTest, AltaOfCancelledInvoiceReportsAnulada) {
  Submit(ReadFixture("alta-primer.xml"));
  Submit(ReadFixture("alta-encadenada.xml"));
  Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  const Answer again = Submit(ReadFixture("alta-primer.xml"));

  ASSERT_EQ(again.lines.size(), 1u);
  EXPECT_EQ(again.lines[0].code, "3000");
  EXPECT_EQ(again.lines[0].duplicate_estado, "Anulada");
}

TEST_F(EmulatorCoreTest, AnulacionOfUnknownInvoiceGives3002) {
  // Nothing was stored before, so the anulacion of EMU-2025-0001 has nothing to cancel.
  const Answer answer = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  ASSERT_EQ(answer.lines.size(), 3u);
  EXPECT_EQ(answer.lines[0].estado, "Correcto");
  EXPECT_EQ(answer.lines[1].estado, "Incorrecto");
  EXPECT_EQ(answer.lines[1].code, "3002");
  EXPECT_EQ(answer.lines[1].description, "No existe el registro de facturación.");
  // The rejected anulacion is not stored, but the next record may chain to it because the
  // issuer's system keeps it.
  EXPECT_EQ(answer.lines[2].estado, "Correcto");
  EXPECT_EQ(answer.lines[2].code, "");
  EXPECT_EQ(answer.estado_envio, "ParcialmenteCorrecto");
  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
}

TEST_F(EmulatorCoreTest, SecondAnulacionGives3001) {
  Submit(ReadFixture("alta-primer.xml"));
  Submit(ReadFixture("alta-encadenada.xml"));
  Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  const Answer again = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  ASSERT_EQ(again.lines.size(), 3u);
  EXPECT_EQ(again.lines[0].code, "3000");
  EXPECT_EQ(again.lines[1].code, "3001");
  EXPECT_EQ(again.lines[2].code, "3000");
  EXPECT_EQ(again.estado_envio, "Incorrecto");
}

TEST_F(EmulatorCoreTest, SubsanacionOfUnknownInvoiceGives3002) {
  const std::string soap =
      ReplaceOnce(ReadFixture("alta-primer.xml"), "<sum1:TipoFactura>",
                  "<sum1:Subsanacion>S</sum1:Subsanacion>\n          <sum1:TipoFactura>");

  const Answer answer = Submit(soap);

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].code, "3002");
  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
}

TEST_F(EmulatorCoreTest, EmisorDifferentFromObligadoGives1108) {
  const std::string soap =
      ReplaceOnce(ReadFixture("alta-primer.xml"), "<sum1:NIF>89890001K</sum1:NIF>",
                  "<sum1:NIF>89890002E</sum1:NIF>");

  const Answer answer = Submit(soap);

  EXPECT_EQ(answer.estado_envio, "Incorrecto");
  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].code, "1108");
  EXPECT_EQ(answer.cabecera_nif, "89890002E");
  EXPECT_EQ(emulator_->RecordsJson().find("EMU-2025-0001"), std::string::npos);
}

TEST_F(EmulatorCoreTest, SchemaErrorGivesClientFault4102) {
  const std::string soap =
      ReplaceOnce(ReadFixture("alta-primer.xml"), "<sum1:TipoFactura>F1</sum1:TipoFactura>", "");

  const Answer answer = Submit(soap);

  EXPECT_EQ(answer.http_status, 500);
  EXPECT_EQ(answer.fault_code, "env:Client");
  EXPECT_EQ(answer.fault_string.rfind("Codigo[4102].El XML no cumple el esquema.", 0), 0u)
      << answer.fault_string;
  EXPECT_NE(answer.fault_string.find("TipoFactura"), std::string::npos) << answer.fault_string;
  EXPECT_EQ(emulator_->RecordsJson().find("EMU-2025-0001"), std::string::npos);
}

TEST_F(EmulatorCoreTest, MalformedXmlGivesClientFault4103) {
  const Answer answer = Submit("<soapenv:Envelope><unclosed>");

  EXPECT_EQ(answer.http_status, 500);
  EXPECT_EQ(answer.fault_code, "env:Client");
  EXPECT_EQ(answer.fault_string.rfind("Codigo[4103].", 0), 0u) << answer.fault_string;
}

TEST_F(EmulatorCoreTest, DoctypeIsRejectedWithoutExpansion) {
  const std::string soap =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;\">]>\n" +
      ReplaceOnce(ReadFixture("alta-primer.xml"), "Servicios de prueba", "&b;");

  const Answer answer = Submit(soap);

  EXPECT_EQ(answer.fault_code, "env:Client");
  EXPECT_EQ(answer.fault_string.rfind("Codigo[4103].", 0), 0u) << answer.fault_string;
}

TEST_F(EmulatorCoreTest, MoreThan1000RecordsGivesFault4114) {
  const std::string soap = ReadFixture("alta-primer.xml");
  const size_t begin = soap.find("<sum:RegistroFactura>");
  const std::string end_tag = "</sum:RegistroFactura>";
  const size_t end = soap.find(end_tag) + end_tag.size();
  const std::string record = soap.substr(begin, end - begin) + "\n";
  std::string records;
  for (int i = 0; i < 1001; ++i) records += record;

  const Answer answer = Submit(soap.substr(0, begin) + records + soap.substr(end));

  EXPECT_EQ(answer.http_status, 500);
  EXPECT_EQ(answer.fault_code, "env:Client");
  EXPECT_EQ(answer.fault_string.rfind("Codigo[4114].", 0), 0u) << answer.fault_string;
}

TEST_F(EmulatorCoreTest, Exactly1000RecordsAreProcessed) {
  const std::string soap = ReadFixture("alta-primer.xml");
  const size_t begin = soap.find("<sum:RegistroFactura>");
  const std::string end_tag = "</sum:RegistroFactura>";
  const size_t end = soap.find(end_tag) + end_tag.size();
  const std::string record = soap.substr(begin, end - begin) + "\n";
  std::string records;
  for (int i = 0; i < 1000; ++i) records += record;

  const Answer answer = Submit(soap.substr(0, begin) + records + soap.substr(end));

  EXPECT_EQ(answer.http_status, 200);
  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
  EXPECT_EQ(answer.estado_envio, "ParcialmenteCorrecto");
  ASSERT_EQ(answer.lines.size(), 1000u);
  EXPECT_EQ(answer.lines[0].estado, "Correcto");
  EXPECT_EQ(answer.lines[999].code, "3000");
}

TEST_F(EmulatorCoreTest, LateRecordWithoutIncidenciaGives2004) {
  now_ = Utc(9, 0, 0);  // One hour after generation.

  const Answer answer = Submit(ReadFixture("alta-primer.xml"));

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].estado, "AceptadoConErrores");
  EXPECT_EQ(answer.lines[0].code, "2004");
  EXPECT_EQ(answer.csv.size(), 16u);
  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
  EXPECT_NE(emulator_->RecordsJson().find("EMU-2025-0001"), std::string::npos);
}

TEST_F(EmulatorCoreTest, LateRecordWithIncidenciaIsCorrect) {
  now_ = Utc(9, 0, 0);
  const std::string soap = ReplaceOnce(
      ReadFixture("alta-primer.xml"), "</sum1:ObligadoEmision>",
      "</sum1:ObligadoEmision>\n        <sum1:RemisionVoluntaria><sum1:Incidencia>S"
      "</sum1:Incidencia></sum1:RemisionVoluntaria>");

  const Answer answer = Submit(soap);

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].estado, "Correcto");
  EXPECT_EQ(answer.lines[0].code, "");
  EXPECT_TRUE(answer.schema_valid) << answer.schema_error;
}

TEST_F(EmulatorCoreTest, RecordFromTheFutureGives2004EvenWithIncidencia) {
  now_ = Utc(7, 0, 0);  // One hour before generation.
  const std::string soap = ReplaceOnce(
      ReadFixture("alta-primer.xml"), "</sum1:ObligadoEmision>",
      "</sum1:ObligadoEmision>\n        <sum1:RemisionVoluntaria><sum1:Incidencia>S"
      "</sum1:Incidencia></sum1:RemisionVoluntaria>");

  const Answer answer = Submit(soap);

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].code, "2004");
}

TEST_F(EmulatorCoreTest, RecordWithinClockMarginIsCorrect) {
  now_ = Utc(8, 3, 59);  // 239 s after generation.

  const Answer answer = Submit(ReadFixture("alta-primer.xml"));

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].estado, "Correcto");
}

TEST_F(EmulatorCoreTest, RejectAllFaultRejectsEveryRecord) {
  ASSERT_EQ(Control("POST", "/control/fault", R"({"mode":"reject_all","count":1})").status, 200);

  const Answer rejected = Submit(ReadFixture("alta-primer.xml"));
  const Answer accepted = Submit(ReadFixture("alta-primer.xml"));

  EXPECT_EQ(rejected.estado_envio, "Incorrecto");
  ASSERT_EQ(rejected.lines.size(), 1u);
  EXPECT_EQ(rejected.lines[0].code, "1100");
  EXPECT_TRUE(rejected.schema_valid) << rejected.schema_error;
  EXPECT_EQ(accepted.estado_envio, "Correcto") << "count 1 must affect one request only";
}

// alta-encadenada.xml (EMU-2025-0002) under another number and chained to `previous_huella`, with
// its huella recomputed so that only the chain check can fail.
std::string ChainedAlta(const std::string& num_serie, const std::string& previous_huella) {
  std::string soap = ReplaceOnce(ReadFixture("alta-encadenada.xml"), "EMU-2025-0002", num_serie);
  soap = ReplaceOnce(soap, kHuellaAlta1, previous_huella);
  const std::string huella = ComputeAltaHuella({"89890001K", num_serie, "02-06-2025", "F1", "21.00",
                                                "121.00", previous_huella,
                                                "2025-06-02T10:00:05+02:00"});
  return ReplaceOnce(soap, kHuellaAlta2, huella);
}

TEST_F(EmulatorCoreTest, RecordAfterRejectedRecordIsCorrect) {
  ASSERT_EQ(Submit(ReadFixture("alta-primer.xml")).estado_envio, "Correcto");
  Control("POST", "/control/fault", R"({"mode":"reject_all","count":1})");
  const Answer rejected = Submit(ReadFixture("alta-encadenada.xml"));
  ASSERT_EQ(rejected.estado_envio, "Incorrecto");
  EXPECT_NE(emulator_->RecordsJson().find("\"last_rejected_huella\":\"" + std::string(kHuellaAlta2) + "\""),
            std::string::npos);

  // The batch's first record chains to EMU-2025-0002, which AEAT rejected.
  const Answer answer = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  ASSERT_EQ(answer.lines.size(), 3u);
  EXPECT_EQ(answer.lines[0].num_serie, "EMU-2025-0003");
  EXPECT_EQ(answer.lines[0].estado, "Correcto");
  EXPECT_EQ(answer.lines[0].code, "");
  EXPECT_EQ(answer.estado_envio, "Correcto");
  const std::string records = emulator_->RecordsJson();
  EXPECT_EQ(records.find("EMU-2025-0002"), std::string::npos) << "a rejected record is never stored";
  EXPECT_EQ(records.find("last_rejected_huella"), std::string::npos) << records;
}

TEST_F(EmulatorCoreTest, RecordChainedElsewhereAfterRejectionGives2003) {
  Submit(ReadFixture("alta-primer.xml"));
  Control("POST", "/control/fault", R"({"mode":"reject_all","count":1})");
  ASSERT_EQ(Submit(ReadFixture("alta-encadenada.xml")).estado_envio, "Incorrecto");

  const Answer answer = Submit(ChainedAlta("EMU-2025-0050", kHuellaAlta3));

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].estado, "AceptadoConErrores");
  EXPECT_EQ(answer.lines[0].code, "2003");
}

TEST_F(EmulatorCoreTest, RecordChainedToLastStoredAfterRejectionIsCorrect) {
  Submit(ReadFixture("alta-primer.xml"));
  Control("POST", "/control/fault", R"({"mode":"reject_all","count":1})");
  ASSERT_EQ(Submit(ReadFixture("alta-encadenada.xml")).estado_envio, "Incorrecto");

  const Answer stored = Submit(ChainedAlta("EMU-2025-0051", kHuellaAlta1));
  // A record stored after the rejected one ends the rejected huella's validity.
  const Answer late = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  ASSERT_EQ(stored.lines.size(), 1u);
  EXPECT_EQ(stored.lines[0].estado, "Correcto");
  ASSERT_EQ(late.lines.size(), 3u);
  EXPECT_EQ(late.lines[0].code, "2003");
}

TEST_F(EmulatorCoreTest, BusinessRejectionAlsoCountsAsPrevious) {
  Submit(ReadFixture("alta-primer.xml"));
  // A subsanacion of an invoice AEAT does not hold is rejected with 3002 but exists locally.
  const std::string alta = ChainedAlta("EMU-2025-0060", kHuellaAlta1);
  const Answer subsanacion = Submit(ReplaceOnce(
      alta, "<sum1:TipoFactura>", "<sum1:Subsanacion>S</sum1:Subsanacion><sum1:TipoFactura>"));
  ASSERT_EQ(subsanacion.lines.size(), 1u);
  ASSERT_EQ(subsanacion.lines[0].code, "3002");

  const std::string previous = ComputeAltaHuella({"89890001K", "EMU-2025-0060", "02-06-2025", "F1",
                                                  "21.00", "121.00", kHuellaAlta1,
                                                  "2025-06-02T10:00:05+02:00"});
  const Answer next = Submit(ChainedAlta("EMU-2025-0061", previous));

  ASSERT_EQ(next.lines.size(), 1u);
  EXPECT_EQ(next.lines[0].estado, "Correcto");
}

TEST_F(EmulatorCoreTest, ResentStoredRecordDoesNotMoveChain) {
  Submit(ReadFixture("alta-primer.xml"));
  Control("POST", "/control/fault", R"({"mode":"reject_all","count":1})");
  ASSERT_EQ(Submit(ReadFixture("alta-encadenada.xml")).estado_envio, "Incorrecto");

  // An identical re-send of the stored first record is a duplicate, not a new record.
  const Answer resent = Submit(ReadFixture("alta-primer.xml"));
  const Answer next = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  ASSERT_EQ(resent.lines.size(), 1u);
  EXPECT_EQ(resent.lines[0].code, "3000");
  ASSERT_EQ(next.lines.size(), 3u);
  EXPECT_EQ(next.lines[0].estado, "Correcto");
}

TEST_F(EmulatorCoreTest, WronglyHashedRejectedRecordIsNotPrevious) {
  Submit(ReadFixture("alta-primer.xml"));
  Control("POST", "/control/fault", R"({"mode":"reject_all","count":1})");
  const std::string wrong = ReplaceOnce(ReadFixture("alta-encadenada.xml"), kHuellaAlta2,
                                        std::string(64, 'A'));
  ASSERT_EQ(Submit(wrong).estado_envio, "Incorrecto");

  const Answer answer = Submit(ChainedAlta("EMU-2025-0070", std::string(64, 'A')));

  ASSERT_EQ(answer.lines.size(), 1u);
  EXPECT_EQ(answer.lines[0].code, "2003");
}

TEST_F(EmulatorCoreTest, RejectedHuellaSurvivesRestart) {
  const std::filesystem::path state =
      std::filesystem::temp_directory_path() /
      ("aeat-emulator-rejected-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(state);
  Recreate(state.string());
  Submit(ReadFixture("alta-primer.xml"));
  Control("POST", "/control/fault", R"({"mode":"reject_all","count":1})");
  ASSERT_EQ(Submit(ReadFixture("alta-encadenada.xml")).estado_envio, "Incorrecto");

  Recreate(state.string());
  const Answer answer = Submit(ReadFixture("lote-2-altas-1-anulacion.xml"));

  ASSERT_EQ(answer.lines.size(), 3u);
  EXPECT_EQ(answer.lines[0].estado, "Correcto");
  std::filesystem::remove(state);
}

TEST_F(EmulatorCoreTest, Http500FaultStoresNothing) {
  Control("POST", "/control/fault", R"({"mode":"http500"})");

  for (int i = 0; i < 3; ++i) {
    const HttpReply reply = emulator_->HandleSoap(ReadFixture("alta-primer.xml"), ClientInfo{});
    EXPECT_EQ(reply.status, 500);
    EXPECT_EQ(reply.body.find("Envelope"), std::string::npos);
  }

  EXPECT_EQ(emulator_->RecordsJson().find("EMU-2025-0001"), std::string::npos);
  EXPECT_EQ(emulator_->fault_settings().mode, FaultMode::kHttp500) << "count 0 lasts until changed";
}

TEST_F(EmulatorCoreTest, SoapServerFaultReturnsCode20009) {
  Control("POST", "/control/fault", R"({"mode":"soap_server_fault","count":1})");

  const Answer answer = Submit(ReadFixture("alta-primer.xml"));

  EXPECT_EQ(answer.http_status, 500);
  EXPECT_EQ(answer.fault_code, "env:Server");
  EXPECT_EQ(answer.fault_string, "Codigo[20009].Error interno en el servidor");
  EXPECT_EQ(emulator_->fault_settings().mode, FaultMode::kNone);
}

TEST_F(EmulatorCoreTest, LoseResponseStoresRecordAndDropsReply) {
  Control("POST", "/control/fault", R"({"mode":"lose_response","count":1})");

  const HttpReply lost = emulator_->HandleSoap(ReadFixture("alta-primer.xml"), ClientInfo{});
  const Answer resent = Submit(ReadFixture("alta-primer.xml"));

  EXPECT_TRUE(lost.drop_connection);
  ASSERT_EQ(resent.lines.size(), 1u);
  EXPECT_EQ(resent.lines[0].code, "3000");
  EXPECT_EQ(resent.lines[0].duplicate_estado, "Correcta");
  EXPECT_FALSE(resent.reply.drop_connection);
}

TEST_F(EmulatorCoreTest, TimeoutFaultDelaysTheReply) {
  Control("POST", "/control/fault", R"({"mode":"timeout","count":1,"delay_ms":1500})");

  const Answer delayed = Submit(ReadFixture("alta-primer.xml"));

  EXPECT_EQ(delayed.reply.delay_ms, 1500);
  EXPECT_EQ(delayed.estado_envio, "Correcto");
}

TEST_F(EmulatorCoreTest, ControlApiRejectsInvalidFaultRequests) {
  EXPECT_EQ(Control("POST", "/control/fault", R"({"mode":"explode"})").status, 400);
  EXPECT_EQ(Control("POST", "/control/fault", R"({"count":1})").status, 400);
  EXPECT_EQ(Control("POST", "/control/fault", R"({"mode":"timeout","delay_ms":-5})").status, 400);
  EXPECT_EQ(Control("POST", "/control/fault", "not json").status, 400);
  EXPECT_EQ(Control("GET", "/control/fault", "").status, 405);
  EXPECT_EQ(Control("GET", "/control/unknown", "").status, 404);
  EXPECT_EQ(emulator_->fault_settings().mode, FaultMode::kNone);
}

TEST_F(EmulatorCoreTest, ControlHealthAndReset) {
  const HttpReply health = Control("GET", "/control/health", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "{\"status\":\"ok\"}");

  Submit(ReadFixture("alta-primer.xml"));
  Control("POST", "/control/fault", R"({"mode":"http500"})");
  EXPECT_EQ(Control("POST", "/control/reset", "").status, 200);

  EXPECT_EQ(Control("GET", "/control/records", "").body,
            "{\"records\":[],\"requests\":0,\"requests_log\":[],\"chains\":{}}");
  EXPECT_EQ(emulator_->fault_settings().mode, FaultMode::kNone);
  EXPECT_EQ(Submit(ReadFixture("alta-primer.xml")).estado_envio, "Correcto");
}

TEST_F(EmulatorCoreTest, StateFileSurvivesRestart) {
  const std::filesystem::path state =
      std::filesystem::temp_directory_path() /
      ("aeat-emulator-state-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(state);
  Recreate(state.string());
  Submit(ReadFixture("alta-primer.xml"));

  Recreate(state.string());
  const Answer duplicate = Submit(ReadFixture("alta-primer.xml"));
  const Answer chained = Submit(ReadFixture("alta-encadenada.xml"));

  ASSERT_EQ(duplicate.lines.size(), 1u);
  EXPECT_EQ(duplicate.lines[0].code, "3000");
  EXPECT_EQ(chained.estado_envio, "Correcto");
  EXPECT_NE(emulator_->RecordsJson().find("\"requests\":3"), std::string::npos);

  Control("POST", "/control/reset", "");
  Recreate(state.string());
  EXPECT_EQ(emulator_->RecordsJson(),
            "{\"records\":[],\"requests\":0,\"requests_log\":[],\"chains\":{}}");
  std::filesystem::remove(state);
}

TEST_F(EmulatorCoreTest, ServiceRoutingRejectsOtherPathsAndMethods) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/Other";
  EXPECT_EQ(emulator_->HandleServiceRequest(request, ClientInfo{}).status, 404);

  request.method = "GET";
  request.target = kVerifactuPath;
  EXPECT_EQ(emulator_->HandleServiceRequest(request, ClientInfo{}).status, 405);
}

TEST_F(EmulatorCoreTest, PresenterNifComesFromClientCertificate) {
  const HttpReply reply = emulator_->HandleSoap(ReadFixture("alta-primer.xml"),
                                                ClientInfo{"127.0.0.1:1", "cn", "IDCES-89890002E"});

  EXPECT_NE(reply.body.find("<tik:NIFPresentador>89890002E</tik:NIFPresentador>"),
            std::string::npos)
      << reply.body;
}

// Adds Cabecera/RemisionVoluntaria/Incidencia=S to a fixture submission.
std::string WithIncidencia(const std::string& soap) {
  return ReplaceOnce(soap, "</sum1:ObligadoEmision>",
                     "</sum1:ObligadoEmision>\n        <sum1:RemisionVoluntaria><sum1:Incidencia>S"
                     "</sum1:Incidencia></sum1:RemisionVoluntaria>");
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text;
  EXPECT_TRUE(document.IsObject()) << text;
  return document;
}

// Returns the entry of GET /control/records with type `tipo` and invoice `num_serie`, or null.
const rapidjson::Value* FindRecord(const rapidjson::Document& records, const std::string& tipo,
                                   const std::string& num_serie) {
  if (!records.IsObject() || !records.HasMember("records")) return nullptr;
  for (const rapidjson::Value& record : records["records"].GetArray()) {
    if (record["tipo"].GetString() == tipo && record["num_serie"].GetString() == num_serie) {
      return &record;
    }
  }
  return nullptr;
}

TEST_F(EmulatorCoreTest, RecordsKeepIncidenciaOfStoringRequest) {
  ASSERT_EQ(Submit(WithIncidencia(ReadFixture("alta-primer.xml"))).estado_envio, "Correcto");
  ASSERT_EQ(Submit(ReadFixture("alta-encadenada.xml")).estado_envio, "Correcto");

  const rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  const rapidjson::Value* late = FindRecord(records, "alta", "EMU-2025-0001");
  const rapidjson::Value* normal = FindRecord(records, "alta", "EMU-2025-0002");
  ASSERT_NE(late, nullptr);
  ASSERT_NE(normal, nullptr);
  EXPECT_TRUE((*late)["incidencia"].GetBool());
  EXPECT_TRUE((*late)["last_incidencia"].GetBool());
  EXPECT_FALSE((*normal)["incidencia"].GetBool());
  EXPECT_FALSE((*normal)["last_incidencia"].GetBool());
}

TEST_F(EmulatorCoreTest, DuplicateUpdatesOnlyLastIncidencia) {
  ASSERT_EQ(Submit(WithIncidencia(ReadFixture("alta-primer.xml"))).estado_envio, "Correcto");

  const Answer resent = Submit(ReadFixture("alta-primer.xml"));

  ASSERT_EQ(resent.lines.size(), 1u);
  EXPECT_EQ(resent.lines[0].code, "3000");
  rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  const rapidjson::Value* record = FindRecord(records, "alta", "EMU-2025-0001");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ((*record)["times_received"].GetInt(), 2);
  EXPECT_TRUE((*record)["incidencia"].GetBool()) << "a duplicate must not replace the stored value";
  EXPECT_FALSE((*record)["last_incidencia"].GetBool());

  Submit(WithIncidencia(ReadFixture("alta-primer.xml")));

  records = ParseJson(emulator_->RecordsJson());
  record = FindRecord(records, "alta", "EMU-2025-0001");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ((*record)["times_received"].GetInt(), 3);
  EXPECT_TRUE((*record)["incidencia"].GetBool());
  EXPECT_TRUE((*record)["last_incidencia"].GetBool());
}

TEST_F(EmulatorCoreTest, ResentBatchSetsLastIncidenciaOfEachRecord) {
  Submit(ReadFixture("alta-primer.xml"));
  Submit(ReadFixture("alta-encadenada.xml"));
  ASSERT_EQ(Submit(ReadFixture("lote-2-altas-1-anulacion.xml")).estado_envio, "Correcto");

  const Answer resent = Submit(WithIncidencia(ReadFixture("lote-2-altas-1-anulacion.xml")));

  ASSERT_EQ(resent.lines.size(), 3u);
  EXPECT_EQ(resent.lines[0].code, "3000");
  EXPECT_EQ(resent.lines[1].code, "3001");
  EXPECT_EQ(resent.lines[2].code, "3000");
  const rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  for (const auto& [tipo, num_serie] : std::vector<std::pair<std::string, std::string>>{
           {"alta", "EMU-2025-0003"}, {"anulacion", "EMU-2025-0001"}, {"alta", "EMU-2025-0004"}}) {
    const rapidjson::Value* record = FindRecord(records, tipo, num_serie);
    ASSERT_NE(record, nullptr) << tipo << " " << num_serie;
    EXPECT_FALSE((*record)["incidencia"].GetBool()) << tipo << " " << num_serie;
    EXPECT_TRUE((*record)["last_incidencia"].GetBool()) << tipo << " " << num_serie;
  }
  const rapidjson::Value* cancelled_alta = FindRecord(records, "alta", "EMU-2025-0001");
  ASSERT_NE(cancelled_alta, nullptr);
  EXPECT_FALSE((*cancelled_alta)["last_incidencia"].GetBool())
      << "re-sending the anulacion must not touch the alta it cancelled";
}

TEST_F(EmulatorCoreTest, IncidenciaSurvivesRestart) {
  const std::filesystem::path state =
      std::filesystem::temp_directory_path() /
      ("aeat-emulator-incidencia-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(state);
  Recreate(state.string());
  Submit(WithIncidencia(ReadFixture("alta-primer.xml")));
  Submit(ReadFixture("alta-primer.xml"));

  Recreate(state.string());

  const rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  const rapidjson::Value* record = FindRecord(records, "alta", "EMU-2025-0001");
  ASSERT_NE(record, nullptr);
  EXPECT_TRUE((*record)["incidencia"].GetBool());
  EXPECT_FALSE((*record)["last_incidencia"].GetBool());
  EXPECT_EQ((*record)["times_received"].GetInt(), 2);
  std::filesystem::remove(state);
}

TEST_F(EmulatorCoreTest, StateFileWithoutLastIncidenciaIsRead) {
  const std::filesystem::path state =
      std::filesystem::temp_directory_path() /
      ("aeat-emulator-old-state-" + std::to_string(::getpid()) + ".jsonl");
  {
    std::ofstream output(state);
    output << R"({"op":"record","nif":"89890001K","installation":"EMU-INST-01",)"
              R"("num_serie":"EMU-OLD-1","fecha":"02-06-2025","tipo":"alta","huella":"AB",)"
              R"("estado":"Correcto","incidencia":true,"advance_chain":true})"
           << "\n";
  }
  Recreate(state.string());

  const rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  const rapidjson::Value* record = FindRecord(records, "alta", "EMU-OLD-1");
  ASSERT_NE(record, nullptr);
  EXPECT_TRUE((*record)["incidencia"].GetBool());
  EXPECT_TRUE((*record)["last_incidencia"].GetBool());
  std::filesystem::remove(state);
}

TEST_F(EmulatorCoreTest, FaultWaitSecondsChangesTiempoEsperaEnvio) {
  ASSERT_EQ(Control("POST", "/control/fault", R"({"mode":"reject_all","count":2})").status, 200);

  const HttpReply set = Control("POST", "/control/fault", R"({"wait_seconds":300})");

  EXPECT_EQ(set.status, 200);
  EXPECT_EQ(set.body, R"({"mode":"reject_all","count":2,"delay_ms":0,"wait_seconds":300})");
  EXPECT_EQ(emulator_->wait_seconds(), 300);
  EXPECT_EQ(emulator_->fault_settings().mode, FaultMode::kRejectAll)
      << "wait_seconds alone must leave the fault mode as it is";
  EXPECT_EQ(Submit(ReadFixture("alta-primer.xml")).wait_seconds, "300");

  ASSERT_EQ(Control("POST", "/control/fault", R"({"mode":"none"})").status, 200);
  const Answer after_mode_change = Submit(ReadFixture("alta-primer.xml"));
  EXPECT_EQ(after_mode_change.estado_envio, "Correcto");
  EXPECT_EQ(after_mode_change.wait_seconds, "300") << "a later mode change keeps wait_seconds";

  ASSERT_EQ(Control("POST", "/control/fault", R"({"mode":"none","wait_seconds":0})").status, 200);
  const Answer zero = Submit(ReadFixture("alta-encadenada.xml"));
  EXPECT_EQ(zero.wait_seconds, "0");
  EXPECT_TRUE(zero.schema_valid) << zero.schema_error;

  ASSERT_EQ(Control("POST", "/control/fault", R"({"wait_seconds":7200})").status, 200);
  ASSERT_EQ(Control("POST", "/control/reset", "").status, 200);
  EXPECT_EQ(emulator_->wait_seconds(), 2);
  EXPECT_EQ(Submit(ReadFixture("alta-primer.xml")).wait_seconds, "2");
}

TEST_F(EmulatorCoreTest, FaultRejectsInvalidWaitSeconds) {
  ASSERT_EQ(Control("POST", "/control/fault", R"({"mode":"http500"})").status, 200);

  for (const char* body : {R"({"wait_seconds":-1})", R"({"wait_seconds":7201})",
                           R"({"wait_seconds":"60"})", R"({"wait_seconds":1.5})",
                           R"({"mode":"none","wait_seconds":null})",
                           R"({"wait_seconds":60,"count":1})",
                           R"({"wait_seconds":60,"delay_ms":10})",
                           R"({"wait_seconds":60,"mode":"explode"})"}) {
    const HttpReply reply = Control("POST", "/control/fault", body);
    EXPECT_EQ(reply.status, 400) << body;
    EXPECT_NE(reply.body.find("\"error\""), std::string::npos) << body;
  }

  EXPECT_EQ(emulator_->wait_seconds(), 2);
  EXPECT_EQ(emulator_->fault_settings().mode, FaultMode::kHttp500);
}

TEST_F(EmulatorCoreTest, RequestsLogRecordsArrivalAndRecordCount) {
  now_ = Utc(8, 1, 0);
  Submit(ReadFixture("alta-primer.xml"));
  now_ += std::chrono::milliseconds(1500);
  Submit(ReadFixture("alta-encadenada.xml"));
  now_ += std::chrono::milliseconds(250);
  Submit("<not-xml");
  Control("POST", "/control/fault", R"({"mode":"http500","count":1})");
  now_ += std::chrono::seconds(60);
  emulator_->HandleSoap(ReadFixture("lote-2-altas-1-anulacion.xml"), ClientInfo{});

  const rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  ASSERT_TRUE(records.HasMember("requests_log"));
  const auto log = records["requests_log"].GetArray();
  ASSERT_EQ(log.Size(), 4u);
  const int64_t first_ms = (1748822400LL + 8 * 3600 + 60) * 1000;
  EXPECT_EQ(log[0]["request"].GetUint64(), 1u);
  EXPECT_EQ(log[0]["received_at_ms"].GetInt64(), first_ms);
  EXPECT_EQ(log[0]["records"].GetUint64(), 1u);
  EXPECT_EQ(log[1]["received_at_ms"].GetInt64(), first_ms + 1500);
  EXPECT_EQ(log[1]["records"].GetUint64(), 1u);
  EXPECT_EQ(log[2]["received_at_ms"].GetInt64(), first_ms + 1750);
  EXPECT_EQ(log[2]["records"].GetUint64(), 0u) << "a submission that fails to parse has 0 records";
  EXPECT_EQ(log[3]["request"].GetUint64(), 4u);
  EXPECT_EQ(log[3]["received_at_ms"].GetInt64(), first_ms + 61750);
  EXPECT_EQ(log[3]["records"].GetUint64(), 3u) << "a faulted request still counts its records";
  EXPECT_EQ(records["requests"].GetUint64(), 4u);
}

TEST_F(EmulatorCoreTest, RequestsLogKeepsLast100Requests) {
  constexpr int kRequests = 105;
  for (int i = 0; i < kRequests; ++i) {
    now_ += std::chrono::milliseconds(10);
    emulator_->HandleSoap("<not-xml", ClientInfo{});
  }

  const rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  const auto log = records["requests_log"].GetArray();
  ASSERT_EQ(log.Size(), 100u);
  EXPECT_EQ(log[0]["request"].GetUint64(), 6u);
  EXPECT_EQ(log[99]["request"].GetUint64(), 105u);
  EXPECT_EQ(log[99]["received_at_ms"].GetInt64() - log[0]["received_at_ms"].GetInt64(), 990);
  EXPECT_EQ(records["requests"].GetUint64(), 105u);
}

TEST_F(EmulatorCoreTest, RequestsLogStartsEmptyAfterRestart) {
  const std::filesystem::path state =
      std::filesystem::temp_directory_path() /
      ("aeat-emulator-requests-log-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(state);
  Recreate(state.string());
  Submit(ReadFixture("alta-primer.xml"));

  Recreate(state.string());

  const rapidjson::Document records = ParseJson(emulator_->RecordsJson());
  EXPECT_EQ(records["requests"].GetUint64(), 1u);
  EXPECT_EQ(records["requests_log"].GetArray().Size(), 0u);
  std::filesystem::remove(state);
}

// In-memory ByteStream that returns its input in small pieces, like a socket would.
class FakeStream : public ByteStream {
 public:
  explicit FakeStream(std::string input) : input_(std::move(input)) {}
  ssize_t Read(char* buffer, size_t size) override {
    const size_t count = std::min({size, input_.size() - position_, size_t{7}});
    std::copy_n(input_.data() + position_, count, buffer);
    position_ += count;
    return static_cast<ssize_t>(count);
  }
  bool WriteAll(const char*, size_t) override { return true; }

 private:
  std::string input_;
  size_t position_ = 0;
};

TEST(EmulatorHttpTest, ReadsKeepAliveRequestsInSequence) {
  FakeStream stream(
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n");
  HttpReader reader(stream);
  HttpRequest request;

  ASSERT_EQ(reader.ReadRequest(&request), ReadStatus::kOk);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/a");
  EXPECT_EQ(request.body, "hello");
  EXPECT_TRUE(request.keep_alive);

  ASSERT_EQ(reader.ReadRequest(&request), ReadStatus::kOk);
  EXPECT_EQ(request.target, "/b");
  EXPECT_EQ(request.body, "");
  EXPECT_FALSE(request.keep_alive);

  EXPECT_EQ(reader.ReadRequest(&request), ReadStatus::kClosed);
}

TEST(EmulatorHttpTest, RejectsOversizedAndChunkedBodies) {
  FakeStream too_large("POST / HTTP/1.1\r\nContent-Length: " +
                       std::to_string(kMaxBodyBytes + 1) + "\r\n\r\n");
  HttpReader large_reader(too_large);
  HttpRequest request;
  EXPECT_EQ(large_reader.ReadRequest(&request), ReadStatus::kTooLarge);

  FakeStream chunked("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  HttpReader chunked_reader(chunked);
  EXPECT_EQ(chunked_reader.ReadRequest(&request), ReadStatus::kUnsupported);

  FakeStream garbage("NOT HTTP\r\n\r\n");
  HttpReader garbage_reader(garbage);
  EXPECT_EQ(garbage_reader.ReadRequest(&request), ReadStatus::kMalformed);
}

}  // namespace
}  // namespace aeat_emulator
