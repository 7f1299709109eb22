// Receipt fields in French: stored with each record at issue time and turned into printable lines
// by render_receipt. Amounts and rates are stored as decimal strings ("12.00", "20.00") and
// printed the French way ("12,00", "20,00 %").
#ifndef FISCAL_FRANCE_NF525_RECEIPT_H_
#define FISCAL_FRANCE_NF525_RECEIPT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "json_util.h"
#include "location.h"
#include "status.h"
#include "transaction.h"

namespace fiscal::france {

inline constexpr std::string_view kTrainingMention = "MODE ÉCOLE — ticket sans valeur";
inline constexpr std::string_view kQrCaptionAfter = "Code de contrôle NF525";

struct ReceiptLine {
  std::string libelle;
  std::string quantite;
  std::string prix_unitaire;
  std::string taux_tva;
  std::string montant;
};

struct ReceiptVat {
  std::string taux;
  std::string base;
  std::string tva;
  std::string ttc;
};

struct ReceiptPayment {
  std::string mode;  // already in French: "Espèces", "Rendu monnaie"
  std::string montant;
};

// A printed "label : value" line, for records without ticket lines (closures, events, archives).
struct ReceiptDetail {
  std::string libelle;
  std::string valeur;
};

struct ReceiptFields {
  std::string titre;
  bool mode_ecole = false;
  uint64_t duplicata = 0;  // copy number of a reprint, 0 on the original
  std::string etablissement;
  std::string siret;
  std::string naf;
  std::string tva_intracom;
  std::string caisse;
  std::string numero;
  std::string date;  // Paris legal time, "04/12/2026 11:15:00"
  std::vector<std::string> mentions;
  std::vector<ReceiptLine> lignes;
  std::vector<ReceiptVat> tva;
  std::string total_ht;
  std::string total_tva;
  std::string total_ttc;
  std::string devise;
  std::vector<ReceiptPayment> paiements;
  std::vector<ReceiptDetail> details;
  std::string signature;  // the 4-character extract
  std::string logiciel;
  bool qr = false;
};

// Returns the French name of a payment method ("cash" is "Espèces"); unknown methods keep their
// name.
std::string PaymentMethodLabel(std::string_view method);

// Formats a decimal the French way: "-1234.50" is "-1234,50".
std::string FrenchDecimal(std::string_view text);

// Copies the establishment's mentions (name, SIRET, NAF, VAT number, register) into a receipt.
void FillLocationReceipt(const LocationConfig& location, ReceiptFields* receipt);

// Copies the lines, VAT breakdown, totals and payments of a ticket into a receipt.
void FillTransactionReceipt(const TicketTransaction& transaction, ReceiptFields* receipt);

// Writes the receipt object stored as the record's "receipt".
void WriteReceipt(JsonWriter& writer, const ReceiptFields& receipt);

// Returns the text of the receipt object that WriteReceipt writes.
std::string ReceiptJson(const ReceiptFields& receipt);

// Implements render_receipt: reads record.receipt from the input and returns
// {"language": "fr", "title", "lines", "qr_caption_before", "qr_caption_after"}.
Status RenderReceipt(std::string_view input_json, std::string* result_json);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_NF525_RECEIPT_H_
