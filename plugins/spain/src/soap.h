// The SOAP 1.1 exchange of the VERI*FACTU RegFactuSistemaFacturacion operation: the request
// envelope and the parser for AEAT's response (RespuestaSuministro.xsd or a SOAP Fault).
#ifndef FISCAL_SPAIN_SOAP_H_
#define FISCAL_SPAIN_SOAP_H_

#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace fiscal::spain {

struct EnvelopeHeader {
  std::string NombreRazon;  // Cabecera/ObligadoEmision
  std::string NIF;
  // Cabecera/RemisionVoluntaria/Incidencia=S: records sent late because of a technical incident
  // (OM art. 16.4), which keeps AEAT from flagging their timestamps with error 2004.
  bool incidencia = false;
};

// Builds the request envelope. Each document is a serialised RegistroAlta or RegistroAnulacion
// element that declares its own namespace, so it is embedded byte for byte.
std::string BuildSoapEnvelope(const EnvelopeHeader& header, const std::vector<std::string>& documents);

// Identity and kind of a stored record, read from its XML.
struct RecordKey {
  std::string TipoOperacion;  // "Alta" or "Anulacion"
  std::string IDEmisorFactura;
  std::string NumSerieFactura;
  std::string FechaExpedicionFactura;
};

// Parses a stored record document and reads its key. Fails when the document is not a
// RegistroAlta or RegistroAnulacion of the SuministroInformacion namespace.
Status ReadRecordKey(std::string_view document, RecordKey* out);

// One RespuestaLinea.
struct ResponseLine {
  RecordKey key;
  std::string EstadoRegistro;
  std::string CodigoErrorRegistro;
  std::string DescripcionErrorRegistro;
  bool duplicado = false;
  std::string EstadoRegistroDuplicado;
  std::string CodigoErrorDuplicado;
  std::string DescripcionErrorDuplicado;
};

struct SubmitResponse {
  enum class Kind {
    kAnswer,       // RespuestaRegFactuSistemaFacturacion
    kClientFault,  // SOAP Fault with a Client faultcode: the whole submission was rejected
    kUnknown,      // Server fault, HTTP error or unreadable response: the outcome is unknown
  };
  Kind kind = Kind::kUnknown;
  std::string CSV;
  long TiempoEsperaEnvio = 0;
  std::string EstadoEnvio;
  std::vector<ResponseLine> lines;
  std::string fault_code;    // "4104" from "Codigo[4104]..." for a fault
  std::string fault_string;  // faultstring, trimmed
  std::string reason;        // why the outcome is unknown, for kUnknown
};

// Parses AEAT's response. Never loads external resources or expands entities, and rejects any
// document with a DOCTYPE.
SubmitResponse ParseSubmitResponse(int http_status, std::string_view body);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_SOAP_H_
