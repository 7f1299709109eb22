// VERI*FACTU record hash ("huella"), as defined by AEAT "Detalle de las especificaciones técnicas
// para generación de la huella o hash de los registros de facturación" v0.1.2 and Orden
// HAC/1177/2024 art. 13: SHA-256 over the UTF-8 string "Name1=value1&Name2=value2&...", with the
// XML element names in a fixed order, values trimmed and unescaped exactly as written in the XML,
// an absent value written as "Name=", and the digest as 64 upper-case hex characters.
#ifndef FISCAL_SPAIN_HUELLA_H_
#define FISCAL_SPAIN_HUELLA_H_

#include <string>
#include <string_view>

namespace fiscal::spain {

// Hashed fields of a RegistroAlta, as the literal XML text values.
struct AltaHuellaFields {
  std::string IDEmisorFactura;
  std::string NumSerieFactura;
  std::string FechaExpedicionFactura;
  std::string TipoFactura;
  std::string CuotaTotal;
  std::string ImporteTotal;
  std::string Huella;  // previous record's hash, empty on the first record
  std::string FechaHoraHusoGenRegistro;
};

// Hashed fields of a RegistroAnulacion, as the literal XML text values.
struct AnulacionHuellaFields {
  std::string IDEmisorFacturaAnulada;
  std::string NumSerieFacturaAnulada;
  std::string FechaExpedicionFacturaAnulada;
  std::string Huella;  // previous record's hash, empty on the first record
  std::string FechaHoraHusoGenRegistro;
};

// Builds the string that is hashed for a RegistroAlta.
std::string AltaHuellaInput(const AltaHuellaFields& fields);

// Builds the string that is hashed for a RegistroAnulacion.
std::string AnulacionHuellaInput(const AnulacionHuellaFields& fields);

// Returns SHA-256 of `input` as 64 upper-case hex characters.
std::string Sha256UpperHex(std::string_view input);

inline std::string ComputeAltaHuella(const AltaHuellaFields& fields) {
  return Sha256UpperHex(AltaHuellaInput(fields));
}

inline std::string ComputeAnulacionHuella(const AnulacionHuellaFields& fields) {
  return Sha256UpperHex(AnulacionHuellaInput(fields));
}

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_HUELLA_H_
