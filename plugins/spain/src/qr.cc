#include "qr.h"

namespace fiscal::spain {

std::string JavaUrlEncode(std::string_view value) {
  static const char kHexDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-' || c == '*' || c == '_';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 0x0F]);
    }
  }
  return out;
}

std::string BuildQrUrl(std::string_view base, std::string_view nif, std::string_view numserie,
                       std::string_view fecha, std::string_view importe) {
  std::string url(base);
  url += "nif=" + JavaUrlEncode(nif);
  url += "&numserie=" + JavaUrlEncode(numserie);
  url += "&fecha=" + JavaUrlEncode(fecha);
  url += "&importe=" + JavaUrlEncode(importe);
  return url;
}

}  // namespace fiscal::spain
