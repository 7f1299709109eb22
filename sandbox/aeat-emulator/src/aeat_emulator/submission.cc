#include "aeat_emulator/submission.h"

#include <libxml/xmlerror.h>

#include "aeat_emulator/error_codes.h"
#include "aeat_emulator/huella.h"

namespace aeat_emulator {
namespace {

ParseResult Fault(int code, std::string detail) {
  ParseResult result;
  result.fault = SubmissionFault{code, std::move(detail)};
  return result;
}

std::string Trimmed(const xmlNode* parent, std::string_view path) {
  return TrimAeat(TextAt(parent, path));
}

ElementCopy CopyElement(const xmlNode* node) {
  ElementCopy copy;
  copy.local_name = reinterpret_cast<const char*>(node->name);
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) copy.children.push_back(CopyElement(child));
  }
  if (copy.children.empty()) copy.text = TrimAeat(NodeText(node));
  return copy;
}

xmlNode* FirstElementChild(const xmlNode* parent) {
  for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) return child;
  }
  return nullptr;
}

bool IsEncodingError(int code) {
  return code == XML_ERR_INVALID_CHAR || code == XML_ERR_INVALID_ENCODING ||
         code == XML_ERR_UNSUPPORTED_ENCODING || code == XML_ERR_UNKNOWN_ENCODING;
}

void ReadChainAndSystem(const xmlNode* registro, SubmittedRecord& record) {
  record.primer_registro = Trimmed(registro, "Encadenamiento/PrimerRegistro") == "S";
  const xmlNode* anterior = FindPath(registro, "Encadenamiento/RegistroAnterior");
  record.has_registro_anterior = anterior != nullptr;
  record.huella_anterior = Trimmed(anterior, "Huella");
  record.numero_instalacion = Trimmed(registro, "SistemaInformatico/NumeroInstalacion");
  record.fecha_hora_huso_gen_registro = Trimmed(registro, "FechaHoraHusoGenRegistro");
  record.huella = Trimmed(registro, "Huella");
  record.ref_externa = Trimmed(registro, "RefExterna");
  record.rechazo_previo = Trimmed(registro, "RechazoPrevio");
}

SubmittedRecord ReadAlta(const xmlNode* alta) {
  SubmittedRecord record;
  record.type = RecordType::kAlta;
  record.id_emisor_factura = Trimmed(alta, "IDFactura/IDEmisorFactura");
  record.num_serie_factura = Trimmed(alta, "IDFactura/NumSerieFactura");
  record.fecha_expedicion_factura = Trimmed(alta, "IDFactura/FechaExpedicionFactura");
  record.subsanacion = Trimmed(alta, "Subsanacion");
  record.tipo_factura = Trimmed(alta, "TipoFactura");
  record.cuota_total = Trimmed(alta, "CuotaTotal");
  record.importe_total = Trimmed(alta, "ImporteTotal");
  ReadChainAndSystem(alta, record);
  return record;
}

SubmittedRecord ReadAnulacion(const xmlNode* anulacion) {
  SubmittedRecord record;
  record.type = RecordType::kAnulacion;
  record.id_emisor_factura = Trimmed(anulacion, "IDFactura/IDEmisorFacturaAnulada");
  record.num_serie_factura = Trimmed(anulacion, "IDFactura/NumSerieFacturaAnulada");
  record.fecha_expedicion_factura = Trimmed(anulacion, "IDFactura/FechaExpedicionFacturaAnulada");
  record.sin_registro_previo = Trimmed(anulacion, "SinRegistroPrevio");
  ReadChainAndSystem(anulacion, record);
  return record;
}

}  // namespace

ParseResult ParseSubmission(std::string_view soap_request, const SchemaSet& schemas) {
  std::string parse_error;
  int parse_error_code = 0;
  XmlDocPtr doc = ParseXmlSafely(soap_request, &parse_error, &parse_error_code);
  if (doc == nullptr) {
    const int code = IsEncodingError(parse_error_code) ? kErrorNotUtf8 : kErrorXmlParse;
    return Fault(code, parse_error);
  }

  // SOAP 1.1 forbids a DTD, and rejecting it also rules out entity-expansion attacks.
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return Fault(kErrorXmlParse, "a DOCTYPE declaration is not allowed in a SOAP message");
  }

  const xmlNode* envelope = xmlDocGetRootElement(doc.get());
  if (!IsElement(envelope, kSoapEnvelopeNs, "Envelope")) {
    return Fault(kErrorSchema, "the root element is not a SOAP 1.1 Envelope");
  }
  xmlNode* body = nullptr;
  for (xmlNode* child = envelope->children; child != nullptr; child = child->next) {
    if (IsElement(child, kSoapEnvelopeNs, "Body")) body = child;
  }
  if (body == nullptr) return Fault(kErrorSchema, "the SOAP Envelope has no Body");
  xmlNode* request = FirstElementChild(body);
  if (request == nullptr) return Fault(kErrorSchema, "the SOAP Body is empty");

  // Counted before schema validation, because the schema's maxOccurs would report the same
  // problem as a generic 4102.
  size_t record_count = 0;
  for (const xmlNode* child = request->children; child != nullptr; child = child->next) {
    if (IsElement(child, kSuministroLrNs, "RegistroFactura")) ++record_count;
  }
  if (record_count > kMaxRecordsPerSubmission) {
    return Fault(kErrorTooManyInvoices, "RegistroFactura count " + std::to_string(record_count) +
                                            " exceeds " + std::to_string(kMaxRecordsPerSubmission));
  }

  std::string schema_error;
  if (!schemas.ValidateRequestElement(request, &schema_error)) {
    return Fault(kErrorSchema, schema_error);
  }
  if (!IsElement(request, kSuministroLrNs, "RegFactuSistemaFacturacion")) {
    return Fault(kErrorSchema, "the SOAP Body does not contain RegFactuSistemaFacturacion");
  }

  Submission submission;
  const xmlNode* cabecera = FindChild(request, "Cabecera");
  submission.cabecera = CopyElement(cabecera);
  submission.obligado_emision_nif = Trimmed(cabecera, "ObligadoEmision/NIF");
  submission.incidencia = Trimmed(cabecera, "RemisionVoluntaria/Incidencia") == "S";

  for (const xmlNode* child = request->children; child != nullptr; child = child->next) {
    if (!IsElement(child, kSuministroLrNs, "RegistroFactura")) continue;
    const xmlNode* registro = FirstElementChild(child);
    if (IsElement(registro, kSuministroInformacionNs, "RegistroAlta")) {
      submission.records.push_back(ReadAlta(registro));
    } else {
      submission.records.push_back(ReadAnulacion(registro));
    }
  }

  ParseResult result;
  result.submission = std::move(submission);
  return result;
}

}  // namespace aeat_emulator
