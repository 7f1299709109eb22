// Serialization of RespuestaRegFactuSistemaFacturacion envelopes and SOAP faults in AEAT's format
// (RespuestaSuministro.xsd, prefixes env/tikR/tik as in AEAT's responses).

#ifndef AEAT_EMULATOR_RESPONSE_XML_H_
#define AEAT_EMULATOR_RESPONSE_XML_H_

#include <optional>
#include <string>
#include <vector>

#include "aeat_emulator/submission.h"

namespace aeat_emulator {

struct DuplicateInfo {
  std::string id_peticion;
  std::string estado;  // EstadoRegistroDuplicado: Correcta, AceptadaConErrores or Anulada.
  int error_code = 0;  // Stored CodigoErrorRegistro for AceptadaConErrores, else 0.
};

struct ResponseLine {
  const SubmittedRecord* record = nullptr;
  std::string estado;  // EstadoRegistro: Correcto, AceptadoConErrores or Incorrecto.
  int error_code = 0;
  std::string error_description;
  std::optional<DuplicateInfo> duplicate;
};

struct SubmissionResponse {
  std::string csv;  // Empty when no record was accepted; then DatosPresentacion is omitted too.
  std::string nif_presentador;
  std::string timestamp_presentacion;
  const ElementCopy* cabecera = nullptr;
  int wait_seconds = 60;
  std::string estado_envio;
  std::vector<ResponseLine> lines;
};

std::string BuildResponseEnvelope(const SubmissionResponse& response);

// `fault_code` is "env:Client" or "env:Server".
std::string BuildFaultEnvelope(const std::string& fault_code, const std::string& fault_string);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_RESPONSE_XML_H_
