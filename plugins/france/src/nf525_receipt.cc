#include "nf525_receipt.h"

#include "payload.h"
#include "record.h"

namespace fiscal::france {
namespace {

void WriteOptionalMember(JsonWriter& writer, const char* name, const std::string& value) {
  if (!value.empty()) WriteStringMember(writer, name, value);
}

std::string StringMember(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* value = FindMember(object, name);
  if (value == nullptr || !value->IsString()) return "";
  return std::string(value->GetString(), value->GetStringLength());
}

const rapidjson::Value* ArrayMember(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* value = FindMember(object, name);
  return value != nullptr && value->IsArray() ? value : nullptr;
}

// Collects the printable lines of a stored receipt.
class LineList {
 public:
  void Add(std::string text) { lines_.push_back(std::move(text)); }
  void AddIfValue(const std::string& label, const std::string& value) {
    if (!value.empty()) Add(label + " : " + value);
  }
  void AddAmount(const std::string& label, const std::string& value, const std::string& currency) {
    if (!value.empty()) Add(label + " : " + FrenchDecimal(value) + " " + currency);
  }

  void Write(JsonWriter& writer) const {
    writer.StartArray();
    for (const std::string& line : lines_) WriteString(writer, line);
    writer.EndArray();
  }

 private:
  std::vector<std::string> lines_;
};

void AddHeader(const rapidjson::Value& receipt, bool training, LineList& lines) {
  if (training) lines.Add(std::string(kTrainingMention));
  const rapidjson::Value* copy = FindMember(receipt, "duplicata");
  if (copy != nullptr && copy->IsUint64() && copy->GetUint64() > 0) {
    lines.Add("DUPLICATA n°" + std::to_string(copy->GetUint64()));
  }
  std::string establishment = StringMember(receipt, "etablissement");
  if (!establishment.empty()) lines.Add(establishment);
  lines.AddIfValue("SIRET", StringMember(receipt, "siret"));
  lines.AddIfValue("NAF", StringMember(receipt, "naf"));
  lines.AddIfValue("TVA intracommunautaire", StringMember(receipt, "tva_intracom"));
  lines.AddIfValue("Caisse", StringMember(receipt, "caisse"));
  lines.AddIfValue("N°", StringMember(receipt, "numero"));
  lines.AddIfValue("Date", StringMember(receipt, "date"));
  if (const rapidjson::Value* mentions = ArrayMember(receipt, "mentions")) {
    for (const rapidjson::Value& mention : mentions->GetArray()) {
      if (mention.IsString()) lines.Add(mention.GetString());
    }
  }
}

void AddBody(const rapidjson::Value& receipt, LineList& lines) {
  std::string currency = StringMember(receipt, "devise");
  if (const rapidjson::Value* items = ArrayMember(receipt, "lignes")) {
    for (const rapidjson::Value& item : items->GetArray()) {
      lines.Add(FrenchDecimal(StringMember(item, "quantite")) + " x " +
                StringMember(item, "libelle"));
      lines.Add("    " + FrenchDecimal(StringMember(item, "prix_unitaire")) + " = " +
                FrenchDecimal(StringMember(item, "montant")) + " (TVA " +
                FrenchDecimal(StringMember(item, "taux_tva")) + " %)");
    }
  }
  if (const rapidjson::Value* vat = ArrayMember(receipt, "tva")) {
    for (const rapidjson::Value& rate : vat->GetArray()) {
      lines.Add("TVA " + FrenchDecimal(StringMember(rate, "taux")) + " % : base " +
                FrenchDecimal(StringMember(rate, "base")) + ", TVA " +
                FrenchDecimal(StringMember(rate, "tva")) + ", TTC " +
                FrenchDecimal(StringMember(rate, "ttc")));
    }
  }
  lines.AddAmount("Total HT", StringMember(receipt, "total_ht"), currency);
  lines.AddAmount("Total TVA", StringMember(receipt, "total_tva"), currency);
  lines.AddAmount("Total TTC", StringMember(receipt, "total_ttc"), currency);
  if (const rapidjson::Value* payments = ArrayMember(receipt, "paiements")) {
    for (const rapidjson::Value& payment : payments->GetArray()) {
      lines.AddAmount(StringMember(payment, "mode"), StringMember(payment, "montant"), currency);
    }
  }
  if (const rapidjson::Value* details = ArrayMember(receipt, "details")) {
    for (const rapidjson::Value& detail : details->GetArray()) {
      lines.AddIfValue(StringMember(detail, "libelle"), StringMember(detail, "valeur"));
    }
  }
}

}  // namespace

std::string PaymentMethodLabel(std::string_view method) {
  if (method == "cash") return "Espèces";
  if (method == "card") return "Carte bancaire";
  if (method == "transfer") return "Virement";
  if (method == "check" || method == "cheque") return "Chèque";
  if (method == "voucher") return "Bon d'achat";
  if (method == "other") return "Autre";
  return std::string(method);
}

std::string FrenchDecimal(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '.') c = ',';
  }
  return out;
}

void FillLocationReceipt(const LocationConfig& location, ReceiptFields* receipt) {
  receipt->etablissement = location.establishment;
  receipt->siret = location.siret;
  receipt->naf = location.naf;
  receipt->tva_intracom = location.vat_number;
  receipt->caisse = location.register_id;
  receipt->logiciel = std::string(kPluginName) + " " + std::string(kPluginVersion);
}

void FillTransactionReceipt(const TicketTransaction& transaction, ReceiptFields* receipt) {
  auto decimal = [](int64_t cents) { return FormatAmount(cents, AmountStyle::kDecimal); };
  for (const TicketLine& line : transaction.lines) {
    receipt->lignes.push_back(ReceiptLine{line.description, line.quantity, line.unit_price,
                                          FormatRatePercent(line.rate), decimal(line.amount)});
  }
  for (const VatLine& vat : transaction.vat) {
    receipt->tva.push_back(ReceiptVat{FormatRatePercent(vat.rate), decimal(vat.base),
                                      decimal(vat.tax), decimal(vat.base + vat.tax)});
  }
  receipt->total_ht = decimal(transaction.pretax);
  receipt->total_tva = decimal(transaction.tax);
  receipt->total_ttc = decimal(transaction.total);
  receipt->devise = transaction.currency;
  for (const Payment& payment : transaction.payments) {
    std::string mode =
        payment.kind == "change" ? "Rendu monnaie" : PaymentMethodLabel(payment.method);
    receipt->paiements.push_back(ReceiptPayment{mode, decimal(payment.amount)});
  }
}

void WriteReceipt(JsonWriter& writer, const ReceiptFields& receipt) {
  writer.StartObject();
  WriteStringMember(writer, "titre", receipt.titre);
  writer.Key("mode_ecole");
  writer.Bool(receipt.mode_ecole);
  WriteUintMember(writer, "duplicata", receipt.duplicata);
  WriteOptionalMember(writer, "etablissement", receipt.etablissement);
  WriteStringMember(writer, "siret", receipt.siret);
  WriteOptionalMember(writer, "naf", receipt.naf);
  WriteOptionalMember(writer, "tva_intracom", receipt.tva_intracom);
  WriteStringMember(writer, "caisse", receipt.caisse);
  WriteStringMember(writer, "numero", receipt.numero);
  WriteStringMember(writer, "date", receipt.date);

  writer.Key("mentions");
  writer.StartArray();
  for (const std::string& mention : receipt.mentions) WriteString(writer, mention);
  writer.EndArray();

  WriteObjectArrayMember(writer, "lignes", receipt.lignes, [&](const ReceiptLine& line) {
    WriteStringMember(writer, "libelle", line.libelle);
    WriteStringMember(writer, "quantite", line.quantite);
    WriteStringMember(writer, "prix_unitaire", line.prix_unitaire);
    WriteStringMember(writer, "taux_tva", line.taux_tva);
    WriteStringMember(writer, "montant", line.montant);
  });
  WriteObjectArrayMember(writer, "tva", receipt.tva, [&](const ReceiptVat& vat) {
    WriteStringMember(writer, "taux", vat.taux);
    WriteStringMember(writer, "base", vat.base);
    WriteStringMember(writer, "tva", vat.tva);
    WriteStringMember(writer, "ttc", vat.ttc);
  });

  WriteOptionalMember(writer, "total_ht", receipt.total_ht);
  WriteOptionalMember(writer, "total_tva", receipt.total_tva);
  WriteOptionalMember(writer, "total_ttc", receipt.total_ttc);
  WriteOptionalMember(writer, "devise", receipt.devise);

  WriteObjectArrayMember(writer, "paiements", receipt.paiements,
                         [&](const ReceiptPayment& payment) {
                           WriteStringMember(writer, "mode", payment.mode);
                           WriteStringMember(writer, "montant", payment.montant);
                         });
  WriteObjectArrayMember(writer, "details", receipt.details, [&](const ReceiptDetail& detail) {
    WriteStringMember(writer, "libelle", detail.libelle);
    WriteStringMember(writer, "valeur", detail.valeur);
  });

  WriteStringMember(writer, "signature", receipt.signature);
  WriteStringMember(writer, "logiciel", receipt.logiciel);
  writer.Key("qr");
  writer.Bool(receipt.qr);
  writer.EndObject();
}

std::string ReceiptJson(const ReceiptFields& receipt) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  WriteReceipt(writer, receipt);
  return BufferText(buffer);
}

Status RenderReceipt(std::string_view input_json, std::string* result_json) {
  rapidjson::Document input;
  Status status = ParseJsonObject(input_json, "the render_receipt input", &input);
  if (!status.ok()) return status;
  const rapidjson::Value* record = nullptr;
  status = GetRequiredObject(input, "record", "", &record);
  if (!status.ok()) return status;
  const rapidjson::Value* receipt = nullptr;
  status = GetRequiredObject(*record, "receipt", "record", &receipt);
  if (!status.ok()) return status;

  const rapidjson::Value* training = FindMember(*receipt, "mode_ecole");
  bool is_training = training != nullptr && training->IsBool() && training->GetBool();

  LineList lines;
  AddHeader(*receipt, is_training, lines);
  AddBody(*receipt, lines);
  lines.AddIfValue("Signature", StringMember(*receipt, "signature"));
  lines.AddIfValue("Logiciel", StringMember(*receipt, "logiciel"));
  // Training receipts carry the mention at both ends, so that no part of one passes for a sale.
  if (is_training) lines.Add(std::string(kTrainingMention));

  const rapidjson::Value* qr = FindMember(*receipt, "qr");
  bool has_qr = qr != nullptr && qr->IsBool() && qr->GetBool();

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  WriteStringMember(writer, "language", "fr");
  WriteStringMember(writer, "title", StringMember(*receipt, "titre"));
  writer.Key("lines");
  lines.Write(writer);
  WriteStringMember(writer, "qr_caption_before", "");
  WriteStringMember(writer, "qr_caption_after", has_qr ? kQrCaptionAfter : "");
  writer.EndObject();
  *result_json = BufferText(buffer);
  return Status::Ok();
}

}  // namespace fiscal::france
