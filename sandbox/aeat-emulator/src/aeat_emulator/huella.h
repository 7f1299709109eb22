// Huella (record hash) of VERI*FACTU billing records, computed independently of the Spain plugin so
// that the emulator acts as a second opinion on the plugin's hash.
//
// Rules (AEAT "especificaciones huella o hash de los registros de facturacion" v0.1.2): SHA-256 over
// the UTF-8 bytes of "Name1=value1&Name2=value2&...", fixed field names in a fixed order, each value
// the unescaped XML text trimmed of code points <= U+0020 at both ends, an absent value written as
// "Name=", output as 64 upper-case hex digits.

#ifndef AEAT_EMULATOR_HUELLA_H_
#define AEAT_EMULATOR_HUELLA_H_

#include <string>
#include <string_view>

namespace aeat_emulator {

// Values of the RegistroAlta fields that enter the huella, as literal XML text.
struct AltaHuellaInput {
  std::string id_emisor_factura;
  std::string num_serie_factura;
  std::string fecha_expedicion_factura;
  std::string tipo_factura;
  std::string cuota_total;
  std::string importe_total;
  std::string huella_anterior;  // Encadenamiento/RegistroAnterior/Huella, empty on the first record.
  std::string fecha_hora_huso_gen_registro;
};

// Values of the RegistroAnulacion fields that enter the huella, as literal XML text.
struct AnulacionHuellaInput {
  std::string id_emisor_factura_anulada;
  std::string num_serie_factura_anulada;
  std::string fecha_expedicion_factura_anulada;
  std::string huella_anterior;
  std::string fecha_hora_huso_gen_registro;
};

// Removes code points <= U+0020 at both ends, like Java's String.trim() in AEAT's sample code.
std::string TrimAeat(std::string_view value);

// Builds the "Name=value&..." string that is hashed. Exposed so that tests can compare it with
// AEAT's published example strings.
std::string BuildAltaHuellaString(const AltaHuellaInput& input);
std::string BuildAnulacionHuellaString(const AnulacionHuellaInput& input);

// Returns the SHA-256 of `data` as 64 upper-case hex digits.
std::string Sha256UpperHex(std::string_view data);

std::string ComputeAltaHuella(const AltaHuellaInput& input);
std::string ComputeAnulacionHuella(const AnulacionHuellaInput& input);

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_HUELLA_H_
