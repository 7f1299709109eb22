#include "aeat_emulator/xml_support.h"

#include <libxml/catalog.h>
#include <libxml/parser.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>

#include <filesystem>
#include <mutex>

namespace aeat_emulator {
namespace {

std::mutex catalog_mutex;

// Collects the first validation or parser error reported through libxml2's structured handler.
struct ErrorCollector {
  std::string first_message;
  int count = 0;
};

void CollectStructuredError(void* user_data, xmlError* error) {
  auto* collector = static_cast<ErrorCollector*>(user_data);
  ++collector->count;
  if (collector->count > 1 || error == nullptr) return;

  std::string message = error->message != nullptr ? error->message : "unknown libxml2 error";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (error->line > 0) message = "line " + std::to_string(error->line) + ": " + message;
  collector->first_message = message;
}

bool ValidateWith(xmlSchema* schema, xmlNode* element, std::string* error) {
  xmlSchemaValidCtxt* context = xmlSchemaNewValidCtxt(schema);
  if (context == nullptr) {
    *error = "could not allocate a libxml2 schema validation context";
    return false;
  }

  ErrorCollector collector;
  xmlSchemaSetValidStructuredErrors(context, CollectStructuredError, &collector);
  const int result = xmlSchemaValidateOneElement(context, element);
  xmlSchemaFreeValidCtxt(context);

  if (result == 0) return true;
  *error = collector.first_message.empty() ? "the element does not conform to the schema"
                                           : collector.first_message;
  return false;
}

xmlSchema* LoadSchema(const std::filesystem::path& path, std::string* error) {
  xmlSchemaParserCtxt* parser = xmlSchemaNewParserCtxt(path.c_str());
  if (parser == nullptr) {
    *error = "could not create a schema parser for " + path.string();
    return nullptr;
  }

  ErrorCollector collector;
  xmlSchemaSetParserStructuredErrors(parser, CollectStructuredError, &collector);
  xmlSchema* schema = xmlSchemaParse(parser);
  xmlSchemaFreeParserCtxt(parser);
  if (schema == nullptr) {
    *error = "failed to load schema " + path.string() + ": " + collector.first_message;
  }
  return schema;
}

}  // namespace

void InitXmlLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    // xmlNoNetExternalEntityLoader resolves through the loaded catalogs first and then refuses
    // http and ftp URLs, so schema imports never reach the network.
    xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
  });
}

XmlDocPtr ParseXmlSafely(std::string_view data, std::string* error, int* error_code) {
  InitXmlLibrary();
  *error_code = 0;

  xmlParserCtxt* context = xmlNewParserCtxt();
  if (context == nullptr) {
    *error = "could not allocate a libxml2 parser context";
    return nullptr;
  }

  // No XML_PARSE_NOENT (entities stay unexpanded), no XML_PARSE_DTDLOAD and no XML_PARSE_HUGE,
  // so libxml2's default size and depth limits apply.
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  xmlDoc* doc = xmlCtxtReadMemory(context, data.data(), static_cast<int>(data.size()),
                                  "request.xml", nullptr, options);
  if (doc == nullptr) {
    const xmlError* last = xmlCtxtGetLastError(context);
    *error = last != nullptr && last->message != nullptr ? last->message : "malformed XML";
    while (!error->empty() && error->back() == '\n') error->pop_back();
    if (last != nullptr) {
      *error_code = last->code;
      *error = "line " + std::to_string(last->line) + ": " + *error;
    }
  }
  xmlFreeParserCtxt(context);
  return XmlDocPtr(doc);
}

bool IsElement(const xmlNode* node, const char* ns_uri, const char* local_name) {
  if (node == nullptr || node->type != XML_ELEMENT_NODE) return false;
  if (xmlStrcmp(node->name, BAD_CAST local_name) != 0) return false;
  if (node->ns == nullptr || node->ns->href == nullptr) return false;
  return xmlStrcmp(node->ns->href, BAD_CAST ns_uri) == 0;
}

xmlNode* FindChild(const xmlNode* parent, std::string_view local_name) {
  if (parent == nullptr) return nullptr;
  for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    if (local_name == reinterpret_cast<const char*>(child->name)) return child;
  }
  return nullptr;
}

xmlNode* FindPath(const xmlNode* parent, std::string_view path) {
  const xmlNode* current = parent;
  while (current != nullptr && !path.empty()) {
    const size_t slash = path.find('/');
    current = FindChild(current, path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return const_cast<xmlNode*>(current);
}

std::string NodeText(const xmlNode* node) {
  if (node == nullptr) return "";
  xmlChar* content = xmlNodeGetContent(node);
  if (content == nullptr) return "";
  std::string text(reinterpret_cast<const char*>(content));
  xmlFree(content);
  return text;
}

std::string TextAt(const xmlNode* parent, std::string_view path) {
  return NodeText(FindPath(parent, path));
}

std::unique_ptr<SchemaSet> SchemaSet::Load(const std::string& xsd_dir, std::string* error) {
  InitXmlLibrary();
  const std::filesystem::path dir(xsd_dir);
  const std::filesystem::path catalog = dir / "catalog.xml";
  if (!std::filesystem::exists(catalog)) {
    *error = "catalog.xml not found in " + xsd_dir + " (needed to resolve the xmldsig import offline)";
    return nullptr;
  }

  {
    // xmlLoadCatalog adds to libxml2's process-wide default catalog.
    std::lock_guard<std::mutex> lock(catalog_mutex);
    if (xmlLoadCatalog(catalog.c_str()) != 0) {
      *error = "failed to load XML catalog " + catalog.string();
      return nullptr;
    }
  }

  std::unique_ptr<SchemaSet> set(new SchemaSet());
  set->request_schema_ = LoadSchema(dir / "SuministroLR.xsd", error);
  if (set->request_schema_ == nullptr) return nullptr;
  set->response_schema_ = LoadSchema(dir / "RespuestaSuministro.xsd", error);
  if (set->response_schema_ == nullptr) return nullptr;
  return set;
}

SchemaSet::~SchemaSet() {
  if (request_schema_ != nullptr) xmlSchemaFree(request_schema_);
  if (response_schema_ != nullptr) xmlSchemaFree(response_schema_);
}

bool SchemaSet::ValidateRequestElement(xmlNode* element, std::string* error) const {
  return ValidateWith(request_schema_, element, error);
}

bool SchemaSet::ValidateResponseElement(xmlNode* element, std::string* error) const {
  return ValidateWith(response_schema_, element, error);
}

}  // namespace aeat_emulator
