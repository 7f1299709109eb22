// AEAT XML namespaces and a small RAII wrapper around libxml2's xmlTextWriter, which escapes
// text and attribute values correctly.
#ifndef FISCAL_SPAIN_AEAT_XML_H_
#define FISCAL_SPAIN_AEAT_XML_H_

#include <libxml/xmlwriter.h>

#include <string>
#include <string_view>

namespace fiscal::spain {

inline constexpr const char* kSoapEnvelopeNs = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr const char* kSuministroLRNs =
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/"
    "tike/cont/ws/SuministroLR.xsd";
inline constexpr const char* kSuministroInformacionNs =
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/"
    "tike/cont/ws/SuministroInformacion.xsd";
inline constexpr const char* kRespuestaSuministroNs =
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/"
    "tike/cont/ws/RespuestaSuministro.xsd";

// Writes XML into memory. Every libxml2 failure (in practice only out of memory) throws
// std::runtime_error, which the SDK boundary turns into FISCAL_ERR_INTERNAL.
class XmlWriter {
 public:
  // `indent` adds two-space indentation between elements.
  explicit XmlWriter(bool indent);
  ~XmlWriter();
  XmlWriter(const XmlWriter&) = delete;
  XmlWriter& operator=(const XmlWriter&) = delete;

  // Writes the <?xml version="1.0" encoding="UTF-8"?> declaration.
  void Declaration();
  void Start(const std::string& qualified_name);
  void Attribute(const std::string& qualified_name, std::string_view value);
  // Writes <name>text</name>, escaping the text.
  void Element(const std::string& qualified_name, std::string_view text);
  // Writes bytes unchanged, for embedding an already serialised element.
  void Raw(std::string_view xml);
  void End();
  // Closes every open element and returns the document text.
  std::string Finish();

 private:
  xmlBufferPtr buffer_ = nullptr;
  xmlTextWriterPtr writer_ = nullptr;
};

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_AEAT_XML_H_
