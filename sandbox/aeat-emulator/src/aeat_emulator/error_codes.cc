#include "aeat_emulator/error_codes.h"

namespace aeat_emulator {

std::string DescribeAeatError(int code) {
  switch (code) {
    case kErrorSchema:
      return "El XML no cumple el esquema. Falta informar campo obligatorio.";
    case kErrorXmlParse:
      return "Se ha producido un error inesperado al parsear el XML.";
    case kErrorTooManyInvoices:
      return "El XML no cumple con el esquema: se ha superado el límite máximo permitido de facturas "
             "a registrar.";
    case kErrorNotUtf8:
      return "Error al informar caracteres cuya codificación no es UTF-8.";
    case kErrorInvalidValue:
      return "Valor o tipo incorrecto del campo.";
    case kErrorEmisorNotObligado:
      return "El NIF del IDEmisorFactura debe ser el mismo que el NIF del ObligadoEmision.";
    case kErrorGenerationTimeFormat:
      return "El campo FechaHoraHusoGenRegistro tiene un formato incorrecto.";
    case kErrorDuplicate:
      return "Registro de facturación duplicado.";
    case kErrorAlreadyCancelled:
      return "El registro de facturación ya ha sido dado de baja.";
    case kErrorRecordNotFound:
      return "No existe el registro de facturación.";
    case kErrorHuellaMismatch:
      return "El cálculo de la huella suministrada es incorrecta.";
    case kErrorPreviousHuellaLength:
      return "La longitud de huella del registro anterior no cumple con las especificaciones.";
    case kErrorPreviousHuellaContent:
      return "El contenido de la huella del registro anterior no cumple con las especificaciones.";
    case kErrorGenerationTimeOutOfMargin:
      return "El valor del campo FechaHoraHusoGenRegistro debe ser la fecha actual del sistema de la "
             "AEAT, admitiéndose un margen de error de:";
    case kErrorNotFirstRecord:
      return "No debe informarse como primer registro, existen facturas emitidas con el obligado "
             "emisión y el sistema informático actual.";
    case kErrorPreviousHuellaEqualsCurrent:
      return "El valor de la huella del registro anterior debe ser diferente a la huella del "
             "registro actual.";
    case kErrorInternalServer:
      return "Error interno en el servidor";
    default:
      return "";
  }
}

std::string FormatFaultString(int code, const std::string& detail) {
  std::string text = "Codigo[" + std::to_string(code) + "]." + DescribeAeatError(code);
  if (!detail.empty()) text += " " + detail;
  return text;
}

}  // namespace aeat_emulator
