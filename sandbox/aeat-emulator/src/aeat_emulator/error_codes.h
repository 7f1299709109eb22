// AEAT error codes that the emulator returns, with the descriptions from AEAT's errores.properties.

#ifndef AEAT_EMULATOR_ERROR_CODES_H_
#define AEAT_EMULATOR_ERROR_CODES_H_

#include <string>

namespace aeat_emulator {

// Whole-submission errors, returned as SOAP Client faults.
inline constexpr int kErrorSchema = 4102;
inline constexpr int kErrorXmlParse = 4103;
inline constexpr int kErrorTooManyInvoices = 4114;
inline constexpr int kErrorNotUtf8 = 4119;

// Record rejected (EstadoRegistro Incorrecto).
inline constexpr int kErrorInvalidValue = 1100;
inline constexpr int kErrorEmisorNotObligado = 1108;
inline constexpr int kErrorDuplicate = 3000;
inline constexpr int kErrorGenerationTimeFormat = 1244;
inline constexpr int kErrorAlreadyCancelled = 3001;
inline constexpr int kErrorRecordNotFound = 3002;

// Record accepted with errors (EstadoRegistro AceptadoConErrores).
inline constexpr int kErrorHuellaMismatch = 2000;
inline constexpr int kErrorPreviousHuellaLength = 2002;
inline constexpr int kErrorPreviousHuellaContent = 2003;
inline constexpr int kErrorGenerationTimeOutOfMargin = 2004;
inline constexpr int kErrorNotFirstRecord = 2007;
inline constexpr int kErrorPreviousHuellaEqualsCurrent = 2008;

// Server fault code that AEAT has been seen returning for internal errors.
inline constexpr int kErrorInternalServer = 20009;

// Returns AEAT's Spanish description of `code`, or an empty string for a code the emulator does
// not use.
std::string DescribeAeatError(int code);

// Formats a SOAP faultstring the way AEAT does: "Codigo[4102].<description>".
std::string FormatFaultString(int code, const std::string& detail);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_ERROR_CODES_H_
