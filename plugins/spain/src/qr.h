// The VERI*FACTU QR code payload ("cotejo" URL), AEAT "Detalle de las especificaciones técnicas
// del código QR de la factura" v0.4.7: base URL, then nif, numserie, fecha and importe, each value
// encoded like java.net.URLEncoder.encode(value, "UTF-8").
#ifndef FISCAL_SPAIN_QR_H_
#define FISCAL_SPAIN_QR_H_

#include <string>
#include <string_view>

namespace fiscal::spain {

inline constexpr std::string_view kQrBaseTest = "https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?";
inline constexpr std::string_view kQrBaseLive =
    "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR?";

// Encodes like java.net.URLEncoder (application/x-www-form-urlencoded): A-Z a-z 0-9 . - * _ are
// kept, space becomes "+", every other UTF-8 byte becomes %XX with upper-case hex.
std::string JavaUrlEncode(std::string_view value);

// Builds the QR URL. `base` ends with "?"; `importe` is the ImporteTotal text of the record.
std::string BuildQrUrl(std::string_view base, std::string_view nif, std::string_view numserie,
                       std::string_view fecha, std::string_view importe);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_QR_H_
