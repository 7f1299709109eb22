// VERI*FACTU huella and QR URL: AEAT vectors, known wrong variants and the whole-record golden file.
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <utility>

#include "huella.h"
#include "qr.h"
#include "record_builder.h"
#include "self_test.h"
#include "spain_test_util.h"

namespace fiscal::spain {
namespace {

using testing::ReadTsv;
using testing::SpainDataPath;

AltaHuellaFields AeatExampleOne() {
  AltaHuellaFields fields;
  fields.IDEmisorFactura = "89890001K";
  fields.NumSerieFactura = "12345678/G33";
  fields.FechaExpedicionFactura = "01-01-2024";
  fields.TipoFactura = "F1";
  fields.CuotaTotal = "12.35";
  fields.ImporteTotal = "123.45";
  fields.FechaHoraHusoGenRegistro = "2024-01-01T19:20:30+01:00";
  return fields;
}

TEST(SpainHuella, EveryTsvVector) {
  auto rows = ReadTsv(SpainDataPath("verifactu-huella.tsv"));
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    ASSERT_GE(row.size(), 4u);
    EXPECT_EQ(Sha256UpperHex(row[3]), row[2]) << row[0];
  }
}

TEST(SpainHuella, AeatVectorsFromFields) {
  // Rebuild each TSV input string from the field structs, so the names and order are checked.
  auto rows = ReadTsv(SpainDataPath("verifactu-huella.tsv"));
  std::map<std::string, std::pair<std::string, std::string>> by_id;
  for (const auto& row : rows) by_id[row[0]] = {row[3], row[2]};

  AltaHuellaFields first = AeatExampleOne();
  EXPECT_EQ(AltaHuellaInput(first), by_id["aeat-1-alta-primer"].first);
  EXPECT_EQ(ComputeAltaHuella(first), by_id["aeat-1-alta-primer"].second);

  AltaHuellaFields second = first;
  second.NumSerieFactura = "12345679/G34";
  second.Huella = ComputeAltaHuella(first);
  second.FechaHoraHusoGenRegistro = "2024-01-01T19:20:35+01:00";
  EXPECT_EQ(AltaHuellaInput(second), by_id["aeat-2-alta-encadenada"].first);
  EXPECT_EQ(ComputeAltaHuella(second), by_id["aeat-2-alta-encadenada"].second);

  AnulacionHuellaFields third;
  third.IDEmisorFacturaAnulada = "89890001K";
  third.NumSerieFacturaAnulada = "12345679/G34";
  third.FechaExpedicionFacturaAnulada = "01-01-2024";
  third.Huella = ComputeAltaHuella(second);
  third.FechaHoraHusoGenRegistro = "2024-01-01T19:20:40+01:00";
  EXPECT_EQ(AnulacionHuellaInput(third), by_id["aeat-3-anulacion"].first);
  EXPECT_EQ(ComputeAnulacionHuella(third), by_id["aeat-3-anulacion"].second);

  AltaHuellaFields r3;
  r3.IDEmisorFactura = "89890001K";
  r3.NumSerieFactura = "12345678-G66";
  r3.FechaExpedicionFactura = "03-02-2025";
  r3.TipoFactura = "R3";
  r3.CuotaTotal = "41.4";
  r3.ImporteTotal = "241.4";
  r3.Huella = "C9AF4AF1EF5EBBA700350DE3EEF12C2D355C56AC56F13DB2A25E0031BD2B7ED5";
  r3.FechaHoraHusoGenRegistro = "2025-02-03T14:30:00+01:00";
  EXPECT_EQ(ComputeAltaHuella(r3), by_id["aeat-firma-ejemplo-R3"].second);

  // The same amounts written with two decimals are different XML text and a different hash.
  r3.CuotaTotal = "41.40";
  r3.ImporteTotal = "241.40";
  EXPECT_EQ(ComputeAltaHuella(r3), by_id["neg-firma-ejemplo-R3-2dec"].second);
  EXPECT_NE(ComputeAltaHuella(r3), by_id["aeat-firma-ejemplo-R3"].second);
}

TEST(SpainHuella, FirstAltaInputAndDigest) {
  AltaHuellaFields fields = AeatExampleOne();
  EXPECT_EQ(AltaHuellaInput(fields),
            "IDEmisorFactura=89890001K&NumSerieFactura=12345678/G33&FechaExpedicionFactura=01-01-2024"
            "&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45&Huella="
            "&FechaHoraHusoGenRegistro=2024-01-01T19:20:30+01:00");
  EXPECT_EQ(ComputeAltaHuella(fields), "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60");
}

TEST(SpainHuella, WrongVariantsNotProduced) {
  std::string ours = ComputeAltaHuella(AeatExampleOne());
  // snake_case keys, ISO issue date, UTC timestamp, empty timestamp.
  EXPECT_NE(ours, "B603CBAACE642C23C483CB6C640314E4F3B309F4F284BA86A9B16C419751ED39");
  EXPECT_NE(ours, "048C3862AF9CAEB9098CC079B6E5DF43B649F89644F11B29588700909C7C9524");
  EXPECT_NE(ours, "899E91D5403288A4BD25FF77400471BD629EC7DCE560BA4248B76E184A630BD9");
  EXPECT_NE(ours, "D58EFB25430E38015B5D7FFCFEBCB538C5CB4AD9D296EA72F31252C8394DE532");
  EXPECT_NE(ours, "3c464daf61acb827c65fda19f352a4e3bdc2c640e9e9fc4cc058073f38f12f60");

  // The wrong variants really are what those inputs hash to, so the checks above can fail.
  AltaHuellaFields iso_date = AeatExampleOne();
  iso_date.FechaExpedicionFactura = "2024-01-01";
  EXPECT_EQ(ComputeAltaHuella(iso_date), "048C3862AF9CAEB9098CC079B6E5DF43B649F89644F11B29588700909C7C9524");
  AltaHuellaFields utc = AeatExampleOne();
  utc.FechaHoraHusoGenRegistro = "2024-01-01T18:20:30Z";
  EXPECT_EQ(ComputeAltaHuella(utc), "899E91D5403288A4BD25FF77400471BD629EC7DCE560BA4248B76E184A630BD9");
  AltaHuellaFields empty_time = AeatExampleOne();
  empty_time.FechaHoraHusoGenRegistro = "";
  EXPECT_EQ(ComputeAltaHuella(empty_time), "D58EFB25430E38015B5D7FFCFEBCB538C5CB4AD9D296EA72F31252C8394DE532");
}

TEST(SpainHuella, ValuesAreTrimmed) {
  AltaHuellaFields fields = AeatExampleOne();
  fields.NumSerieFactura = " 12345678/G33 ";
  EXPECT_EQ(ComputeAltaHuella(fields), "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60");
  EXPECT_NE(ComputeAltaHuella(fields), "E88D3853BFC48FE66A9E78B0BBE42A7FDAB9EB93F5B1F521910831EA5CBCA26A");
  EXPECT_EQ(Sha256UpperHex("IDEmisorFactura=89890001K&NumSerieFactura= 12345678/G33 &FechaExpedicionFactura="
                           "01-01-2024&TipoFactura=F1&CuotaTotal=12.35&ImporteTotal=123.45&Huella="
                           "&FechaHoraHusoGenRegistro=2024-01-01T19:20:30+01:00"),
            "E88D3853BFC48FE66A9E78B0BBE42A7FDAB9EB93F5B1F521910831EA5CBCA26A");

  // Inner spaces stay.
  fields.NumSerieFactura = "\t12345678 / G33\n";
  EXPECT_NE(AltaHuellaInput(fields).find("NumSerieFactura=12345678 / G33&"), std::string::npos);
}

TEST(SpainHuella, ChainWithAnulacion) {
  AltaHuellaFields first = AeatExampleOne();
  std::string h1 = ComputeAltaHuella(first);
  AltaHuellaFields second = first;
  second.NumSerieFactura = "12345679/G34";
  second.Huella = h1;
  second.FechaHoraHusoGenRegistro = "2024-01-01T19:20:35+01:00";
  std::string h2 = ComputeAltaHuella(second);
  AnulacionHuellaFields third;
  third.IDEmisorFacturaAnulada = "89890001K";
  third.NumSerieFacturaAnulada = "12345679/G34";
  third.FechaExpedicionFacturaAnulada = "01-01-2024";
  third.Huella = h2;
  third.FechaHoraHusoGenRegistro = "2024-01-01T19:20:40+01:00";
  std::string h3 = ComputeAnulacionHuella(third);

  EXPECT_EQ(h1, "3C464DAF61ACB827C65FDA19F352A4E3BDC2C640E9E9FC4CC058073F38F12F60");
  EXPECT_EQ(h2, "F7B94CFD8924EDFF273501B01EE5153E4CE8F259766F88CF6ACB8935802A2B97");
  EXPECT_EQ(h3, "177547C0D57AC74748561D054A9CEC14B4C4EA23D1BEFD6F2E69E3A388F90C68");
  // Hashing the anulación with the alta field names gives this digest, which must not appear.
  EXPECT_NE(h3, "FE6535CF4C384E0DD73F0C1CEBA1CC6237FCB45F147FB86F95338DA63433FC24");
  EXPECT_EQ(AnulacionHuellaInput(third).rfind("IDEmisorFacturaAnulada=", 0), 0u);
}

TEST(SpainHuella, AeatSampleAnulacion) {
  AnulacionHuellaFields fields;
  fields.IDEmisorFacturaAnulada = "89890001K";
  fields.NumSerieFacturaAnulada = "12345678-G66";
  fields.FechaExpedicionFacturaAnulada = "03-02-2025";
  fields.Huella = "C9AF4AF1EF5EBBA700350DE3EEF12C2D355C56AC56F13DB2A25E0031BD2B7ED5";
  fields.FechaHoraHusoGenRegistro = "2025-02-03T14:30:00+01:00";
  EXPECT_EQ(ComputeAnulacionHuella(fields), "193F36663544CDB85A5D40D1A5EB3CFB8C2E2C3EE860999EA9AB9BD45E624CB1");
}

TEST(SpainQr, EveryTsvVector) {
  auto rows = ReadTsv(SpainDataPath("verifactu-qr.tsv"));
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) {
    ASSERT_GE(row.size(), 7u);
    EXPECT_EQ(BuildQrUrl(row[1], row[2], row[3], row[4], row[5]), row[6]) << row[0];
  }
}

TEST(SpainQr, JavaUrlEncoderRules) {
  EXPECT_EQ(JavaUrlEncode("Az09.-*_"), "Az09.-*_");
  EXPECT_EQ(JavaUrlEncode("a b"), "a+b");
  EXPECT_EQ(JavaUrlEncode("12345678&G33"), "12345678%26G33");
  EXPECT_EQ(JavaUrlEncode("A/1~"), "A%2F1%7E");
  EXPECT_EQ(JavaUrlEncode("ñ"), "%C3%B1");
}

TEST(SpainQr, AeatEncodingExample) {
  EXPECT_EQ(BuildQrUrl(kQrBaseTest, "89890001K", "12345678&G33", "01-01-2024", "241.4"),
            "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K&numserie=12345678%26G33"
            "&fecha=01-01-2024&importe=241.4");
  EXPECT_EQ(kQrBaseLive, "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?");
}

TEST(SpainQr, UsesImporteTotalLiteral) {
  AltaHuellaFields fields;
  fields.IDEmisorFactura = "89890001K";
  fields.NumSerieFactura = "A-2025-001";
  fields.FechaExpedicionFactura = "15-01-2025";
  fields.TipoFactura = "F1";
  fields.CuotaTotal = "21.00";
  fields.ImporteTotal = "121.00";
  fields.FechaHoraHusoGenRegistro = "2025-01-15T10:00:00+01:00";
  EXPECT_EQ(ComputeAltaHuella(fields), "80853555ABB40FE4C4D54B728599B2B42EAEB34FC349932F6CE999116C5A295C");
  std::string url = BuildQrUrl(kQrBaseTest, fields.IDEmisorFactura, fields.NumSerieFactura,
                               fields.FechaExpedicionFactura, fields.ImporteTotal);
  EXPECT_NE(url.find("?nif=89890001K&numserie=A-2025-001&fecha=15-01-2025&importe=121.00"), std::string::npos);
}

TEST(SpainSelfTest, PassesWithFourChecks) {
  int checks = 0;
  Status status = RunSelfTest(&checks);
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(checks, 4);
}

// --- Whole-record golden file -------------------------------------------------------------------

const char kSi[] =
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
    "SuministroInformacion.xsd";

const xmlNode* Child(const xmlNode* parent, const char* name) {
  for (const xmlNode* child = parent ? parent->children : nullptr; child; child = child->next) {
    if (child->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(child->name), name) == 0) {
      return child;
    }
  }
  return nullptr;
}

std::string Text(const xmlNode* node) {
  if (node == nullptr) return "";
  xmlChar* content = xmlNodeGetContent(node);
  std::string text(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return text;
}

std::string ChildText(const xmlNode* parent, const char* name) { return Text(Child(parent, name)); }

InvoiceId ReadId(const xmlNode* node) {
  return {ChildText(node, "IDEmisorFactura"), ChildText(node, "NumSerieFactura"),
          ChildText(node, "FechaExpedicionFactura")};
}

// Leaf elements (namespace, name, text) of a document, in document order.
void CollectLeaves(const xmlNode* node, std::vector<std::pair<std::string, std::string>>* out) {
  for (; node != nullptr; node = node->next) {
    if (node->type != XML_ELEMENT_NODE) continue;
    bool has_element_child = false;
    for (const xmlNode* child = node->children; child; child = child->next) {
      if (child->type == XML_ELEMENT_NODE) has_element_child = true;
    }
    std::string ns = node->ns ? reinterpret_cast<const char*>(node->ns->href) : "";
    if (has_element_child) {
      out->push_back({ns + "|" + reinterpret_cast<const char*>(node->name), ""});
      CollectLeaves(node->children, out);
    } else {
      out->push_back({ns + "|" + reinterpret_cast<const char*>(node->name), Text(node)});
    }
  }
}

std::vector<std::pair<std::string, std::string>> Leaves(const std::string& xml) {
  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "x.xml", nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  std::vector<std::pair<std::string, std::string>> leaves;
  if (doc == nullptr) return leaves;
  CollectLeaves(xmlDocGetRootElement(doc), &leaves);
  xmlFreeDoc(doc);
  return leaves;
}

TEST(SpainGoldenRecord, AeatSignatureAnnexRecord) {
  std::string golden = testing::ReadFile(SpainDataPath("firma-ejemploRegistro.xml"));
  xmlDocPtr doc = xmlReadMemory(golden.data(), static_cast<int>(golden.size()), "g.xml", nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  ASSERT_NE(doc, nullptr);
  const xmlNode* root = xmlDocGetRootElement(doc);
  ASSERT_STREQ(reinterpret_cast<const char*>(root->ns->href), kSi);

  // Read every value of the golden record into our builder's input.
  RegistroAltaData data;
  data.id = ReadId(Child(root, "IDFactura"));
  data.NombreRazonEmisor = ChildText(root, "NombreRazonEmisor");
  data.Subsanacion = ChildText(root, "Subsanacion");
  data.RechazoPrevio = ChildText(root, "RechazoPrevio");
  data.TipoFactura = ChildText(root, "TipoFactura");
  data.TipoRectificativa = ChildText(root, "TipoRectificativa");
  data.FacturasRectificadas.push_back(ReadId(Child(Child(root, "FacturasRectificadas"), "IDFacturaRectificada")));
  data.FechaOperacion = ChildText(root, "FechaOperacion");
  data.DescripcionOperacion = ChildText(root, "DescripcionOperacion");
  const xmlNode* destinatario = Child(Child(root, "Destinatarios"), "IDDestinatario");
  data.Destinatarios.push_back({ChildText(destinatario, "NombreRazon"), ChildText(destinatario, "NIF"), "", "", ""});
  for (const xmlNode* line = Child(root, "Desglose")->children; line; line = line->next) {
    if (line->type != XML_ELEMENT_NODE) continue;
    data.Desglose.push_back({ChildText(line, "Impuesto"), ChildText(line, "ClaveRegimen"),
                             ChildText(line, "CalificacionOperacion"), ChildText(line, "TipoImpositivo"),
                             ChildText(line, "BaseImponibleOimporteNoSujeto"), ChildText(line, "CuotaRepercutida")});
  }
  data.CuotaTotal = ChildText(root, "CuotaTotal");
  data.ImporteTotal = ChildText(root, "ImporteTotal");
  const xmlNode* anterior = Child(Child(root, "Encadenamiento"), "RegistroAnterior");
  data.anterior = RegistroAnterior{ReadId(anterior), ChildText(anterior, "Huella")};
  const xmlNode* sistema = Child(root, "SistemaInformatico");
  data.sistema = {ChildText(sistema, "NombreRazon"),
                  ChildText(sistema, "NIF"),
                  ChildText(sistema, "NombreSistemaInformatico"),
                  ChildText(sistema, "IdSistemaInformatico"),
                  ChildText(sistema, "Version"),
                  ChildText(sistema, "NumeroInstalacion"),
                  ChildText(sistema, "TipoUsoPosibleSoloVerifactu"),
                  ChildText(sistema, "TipoUsoPosibleMultiOT"),
                  ChildText(sistema, "IndicadorMultiplesOT")};
  data.FechaHoraHusoGenRegistro = ChildText(root, "FechaHoraHusoGenRegistro");
  std::string golden_huella = ChildText(root, "Huella");
  xmlFreeDoc(doc);

  BuiltRecord built = BuildRegistroAlta(data);
  EXPECT_EQ(golden_huella, "FF954378B64ED331A9B2366AD317D86E9DEC1716B12DD0ACCB172A6DC4C105AA");
  EXPECT_EQ(built.huella, golden_huella);

  // Our XML carries the same elements, in the same order, with the same text.
  auto expected = Leaves(golden);
  auto actual = Leaves(built.xml);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(actual[i], expected[i]) << "leaf " << i;
  }
}

}  // namespace
}  // namespace fiscal::spain
