// Parsing of a RegFactuSistemaFacturacion SOAP request into plain values.

#ifndef AEAT_EMULATOR_SUBMISSION_H_
#define AEAT_EMULATOR_SUBMISSION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aeat_emulator/xml_support.h"

namespace aeat_emulator {

// AEAT's limit on RegistroFactura elements in one submission.
inline constexpr size_t kMaxRecordsPerSubmission = 1000;

// Copy of an element subtree (local names and text only), used to echo the Cabecera.
struct ElementCopy {
  std::string local_name;
  std::string text;  // Only for elements without element children.
  std::vector<ElementCopy> children;
};

enum class RecordType { kAlta, kAnulacion };

// One RegistroAlta or RegistroAnulacion. Text values are trimmed like AEAT trims them.
struct SubmittedRecord {
  RecordType type = RecordType::kAlta;

  // IDFactura. For an anulacion these come from IDEmisorFacturaAnulada, NumSerieFacturaAnulada
  // and FechaExpedicionFacturaAnulada.
  std::string id_emisor_factura;
  std::string num_serie_factura;
  std::string fecha_expedicion_factura;

  std::string ref_externa;
  // Flags exactly as sent, empty when absent.
  std::string subsanacion;
  std::string rechazo_previo;
  std::string sin_registro_previo;

  // RegistroAlta only.
  std::string tipo_factura;
  std::string cuota_total;
  std::string importe_total;

  bool primer_registro = false;
  bool has_registro_anterior = false;
  std::string huella_anterior;

  std::string numero_instalacion;
  std::string fecha_hora_huso_gen_registro;
  std::string huella;
};

struct Submission {
  ElementCopy cabecera;
  std::string obligado_emision_nif;
  bool incidencia = false;  // Cabecera/RemisionVoluntaria/Incidencia = S
  std::vector<SubmittedRecord> records;
};

// Whole-submission rejection, sent back as a SOAP Client fault.
struct SubmissionFault {
  int code = 0;
  std::string detail;
};

struct ParseResult {
  std::optional<Submission> submission;
  std::optional<SubmissionFault> fault;
};

// Parses and schema-validates a SOAP 1.1 envelope whose Body contains RegFactuSistemaFacturacion.
// Checks, in order: well-formed XML without a DTD (4103, or 4119 for bad encoding), SOAP envelope
// and Body (4102), at most 1000 RegistroFactura (4114), SuministroLR.xsd (4102).
ParseResult ParseSubmission(std::string_view soap_request, const SchemaSet& schemas);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_SUBMISSION_H_
