// RegistroAlta and RegistroAnulacion records (Orden HAC/1177/2024 annex, SuministroInformacion.xsd)
// as standalone XML elements in the SuministroInformacion namespace, with their huella.
//
// Every value in these structs is the literal text written into the XML. The huella is computed
// from the same strings, so the hash always matches what AEAT reads.
#ifndef FISCAL_SPAIN_RECORD_BUILDER_H_
#define FISCAL_SPAIN_RECORD_BUILDER_H_

#include <optional>
#include <string>
#include <vector>

#include "huella.h"

namespace fiscal::spain {

// IDEmisorFactura, NumSerieFactura and FechaExpedicionFactura: the identity of an invoice.
struct InvoiceId {
  std::string IDEmisorFactura;
  std::string NumSerieFactura;
  std::string FechaExpedicionFactura;
};

// One IDDestinatario: NombreRazon plus either NIF or IDOtro (CodigoPais, IDType, ID).
struct Destinatario {
  std::string NombreRazon;
  std::string NIF;  // empty when IDOtro is used
  std::string CodigoPais;
  std::string IDType;
  std::string ID;
};

// One DetalleDesglose line. Empty optional fields are left out of the XML.
struct DetalleDesglose {
  std::string Impuesto;               // optional, "01" = IVA
  std::string ClaveRegimen;           // optional, "01" = general regime
  std::string CalificacionOperacion;  // "S1" = subject and not exempt
  std::string TipoImpositivo;         // optional
  std::string BaseImponibleOimporteNoSujeto;
  std::string CuotaRepercutida;       // optional
};

// Encadenamiento/RegistroAnterior: the record generated immediately before, or none for the first
// record of the chain (PrimerRegistro=S).
struct RegistroAnterior {
  InvoiceId id;
  std::string Huella;
};

struct SistemaInformatico {
  std::string NombreRazon;
  std::string NIF;
  std::string NombreSistemaInformatico;
  std::string IdSistemaInformatico;
  std::string Version;
  std::string NumeroInstalacion;
  std::string TipoUsoPosibleSoloVerifactu;
  std::string TipoUsoPosibleMultiOT;
  std::string IndicadorMultiplesOT;
};

struct RegistroAltaData {
  InvoiceId id;
  std::string NombreRazonEmisor;
  std::string Subsanacion;    // optional
  std::string RechazoPrevio;  // optional
  std::string TipoFactura;
  std::string TipoRectificativa;  // optional, required for R1-R5
  std::vector<InvoiceId> FacturasRectificadas;
  std::string FechaOperacion;  // optional
  std::string DescripcionOperacion;
  std::string Macrodato;  // optional, "S" when |ImporteTotal| >= 100,000,000.00
  std::vector<Destinatario> Destinatarios;
  std::vector<DetalleDesglose> Desglose;
  std::string CuotaTotal;
  std::string ImporteTotal;
  std::optional<RegistroAnterior> anterior;
  SistemaInformatico sistema;
  std::string FechaHoraHusoGenRegistro;
};

struct RegistroAnulacionData {
  InvoiceId anulada;  // written as IDEmisorFacturaAnulada, NumSerieFacturaAnulada, ...
  std::optional<RegistroAnterior> anterior;
  SistemaInformatico sistema;
  std::string FechaHoraHusoGenRegistro;
};

struct BuiltRecord {
  std::string xml;     // the record element, no XML declaration
  std::string huella;  // 64 upper-case hex characters
};

AltaHuellaFields HuellaFieldsOf(const RegistroAltaData& data);
AnulacionHuellaFields HuellaFieldsOf(const RegistroAnulacionData& data);

BuiltRecord BuildRegistroAlta(const RegistroAltaData& data);
BuiltRecord BuildRegistroAnulacion(const RegistroAnulacionData& data);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_RECORD_BUILDER_H_
