#include "receipt.h"

namespace fiscal::spain {
namespace {

void WriteOptionalMember(JsonWriter& writer, const char* name, const std::string& value) {
  if (!value.empty()) WriteStringMember(writer, name, value);
}

std::string StringMember(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr || !value->IsString()) return "";
  return std::string(value->GetString(), value->GetStringLength());
}

void AddLine(rapidjson::Value& lines, rapidjson::Document::AllocatorType& allocator, const std::string& text) {
  lines.PushBack(rapidjson::Value(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), allocator),
                 allocator);
}

}  // namespace

std::string SpanishDecimal(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '.') c = ',';
  }
  return out;
}

std::string SpanishRate(std::string_view text) {
  std::string out(text);
  if (out.find('.') != std::string::npos) {
    while (!out.empty() && out.back() == '0') out.pop_back();
    if (!out.empty() && out.back() == '.') out.pop_back();
  }
  return SpanishDecimal(out);
}

void WriteReceipt(JsonWriter& writer, const ReceiptFields& receipt) {
  writer.StartObject();
  WriteStringMember(writer, "title", receipt.titulo);
  WriteStringMember(writer, "issuer", receipt.emisor);
  WriteStringMember(writer, "nif", receipt.nif);
  WriteStringMember(writer, "numero", receipt.numero);
  WriteStringMember(writer, "fecha", receipt.fecha);
  WriteOptionalMember(writer, "tipo_factura", receipt.tipo_factura);
  WriteOptionalMember(writer, "cliente_nombre", receipt.cliente_nombre);
  WriteOptionalMember(writer, "cliente_id", receipt.cliente_id);
  WriteOptionalMember(writer, "rectifica_numero", receipt.rectifica_numero);
  WriteOptionalMember(writer, "rectifica_fecha", receipt.rectifica_fecha);
  WriteOptionalMember(writer, "anula_numero", receipt.anula_numero);
  WriteOptionalMember(writer, "anula_fecha", receipt.anula_fecha);
  WriteOptionalMember(writer, "descripcion", receipt.descripcion);

  writer.Key("lineas");
  writer.StartArray();
  for (const ReceiptItem& item : receipt.lineas) {
    writer.StartObject();
    WriteStringMember(writer, "descripcion", item.descripcion);
    WriteStringMember(writer, "cantidad", item.cantidad);
    WriteStringMember(writer, "precio_unitario", item.precio_unitario);
    WriteStringMember(writer, "tipo_iva", item.tipo_iva);
    WriteStringMember(writer, "importe", item.importe);
    writer.EndObject();
  }
  writer.EndArray();

  writer.Key("desglose");
  writer.StartArray();
  for (const ReceiptTax& tax : receipt.desglose) {
    writer.StartObject();
    WriteStringMember(writer, "tipo_iva", tax.tipo_iva);
    WriteStringMember(writer, "base", tax.base);
    WriteStringMember(writer, "cuota", tax.cuota);
    writer.EndObject();
  }
  writer.EndArray();

  WriteOptionalMember(writer, "cuota_total", receipt.cuota_total);
  WriteOptionalMember(writer, "importe_total", receipt.importe_total);
  WriteOptionalMember(writer, "moneda", receipt.moneda);
  WriteStringMember(writer, "qr_caption_before", receipt.tiene_qr ? kQrCaptionBefore : "");
  WriteStringMember(writer, "qr_caption_after", receipt.tiene_qr ? kQrCaptionAfter : "");
  writer.EndObject();
}

Status RenderReceipt(std::string_view input_json, std::string* result_json) {
  rapidjson::Document input;
  Status status = ParseJsonObject(input_json, "the render_receipt input", &input);
  if (!status.ok()) return status;

  const rapidjson::Value* record = nullptr;
  status = GetRequiredObject(input, "record", "record", &record);
  if (!status.ok()) return status;
  const rapidjson::Value* receipt = nullptr;
  status = GetRequiredObject(*record, "receipt", "record.receipt", &receipt);
  if (!status.ok()) return status;

  rapidjson::Document lines(rapidjson::kArrayType);
  auto& allocator = lines.GetAllocator();

  AddLine(lines, allocator, StringMember(*receipt, "issuer"));
  AddLine(lines, allocator, "NIF: " + StringMember(*receipt, "nif"));
  AddLine(lines, allocator, "Número: " + StringMember(*receipt, "numero"));
  AddLine(lines, allocator, "Fecha de expedición: " + StringMember(*receipt, "fecha"));

  std::string rectifica = StringMember(*receipt, "rectifica_numero");
  if (!rectifica.empty()) {
    AddLine(lines, allocator,
            "Rectifica la factura " + rectifica + " de " + StringMember(*receipt, "rectifica_fecha"));
  }
  std::string anula = StringMember(*receipt, "anula_numero");
  if (!anula.empty()) {
    AddLine(lines, allocator, "Anula la factura " + anula + " de " + StringMember(*receipt, "anula_fecha"));
  }
  std::string cliente = StringMember(*receipt, "cliente_nombre");
  if (!cliente.empty()) {
    AddLine(lines, allocator, "Cliente: " + cliente);
    AddLine(lines, allocator, "NIF del cliente: " + StringMember(*receipt, "cliente_id"));
  }

  const rapidjson::Value* items = FindMember(*receipt, "lineas");
  if (items != nullptr && items->IsArray()) {
    for (const rapidjson::Value& item : items->GetArray()) {
      AddLine(lines, allocator,
              SpanishDecimal(StringMember(item, "cantidad")) + " x " + StringMember(item, "descripcion"));
      AddLine(lines, allocator,
              "    " + SpanishDecimal(StringMember(item, "precio_unitario")) + " = " +
                  SpanishDecimal(StringMember(item, "importe")) + " (IVA " +
                  SpanishRate(StringMember(item, "tipo_iva")) + " %)");
    }
  }

  const rapidjson::Value* desglose = FindMember(*receipt, "desglose");
  if (desglose != nullptr && desglose->IsArray()) {
    for (const rapidjson::Value& tax : desglose->GetArray()) {
      AddLine(lines, allocator,
              "IVA " + SpanishRate(StringMember(tax, "tipo_iva")) + " %: base " +
                  SpanishDecimal(StringMember(tax, "base")) + ", cuota " +
                  SpanishDecimal(StringMember(tax, "cuota")));
    }
  }

  std::string cuota_total = StringMember(*receipt, "cuota_total");
  if (!cuota_total.empty()) AddLine(lines, allocator, "Cuota total: " + SpanishDecimal(cuota_total));
  std::string importe_total = StringMember(*receipt, "importe_total");
  if (!importe_total.empty()) {
    AddLine(lines, allocator,
            "TOTAL: " + SpanishDecimal(importe_total) + " " + StringMember(*receipt, "moneda"));
  }

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  WriteStringMember(writer, "language", "es");
  WriteStringMember(writer, "title", StringMember(*receipt, "title"));
  writer.Key("lines");
  lines.Accept(writer);
  WriteStringMember(writer, "qr_caption_before", StringMember(*receipt, "qr_caption_before"));
  WriteStringMember(writer, "qr_caption_after", StringMember(*receipt, "qr_caption_after"));
  writer.EndObject();
  result_json->assign(buffer.GetString(), buffer.GetSize());
  return Status::Ok();
}

}  // namespace fiscal::spain
