// Receipt fields in Spanish: stored with the record at issue time and turned into printable lines
// by render_receipt. QR captions follow AEAT's QR specification v0.4.7 for VERI*FACTU mode.
#ifndef FISCAL_SPAIN_RECEIPT_H_
#define FISCAL_SPAIN_RECEIPT_H_

#include <string>
#include <string_view>
#include <vector>

#include "json_util.h"
#include "status.h"

namespace fiscal::spain {

inline constexpr std::string_view kQrCaptionBefore = "QR tributario:";
inline constexpr std::string_view kQrCaptionAfter = "Factura verificable en la sede electrónica de la AEAT";

struct ReceiptItem {
  std::string descripcion;
  std::string cantidad;
  std::string precio_unitario;
  std::string tipo_iva;
  std::string importe;
};

struct ReceiptTax {
  std::string tipo_iva;
  std::string base;
  std::string cuota;
};

struct ReceiptFields {
  std::string titulo;
  std::string emisor;
  std::string nif;
  std::string numero;
  std::string fecha;
  std::string tipo_factura;  // empty for an anulación
  std::string cliente_nombre;
  std::string cliente_id;
  std::string rectifica_numero;  // refunds: the invoice being corrected
  std::string rectifica_fecha;
  std::string anula_numero;  // anulaciones: the cancelled invoice
  std::string anula_fecha;
  std::string descripcion;
  std::vector<ReceiptItem> lineas;
  std::vector<ReceiptTax> desglose;
  std::string cuota_total;
  std::string importe_total;
  std::string moneda;
  bool tiene_qr = false;
};

// Writes the receipt object stored as the record's "receipt".
void WriteReceipt(JsonWriter& writer, const ReceiptFields& receipt);

// Implements render_receipt: reads record.receipt from the input and returns
// {"language": "es", "title", "lines", "qr_caption_before", "qr_caption_after"}.
Status RenderReceipt(std::string_view input_json, std::string* result_json);

// Formats a decimal string the Spanish way ("1234.50" -> "1234,50").
std::string SpanishDecimal(std::string_view text);

// Formats a tax rate for print: "21.00" -> "21", "7.50" -> "7,5".
std::string SpanishRate(std::string_view text);

}  // namespace fiscal::spain

#endif  // FISCAL_SPAIN_RECEIPT_H_
