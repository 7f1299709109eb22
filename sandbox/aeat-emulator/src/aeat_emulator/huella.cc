#include "aeat_emulator/huella.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace aeat_emulator {
namespace {

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out += '&';
  out += name;
  out += '=';
  out += TrimAeat(value);
}

}  // namespace

std::string TrimAeat(std::string_view value) {
  size_t begin = 0;
  size_t end = value.size();
  while (begin < end && static_cast<unsigned char>(value[begin]) <= 0x20) ++begin;
  while (end > begin && static_cast<unsigned char>(value[end - 1]) <= 0x20) --end;
  return std::string(value.substr(begin, end - begin));
}

std::string BuildAltaHuellaString(const AltaHuellaInput& input) {
  std::string out;
  AppendField(out, "IDEmisorFactura", input.id_emisor_factura);
  AppendField(out, "NumSerieFactura", input.num_serie_factura);
  AppendField(out, "FechaExpedicionFactura", input.fecha_expedicion_factura);
  AppendField(out, "TipoFactura", input.tipo_factura);
  AppendField(out, "CuotaTotal", input.cuota_total);
  AppendField(out, "ImporteTotal", input.importe_total);
  AppendField(out, "Huella", input.huella_anterior);
  AppendField(out, "FechaHoraHusoGenRegistro", input.fecha_hora_huso_gen_registro);
  return out;
}

std::string BuildAnulacionHuellaString(const AnulacionHuellaInput& input) {
  std::string out;
  AppendField(out, "IDEmisorFacturaAnulada", input.id_emisor_factura_anulada);
  AppendField(out, "NumSerieFacturaAnulada", input.num_serie_factura_anulada);
  AppendField(out, "FechaExpedicionFacturaAnulada", input.fecha_expedicion_factura_anulada);
  AppendField(out, "Huella", input.huella_anterior);
  AppendField(out, "FechaHoraHusoGenRegistro", input.fecha_hora_huso_gen_registro);
  return out;
}

std::string Sha256UpperHex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 computation failed in OpenSSL EVP_Digest");
  }

  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  std::string hex;
  hex.reserve(digest_size * 2);
  for (unsigned int i = 0; i < digest_size; ++i) {
    hex += kHexDigits[digest[i] >> 4];
    hex += kHexDigits[digest[i] & 0x0F];
  }
  return hex;
}

std::string ComputeAltaHuella(const AltaHuellaInput& input) {
  return Sha256UpperHex(BuildAltaHuellaString(input));
}

std::string ComputeAnulacionHuella(const AnulacionHuellaInput& input) {
  return Sha256UpperHex(BuildAnulacionHuellaString(input));
}

}  // namespace aeat_emulator
