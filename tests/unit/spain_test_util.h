// Shared helpers of the Spain VERI*FACTU unit tests: test data files and offline XSD validation.
#ifndef FISCAL_TESTS_UNIT_SPAIN_TEST_UTIL_H_
#define FISCAL_TESTS_UNIT_SPAIN_TEST_UTIL_H_

#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlschemas.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fiscal::spain::testing {

inline std::string SpainDataPath(const std::string& name) {
  return std::string(FISCAL_SOURCE_DIR) + "/tests/data/spain/" + name;
}

inline std::string XsdDir() { return std::string(FISCAL_SOURCE_DIR) + "/plugins/spain/xsd"; }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Rows of a tab-separated file, without '#' comment lines.
inline std::vector<std::vector<std::string>> ReadTsv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> columns;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      columns.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(columns));
  }
  return rows;
}

namespace detail {

inline xmlExternalEntityLoader& DefaultLoader() {
  static xmlExternalEntityLoader loader = nullptr;
  return loader;
}

// Resolves remote schema locations through the XSD folder's catalog and refuses anything else
// remote, so validation never touches the network.
inline xmlParserInputPtr OfflineLoader(const char* url, const char* id, xmlParserCtxtPtr context) {
  std::string_view text = url == nullptr ? "" : url;
  if (text.substr(0, 7) != "http://" && text.substr(0, 8) != "https://") {
    return DefaultLoader()(url, id, context);
  }
  xmlChar* resolved = xmlCatalogResolveURI(reinterpret_cast<const xmlChar*>(url));
  if (resolved == nullptr) resolved = xmlCatalogResolveSystem(reinterpret_cast<const xmlChar*>(url));
  if (resolved == nullptr) return nullptr;
  xmlParserInputPtr input = xmlNewInputFromFile(context, reinterpret_cast<const char*>(resolved));
  xmlFree(resolved);
  return input;
}

inline void CollectError(void* user, xmlErrorPtr error) {
  auto* errors = static_cast<std::string*>(user);
  if (error != nullptr && error->message != nullptr) *errors += error->message;
}

}  // namespace detail

// Validates the first element named `element_name` (any namespace) in `xml` against
// SuministroLR.xsd. Returns "" when valid, else the validator's messages.
inline std::string ValidateElement(const std::string& xml, const char* element_name) {
  static xmlSchemaPtr schema = [] {
    xmlInitParser();
    xmlLoadCatalog((XsdDir() + "/catalog.xml").c_str());
    detail::DefaultLoader() = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(detail::OfflineLoader);
    xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt((XsdDir() + "/SuministroLR.xsd").c_str());
    xmlSchemaPtr parsed = xmlSchemaParse(parser);
    xmlSchemaFreeParserCtxt(parser);
    xmlSetExternalEntityLoader(detail::DefaultLoader());
    return parsed;
  }();
  if (schema == nullptr) return "SuministroLR.xsd could not be loaded";

  xmlDocPtr doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "test.xml", nullptr, XML_PARSE_NONET);
  if (doc == nullptr) return "not well-formed XML";

  // Depth-first search for the element to validate.
  xmlNodePtr target = nullptr;
  std::vector<xmlNodePtr> stack{xmlDocGetRootElement(doc)};
  while (!stack.empty() && target == nullptr) {
    xmlNodePtr node = stack.back();
    stack.pop_back();
    if (node == nullptr) continue;
    if (node->type == XML_ELEMENT_NODE && std::string_view(reinterpret_cast<const char*>(node->name)) == element_name) {
      target = node;
      break;
    }
    for (xmlNodePtr child = node->children; child != nullptr; child = child->next) stack.push_back(child);
  }
  if (target == nullptr) {
    xmlFreeDoc(doc);
    return std::string("no element ") + element_name;
  }

  std::string errors;
  xmlSchemaValidCtxtPtr validator = xmlSchemaNewValidCtxt(schema);
  xmlSchemaSetValidStructuredErrors(validator, detail::CollectError, &errors);
  int result = xmlSchemaValidateOneElement(validator, target);
  xmlSchemaFreeValidCtxt(validator);
  xmlFreeDoc(doc);
  if (result != 0 && errors.empty()) errors = "invalid (code " + std::to_string(result) + ")";
  return errors;
}

}  // namespace fiscal::spain::testing

#endif  // FISCAL_TESTS_UNIT_SPAIN_TEST_UTIL_H_
