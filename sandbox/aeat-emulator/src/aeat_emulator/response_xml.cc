#include "aeat_emulator/response_xml.h"

#include <libxml/tree.h>

#include <utility>

#include "aeat_emulator/error_codes.h"
#include "aeat_emulator/xml_support.h"

namespace aeat_emulator {
namespace {

const xmlChar* X(const char* text) { return BAD_CAST text; }

// Adds a child element whose text libxml2 escapes.
xmlNode* AddText(xmlNode* parent, xmlNs* ns, const char* name, const std::string& text) {
  return xmlNewTextChild(parent, ns, X(name), X(text.c_str()));
}

xmlNode* AddElement(xmlNode* parent, xmlNs* ns, const char* name) {
  return xmlNewChild(parent, ns, X(name), nullptr);
}

void AddCopy(xmlNode* parent, xmlNs* ns, const ElementCopy& copy) {
  if (copy.children.empty()) {
    AddText(parent, ns, copy.local_name.c_str(), copy.text);
    return;
  }
  xmlNode* element = AddElement(parent, ns, copy.local_name.c_str());
  for (const ElementCopy& child : copy.children) AddCopy(element, ns, child);
}

void AddLine(xmlNode* parent, xmlNs* tik_r, xmlNs* tik, const ResponseLine& line) {
  const SubmittedRecord& record = *line.record;
  xmlNode* element = AddElement(parent, tik_r, "RespuestaLinea");

  // The response uses the alta names for anulaciones too (IDFacturaExpedidaType).
  xmlNode* id = AddElement(element, tik_r, "IDFactura");
  AddText(id, tik, "IDEmisorFactura", record.id_emisor_factura);
  AddText(id, tik, "NumSerieFactura", record.num_serie_factura);
  AddText(id, tik, "FechaExpedicionFactura", record.fecha_expedicion_factura);

  xmlNode* operacion = AddElement(element, tik_r, "Operacion");
  AddText(operacion, tik, "TipoOperacion",
          record.type == RecordType::kAlta ? "Alta" : "Anulacion");
  if (!record.subsanacion.empty()) AddText(operacion, tik, "Subsanacion", record.subsanacion);
  if (!record.rechazo_previo.empty()) AddText(operacion, tik, "RechazoPrevio", record.rechazo_previo);
  if (!record.sin_registro_previo.empty()) {
    AddText(operacion, tik, "SinRegistroPrevio", record.sin_registro_previo);
  }

  if (!record.ref_externa.empty()) AddText(element, tik_r, "RefExterna", record.ref_externa);
  AddText(element, tik_r, "EstadoRegistro", line.estado);
  if (line.error_code != 0) {
    AddText(element, tik_r, "CodigoErrorRegistro", std::to_string(line.error_code));
    AddText(element, tik_r, "DescripcionErrorRegistro", line.error_description);
  }

  if (!line.duplicate.has_value()) return;
  const DuplicateInfo& duplicate = *line.duplicate;
  xmlNode* registro_duplicado = AddElement(element, tik_r, "RegistroDuplicado");
  AddText(registro_duplicado, tik, "IdPeticionRegistroDuplicado", duplicate.id_peticion);
  AddText(registro_duplicado, tik, "EstadoRegistroDuplicado", duplicate.estado);
  if (duplicate.error_code != 0) {
    AddText(registro_duplicado, tik, "CodigoErrorRegistro", std::to_string(duplicate.error_code));
    AddText(registro_duplicado, tik, "DescripcionErrorRegistro",
            DescribeAeatError(duplicate.error_code));
  }
}

std::string Serialize(xmlDoc* doc) {
  xmlChar* buffer = nullptr;
  int size = 0;
  xmlDocDumpFormatMemoryEnc(doc, &buffer, &size, "UTF-8", 1);
  std::string text(reinterpret_cast<const char*>(buffer), static_cast<size_t>(size));
  xmlFree(buffer);
  return text;
}

}  // namespace

std::string BuildResponseEnvelope(const SubmissionResponse& response) {
  XmlDocPtr doc(xmlNewDoc(X("1.0")));
  xmlNode* envelope = xmlNewNode(nullptr, X("Envelope"));
  xmlDocSetRootElement(doc.get(), envelope);
  xmlNs* env = xmlNewNs(envelope, X(kSoapEnvelopeNs), X("env"));
  xmlSetNs(envelope, env);
  xmlNs* tik_r = xmlNewNs(envelope, X(kRespuestaSuministroNs), X("tikR"));
  xmlNs* tik = xmlNewNs(envelope, X(kSuministroInformacionNs), X("tik"));

  AddElement(envelope, env, "Header");
  xmlNode* body = AddElement(envelope, env, "Body");
  xmlNewProp(body, X("Id"), X("Body"));
  xmlNode* answer = AddElement(body, tik_r, "RespuestaRegFactuSistemaFacturacion");

  if (!response.csv.empty()) {
    AddText(answer, tik_r, "CSV", response.csv);
    xmlNode* datos = AddElement(answer, tik_r, "DatosPresentacion");
    AddText(datos, tik, "NIFPresentador", response.nif_presentador);
    AddText(datos, tik, "TimestampPresentacion", response.timestamp_presentacion);
  }

  xmlNode* cabecera = AddElement(answer, tik_r, "Cabecera");
  if (response.cabecera != nullptr) {
    for (const ElementCopy& child : response.cabecera->children) AddCopy(cabecera, tik, child);
  }

  AddText(answer, tik_r, "TiempoEsperaEnvio", std::to_string(response.wait_seconds));
  AddText(answer, tik_r, "EstadoEnvio", response.estado_envio);
  for (const ResponseLine& line : response.lines) AddLine(answer, tik_r, tik, line);

  return Serialize(doc.get());
}

std::string BuildFaultEnvelope(const std::string& fault_code, const std::string& fault_string) {
  XmlDocPtr doc(xmlNewDoc(X("1.0")));
  xmlNode* envelope = xmlNewNode(nullptr, X("Envelope"));
  xmlDocSetRootElement(doc.get(), envelope);
  xmlNs* env = xmlNewNs(envelope, X(kSoapEnvelopeNs), X("env"));
  xmlSetNs(envelope, env);

  xmlNode* body = AddElement(envelope, env, "Body");
  xmlNode* fault = AddElement(body, env, "Fault");
  // SOAP 1.1 puts faultcode and faultstring in no namespace. xmlNewTextChild would copy the
  // parent's namespace when given none, so the nodes are created unqualified and then attached.
  for (const auto& [name, text] : {std::pair{"faultcode", &fault_code},
                                   std::pair{"faultstring", &fault_string}}) {
    xmlNode* child = xmlNewDocNode(doc.get(), nullptr, X(name), nullptr);
    xmlNodeAddContent(child, X(text->c_str()));
    xmlAddChild(fault, child);
  }
  return Serialize(doc.get());
}

}  // namespace aeat_emulator
