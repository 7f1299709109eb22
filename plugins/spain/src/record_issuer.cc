#include "record_issuer.h"

#include <optional>
#include <vector>

#include "amount.h"
#include "customer.h"
#include "iva_rates.h"
#include "json_util.h"
#include "local_time.h"
#include "location_config.h"
#include "qr.h"
#include "receipt.h"
#include "record_builder.h"
#include "text_rules.h"

namespace fiscal::spain {
namespace {

// Desglose contains at most 12 DetalleDesglose lines (SuministroInformacion.xsd).
constexpr size_t kMaxDesgloseLines = 12;
// A simplified invoice (F2) may total at most 3,000.00 EUR (AEAT validation 1150). AEAT accepts
// 10 EUR more to absorb rounding, but the plugin applies 3,000.00 exactly because the host
// computes amounts exactly.
constexpr int64_t kSimplifiedInvoiceLimitCents = 300000;
// AEAT rejects FechaExpedicionFactura before 28-10-2024 (validation 1152).
constexpr int kFirstValidDate = 20241028;
// From this ImporteTotal (absolute value) on, AEAT requires Macrodato=S (AEAT validations v1.2.0, rule 10).
constexpr int64_t kMacrodatoThresholdCents = 10000000000;

const char kDefaultSaleDescription[] = "Venta";
const char kDefaultRefundDescription[] = "Devolución";

// Everything an issue_record call needs besides the operation-specific parts.
struct IssueContext {
  std::string operation;
  bool live = false;
  LocationConfig location;
  LocalTime local;
  int issue_date = 0;  // FechaExpedicionFactura as yyyymmdd
  std::optional<RegistroAnterior> anterior;
  const rapidjson::Value* transaction = nullptr;
  const rapidjson::Value* original = nullptr;
};

// The parts of a stored RegistroAlta that a refund or cancellation refers to.
struct OriginalAlta {
  InvoiceId id;
  std::string TipoFactura;
  std::vector<Destinatario> Destinatarios;
};

struct IssuedRecord {
  std::string fiscal_id;
  std::string record_type;
  BuiltRecord built;
  std::string qr_payload;
  InvoiceId chain_id;  // IDs the next record's RegistroAnterior carries
  std::string record_data;
  std::string receipt;
};

bool IsUpperHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

std::string JsonText(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

Status ReadInvoiceId(const rapidjson::Value& object, const std::string& path, const char* suffix,
                     InvoiceId* out) {
  std::string emisor = std::string("IDEmisorFactura") + suffix;
  std::string numero = std::string("NumSerieFactura") + suffix;
  std::string fecha = std::string("FechaExpedicionFactura") + suffix;
  Status status = GetRequiredString(object, emisor.c_str(), path + "." + emisor, &out->IDEmisorFactura);
  if (!status.ok()) return status;
  status = GetRequiredString(object, numero.c_str(), path + "." + numero, &out->NumSerieFactura);
  if (!status.ok()) return status;
  return GetRequiredString(object, fecha.c_str(), path + "." + fecha, &out->FechaExpedicionFactura);
}

Status ParseChainPrevious(const rapidjson::Value& input, std::optional<RegistroAnterior>* out) {
  const rapidjson::Value* chain = nullptr;
  Status status = GetRequiredObject(input, "chain", "chain", &chain);
  if (!status.ok()) return status;

  const rapidjson::Value* previous = FindMember(*chain, "previous");
  if (previous == nullptr) return Status::Ok();
  if (!previous->IsObject()) return Status::Invalid("chain.previous", "chain.previous must be an object or null");

  RegistroAnterior anterior;
  status = ReadInvoiceId(*previous, "chain.previous", "", &anterior.id);
  if (!status.ok()) return status;
  status = GetRequiredString(*previous, "Huella", "chain.previous.Huella", &anterior.Huella);
  if (!status.ok()) return status;
  if (!IsUpperHex64(anterior.Huella)) {
    return Status::Invalid("chain.previous.Huella",
                           "chain.previous.Huella must be 64 upper-case hex characters, as returned in chain_state");
  }
  *out = std::move(anterior);
  return Status::Ok();
}

Status ParseContext(const rapidjson::Value& input, IssueContext* ctx) {
  Status status = GetRequiredString(input, "operation", "operation", &ctx->operation);
  if (!status.ok()) return status;
  if (ctx->operation != "sale" && ctx->operation != "refund" && ctx->operation != "cancel") {
    return Status::Invalid("operation", "operation must be \"sale\", \"refund\" or \"cancel\"");
  }

  std::string environment;
  status = GetRequiredString(input, "environment", "environment", &environment);
  if (!status.ok()) return status;
  if (environment != "test" && environment != "live") {
    return Status::Invalid("environment", "environment must be \"test\" or \"live\"");
  }
  ctx->live = environment == "live";

  const rapidjson::Value* location = nullptr;
  status = GetRequiredObject(input, "location", "location", &location);
  if (!status.ok()) return status;
  status = ParseLocationConfig(*location, "location", &ctx->location);
  if (!status.ok()) return status;

  std::string now;
  status = GetRequiredString(input, "now", "now", &now);
  if (!status.ok()) return status;
  int64_t epoch_seconds = 0;
  if (!ParseUtcTimestamp(now, &epoch_seconds)) {
    return Status::Invalid("now", "now must be a UTC time like 2026-12-04T19:55:53Z (whole seconds, \"Z\")");
  }
  ctx->local = ToLocalTime(epoch_seconds, ctx->location.territory);
  ctx->issue_date = ctx->local.year * 10000 + ctx->local.month * 100 + ctx->local.day;
  if (ctx->issue_date < kFirstValidDate) {
    return Status::Invalid("now", "now is before 28-10-2024, the first invoice date AEAT accepts");
  }

  status = ParseChainPrevious(input, &ctx->anterior);
  if (!status.ok()) return status;

  ctx->transaction = FindMember(input, "transaction");
  if (ctx->transaction != nullptr && !ctx->transaction->IsObject()) {
    return Status::Invalid("transaction", "transaction must be an object");
  }
  ctx->original = FindMember(input, "original");
  if (ctx->original != nullptr && !ctx->original->IsObject()) {
    return Status::Invalid("original", "original must be an object or null");
  }
  return Status::Ok();
}

Status ParseAmount(const rapidjson::Value& object, const char* name, const std::string& path,
                   std::string* out) {
  Status status = GetRequiredString(object, name, path, out);
  if (!status.ok()) return status;
  if (!IsAmount(*out)) {
    return Status::Invalid(path, path + " \"" + *out + "\" must be a decimal string with exactly 2 "
                                                       "decimals and at most 12 integer digits, like \"12.30\"");
  }
  return Status::Ok();
}

Status ParseInvoiceNumber(const rapidjson::Value& transaction, std::string* out) {
  const std::string field = "transaction.invoice_number";
  Status status = GetRequiredString(transaction, "invoice_number", field, out);
  if (!status.ok()) return status;
  if (out->empty() || out->size() > 60 || !IsValidSeriesText(*out)) {
    return Status::Invalid("invoice_number",
                           "invoice_number \"" + *out + "\" must have 1 to 60 printable ASCII characters "
                           "without \" ' < > = (AEAT rule 1130 for NumSerieFactura)");
  }
  if (TrimAsciiSpace(*out).size() != out->size()) {
    return Status::Invalid("invoice_number",
                           "invoice_number must not start or end with a space, because AEAT stores it trimmed");
  }
  return Status::Ok();
}

// Reads the total before the breakdown, so that an amount too large for AEAT is reported on the
// total and not on a tax line.
Status ParseTotalAmount(const rapidjson::Value& transaction, std::string* out) {
  const std::string field = "transaction.total_amount";
  Status status = GetRequiredString(transaction, "total_amount", field, out);
  if (!status.ok()) return status;

  std::string_view digits = *out;
  if (!digits.empty() && digits[0] == '-') digits.remove_prefix(1);
  size_t dot = digits.find('.');  // npos keeps the whole text
  std::string_view integer_part = digits.substr(0, dot);
  bool all_digits = integer_part.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits && integer_part.size() > 12) {
    return Status::Invalid(field, field + " " + *out + " is too large: AEAT accepts amounts of at most 12 "
                                          "integer digits (999999999999.99, type ImporteSgn12.2). Split the sale.");
  }
  return ParseAmount(transaction, "total_amount", field, out);
}

// `issue_date` (yyyymmdd) decides which IVA rates are valid.
// NOTE: AEAT checks the rate against FechaOperacion when present. The plugin writes none, so a
// refund issued after a rate's window (2 %, 5 %, 7.5 %) for a sale inside it is rejected here.
Status ParseBreakdown(const rapidjson::Value& transaction, int issue_date, std::vector<DetalleDesglose>* desglose,
                      std::vector<ReceiptTax>* taxes) {
  const rapidjson::Value* breakdown = FindMember(transaction, "breakdown");
  if (breakdown == nullptr || !breakdown->IsArray() || breakdown->Empty()) {
    return Status::Invalid("transaction.breakdown",
                           "transaction.breakdown must be a non-empty array of {tax_rate, base, tax}");
  }
  if (breakdown->Size() > kMaxDesgloseLines) {
    return Status::Invalid("transaction.breakdown",
                           "transaction.breakdown has " + std::to_string(breakdown->Size()) +
                               " entries but AEAT accepts at most 12 tax lines per invoice: split the sale");
  }

  for (rapidjson::SizeType i = 0; i < breakdown->Size(); ++i) {
    const rapidjson::Value& entry = (*breakdown)[i];
    std::string path = "transaction.breakdown[" + std::to_string(i) + "]";
    if (!entry.IsObject()) return Status::Invalid(path, path + " must be an object");

    DetalleDesglose detalle;
    detalle.Impuesto = "01";
    detalle.ClaveRegimen = "01";
    detalle.CalificacionOperacion = "S1";
    Status status = GetRequiredString(entry, "tax_rate", path + ".tax_rate", &detalle.TipoImpositivo);
    if (!status.ok()) return status;
    if (!IsTaxRate(detalle.TipoImpositivo)) {
      return Status::Invalid(path + ".tax_rate", path + ".tax_rate must be a percentage with 2 decimals, like \"21.00\"");
    }
    std::string problem = CheckIvaRate(detalle.TipoImpositivo, issue_date);
    if (!problem.empty()) return Status::Invalid(path + ".tax_rate", path + ".tax_rate " + problem);
    status = ParseAmount(entry, "base", path + ".base", &detalle.BaseImponibleOimporteNoSujeto);
    if (!status.ok()) return status;
    status = ParseAmount(entry, "tax", path + ".tax", &detalle.CuotaRepercutida);
    if (!status.ok()) return status;

    taxes->push_back({detalle.TipoImpositivo, detalle.BaseImponibleOimporteNoSujeto, detalle.CuotaRepercutida});
    desglose->push_back(std::move(detalle));
  }
  return Status::Ok();
}

// Reads a JSON string or number as text; receipts print quantities either way.
std::string TextOf(const rapidjson::Value* value) {
  if (value == nullptr) return "";
  if (value->IsString()) return std::string(value->GetString(), value->GetStringLength());
  if (value->IsNumber()) return JsonText(*value);
  return "";
}

Status ParseItems(const rapidjson::Value& transaction, std::vector<ReceiptItem>* items) {
  const rapidjson::Value* list = FindMember(transaction, "items");
  if (list == nullptr) return Status::Ok();
  if (!list->IsArray()) return Status::Invalid("transaction.items", "transaction.items must be an array");

  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const rapidjson::Value& entry = (*list)[i];
    if (!entry.IsObject()) {
      return Status::Invalid("transaction.items[" + std::to_string(i) + "]", "each item must be an object");
    }
    ReceiptItem item;
    item.descripcion = TextOf(FindMember(entry, "description"));
    item.cantidad = TextOf(FindMember(entry, "quantity"));
    item.precio_unitario = TextOf(FindMember(entry, "unit_price"));
    item.tipo_iva = TextOf(FindMember(entry, "tax_rate"));
    item.importe = TextOf(FindMember(entry, "amount"));
    items->push_back(std::move(item));
  }
  return Status::Ok();
}

// Returns the customer as an IDDestinatario, or nothing for a customer without a tax id.
Status ParseCustomer(const rapidjson::Value& transaction, std::optional<Destinatario>* out) {
  const rapidjson::Value* customer = FindMember(transaction, "customer");
  if (customer == nullptr) return Status::Ok();
  if (!customer->IsObject()) return Status::Invalid("transaction.customer", "transaction.customer must be an object or null");

  std::string tax_id, name, country;
  Status status = GetOptionalString(*customer, "tax_id", "transaction.customer.tax_id", &tax_id);
  if (!status.ok()) return status;
  if (TrimAsciiSpace(tax_id).empty()) return Status::Ok();
  status = GetOptionalString(*customer, "name", "transaction.customer.name", &name);
  if (!status.ok()) return status;
  status = GetOptionalString(*customer, "country", "transaction.customer.country", &country);
  if (!status.ok()) return status;

  Destinatario destinatario;
  status = BuildDestinatario(tax_id, name, country, "transaction.customer", &destinatario);
  if (!status.ok()) return status;
  *out = std::move(destinatario);
  return Status::Ok();
}

void WriteInvoiceIdMembers(JsonWriter& writer, const InvoiceId& id, const char* suffix) {
  writer.Key((std::string("IDEmisorFactura") + suffix).c_str());
  writer.String(id.IDEmisorFactura.c_str());
  writer.Key((std::string("NumSerieFactura") + suffix).c_str());
  writer.String(id.NumSerieFactura.c_str());
  writer.Key((std::string("FechaExpedicionFactura") + suffix).c_str());
  writer.String(id.FechaExpedicionFactura.c_str());
}

void WriteDestinatariosJson(JsonWriter& writer, const std::vector<Destinatario>& destinatarios) {
  writer.Key("Destinatarios");
  writer.StartArray();
  for (const Destinatario& destinatario : destinatarios) {
    writer.StartObject();
    WriteStringMember(writer, "NombreRazon", destinatario.NombreRazon);
    if (!destinatario.NIF.empty()) {
      WriteStringMember(writer, "NIF", destinatario.NIF);
    } else {
      WriteStringMember(writer, "CodigoPais", destinatario.CodigoPais);
      WriteStringMember(writer, "IDType", destinatario.IDType);
      WriteStringMember(writer, "ID", destinatario.ID);
    }
    writer.EndObject();
  }
  writer.EndArray();
}

Status ReadDestinatariosJson(const rapidjson::Value& record_data, const std::string& path,
                             std::vector<Destinatario>* out) {
  const rapidjson::Value* list = FindMember(record_data, "Destinatarios");
  if (list == nullptr) return Status::Ok();
  if (!list->IsArray()) return Status::Invalid(path + ".Destinatarios", path + ".Destinatarios must be an array");

  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    std::string entry_path = path + ".Destinatarios[" + std::to_string(i) + "]";
    const rapidjson::Value& entry = (*list)[i];
    Destinatario destinatario;
    Status status = GetRequiredString(entry, "NombreRazon", entry_path + ".NombreRazon", &destinatario.NombreRazon);
    if (!status.ok()) return status;
    status = GetOptionalString(entry, "NIF", entry_path + ".NIF", &destinatario.NIF);
    if (!status.ok()) return status;
    if (destinatario.NIF.empty()) {
      status = GetOptionalString(entry, "CodigoPais", entry_path + ".CodigoPais", &destinatario.CodigoPais);
      if (!status.ok()) return status;
      status = GetRequiredString(entry, "IDType", entry_path + ".IDType", &destinatario.IDType);
      if (!status.ok()) return status;
      status = GetRequiredString(entry, "ID", entry_path + ".ID", &destinatario.ID);
      if (!status.ok()) return status;
    }
    out->push_back(std::move(destinatario));
  }
  return Status::Ok();
}

// Reads the original RegistroAlta that a refund or cancellation refers to.
Status ReadOriginalAlta(const IssueContext& ctx, OriginalAlta* out) {
  if (ctx.original == nullptr) {
    return Status::Invalid("original", "original is missing: a " + ctx.operation +
                                           " needs the stored record of the original sale");
  }
  std::string record_type;
  Status status = GetRequiredString(*ctx.original, "record_type", "original.record_type", &record_type);
  if (!status.ok()) return status;
  if (record_type != "RegistroAlta") {
    return Status::Invalid("original.record_type",
                           "original.record_type is \"" + record_type + "\" but only an invoice (RegistroAlta) "
                           "can be refunded or cancelled");
  }

  const rapidjson::Value* record_data = nullptr;
  status = GetRequiredObject(*ctx.original, "record_data", "original.record_data", &record_data);
  if (!status.ok()) return status;
  status = ReadInvoiceId(*record_data, "original.record_data", "", &out->id);
  if (!status.ok()) return status;
  status = GetRequiredString(*record_data, "TipoFactura", "original.record_data.TipoFactura", &out->TipoFactura);
  if (!status.ok()) return status;
  return ReadDestinatariosJson(*record_data, "original.record_data", &out->Destinatarios);
}

SistemaInformatico MakeSistemaInformatico(const SystemInfo& system, const LocationConfig& location) {
  SistemaInformatico sistema;
  sistema.NombreRazon = system.producer_name;
  sistema.NIF = system.producer_nif;
  sistema.NombreSistemaInformatico = system.system_name;
  sistema.IdSistemaInformatico = system.system_id;
  sistema.Version = system.system_version;
  sistema.NumeroInstalacion = location.installation_number;
  // The server only runs in VERI*FACTU mode (no XAdES signature, no event log), so it cannot be
  // used as a NO VERI*FACTU system.
  sistema.TipoUsoPosibleSoloVerifactu = "S";
  // One server invoices for many taxpayers (tenants and locations), each with its own chain.
  sistema.TipoUsoPosibleMultiOT = "S";
  sistema.IndicadorMultiplesOT = location.multiple_taxpayers ? "S" : "N";
  return sistema;
}

Status CheckTotalSign(const std::string& operation, const std::string& total) {
  bool negative = AmountToCents(total) < 0;
  if (operation == "sale" && negative) {
    return Status::Invalid("transaction.total_amount", "transaction.total_amount must not be negative for a sale");
  }
  if (operation == "refund" && AmountToCents(total) > 0) {
    return Status::Invalid("transaction.total_amount",
                           "transaction.total_amount must be negative (or zero) for a refund");
  }
  return Status::Ok();
}

std::string TitleOf(const std::string& tipo_factura) {
  if (tipo_factura == "F1") return "Factura";
  if (tipo_factura == "F2") return "Factura simplificada";
  if (tipo_factura == "R1") return "Factura rectificativa";
  return "Factura rectificativa simplificada";
}

Status IssueAlta(const SystemInfo& system, const IssueContext& ctx, IssuedRecord* out) {
  if (ctx.transaction == nullptr) {
    return Status::Invalid("transaction", "transaction is missing: a " + ctx.operation + " needs it");
  }
  const rapidjson::Value& transaction = *ctx.transaction;
  bool refund = ctx.operation == "refund";

  // An anulación carries no tax lines, so only altas depend on the territory's tax.
  Status status = CheckTerritoryIssuable(ctx.location, "location");
  if (!status.ok()) return status;

  std::string type;
  status = GetOptionalString(transaction, "type", "transaction.type", &type);
  if (!status.ok()) return status;
  if (!type.empty() && type != ctx.operation) {
    return Status::Invalid("transaction.type", "transaction.type \"" + type + "\" does not match operation \"" +
                                                   ctx.operation + "\"");
  }
  std::string currency = "EUR";
  status = GetOptionalString(transaction, "currency", "transaction.currency", &currency);
  if (!status.ok()) return status;
  if (currency != "EUR") {
    return Status::Invalid("transaction.currency", "transaction.currency must be \"EUR\": VERI*FACTU records are in euros");
  }

  RegistroAltaData data;
  data.id.IDEmisorFactura = ctx.location.nif;
  data.id.FechaExpedicionFactura = ctx.local.fecha;
  data.NombreRazonEmisor = ctx.location.legal_name;
  data.FechaHoraHusoGenRegistro = ctx.local.date_time;
  data.anterior = ctx.anterior;
  data.sistema = MakeSistemaInformatico(system, ctx.location);
  status = ParseInvoiceNumber(transaction, &data.id.NumSerieFactura);
  if (!status.ok()) return status;

  ReceiptFields receipt;
  status = ParseTotalAmount(transaction, &data.ImporteTotal);
  if (!status.ok()) return status;
  status = CheckTotalSign(ctx.operation, data.ImporteTotal);
  if (!status.ok()) return status;
  int64_t total_cents = AmountToCents(data.ImporteTotal);
  if (total_cents >= kMacrodatoThresholdCents || total_cents <= -kMacrodatoThresholdCents) data.Macrodato = "S";

  status = ParseBreakdown(transaction, ctx.issue_date, &data.Desglose, &receipt.desglose);
  if (!status.ok()) return status;
  status = ParseAmount(transaction, "tax_amount", "transaction.tax_amount", &data.CuotaTotal);
  if (!status.ok()) return status;
  status = ParseItems(transaction, &receipt.lineas);
  if (!status.ok()) return status;

  std::string description;
  status = GetOptionalString(transaction, "description", "transaction.description", &description);
  if (!status.ok()) return status;
  data.DescripcionOperacion = std::string(TrimAsciiSpace(description));
  if (data.DescripcionOperacion.empty()) {
    data.DescripcionOperacion = refund ? kDefaultRefundDescription : kDefaultSaleDescription;
  }
  std::string problem = CheckFreeText(data.DescripcionOperacion, 500, false);
  if (!problem.empty()) return Status::Invalid("transaction.description", "transaction.description " + problem);

  if (!refund) {
    std::optional<Destinatario> destinatario;
    status = ParseCustomer(transaction, &destinatario);
    if (!status.ok()) return status;
    if (destinatario) data.Destinatarios.push_back(*destinatario);
    data.TipoFactura = destinatario ? "F1" : "F2";

    if (data.TipoFactura == "F2" && AmountToCents(data.ImporteTotal) > kSimplifiedInvoiceLimitCents) {
      return Status::Invalid("total_amount",
                             "total_amount " + data.ImporteTotal + " EUR exceeds 3000.00 EUR, the limit for a "
                             "simplified invoice: add customer.tax_id and customer.name to issue a full invoice");
    }
  } else {
    OriginalAlta original;
    status = ReadOriginalAlta(ctx, &original);
    if (!status.ok()) return status;

    // Refunds are rectifying invoices "por diferencias" (TipoRectificativa I) with negative
    // amounts: R1 for a full invoice, keeping its recipients, and R5 for a simplified one.
    if (original.TipoFactura == "F1") {
      data.TipoFactura = "R1";
      data.Destinatarios = original.Destinatarios;
    } else if (original.TipoFactura == "F2") {
      data.TipoFactura = "R5";
    } else {
      return Status::Invalid("original.record_data.TipoFactura",
                             "an invoice of type " + original.TipoFactura + " cannot be refunded by this plugin: "
                             "only F1 and F2 invoices can");
    }
    if (data.TipoFactura == "R1" && data.Destinatarios.empty()) {
      return Status::Invalid("original.record_data.Destinatarios",
                             "the original full invoice has no Destinatarios, which an R1 invoice needs");
    }
    data.TipoRectificativa = "I";
    data.FacturasRectificadas.push_back(original.id);
    receipt.rectifica_numero = original.id.NumSerieFactura;
    receipt.rectifica_fecha = original.id.FechaExpedicionFactura;
  }

  out->built = BuildRegistroAlta(data);
  out->fiscal_id = data.id.NumSerieFactura;
  out->record_type = "RegistroAlta";
  out->chain_id = data.id;
  out->qr_payload = BuildQrUrl(ctx.live ? kQrBaseLive : kQrBaseTest, data.id.IDEmisorFactura,
                               data.id.NumSerieFactura, data.id.FechaExpedicionFactura, data.ImporteTotal);

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  WriteInvoiceIdMembers(writer, data.id, "");
  WriteStringMember(writer, "TipoFactura", data.TipoFactura);
  WriteStringMember(writer, "CuotaTotal", data.CuotaTotal);
  WriteStringMember(writer, "ImporteTotal", data.ImporteTotal);
  WriteStringMember(writer, "FechaHoraHusoGenRegistro", data.FechaHoraHusoGenRegistro);
  WriteDestinatariosJson(writer, data.Destinatarios);
  if (!data.FacturasRectificadas.empty()) {
    writer.Key("FacturasRectificadas");
    writer.StartArray();
    for (const InvoiceId& id : data.FacturasRectificadas) {
      writer.StartObject();
      WriteInvoiceIdMembers(writer, id, "");
      writer.EndObject();
    }
    writer.EndArray();
  }
  writer.EndObject();
  out->record_data.assign(buffer.GetString(), buffer.GetSize());

  receipt.titulo = TitleOf(data.TipoFactura);
  receipt.emisor = data.NombreRazonEmisor;
  receipt.nif = data.id.IDEmisorFactura;
  receipt.numero = data.id.NumSerieFactura;
  receipt.fecha = data.id.FechaExpedicionFactura;
  receipt.tipo_factura = data.TipoFactura;
  if (!data.Destinatarios.empty()) {
    const Destinatario& first = data.Destinatarios.front();
    receipt.cliente_nombre = first.NombreRazon;
    receipt.cliente_id = first.NIF.empty() ? first.ID : first.NIF;
  }
  receipt.descripcion = data.DescripcionOperacion;
  receipt.cuota_total = data.CuotaTotal;
  receipt.importe_total = data.ImporteTotal;
  receipt.moneda = currency;
  receipt.tiene_qr = true;

  rapidjson::StringBuffer receipt_buffer;
  JsonWriter receipt_writer(receipt_buffer);
  WriteReceipt(receipt_writer, receipt);
  out->receipt.assign(receipt_buffer.GetString(), receipt_buffer.GetSize());
  return Status::Ok();
}

Status IssueAnulacion(const SystemInfo& system, const IssueContext& ctx, IssuedRecord* out) {
  OriginalAlta original;
  Status status = ReadOriginalAlta(ctx, &original);
  if (!status.ok()) return status;
  if (original.id.IDEmisorFactura != ctx.location.nif) {
    return Status::Invalid("original.record_data.IDEmisorFactura",
                           "the original invoice was issued by " + original.id.IDEmisorFactura +
                               ", not by this location's NIF " + ctx.location.nif +
                               ": cancel it from a location of that issuer");
  }

  RegistroAnulacionData data;
  data.anulada = original.id;
  data.anterior = ctx.anterior;
  data.sistema = MakeSistemaInformatico(system, ctx.location);
  data.FechaHoraHusoGenRegistro = ctx.local.date_time;

  out->built = BuildRegistroAnulacion(data);
  out->fiscal_id = original.id.NumSerieFactura;
  out->record_type = "RegistroAnulacion";
  // The record after an anulación chains to the IDs of the invoice it cancelled (OM art. 7).
  out->chain_id = original.id;

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  WriteInvoiceIdMembers(writer, original.id, "Anulada");
  WriteStringMember(writer, "FechaHoraHusoGenRegistro", data.FechaHoraHusoGenRegistro);
  writer.EndObject();
  out->record_data.assign(buffer.GetString(), buffer.GetSize());

  ReceiptFields receipt;
  receipt.titulo = "Anulación de factura";
  receipt.emisor = ctx.location.legal_name;
  receipt.nif = ctx.location.nif;
  receipt.numero = original.id.NumSerieFactura;
  receipt.fecha = ctx.local.fecha;
  receipt.anula_numero = original.id.NumSerieFactura;
  receipt.anula_fecha = original.id.FechaExpedicionFactura;
  rapidjson::StringBuffer receipt_buffer;
  JsonWriter receipt_writer(receipt_buffer);
  WriteReceipt(receipt_writer, receipt);
  out->receipt.assign(receipt_buffer.GetString(), receipt_buffer.GetSize());
  return Status::Ok();
}

std::string WriteResult(const IssuedRecord& record) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  WriteStringMember(writer, "fiscal_id", record.fiscal_id);
  WriteStringMember(writer, "record_type", record.record_type);
  WriteStringMember(writer, "document", record.built.xml);
  WriteStringMember(writer, "document_type", "application/xml");
  WriteStringMember(writer, "hash", record.built.huella);
  WriteStringMember(writer, "qr_payload", record.qr_payload);

  writer.Key("chain_state");
  writer.StartObject();
  WriteInvoiceIdMembers(writer, record.chain_id, "");
  WriteStringMember(writer, "Huella", record.built.huella);
  writer.EndObject();

  writer.Key("record_data");
  writer.RawValue(record.record_data.c_str(), record.record_data.size(), rapidjson::kObjectType);
  writer.Key("receipt");
  writer.RawValue(record.receipt.c_str(), record.receipt.size(), rapidjson::kObjectType);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Status IssueRecord(const SystemInfo& system, std::string_view input_json, std::string* result_json) {
  rapidjson::Document input;
  Status status = ParseJsonObject(input_json, "the issue_record input", &input);
  if (!status.ok()) return status;

  IssueContext ctx;
  status = ParseContext(input, &ctx);
  if (!status.ok()) return status;

  // NOTE: corrections of an existing record (Subsanacion=S, RechazoPrevio S/X) are not issued
  // yet. Every alta is a first submission, so a rejected record needs a new invoice number.
  IssuedRecord record;
  if (ctx.operation == "cancel") {
    status = IssueAnulacion(system, ctx, &record);
  } else {
    status = IssueAlta(system, ctx, &record);
  }
  if (!status.ok()) return status;

  *result_json = WriteResult(record);
  return Status::Ok();
}

}  // namespace fiscal::spain
