// libxml2 helpers: namespaces of the AEAT messages, owning pointers, element lookup and the
// compiled AEAT schemas.

#ifndef AEAT_EMULATOR_XML_SUPPORT_H_
#define AEAT_EMULATOR_XML_SUPPORT_H_

#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include <memory>
#include <string>
#include <string_view>

namespace aeat_emulator {

inline constexpr char kSoapEnvelopeNs[] = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr char kSuministroLrNs[] =
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/"
    "tike/cont/ws/SuministroLR.xsd";
inline constexpr char kSuministroInformacionNs[] =
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/"
    "tike/cont/ws/SuministroInformacion.xsd";
inline constexpr char kRespuestaSuministroNs[] =
    "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/"
    "tike/cont/ws/RespuestaSuministro.xsd";

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using XmlDocPtr = std::unique_ptr<xmlDoc, XmlDocDeleter>;

// Initializes libxml2 once per process and makes every external resource load go through the
// OASIS catalogs only, with network access disabled. Safe to call more than once.
void InitXmlLibrary();

// Parses `data` with network access, DTD loading and entity substitution disabled. Returns null
// and fills `error` (with libxml2's message) when the document is not well-formed. `error_code`
// receives libxml2's xmlParserErrors value, or 0.
XmlDocPtr ParseXmlSafely(std::string_view data, std::string* error, int* error_code);

// True when `node` is an element with the given namespace URI and local name.
bool IsElement(const xmlNode* node, const char* ns_uri, const char* local_name);

// Returns the first element child of `parent` whose local name is `local_name`, whatever its
// namespace, or null.
xmlNode* FindChild(const xmlNode* parent, std::string_view local_name);

// Follows a '/'-separated path of local names from `parent`, for example "IDFactura/NumSerieFactura".
xmlNode* FindPath(const xmlNode* parent, std::string_view path);

// Returns the unescaped text of the element at `path` below `parent`, or "" when it is absent.
std::string TextAt(const xmlNode* parent, std::string_view path);

// Returns the unescaped text content of `node`.
std::string NodeText(const xmlNode* node);

// Compiled SuministroLR.xsd (requests) and RespuestaSuministro.xsd (responses). A compiled
// xmlSchema is read-only after loading, so one instance may validate from several threads, each
// validation using its own validation context.
class SchemaSet {
 public:
  // Loads both schemas from `xsd_dir`, which must also contain catalog.xml mapping the remote
  // xmldsig schema import to a local copy. Returns null and fills `error` on failure.
  static std::unique_ptr<SchemaSet> Load(const std::string& xsd_dir, std::string* error);

  ~SchemaSet();
  SchemaSet(const SchemaSet&) = delete;
  SchemaSet& operator=(const SchemaSet&) = delete;

  // Validates the subtree rooted at `element`. Returns false and fills `error` with the first
  // libxml2 message (including the line number) when it does not conform.
  bool ValidateRequestElement(xmlNode* element, std::string* error) const;
  bool ValidateResponseElement(xmlNode* element, std::string* error) const;

 private:
  SchemaSet() = default;

  xmlSchema* request_schema_ = nullptr;
  xmlSchema* response_schema_ = nullptr;
};

}  // namespace aeat_emulator

#endif  // AEAT_EMULATOR_XML_SUPPORT_H_
