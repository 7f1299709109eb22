#include "huella.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "text_rules.h"

namespace fiscal::spain {
namespace {

// Appends "name=value" with the value trimmed like Java's String.trim(), which is what AEAT's
// sample code does; inner spaces are kept and nothing is URL-encoded.
void AppendField(std::string& out, std::string_view name, std::string_view value) {
  if (!out.empty()) out.push_back('&');
  out.append(name);
  out.push_back('=');
  out.append(TrimAsciiSpace(value));
}

}  // namespace

std::string AltaHuellaInput(const AltaHuellaFields& fields) {
  std::string out;
  AppendField(out, "IDEmisorFactura", fields.IDEmisorFactura);
  AppendField(out, "NumSerieFactura", fields.NumSerieFactura);
  AppendField(out, "FechaExpedicionFactura", fields.FechaExpedicionFactura);
  AppendField(out, "TipoFactura", fields.TipoFactura);
  AppendField(out, "CuotaTotal", fields.CuotaTotal);
  AppendField(out, "ImporteTotal", fields.ImporteTotal);
  AppendField(out, "Huella", fields.Huella);
  AppendField(out, "FechaHoraHusoGenRegistro", fields.FechaHoraHusoGenRegistro);
  return out;
}

std::string AnulacionHuellaInput(const AnulacionHuellaFields& fields) {
  std::string out;
  AppendField(out, "IDEmisorFacturaAnulada", fields.IDEmisorFacturaAnulada);
  AppendField(out, "NumSerieFacturaAnulada", fields.NumSerieFacturaAnulada);
  AppendField(out, "FechaExpedicionFacturaAnulada", fields.FechaExpedicionFacturaAnulada);
  AppendField(out, "Huella", fields.Huella);
  AppendField(out, "FechaHoraHusoGenRegistro", fields.FechaHoraHusoGenRegistro);
  return out;
}

std::string Sha256UpperHex(std::string_view input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL EVP_Digest(SHA-256) failed");
  }

  static const char kHexDigits[] = "0123456789ABCDEF";
  std::string hex;
  hex.reserve(digest_size * 2);
  for (unsigned int i = 0; i < digest_size; ++i) {
    hex.push_back(kHexDigits[digest[i] >> 4]);
    hex.push_back(kHexDigits[digest[i] & 0x0F]);
  }
  return hex;
}

}  // namespace fiscal::spain
