// france-nf525 records: the exact payload, document and stored fields of every operation, chaining
// and cumulative totals. Closures, duplicates, the journal, archives, determinism and tampering
// follow. The field cases are C20 (every line and payment covered), C21 (platform-independent
// strings) and C23 (a signing failure issues nothing).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <string>
#include <vector>

#include "issuer.h"
#include "payload.h"
#include "nf525_receipt.h"
#include "signature.h"
#include "signer.h"
#include "verify.h"

namespace fiscal::france {
namespace {

constexpr char kLocation[] =
    R"({"siret":"73282932000074","register_id":"CAISSE-01","establishment":"Librairie du Port"})";
constexpr char kChainKey[] = "FR-73282932000074-CAISSE-01";

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string Text(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) return "<none>";
  return object[name].GetString();
}

// One line of a test transaction, tax included.
struct Line {
  std::string description;
  std::string quantity;
  std::string unit_price;
  std::string rate;
  std::string amount;
};

struct Vat {
  std::string rate;
  std::string base;
  std::string tax;
};

std::string TransactionJson(const std::string& id, const std::string& type,
                            const std::vector<Line>& lines, const std::vector<Vat>& vat,
                            const std::string& pretax, const std::string& tax,
                            const std::string& total,
                            const std::string& payments = R"("payment_method":"card")") {
  std::string json = R"({"id":")" + id + R"(","type":")" + type +
                     R"(","invoice_number":"","timestamp":"2026-12-04T11:15:00+01:00",)"
                     R"("currency":"EUR","description":"",)" +
                     payments + R"(,"items":[)";
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (i > 0) json += ",";
    json += R"({"description":")" + line.description + R"(","quantity":")" + line.quantity +
            R"(","unit_price":")" + line.unit_price + R"(","tax_rate":")" + line.rate +
            R"(","amount":")" + line.amount + R"("})";
  }
  json += R"(],"breakdown":[)";
  for (size_t i = 0; i < vat.size(); ++i) {
    if (i > 0) json += ",";
    json += R"({"tax_rate":")" + vat[i].rate + R"(","base":")" + vat[i].base + R"(","tax":")" +
            vat[i].tax + R"("})";
  }
  return json + R"(],"pretax_amount":")" + pretax + R"(","tax_amount":")" + tax +
         R"(","total_amount":")" + total + R"(","customer":null})";
}

// A book at 5.5 % and two pens at 20 %, listed with the lower rate first.
std::string BookAndPens() {
  return TransactionJson("t-1", "sale",
                         {{"Livre", "1", "10.55", "5.50", "10.55"},
                          {"Stylo", "2", "6.00", "20.00", "12.00"}},
                         {{"5.50", "10.00", "0.55"}, {"20.00", "10.00", "2.00"}}, "20.00",
                         "2.55", "22.55");
}

// A notebook paid with a 20.00 note.
std::string Notebook(const std::string& id) {
  return TransactionJson(id, "sale", {{"Cahier", "1", "12.00", "20.00", "12.00"}},
                         {{"20.00", "10.00", "2.00"}}, "10.00", "2.00", "12.00",
                         R"("payment_method":"cash","payments":[{"method":"cash","amount":"20.00"}])");
}

std::string NotebookRefund() {
  return TransactionJson("t-3", "refund", {{"Cahier", "-1", "12.00", "20.00", "-12.00"}},
                         {{"20.00", "-10.00", "-2.00"}}, "-10.00", "-2.00", "-12.00",
                         R"("payment_method":"cash")");
}

// One issued record as the host stores it.
struct Issued {
  std::string result;
  std::string fiscal_id;
  std::string record_type;
  std::string document;
  std::string hash;
  std::string record_data;
  std::string chain_state;
  std::string receipt;
  std::string payload;
  std::string format;
};

// A register as the host keeps it: one head per chain, with every record issued so far.
class Register {
 public:
  Register() {
    EXPECT_TRUE(GenerateP256Key(&key_).ok());
    signer_ = MakeLocalKeySigner(key_.get());
  }

  // Builds the issue_record input of the next record of `chain`.
  std::string Input(const std::string& operation, const std::string& chain,
                    const std::string& now, const std::string& members) const {
    auto head = heads_.find(chain);
    uint64_t sequence = head == heads_.end() ? 1 : head->second.size() + 1;
    std::string previous = head == heads_.end() ? "null" : head->second.back().chain_state;
    std::string key = chain == "tickets" ? kChainKey : std::string(kChainKey) + "#" + chain;
    return R"({"operation":")" + operation + R"(","environment":"test","now":")" + now +
           R"(","location":)" + kLocation + R"(,"chain":{"name":")" + chain + R"(","key":")" +
           key + R"(","sequence":)" + std::to_string(sequence) + R"(,"previous":)" + previous +
           "}" + (members.empty() ? "" : "," + members) + "}";
  }

  // Issues the next record of `chain`; on success it becomes the chain's head.
  Status Issue(const std::string& operation, const std::string& chain, const std::string& now,
               const std::string& members, Issued* issued = nullptr) {
    std::string result;
    Status status = IssueRecord(Input(operation, chain, now, members), signer_, &result);
    if (!status.ok()) return status;
    rapidjson::Document document = ParseJson(result);
    Issued record;
    record.result = result;
    record.fiscal_id = Text(document, "fiscal_id");
    record.record_type = Text(document, "record_type");
    record.document = Text(document, "document");
    record.hash = Text(document, "hash");
    record.record_data = ToJson(document["record_data"]);
    record.chain_state = ToJson(document["chain_state"]);
    record.receipt = ToJson(document["receipt"]);
    record.payload = Text(document["record_data"], "payload");
    record.format = Text(document["record_data"], "format");
    heads_[chain].push_back(record);
    if (issued != nullptr) *issued = record;
    return Status::Ok();
  }

  void MustIssue(const std::string& operation, const std::string& chain, const std::string& now,
                 const std::string& members, Issued* issued = nullptr) {
    Status status = Issue(operation, chain, now, members, issued);
    ASSERT_TRUE(status.ok()) << status.field() << ": " << status.message();
  }

  const std::vector<Issued>& Records(const std::string& chain) { return heads_[chain]; }

  std::vector<StoredRecord> Stored(const std::string& chain) {
    std::vector<StoredRecord> stored;
    for (const Issued& record : heads_[chain]) {
      stored.push_back({record.format, record.payload, record.hash, record.document});
    }
    return stored;
  }

  // The "original" object the host passes for a refund, a void or a reprint.
  static std::string Original(const Issued& record) {
    return R"("original":{"fiscal_id":")" + record.fiscal_id + R"(","hash":")" + record.hash +
           R"(","record_type":")" + record.record_type + R"(","record_data":)" +
           record.record_data + "}";
  }

  // The closure input covering the tickets up to `sequence`.
  std::string Closure(const std::string& period, const std::string& label, size_t sequence) {
    std::string state = sequence == 0 ? "null" : heads_["tickets"][sequence - 1].chain_state;
    return R"("closure":{"period":")" + period + R"(","label":")" + label +
           R"(","tickets":{"sequence":)" + std::to_string(sequence) + R"(,"state":)" + state +
           "}}";
  }

  EVP_PKEY* key() { return key_.get(); }
  const Signer& signer() const { return signer_; }

 private:
  EvpPkeyPtr key_;
  Signer signer_;
  std::map<std::string, std::vector<Issued>> heads_;
};

// Five tickets over three days: a sale, a cash sale, its refund, a void of the first sale, and a
// last sale.
void IssueTickets(Register& till) {
  till.MustIssue("sale", "tickets", "2026-12-04T10:15:00Z", R"("transaction":)" + BookAndPens());
  till.MustIssue("sale", "tickets", "2026-12-04T10:20:00Z", R"("transaction":)" + Notebook("t-2"));
  const std::vector<Issued>& tickets = till.Records("tickets");
  till.MustIssue("refund", "tickets", "2026-12-05T09:00:00Z",
                 R"("transaction":)" + NotebookRefund() + "," + Register::Original(tickets[1]));
  till.MustIssue("cancel", "tickets", "2026-12-05T09:10:00Z",
                 R"("transaction":{"id":"t-1","type":"sale","invoice_number":""},)" +
                     Register::Original(till.Records("tickets")[0]));
  till.MustIssue("sale", "tickets", "2026-12-06T09:00:00Z", R"("transaction":)" + Notebook("t-5"));
}

TEST(FranceRecords, SaleDocumentAndPayload) {
  Register till;
  Issued sale;
  till.MustIssue("sale", "tickets", "2026-12-04T10:15:00Z", R"("transaction":)" + BookAndPens(),
                 &sale);

  const std::string expected_document =
      R"({"fiscal_id":"CAISSE-01-T-000001","type":"VENTE","siret":"73282932000074",)"
      R"("register":"CAISSE-01","establishment":"Librairie du Port","sequence":1,)"
      R"("timestamp":"2026-12-04T10:15:00Z","transaction":{"id":"t-1","type":"sale",)"
      R"("invoice_number":"","timestamp":"2026-12-04T11:15:00+01:00","currency":"EUR",)"
      R"("description":""},"lines":[{"description":"Livre","quantity":"1","unit_price":"10.55",)"
      R"("tax_rate":"5.50","amount":"10.55"},{"description":"Stylo","quantity":"2",)"
      R"("unit_price":"6.00","tax_rate":"20.00","amount":"12.00"}],"vat":[{"tax_rate":"20.00",)"
      R"("base":"10.00","tax":"2.00","total":"12.00"},{"tax_rate":"5.50","base":"10.00",)"
      R"("tax":"0.55","total":"10.55"}],"pretax_amount":"20.00","tax_amount":"2.55",)"
      R"("total_amount":"22.55","payments":[{"kind":"payment","method":"card","amount":"22.55"}],)"
      R"("customer":null,"original":null})";
  EXPECT_EQ(sale.document, expected_document);

  const std::string expected_payload =
      "2000:12.00|0550:10.55,22.55,20261204101500,CAISSE-01,000001,VENTE,Y," +
      Sha256Base64Url(expected_document);
  EXPECT_EQ(sale.payload, expected_payload);
  EXPECT_EQ(sale.fiscal_id, "CAISSE-01-T-000001");
  EXPECT_EQ(sale.record_type, "ticket");
  EXPECT_EQ(sale.format, "fr-ticket-v1");
  ASSERT_EQ(sale.hash.size(), kSignatureLength);
  EXPECT_EQ(VerifyMessage(till.key(), expected_payload + ",", sale.hash), SignatureCheck::kValid);

  std::string key_id;
  ASSERT_TRUE(PublicKeyId(till.key(), &key_id).ok());
  EXPECT_EQ(sale.record_data,
            R"({"format":"fr-ticket-v1","payload":")" + expected_payload + R"(","signature":")" +
                sale.hash + R"(","extract":")" + SignatureExtract(sale.hash) +
                R"(","key_id":")" + key_id +
                R"(","type":"VENTE","register":"CAISSE-01","sequence":1,)"
                R"("timestamp":"2026-12-04T10:15:00Z","vat_totals":{"2000":"12.00","0550":"10.55"},)"
                R"("total":"22.55"})");
  EXPECT_EQ(sale.chain_state,
            R"({"signature":")" + sale.hash +
                R"(","sequence":1,"cumulative":{"total":"22.55","absolute":"22.55",)"
                R"("rates":{"2000":"12.00","0550":"10.55"}}})");

  rapidjson::Document result = ParseJson(sale.result);
  EXPECT_EQ(Text(result, "document_type"), "application/json");
  EXPECT_EQ(Text(result, "qr_payload"), "NF525|CAISSE-01-T-000001|22.55|20261204101500|" +
                                            SignatureExtract(sale.hash));
}

TEST(FranceRecords, SaleReceiptFields) {
  Register till;
  Issued sale;
  till.MustIssue("sale", "tickets", "2026-12-04T10:15:00Z", R"("transaction":)" + BookAndPens(),
                 &sale);
  EXPECT_EQ(sale.receipt,
            R"({"titre":"TICKET","mode_ecole":false,"duplicata":0,)"
            R"("etablissement":"Librairie du Port","siret":"73282932000074","caisse":"CAISSE-01",)"
            R"("numero":"CAISSE-01-T-000001","date":"04/12/2026 11:15:00","mentions":[],)"
            R"("lignes":[{"libelle":"Livre","quantite":"1","prix_unitaire":"10.55",)"
            R"("taux_tva":"5.50","montant":"10.55"},{"libelle":"Stylo","quantite":"2",)"
            R"("prix_unitaire":"6.00","taux_tva":"20.00","montant":"12.00"}],)"
            R"("tva":[{"taux":"20.00","base":"10.00","tva":"2.00","ttc":"12.00"},)"
            R"({"taux":"5.50","base":"10.00","tva":"0.55","ttc":"10.55"}],)"
            R"("total_ht":"20.00","total_tva":"2.55","total_ttc":"22.55","devise":"EUR",)"
            R"("paiements":[{"mode":"Carte bancaire","montant":"22.55"}],"details":[],)"
            R"("signature":")" + SignatureExtract(sale.hash) +
                R"(","logiciel":"france-nf525 1.0.0","qr":true})");
}

TEST(FranceRecords, TicketPayloadsAcrossOperations) {
  Register till;
  IssueTickets(till);
  const std::vector<Issued>& tickets = till.Records("tickets");
  ASSERT_EQ(tickets.size(), 5u);

  const char* expected[] = {
      "2000:12.00|0550:10.55,22.55,20261204101500,CAISSE-01,000001,VENTE,Y,",
      "2000:12.00,12.00,20261204102000,CAISSE-01,000002,VENTE,N,",
      "2000:-12.00,-12.00,20261205090000,CAISSE-01,000003,REMBOURSEMENT,N,",
      "2000:-12.00|0550:-10.55,-22.55,20261205091000,CAISSE-01,000004,ANNULATION,N,",
      "2000:12.00,12.00,20261206090000,CAISSE-01,000005,VENTE,N,",
  };
  for (size_t i = 0; i < tickets.size(); ++i) {
    EXPECT_EQ(tickets[i].payload, expected[i] + Sha256Base64Url(tickets[i].document)) << i;
    EXPECT_EQ(tickets[i].fiscal_id, "CAISSE-01-T-00000" + std::to_string(i + 1));
  }
  EXPECT_NE(tickets[2].record_data.find(R"("original_fiscal_id":"CAISSE-01-T-000002")"),
            std::string::npos);
  EXPECT_NE(tickets[3].record_data.find(R"("original_fiscal_id":"CAISSE-01-T-000001")"),
            std::string::npos);
}

// Each record signs its payload followed by the previous record's signature.
TEST(FranceRecords, ChainingAcrossRecords) {
  Register till;
  IssueTickets(till);
  const std::vector<Issued>& tickets = till.Records("tickets");
  std::string previous;
  for (const Issued& ticket : tickets) {
    EXPECT_EQ(VerifyMessage(till.key(), ticket.payload + "," + previous, ticket.hash),
              SignatureCheck::kValid)
        << ticket.fiscal_id;
    previous = ticket.hash;
  }
  ChainVerification verification = VerifyRecordChain(till.Stored("tickets"), till.key());
  EXPECT_TRUE(verification.ok()) << verification.message;
}

TEST(FranceRecords, CumulativeTotalsWithRefundAndVoid) {
  Register till;
  IssueTickets(till);
  const std::vector<Issued>& tickets = till.Records("tickets");
  const char* cumulative[] = {
      R"("cumulative":{"total":"22.55","absolute":"22.55","rates":{"2000":"12.00","0550":"10.55"}})",
      R"("cumulative":{"total":"34.55","absolute":"34.55","rates":{"2000":"24.00","0550":"10.55"}})",
      R"("cumulative":{"total":"22.55","absolute":"46.55","rates":{"2000":"12.00","0550":"10.55"}})",
      R"("cumulative":{"total":"0.00","absolute":"69.10","rates":{"2000":"0.00","0550":"0.00"}})",
      R"("cumulative":{"total":"12.00","absolute":"81.10","rates":{"2000":"12.00","0550":"0.00"}})",
  };
  for (size_t i = 0; i < tickets.size(); ++i) {
    EXPECT_EQ(tickets[i].chain_state, R"({"signature":")" + tickets[i].hash +
                                          R"(","sequence":)" + std::to_string(i + 1) + "," +
                                          cumulative[i] + "}");
  }
}

// A void negates the original's per-rate totals, taken from its record_data.
TEST(FranceRecords, VoidDocumentAndReceipt) {
  Register till;
  IssueTickets(till);
  const Issued& cancel = till.Records("tickets")[3];
  const Issued& original = till.Records("tickets")[0];
  EXPECT_EQ(cancel.document,
            R"({"fiscal_id":"CAISSE-01-T-000004","type":"ANNULATION","siret":"73282932000074",)"
            R"("register":"CAISSE-01","establishment":"Librairie du Port","sequence":4,)"
            R"("timestamp":"2026-12-05T09:10:00Z","transaction":{"id":"t-1","type":"sale",)"
            R"("invoice_number":""},"vat_totals":{"2000":"-12.00","0550":"-10.55"},)"
            R"("total_amount":"-22.55","original":{"fiscal_id":"CAISSE-01-T-000001",)"
            R"("signature":")" + original.hash + R"(","type":"VENTE","total":"22.55"}})");

  std::string rendered;
  ASSERT_TRUE(RenderReceipt(R"({"transaction":{},"location":{},"record":{"receipt":)" +
                                cancel.receipt + "}}",
                            &rendered)
                  .ok());
  EXPECT_NE(rendered.find("Ce ticket annule le ticket n° CAISSE-01-T-000001"), std::string::npos)
      << rendered;
  EXPECT_NE(rendered.find("Total TTC : -22,55 EUR"), std::string::npos) << rendered;
}

// Training tickets have their own chain and format, so the register's totals never move.
TEST(FranceRecords, TrainingNeverMovesTicketTotals) {
  Register till;
  till.MustIssue("sale", "tickets", "2026-12-04T10:15:00Z", R"("transaction":)" + BookAndPens());
  Issued training;
  till.MustIssue("sale", "training", "2026-12-04T10:16:00Z",
                 R"("training":true,"transaction":)" + Notebook("t-x"), &training);
  EXPECT_EQ(training.payload, "2000:12.00,12.00,20261204101600,CAISSE-01,000001,FORMATION-VENTE,Y," +
                                  Sha256Base64Url(training.document));
  EXPECT_EQ(training.fiscal_id, "CAISSE-01-X-000001");
  EXPECT_EQ(training.record_type, "training");
  EXPECT_EQ(training.format, "fr-training-v1");
  EXPECT_NE(training.receipt.find(R"("mode_ecole":true)"), std::string::npos);

  till.MustIssue("sale", "tickets", "2026-12-04T10:17:00Z", R"("transaction":)" + Notebook("t-2"));
  EXPECT_NE(till.Records("tickets")[1].chain_state.find(
                R"("cumulative":{"total":"34.55","absolute":"34.55")"),
            std::string::npos);

  Issued closure;
  till.MustIssue("closure", "closures", "2026-12-04T23:00:00Z", till.Closure("day", "2026-12-04", 2),
                 &closure);
  EXPECT_NE(closure.record_data.find(R"("totals":{"total":"34.55","absolute":"34.55")"),
            std::string::npos)
      << closure.record_data;

  // A training refund points at a training original and stays in the training chain.
  Issued refund;
  till.MustIssue("refund", "training", "2026-12-04T10:18:00Z",
                 R"("training":true,"transaction":)" + NotebookRefund() + "," +
                     Register::Original(training),
                 &refund);
  EXPECT_EQ(refund.payload,
            "2000:-12.00,-12.00,20261204101800,CAISSE-01,000002,FORMATION-REMBOURSEMENT,N," +
                Sha256Base64Url(refund.document));
  EXPECT_NE(refund.chain_state.find(R"("cumulative":{"total":"0.00","absolute":"24.00")"),
            std::string::npos);
  EXPECT_TRUE(VerifyRecordChain(till.Stored("training"), till.key()).ok());
}

TEST(FranceRecords, DayAndMonthClosures) {
  Register till;
  IssueTickets(till);
  Issued day1;
  Issued day2;
  Issued day3;
  Issued month;
  till.MustIssue("closure", "closures", "2026-12-04T23:00:00Z", till.Closure("day", "2026-12-04", 2), &day1);
  till.MustIssue("closure", "closures", "2026-12-05T23:00:00Z", till.Closure("day", "2026-12-05", 4), &day2);
  till.MustIssue("closure", "closures", "2026-12-06T23:00:00Z", till.Closure("day", "2026-12-06", 5), &day3);
  till.MustIssue("closure", "closures", "2026-12-31T23:00:00Z", till.Closure("month", "2026-12", 5), &month);

  EXPECT_EQ(day1.payload, "2000:24.00|0550:10.55,34.55,34.55,20261204230000,day:2026-12-04,000001,Y," +
                              Sha256Base64Url(day1.document));
  EXPECT_EQ(day2.payload,
            "2000:-24.00|0550:-10.55,-34.55,69.10,20261205230000,day:2026-12-05,000002,N," +
                Sha256Base64Url(day2.document));
  EXPECT_EQ(day3.payload, "2000:12.00,12.00,81.10,20261206230000,day:2026-12-06,000003,N," +
                              Sha256Base64Url(day3.document));
  // The month's totals are the sum of its days: 34.55 - 34.55 + 12.00.
  EXPECT_EQ(month.payload, "2000:12.00,12.00,81.10,20261231230000,month:2026-12,000004,N," +
                               Sha256Base64Url(month.document));
  EXPECT_EQ(day1.fiscal_id, "CAISSE-01-Z-000001");
  EXPECT_EQ(day1.record_type, "closure_day");
  EXPECT_EQ(month.record_type, "closure_month");

  EXPECT_EQ(day2.record_data.substr(day2.record_data.find(R"("period")")),
            R"("period":"day","label":"2026-12-05","from_sequence":3,"to_sequence":4,)"
            R"("totals":{"total":"-34.55","absolute":"34.55","rates":{"2000":"-24.00","0550":"-10.55"}},)"
            R"("perpetual":{"total":"0.00","absolute":"69.10","rates":{"2000":"0.00","0550":"0.00"}}})");
  EXPECT_EQ(month.record_data.substr(month.record_data.find(R"("period")")),
            R"("period":"month","label":"2026-12","from_sequence":1,"to_sequence":5,)"
            R"("totals":{"total":"12.00","absolute":"81.10","rates":{"2000":"12.00"}},)"
            R"("perpetual":{"total":"12.00","absolute":"81.10","rates":{"2000":"12.00","0550":"0.00"}}})");

  const std::string tickets_state = till.Records("tickets")[4].chain_state;
  const std::string cumulative = tickets_state.substr(tickets_state.find(R"("cumulative")"));
  EXPECT_EQ(month.chain_state,
            R"({"signature":")" + month.hash +
                R"(","sequence":4,"levels":{"day":{"sequence":5,"label":"2026-12-06",)" +
                cumulative.substr(0, cumulative.size() - 1) +
                R"(},"month":{"sequence":5,"label":"2026-12",)" +
                cumulative.substr(0, cumulative.size() - 1) + "}}}");

  ChainVerification verification = VerifyRecordChain(till.Stored("closures"), till.key());
  EXPECT_TRUE(verification.ok()) << verification.message;

  std::string rendered;
  ASSERT_TRUE(RenderReceipt(R"({"record":{"receipt":)" + day2.receipt + "}}", &rendered).ok());
  EXPECT_NE(rendered.find("CLÔTURE JOURNALIÈRE"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("Tickets : n° 3 à 4"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("Grand total perpétuel (valeur absolue) : 69,10 EUR"), std::string::npos);
}

TEST(FranceRecords, ClosureOfEmptyPeriod) {
  Register till;
  Issued first;
  till.MustIssue("closure", "closures", "2026-12-04T23:00:00Z", till.Closure("day", "2026-12-04", 0),
                 &first);
  EXPECT_EQ(first.payload, "0000:0.00,0.00,0.00,20261204230000,day:2026-12-04,000001,Y," +
                               Sha256Base64Url(first.document));
  EXPECT_NE(first.record_data.find(R"("from_sequence":1,"to_sequence":0)"), std::string::npos);

  till.MustIssue("sale", "tickets", "2026-12-05T10:15:00Z", R"("transaction":)" + BookAndPens());
  Issued second;
  till.MustIssue("closure", "closures", "2026-12-05T23:00:00Z", till.Closure("day", "2026-12-05", 1),
                 &second);
  Issued third;
  till.MustIssue("closure", "closures", "2026-12-06T23:00:00Z", till.Closure("day", "2026-12-06", 1),
                 &third);
  EXPECT_EQ(third.payload, "0000:0.00,0.00,22.55,20261206230000,day:2026-12-06,000003,N," +
                               Sha256Base64Url(third.document));
}

TEST(FranceRecords, ClosureRejectsEarlierBoundary) {
  Register till;
  IssueTickets(till);
  till.MustIssue("closure", "closures", "2026-12-05T23:00:00Z", till.Closure("day", "2026-12-05", 4));
  Status status =
      till.Issue("closure", "closures", "2026-12-06T23:00:00Z", till.Closure("day", "2026-12-06", 3));
  EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(status.field(), "closure.tickets.sequence");
  EXPECT_NE(status.message().find("lower than 4"), std::string::npos) << status.message();

  // Each level has its own boundary: a month closure may still start at the first ticket.
  till.MustIssue("closure", "closures", "2026-12-31T23:00:00Z", till.Closure("month", "2026-12", 3));

  status = till.Issue("closure", "closures", "2027-01-01T00:00:00Z",
                      till.Closure("day", "2026-12-03", 5));
  EXPECT_EQ(status.field(), "closure.label");
}

TEST(FranceRecords, DuplicatesCountCopies) {
  Register till;
  IssueTickets(till);
  const Issued& original = till.Records("tickets")[0];
  std::string members = R"("transaction":)" + BookAndPens() + "," + Register::Original(original) +
                        R"(,"operator":"Marie","reason":"Demande du client")";
  Issued first;
  Issued second;
  till.MustIssue("duplicate", "duplicates", "2026-12-04T11:30:00Z",
                 members + R"(,"copy_number":1)", &first);
  till.MustIssue("duplicate", "duplicates", "2026-12-04T11:45:00Z",
                 members + R"(,"copy_number":2)", &second);

  EXPECT_EQ(first.payload, "CAISSE-01,000001,VENTE,1,Marie,20261204113000,CAISSE-01,000001,Y," +
                               Sha256Base64Url(first.document));
  EXPECT_EQ(second.payload, "CAISSE-01,000002,VENTE,2,Marie,20261204114500,CAISSE-01,000001,N," +
                                Sha256Base64Url(second.document));
  EXPECT_EQ(second.fiscal_id, "CAISSE-01-D-000002");
  EXPECT_EQ(second.record_type, "duplicate");
  EXPECT_EQ(second.record_data.substr(second.record_data.find(R"("register")")),
            R"("register":"CAISSE-01","sequence":2,"timestamp":"2026-12-04T11:45:00Z",)"
            R"("copy_number":2,"original_fiscal_id":"CAISSE-01-T-000001"})");
  EXPECT_EQ(second.chain_state,
            R"({"signature":")" + second.hash + R"(","sequence":2})");
  // The duplicate's document repeats every line of the original.
  EXPECT_NE(second.document.find(R"("description":"Livre")"), std::string::npos);
  EXPECT_NE(second.document.find(R"("description":"Stylo")"), std::string::npos);
  EXPECT_TRUE(VerifyRecordChain(till.Stored("duplicates"), till.key()).ok());

  std::string rendered;
  ASSERT_TRUE(RenderReceipt(R"({"record":{"receipt":)" + second.receipt + "}}", &rendered).ok());
  EXPECT_NE(rendered.find("DUPLICATA n°2"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("Duplicata du ticket n° CAISSE-01-T-000001"), std::string::npos);
  EXPECT_NE(rendered.find("Signature du ticket original : " + SignatureExtract(original.hash)),
            std::string::npos);

  // A reprint must carry the ticket's own transaction.
  Status status = till.Issue("duplicate", "duplicates", "2026-12-04T11:50:00Z",
                             R"("transaction":)" + Notebook("t-2") + "," +
                                 Register::Original(original) +
                                 R"(,"operator":"Marie","copy_number":3)");
  EXPECT_EQ(status.field(), "transaction.total_amount");
}

// Training mode keeps its records apart, so a training ticket never enters the register's
// duplicates chain.
TEST(FranceRecords, TrainingTicketIsNotReprinted) {
  Register till;
  Issued training;
  till.MustIssue("sale", "training", "2026-12-04T10:16:00Z",
                 R"("training":true,"transaction":)" + Notebook("t-x"), &training);
  ASSERT_EQ(training.record_type, "training");

  Status status = till.Issue("duplicate", "duplicates", "2026-12-04T10:30:00Z",
                             R"("transaction":)" + Notebook("t-x") + "," +
                                 Register::Original(training) +
                                 R"(,"operator":"Marie","copy_number":1)");
  EXPECT_EQ(status.code(), FISCAL_ERR_INVALID_INPUT);
  EXPECT_EQ(status.field(), "original");
  EXPECT_NE(status.message().find(training.fiscal_id + " is a training ticket"),
            std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("training tickets are not reprinted as duplicates"),
            std::string::npos)
      << status.message();
  EXPECT_TRUE(till.Records("duplicates").empty());
}

// The reason of a reprint may have 500 characters, whatever their UTF-8 length.
TEST(FranceRecords, DuplicateReasonCountsCharacters) {
  Register till;
  IssueTickets(till);
  std::string reason;
  for (int i = 0; i < 500; ++i) reason += "\xc3\xa9";
  std::string members = R"("transaction":)" + BookAndPens() + "," +
                        Register::Original(till.Records("tickets")[0]) +
                        R"(,"operator":"Marie","copy_number":1,"reason":")";
  till.MustIssue("duplicate", "duplicates", "2026-12-04T11:30:00Z", members + reason + "\"");

  Status status = till.Issue("duplicate", "duplicates", "2026-12-04T11:31:00Z",
                             members + reason + "\xc3\xa9\"");
  EXPECT_EQ(status.field(), "reason");
  EXPECT_EQ(status.message(),
            "reason has 501 characters, more than the maximum of 500; shorten it");
}

// Free text keeps its ',' and '|' in the document; in the payload they become spaces.
TEST(FranceRecords, EventFreeTextSanitised) {
  Register till;
  Issued event;
  till.MustIssue("event", "journal", "2026-12-04T08:00:00Z",
                 R"("event":{"code":30,"name":"login","description":"Ouverture, poste|2",)"
                 R"("operator":"Dupont, Marie|caisse"})",
                 &event);
  EXPECT_EQ(event.document,
            R"({"fiscal_id":"CAISSE-01-J-000001","siret":"73282932000074","register":"CAISSE-01",)"
            R"("establishment":"Librairie du Port","sequence":1,"timestamp":"2026-12-04T08:00:00Z",)"
            R"("code":30,"name":"login","description":"Ouverture, poste|2",)"
            R"("operator":"Dupont, Marie|caisse"})");
  EXPECT_EQ(event.payload, "000001,30,login,20261204080000,Dupont  Marie caisse,CAISSE-01,Y," +
                               Sha256Base64Url(event.document));
  EXPECT_EQ(event.record_type, "event");
  EXPECT_EQ(event.record_data.substr(event.record_data.find(R"("register")")),
            R"("register":"CAISSE-01","sequence":1,"timestamp":"2026-12-04T08:00:00Z",)"
            R"("code":30,"name":"login"})");

  Issued closure_event;
  till.MustIssue("event", "journal", "2026-12-04T23:00:01Z",
                 R"("event":{"code":70,"name":"closure","description":"","operator":""})",
                 &closure_event);
  EXPECT_EQ(closure_event.payload, "000002,70,closure,20261204230001,,CAISSE-01,N," +
                                       Sha256Base64Url(closure_event.document));
  EXPECT_TRUE(VerifyRecordChain(till.Stored("journal"), till.key()).ok());
}

TEST(FranceRecords, ArchivePayload) {
  Register till;
  const std::string manifest = Sha256Hex("manifest.json bytes");
  Issued archive;
  till.MustIssue("archive", "archives", "2027-01-02T03:00:00Z",
                 R"("archive":{"id":"arc-2026","from":"2026-01-01","to":"2026-12-31",)"
                 R"("manifest_sha256":")" + manifest + R"("})",
                 &archive);
  EXPECT_EQ(archive.payload, "000001,2026-01-01|2026-12-31," + manifest +
                                 ",20270102030000,CAISSE-01,Y," + Sha256Base64Url(archive.document));
  EXPECT_EQ(archive.fiscal_id, "CAISSE-01-A-000001");
  EXPECT_EQ(archive.record_type, "archive");
  EXPECT_EQ(archive.record_data.substr(archive.record_data.find(R"("register")")),
            R"("register":"CAISSE-01","sequence":1,"timestamp":"2027-01-02T03:00:00Z",)"
            R"("archive_id":"arc-2026","from":"2026-01-01","to":"2026-12-31",)"
            R"("manifest_sha256":")" + manifest + R"("})");
  EXPECT_TRUE(VerifyRecordChain(till.Stored("archives"), till.key()).ok());
}

// A signer whose signature depends only on the data, so that whole results can be compared.
Signer DeterministicSigner() {
  return [](std::string_view, std::string_view data, SignerOutput* out) {
    std::string digest = Sha256Hex(data);
    out->raw_signature = digest.substr(0, 32) + digest.substr(32, 32);
    out->key_id = Sha256Hex("test key");
    return Status::Ok();
  };
}

TEST(FranceRecords, SameInputGivesSameOutput) {
  Register till;
  till.MustIssue("sale", "tickets", "2026-12-04T10:15:00Z", R"("transaction":)" + BookAndPens());
  const std::vector<std::string> inputs = {
      till.Input("sale", "tickets", "2026-12-04T10:20:00Z", R"("transaction":)" + Notebook("t-2")),
      till.Input("refund", "tickets", "2026-12-04T10:20:00Z",
                 R"("transaction":)" + NotebookRefund() + "," +
                     Register::Original(till.Records("tickets")[0])),
      till.Input("event", "journal", "2026-12-04T10:20:00Z",
                 R"("event":{"code":30,"name":"login","description":"x","operator":"y"})"),
      till.Input("closure", "closures", "2026-12-04T23:00:00Z", till.Closure("day", "2026-12-04", 1)),
  };
  for (const std::string& input : inputs) {
    std::string first;
    std::string second;
    Status status = IssueRecord(input, DeterministicSigner(), &first);
    ASSERT_TRUE(status.ok()) << status.field() << ": " << status.message();
    status = IssueRecord(input, DeterministicSigner(), &second);
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(first, second) << input;
  }

  // With a real ECDSA key the signature changes, but never the signed bytes.
  std::vector<std::string> signed_data;
  Signer recording = [&](std::string_view key_ref, std::string_view data, SignerOutput* out) {
    signed_data.emplace_back(data);
    return till.signer()(key_ref, data, out);
  };
  std::string ignored;
  ASSERT_TRUE(IssueRecord(inputs[0], recording, &ignored).ok());
  ASSERT_TRUE(IssueRecord(inputs[0], recording, &ignored).ok());
  ASSERT_EQ(signed_data.size(), 2u);
  EXPECT_EQ(signed_data[0], signed_data[1]);
}

// Field case C21: amounts are exact decimal strings and times are UTC, so the signed string is
// the same on every platform, time zone and daylight-saving day.
TEST(FranceRecords, PlatformIndependentStrings) {
  Register till;
  std::string transaction = TransactionJson(
      "t-c21", "sale", {{"Bonbon", "1", "0.10", "20.00", "0.10"}, {"Bonbon", "1", "0.20", "20.00", "0.20"}},
      {{"20.00", "0.25", "0.05"}}, "0.25", "0.05", "0.30");
  Issued utc;
  till.MustIssue("sale", "tickets", "2025-03-30T00:30:00Z", R"("transaction":)" + transaction, &utc);
  EXPECT_EQ(utc.payload, "2000:0.30,0.30,20250330003000,CAISSE-01,000001,VENTE,Y," +
                             Sha256Base64Url(utc.document));
  EXPECT_NE(utc.document.find(R"("total_amount":"0.30")"), std::string::npos);
  EXPECT_EQ(utc.document.find("0.30000000000000004"), std::string::npos);
  EXPECT_NE(utc.document.find(R"("timestamp":"2025-03-30T00:30:00Z")"), std::string::npos);
  // Paris is still on winter time at 00:30 UTC; summer time starts at 01:00 UTC that day.
  EXPECT_NE(utc.receipt.find(R"("date":"30/03/2025 01:30:00")"), std::string::npos);

  // The same instant with an offset and with milliseconds signs the same string.
  Register other;
  Issued offset;
  other.MustIssue("sale", "tickets", "2025-03-30T01:30:00.250+01:00",
                  R"("transaction":)" + transaction, &offset);
  EXPECT_EQ(offset.payload, utc.payload);
  EXPECT_EQ(offset.document, utc.document);

  Register summer;
  Issued after_change;
  summer.MustIssue("sale", "tickets", "2025-03-30T01:30:00Z", R"("transaction":)" + transaction,
                   &after_change);
  EXPECT_NE(after_change.payload.find(",20250330013000,"), std::string::npos);
  EXPECT_NE(after_change.receipt.find(R"("date":"30/03/2025 03:30:00")"), std::string::npos);
}

// Field case C20: the stored record contains every line and every payment, the change included, and
// altering any of them in storage is detected at that record.
TEST(FranceRecords, EveryLineAndPaymentCovered) {
  Register till;
  std::string menu = TransactionJson(
      "t-c20", "sale", {{"Menu", "1", "18.50", "10.00", "18.50"}}, {{"10.00", "16.82", "1.68"}},
      "16.82", "1.68", "18.50",
      R"("payment_method":"cash","payments":[{"method":"cash","amount":"20.00"}])");
  till.MustIssue("sale", "tickets", "2026-12-04T12:00:00Z", R"("transaction":)" + BookAndPens());
  Issued meal;
  till.MustIssue("sale", "tickets", "2026-12-04T12:30:00Z", R"("transaction":)" + menu, &meal);
  till.MustIssue("sale", "tickets", "2026-12-04T12:45:00Z", R"("transaction":)" + Notebook("t-3"));
  EXPECT_NE(meal.document.find(
                R"("payments":[{"kind":"payment","method":"cash","amount":"20.00"},)"
                R"({"kind":"change","method":"cash","amount":"-1.50"}])"),
            std::string::npos)
      << meal.document;
  ASSERT_TRUE(VerifyRecordChain(till.Stored("tickets"), till.key()).ok());

  const std::vector<std::pair<std::string, std::string>> alterations = {
      {R"("unit_price":"18.50")", R"("unit_price":"15.50")"},
      {R"("description":"Menu")", R"("description":"Menu enfant")"},
      {R"("amount":"20.00")", R"("amount":"50.00")"},
      {R"("amount":"-1.50")", R"("amount":"-31.50")"},
      {R"("method":"cash","amount":"20.00")", R"("method":"card","amount":"20.00")"},
  };
  for (const auto& [from, to] : alterations) {
    std::vector<StoredRecord> stored = till.Stored("tickets");
    size_t position = stored[1].document.find(from);
    ASSERT_NE(position, std::string::npos) << from;
    stored[1].document.replace(position, from.size(), to);
    ChainVerification verification = VerifyRecordChain(stored, till.key());
    EXPECT_EQ(verification.failure, ChainFailure::kDigestMismatch) << to;
    EXPECT_EQ(verification.index, 1u) << to;
    EXPECT_EQ(verification.sequence, 2u) << to;
  }

  // The first line of a multi-line ticket is covered as well as the last.
  std::vector<StoredRecord> stored = till.Stored("tickets");
  stored[0].document.replace(stored[0].document.find(R"("Livre")"), 7, R"("Livres")");
  ChainVerification verification = VerifyRecordChain(stored, till.key());
  EXPECT_EQ(verification.failure, ChainFailure::kDigestMismatch);
  EXPECT_EQ(verification.index, 0u);
}

// One changed byte anywhere in a payload, document or signature breaks verification at that
// record.
TEST(FranceRecords, TamperedByteDetected) {
  Register till;
  IssueTickets(till);
  const std::vector<StoredRecord> stored = till.Stored("tickets");
  ASSERT_TRUE(VerifyRecordChain(stored, till.key()).ok());
  auto flip = [](char c) { return c == '1' ? '2' : '1'; };
  for (size_t i = 0; i < stored.size(); ++i) {
    for (size_t j = 0; j < stored[i].payload.size(); ++j) {
      std::vector<StoredRecord> tampered = stored;
      tampered[i].payload[j] = flip(tampered[i].payload[j]);
      ChainVerification result = VerifyRecordChain(tampered, till.key());
      ASSERT_FALSE(result.ok()) << "payload of record " << i << ", byte " << j;
      ASSERT_EQ(result.index, i) << result.message;
    }
    for (size_t j = 0; j < stored[i].document.size(); ++j) {
      std::vector<StoredRecord> tampered = stored;
      tampered[i].document[j] = flip(tampered[i].document[j]);
      ChainVerification result = VerifyRecordChain(tampered, till.key());
      ASSERT_EQ(result.failure, ChainFailure::kDigestMismatch)
          << "document of record " << i << ", byte " << j;
      ASSERT_EQ(result.index, i);
    }
    for (size_t j = 0; j < stored[i].signature.size(); ++j) {
      std::vector<StoredRecord> tampered = stored;
      tampered[i].signature[j] = tampered[i].signature[j] == 'A' ? 'B' : 'A';
      ChainVerification result = VerifyRecordChain(tampered, till.key());
      ASSERT_FALSE(result.ok()) << "signature of record " << i << ", byte " << j;
      ASSERT_EQ(result.index, i) << result.message;
    }
  }
}

// Field case C23: when the key cannot be used, the signer's status comes back unchanged and
// nothing is issued.
TEST(FranceRecords, SigningFailureIssuesNothing) {
  Register till;
  int calls = 0;
  std::string key_ref;
  Signer failing = [&](std::string_view key, std::string_view, SignerOutput*) {
    ++calls;
    key_ref = key;
    return Status::Error(7, "", "the signing key nf525-73282932000074-CAISSE-01 is unreadable");
  };
  std::string result = "untouched";
  Status status = IssueRecord(
      till.Input("sale", "tickets", "2026-12-04T10:15:00Z", R"("transaction":)" + BookAndPens()),
      failing, &result);
  EXPECT_EQ(status.code(), 7);
  EXPECT_EQ(status.message(), "the signing key nf525-73282932000074-CAISSE-01 is unreadable");
  EXPECT_EQ(result, "untouched");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(key_ref, "nf525-73282932000074-CAISSE-01");

  // A status the host already reported passes through with its flag, so the module adds no
  // message of its own.
  Signer reported = [](std::string_view, std::string_view, SignerOutput*) {
    return Status::AlreadyReported(7);
  };
  status = IssueRecord(till.Input("event", "journal", "2026-12-04T10:15:00Z",
                                  R"("event":{"code":10,"name":"start"})"),
                       reported, &result);
  EXPECT_EQ(status.code(), 7);
  EXPECT_TRUE(status.reported());
  EXPECT_EQ(result, "untouched");

  // A signer returning something other than a 64-byte r||s is an internal error, not a record.
  Signer short_signature = [](std::string_view, std::string_view, SignerOutput* out) {
    out->raw_signature = "short";
    out->key_id = "k";
    return Status::Ok();
  };
  status = IssueRecord(till.Input("event", "journal", "2026-12-04T10:15:00Z",
                                  R"("event":{"code":10,"name":"start"})"),
                       short_signature, &result);
  EXPECT_EQ(status.code(), FISCAL_ERR_INTERNAL);
  EXPECT_EQ(result, "untouched");
}

}  // namespace
}  // namespace fiscal::france
