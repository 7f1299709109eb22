#include "soap.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <memory>

#include "aeat_xml.h"
#include "text_rules.h"

namespace fiscal::spain {
namespace {

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocFree>;

// Parses untrusted XML: no network, no DTD loading, no entity substitution, and a document with a
// DOCTYPE is refused outright so that no entity declared in it can be used.
DocPtr ParseUntrusted(std::string_view xml) {
  if (xml.find("<!DOCTYPE") != std::string_view::npos) return nullptr;
  if (xml.size() > static_cast<size_t>(INT32_MAX)) return nullptr;
  xmlDoc* doc = xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "response.xml", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) return nullptr;
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    xmlFreeDoc(doc);
    return nullptr;
  }
  return DocPtr(doc);
}

bool Is(const xmlNode* node, const char* ns, const char* name) {
  return node != nullptr && node->type == XML_ELEMENT_NODE && node->ns != nullptr &&
         std::strcmp(reinterpret_cast<const char*>(node->ns->href), ns) == 0 &&
         std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

// First child element with the given namespace and local name; `ns` null matches no namespace.
const xmlNode* Child(const xmlNode* parent, const char* ns, const char* name) {
  if (parent == nullptr) return nullptr;
  for (const xmlNode* child = parent->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    if (std::strcmp(reinterpret_cast<const char*>(child->name), name) != 0) continue;
    if (ns == nullptr && child->ns == nullptr) return child;
    if (ns != nullptr && Is(child, ns, name)) return child;
  }
  return nullptr;
}

std::string Text(const xmlNode* node) {
  if (node == nullptr) return "";
  xmlChar* content = xmlNodeGetContent(node);
  if (content == nullptr) return "";
  std::string text(TrimAsciiSpace(reinterpret_cast<const char*>(content)));
  xmlFree(content);
  return text;
}

std::string ChildText(const xmlNode* parent, const char* ns, const char* name) {
  return Text(Child(parent, ns, name));
}

// Returns the NNNN of "Codigo[NNNN]" in a faultstring, or "".
std::string FaultCodeOf(const std::string& fault_string) {
  size_t start = fault_string.find("Codigo[");
  if (start == std::string::npos) return "";
  start += std::strlen("Codigo[");
  size_t end = fault_string.find(']', start);
  if (end == std::string::npos) return "";
  return fault_string.substr(start, end - start);
}

ResponseLine ReadLine(const xmlNode* line) {
  const char* r = kRespuestaSuministroNs;
  const char* si = kSuministroInformacionNs;
  ResponseLine out;

  const xmlNode* id = Child(line, r, "IDFactura");
  out.key.IDEmisorFactura = ChildText(id, si, "IDEmisorFactura");
  out.key.NumSerieFactura = ChildText(id, si, "NumSerieFactura");
  out.key.FechaExpedicionFactura = ChildText(id, si, "FechaExpedicionFactura");
  out.key.TipoOperacion = ChildText(Child(line, r, "Operacion"), si, "TipoOperacion");
  out.EstadoRegistro = ChildText(line, r, "EstadoRegistro");
  out.CodigoErrorRegistro = ChildText(line, r, "CodigoErrorRegistro");
  out.DescripcionErrorRegistro = ChildText(line, r, "DescripcionErrorRegistro");

  const xmlNode* duplicado = Child(line, r, "RegistroDuplicado");
  if (duplicado != nullptr) {
    out.duplicado = true;
    out.EstadoRegistroDuplicado = ChildText(duplicado, si, "EstadoRegistroDuplicado");
    out.CodigoErrorDuplicado = ChildText(duplicado, si, "CodigoErrorRegistro");
    out.DescripcionErrorDuplicado = ChildText(duplicado, si, "DescripcionErrorRegistro");
  }
  return out;
}

SubmitResponse Unknown(std::string reason) {
  SubmitResponse response;
  response.kind = SubmitResponse::Kind::kUnknown;
  response.reason = std::move(reason);
  return response;
}

}  // namespace

std::string BuildSoapEnvelope(const EnvelopeHeader& header, const std::vector<std::string>& documents) {
  XmlWriter xml(true);
  xml.Declaration();
  xml.Start("soapenv:Envelope");
  xml.Attribute("xmlns:soapenv", kSoapEnvelopeNs);
  xml.Attribute("xmlns:sum", kSuministroLRNs);
  xml.Attribute("xmlns:sum1", kSuministroInformacionNs);
  xml.Start("soapenv:Header");
  xml.End();
  xml.Start("soapenv:Body");
  xml.Start("sum:RegFactuSistemaFacturacion");

  xml.Start("sum:Cabecera");
  xml.Start("sum1:ObligadoEmision");
  xml.Element("sum1:NombreRazon", header.NombreRazon);
  xml.Element("sum1:NIF", header.NIF);
  xml.End();
  if (header.incidencia) {
    xml.Start("sum1:RemisionVoluntaria");
    xml.Element("sum1:Incidencia", "S");
    xml.End();
  }
  xml.End();

  for (const std::string& document : documents) {
    xml.Start("sum:RegistroFactura");
    std::string_view element(document);
    // The element is embedded inside the envelope, so an XML declaration would be misplaced.
    if (element.substr(0, 5) == "<?xml") {
      size_t end = element.find("?>");
      element.remove_prefix(end == std::string_view::npos ? element.size() : end + 2);
    }
    while (!element.empty() && (element.front() == '\n' || element.front() == ' ')) element.remove_prefix(1);
    while (!element.empty() && (element.back() == '\n' || element.back() == ' ')) element.remove_suffix(1);
    xml.Raw(element);
    xml.End();
  }

  return xml.Finish();
}

Status ReadRecordKey(std::string_view document, RecordKey* out) {
  DocPtr doc = ParseUntrusted(document);
  if (!doc) return Status::Invalid("", "the stored document is not well-formed XML");
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  const char* si = kSuministroInformacionNs;

  const xmlNode* id = Child(root, si, "IDFactura");
  if (Is(root, si, "RegistroAlta")) {
    out->TipoOperacion = "Alta";
    out->IDEmisorFactura = ChildText(id, si, "IDEmisorFactura");
    out->NumSerieFactura = ChildText(id, si, "NumSerieFactura");
    out->FechaExpedicionFactura = ChildText(id, si, "FechaExpedicionFactura");
  } else if (Is(root, si, "RegistroAnulacion")) {
    out->TipoOperacion = "Anulacion";
    out->IDEmisorFactura = ChildText(id, si, "IDEmisorFacturaAnulada");
    out->NumSerieFactura = ChildText(id, si, "NumSerieFacturaAnulada");
    out->FechaExpedicionFactura = ChildText(id, si, "FechaExpedicionFacturaAnulada");
  } else {
    return Status::Invalid("", "the stored document is not a RegistroAlta or RegistroAnulacion element");
  }

  if (out->IDEmisorFactura.empty() || out->NumSerieFactura.empty() || out->FechaExpedicionFactura.empty()) {
    return Status::Invalid("", "the stored document has no complete IDFactura");
  }
  return Status::Ok();
}

SubmitResponse ParseSubmitResponse(int http_status, std::string_view body) {
  DocPtr doc = ParseUntrusted(body);
  const xmlNode* root = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
  const xmlNode* soap_body = Is(root, kSoapEnvelopeNs, "Envelope") ? Child(root, kSoapEnvelopeNs, "Body") : nullptr;

  // A Client fault rejects the whole submission whatever the HTTP status (AEAT sends faults with
  // HTTP 500). A Server fault means AEAT may or may not have stored the records.
  const xmlNode* fault = Child(soap_body, kSoapEnvelopeNs, "Fault");
  if (fault != nullptr) {
    std::string fault_code = ChildText(fault, nullptr, "faultcode");
    std::string fault_string = ChildText(fault, nullptr, "faultstring");
    if (fault_code.size() >= 6 && fault_code.compare(fault_code.size() - 6, 6, "Client") == 0) {
      SubmitResponse response;
      response.kind = SubmitResponse::Kind::kClientFault;
      response.fault_code = FaultCodeOf(fault_string);
      response.fault_string = fault_string;
      return response;
    }
    return Unknown("AEAT returned SOAP fault " + fault_code + ": " + fault_string);
  }

  if (http_status != 200) return Unknown("AEAT returned HTTP status " + std::to_string(http_status));
  const char* r = kRespuestaSuministroNs;
  const xmlNode* respuesta = Child(soap_body, r, "RespuestaRegFactuSistemaFacturacion");
  if (respuesta == nullptr) return Unknown("AEAT's response has no RespuestaRegFactuSistemaFacturacion element");

  SubmitResponse response;
  response.kind = SubmitResponse::Kind::kAnswer;
  response.CSV = ChildText(respuesta, r, "CSV");
  response.EstadoEnvio = ChildText(respuesta, r, "EstadoEnvio");
  std::string wait = ChildText(respuesta, r, "TiempoEsperaEnvio");
  // TiempoEsperaEnvio is a small number of seconds; anything unreadable counts as 0 and the host
  // keeps its own minimum interval.
  if (!wait.empty() && wait.size() <= 9 && wait.find_first_not_of("0123456789") == std::string::npos) {
    response.TiempoEsperaEnvio = std::stol(wait);
  }
  for (const xmlNode* child = respuesta->children; child != nullptr; child = child->next) {
    if (Is(child, r, "RespuestaLinea")) response.lines.push_back(ReadLine(child));
  }
  return response;
}

}  // namespace fiscal::spain
