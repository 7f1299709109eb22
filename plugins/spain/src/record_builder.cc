#include "record_builder.h"

#include "aeat_xml.h"

namespace fiscal::spain {
namespace {

// Prefix of the SuministroInformacion namespace, as in AEAT's samples.
const std::string kPrefix = "sum1:";

void Element(XmlWriter& xml, const char* name, std::string_view text) {
  xml.Element(kPrefix + name, text);
}

void OptionalElement(XmlWriter& xml, const char* name, std::string_view text) {
  if (!text.empty()) Element(xml, name, text);
}

void StartRoot(XmlWriter& xml, const char* name) {
  xml.Start(kPrefix + name);
  xml.Attribute("xmlns:sum1", kSuministroInformacionNs);
  Element(xml, "IDVersion", "1.0");
}

void WriteInvoiceId(XmlWriter& xml, const char* wrapper, const InvoiceId& id) {
  xml.Start(kPrefix + wrapper);
  Element(xml, "IDEmisorFactura", id.IDEmisorFactura);
  Element(xml, "NumSerieFactura", id.NumSerieFactura);
  Element(xml, "FechaExpedicionFactura", id.FechaExpedicionFactura);
  xml.End();
}

void WriteDestinatarios(XmlWriter& xml, const std::vector<Destinatario>& destinatarios) {
  if (destinatarios.empty()) return;
  xml.Start(kPrefix + "Destinatarios");
  for (const Destinatario& destinatario : destinatarios) {
    xml.Start(kPrefix + "IDDestinatario");
    Element(xml, "NombreRazon", destinatario.NombreRazon);
    if (!destinatario.NIF.empty()) {
      Element(xml, "NIF", destinatario.NIF);
    } else {
      xml.Start(kPrefix + "IDOtro");
      OptionalElement(xml, "CodigoPais", destinatario.CodigoPais);
      Element(xml, "IDType", destinatario.IDType);
      Element(xml, "ID", destinatario.ID);
      xml.End();
    }
    xml.End();
  }
  xml.End();
}

void WriteDesglose(XmlWriter& xml, const std::vector<DetalleDesglose>& desglose) {
  xml.Start(kPrefix + "Desglose");
  for (const DetalleDesglose& detalle : desglose) {
    xml.Start(kPrefix + "DetalleDesglose");
    OptionalElement(xml, "Impuesto", detalle.Impuesto);
    OptionalElement(xml, "ClaveRegimen", detalle.ClaveRegimen);
    Element(xml, "CalificacionOperacion", detalle.CalificacionOperacion);
    OptionalElement(xml, "TipoImpositivo", detalle.TipoImpositivo);
    Element(xml, "BaseImponibleOimporteNoSujeto", detalle.BaseImponibleOimporteNoSujeto);
    OptionalElement(xml, "CuotaRepercutida", detalle.CuotaRepercutida);
    xml.End();
  }
  xml.End();
}

void WriteEncadenamiento(XmlWriter& xml, const std::optional<RegistroAnterior>& anterior) {
  xml.Start(kPrefix + "Encadenamiento");
  if (!anterior) {
    Element(xml, "PrimerRegistro", "S");
  } else {
    xml.Start(kPrefix + "RegistroAnterior");
    Element(xml, "IDEmisorFactura", anterior->id.IDEmisorFactura);
    Element(xml, "NumSerieFactura", anterior->id.NumSerieFactura);
    Element(xml, "FechaExpedicionFactura", anterior->id.FechaExpedicionFactura);
    Element(xml, "Huella", anterior->Huella);
    xml.End();
  }
  xml.End();
}

void WriteSistemaInformatico(XmlWriter& xml, const SistemaInformatico& sistema) {
  xml.Start(kPrefix + "SistemaInformatico");
  Element(xml, "NombreRazon", sistema.NombreRazon);
  Element(xml, "NIF", sistema.NIF);
  Element(xml, "NombreSistemaInformatico", sistema.NombreSistemaInformatico);
  Element(xml, "IdSistemaInformatico", sistema.IdSistemaInformatico);
  Element(xml, "Version", sistema.Version);
  Element(xml, "NumeroInstalacion", sistema.NumeroInstalacion);
  Element(xml, "TipoUsoPosibleSoloVerifactu", sistema.TipoUsoPosibleSoloVerifactu);
  Element(xml, "TipoUsoPosibleMultiOT", sistema.TipoUsoPosibleMultiOT);
  Element(xml, "IndicadorMultiplesOT", sistema.IndicadorMultiplesOT);
  xml.End();
}

// Writes the closing fields shared by both record types, in XSD order.
void WriteTrailer(XmlWriter& xml, const std::string& fecha_hora, const std::string& huella) {
  Element(xml, "FechaHoraHusoGenRegistro", fecha_hora);
  Element(xml, "TipoHuella", "01");
  Element(xml, "Huella", huella);
}

std::string PreviousHuella(const std::optional<RegistroAnterior>& anterior) {
  return anterior ? anterior->Huella : std::string();
}

}  // namespace

AltaHuellaFields HuellaFieldsOf(const RegistroAltaData& data) {
  AltaHuellaFields fields;
  fields.IDEmisorFactura = data.id.IDEmisorFactura;
  fields.NumSerieFactura = data.id.NumSerieFactura;
  fields.FechaExpedicionFactura = data.id.FechaExpedicionFactura;
  fields.TipoFactura = data.TipoFactura;
  fields.CuotaTotal = data.CuotaTotal;
  fields.ImporteTotal = data.ImporteTotal;
  fields.Huella = PreviousHuella(data.anterior);
  fields.FechaHoraHusoGenRegistro = data.FechaHoraHusoGenRegistro;
  return fields;
}

AnulacionHuellaFields HuellaFieldsOf(const RegistroAnulacionData& data) {
  AnulacionHuellaFields fields;
  fields.IDEmisorFacturaAnulada = data.anulada.IDEmisorFactura;
  fields.NumSerieFacturaAnulada = data.anulada.NumSerieFactura;
  fields.FechaExpedicionFacturaAnulada = data.anulada.FechaExpedicionFactura;
  fields.Huella = PreviousHuella(data.anterior);
  fields.FechaHoraHusoGenRegistro = data.FechaHoraHusoGenRegistro;
  return fields;
}

BuiltRecord BuildRegistroAlta(const RegistroAltaData& data) {
  BuiltRecord record;
  record.huella = ComputeAltaHuella(HuellaFieldsOf(data));

  XmlWriter xml(true);
  StartRoot(xml, "RegistroAlta");
  WriteInvoiceId(xml, "IDFactura", data.id);
  Element(xml, "NombreRazonEmisor", data.NombreRazonEmisor);
  OptionalElement(xml, "Subsanacion", data.Subsanacion);
  OptionalElement(xml, "RechazoPrevio", data.RechazoPrevio);
  Element(xml, "TipoFactura", data.TipoFactura);
  OptionalElement(xml, "TipoRectificativa", data.TipoRectificativa);
  if (!data.FacturasRectificadas.empty()) {
    xml.Start(kPrefix + "FacturasRectificadas");
    for (const InvoiceId& id : data.FacturasRectificadas) {
      WriteInvoiceId(xml, "IDFacturaRectificada", id);
    }
    xml.End();
  }
  OptionalElement(xml, "FechaOperacion", data.FechaOperacion);
  Element(xml, "DescripcionOperacion", data.DescripcionOperacion);
  OptionalElement(xml, "Macrodato", data.Macrodato);
  WriteDestinatarios(xml, data.Destinatarios);
  WriteDesglose(xml, data.Desglose);
  Element(xml, "CuotaTotal", data.CuotaTotal);
  Element(xml, "ImporteTotal", data.ImporteTotal);
  WriteEncadenamiento(xml, data.anterior);
  WriteSistemaInformatico(xml, data.sistema);
  WriteTrailer(xml, data.FechaHoraHusoGenRegistro, record.huella);
  xml.End();

  record.xml = xml.Finish();
  return record;
}

BuiltRecord BuildRegistroAnulacion(const RegistroAnulacionData& data) {
  BuiltRecord record;
  record.huella = ComputeAnulacionHuella(HuellaFieldsOf(data));

  XmlWriter xml(true);
  StartRoot(xml, "RegistroAnulacion");
  xml.Start(kPrefix + "IDFactura");
  Element(xml, "IDEmisorFacturaAnulada", data.anulada.IDEmisorFactura);
  Element(xml, "NumSerieFacturaAnulada", data.anulada.NumSerieFactura);
  Element(xml, "FechaExpedicionFacturaAnulada", data.anulada.FechaExpedicionFactura);
  xml.End();
  WriteEncadenamiento(xml, data.anterior);
  WriteSistemaInformatico(xml, data.sistema);
  WriteTrailer(xml, data.FechaHoraHusoGenRegistro, record.huella);
  xml.End();

  record.xml = xml.Finish();
  return record;
}

}  // namespace fiscal::spain
