#include "testing/sample_archive.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "fiscal_verify/payload_fields.h"
#include "payload.h"

namespace fiscal::france::verifier::testing {
namespace {

constexpr char kRegister[] = "CAISSE-01";
constexpr char kSiret[] = "73282932000074";

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

[[noreturn]] void Abort(const std::string& message) {
  std::fprintf(stderr, "sample archive: %s\n", message.c_str());
  std::abort();
}

// "2026-12-04T09:15:00Z" from the payload timestamp "20261204091500".
std::string GeneratedAt(std::string_view timestamp) {
  std::string text(timestamp);
  return text.substr(0, 4) + "-" + text.substr(4, 2) + "-" + text.substr(6, 2) + "T" +
         text.substr(8, 2) + ":" + text.substr(10, 2) + ":" + text.substr(12, 2) + "Z";
}

std::string TicketDocument(std::string_view fiscal_id, std::string_view lines,
                           std::string_view payments) {
  return "{\"fiscal_id\":\"" + std::string(fiscal_id) + "\",\"lines\":[" + std::string(lines) +
         "],\"payments\":[" + std::string(payments) + "],\"register\":\"" + kRegister +
         "\",\"siret\":\"" + kSiret + "\"}";
}

// The covered tickets sit in a "tickets" object, as the plugin writes them.
std::string ClosureDocument(std::string_view level, std::string_view period, int from, int to,
                            std::string_view last_signature) {
  return "{\"label\":\"" + std::string(period) + "\",\"period\":\"" + std::string(level) +
         "\",\"register\":\"" + kRegister + "\",\"siret\":\"" + kSiret +
         "\",\"tickets\":{\"from_sequence\":" + std::to_string(from) +
         ",\"to_sequence\":" + std::to_string(to) + ",\"last_signature\":\"" +
         std::string(last_signature) + "\"}}";
}

std::string EventDocument(int code, std::string_view name, std::string_view operator_name) {
  return "{\"code\":" + std::to_string(code) + ",\"name\":\"" + std::string(name) +
         "\",\"operator\":\"" + std::string(operator_name) + "\",\"register\":\"" + kRegister +
         "\"}";
}

void AddTickets(EVP_PKEY* key, archive::ArchiveInput* input) {
  ChainBuilder tickets(key, "tickets");
  tickets.Add(
      1, "fr-ticket-v1", "2000:12.00|0550:2.11,14.11,20261204091500,CAISSE-01,000001,VENTE,Y",
      TicketDocument("CAISSE-01-T-000001",
                     "{\"description\":\"Menu d'hiver\",\"quantity\":\"1\",\"total\":\"12.00\","
                     "\"vat_rate\":\"20.00\"},{\"description\":\"Pain\",\"quantity\":\"1\","
                     "\"total\":\"2.11\",\"vat_rate\":\"5.50\"}",
                     "{\"amount\":\"20.00\",\"method\":\"cash\"},{\"amount\":\"-5.89\","
                     "\"method\":\"cash\"}"),
      "CAISSE-01-T-000001", "sale", "ticket");
  tickets.Add(
      2, "fr-ticket-v1", "1000:8.50,8.50,20261204094500,CAISSE-01,000002,VENTE,N",
      TicketDocument("CAISSE-01-T-000002",
                     "{\"description\":\"Caf\xc3\xa9\",\"quantity\":\"5\",\"total\":\"8.50\","
                     "\"vat_rate\":\"10.00\"}",
                     "{\"amount\":\"8.50\",\"method\":\"card\"}"),
      "CAISSE-01-T-000002", "sale", "ticket");
  tickets.Add(3, "fr-ticket-v1",
              "2000:-12.00,-12.00,20261204101000,CAISSE-01,000003,REMBOURSEMENT,N",
              TicketDocument("CAISSE-01-T-000003",
                             "{\"description\":\"Menu\",\"quantity\":\"-1\",\"total\":\"-12.00\","
                             "\"vat_rate\":\"20.00\"}",
                             "{\"amount\":\"-12.00\",\"method\":\"cash\"}"),
              "CAISSE-01-T-000003", "refund", "ticket");
  tickets.Add(4, "fr-ticket-v1", "2000:30.00,30.00,20261205110000,CAISSE-01,000004,VENTE,N",
              TicketDocument("CAISSE-01-T-000004",
                             "{\"description\":\"G\xc3\xa2teau\",\"quantity\":\"1\",\"total\":"
                             "\"30.00\",\"vat_rate\":\"20.00\"}",
                             "{\"amount\":\"30.00\",\"method\":\"card\"}"),
              "CAISSE-01-T-000004", "sale", "ticket");
  input->chains.push_back(std::move(tickets.chain()));
}

// Day totals: 2026-12-04 is 1000:8.50|0550:2.11 (the 20% sale and its refund cancel out), 10.61;
// 2026-12-05 is 2000:30.00. Absolute running total: 14.11 + 8.50 + 12.00 = 34.61, then 64.61.
void AddClosures(EVP_PKEY* key, archive::ArchiveInput* input) {
  const std::vector<archive::ArchiveRecord>& tickets = input->chains.front().records;
  ChainBuilder closures(key, "closures");
  closures.Add(1, "fr-closure-v1",
               "1000:8.50|0550:2.11,10.61,34.61,20261204230000,day:2026-12-04,000001,Y",
               ClosureDocument("day", "2026-12-04", 1, 3, tickets[2].signature),
               "CAISSE-01-C-000001", "closure", "closure");
  closures.Add(2, "fr-closure-v1", "2000:30.00,30.00,64.61,20261205230000,day:2026-12-05,000002,N",
               ClosureDocument("day", "2026-12-05", 4, 4, tickets[3].signature),
               "CAISSE-01-C-000002", "closure", "closure");
  closures.Add(3, "fr-closure-v1",
               "2000:30.00|1000:8.50|0550:2.11,40.61,64.61,20261231230000,month:2026-12,000003,N",
               ClosureDocument("month", "2026-12", 1, 4, tickets[3].signature),
               "CAISSE-01-C-000003", "closure", "closure");
  input->chains.push_back(std::move(closures.chain()));
}

// The journal continues a chain whose record 41 is before the archive.
void AddJournal(EVP_PKEY* key, archive::ArchiveInput* input) {
  std::string anchor_document = EventDocument(20, "stop", "");
  std::string anchor_payload =
      "000041,20,stop,20261130220000,,CAISSE-01,N," + DocumentDigest(anchor_document);
  std::string anchor_signature;
  if (!SignChainRecord(key, anchor_payload, "", &anchor_signature).ok()) {
    Abort("signing the journal anchor failed");
  }

  ChainBuilder journal(key, "journal", anchor_signature);
  journal.Add(42, "fr-event-v1", "000042,10,start,20261204080000,,CAISSE-01,N",
              EventDocument(10, "start", ""), "CAISSE-01-J-000042", "event", "event");
  journal.Add(43, "fr-event-v1", "000043,30,login,20261204081000,Zo\xc3\xa9 Dupont,CAISSE-01,N",
              EventDocument(30, "login", "Zo\xc3\xa9 Dupont"), "CAISSE-01-J-000043", "event",
              "event");
  journal.Add(44, "fr-event-v1", "000044,70,closure,20261204230000,,CAISSE-01,N",
              EventDocument(70, "closure", ""), "CAISSE-01-J-000044", "event", "event");
  archive::ArchiveChain chain = std::move(journal.chain());
  chain.anchor = archive::ArchiveAnchor{41, anchor_signature, ""};
  input->chains.push_back(std::move(chain));
}

}  // namespace

ChainBuilder::ChainBuilder(EVP_PKEY* key, std::string name, std::string anchor_signature)
    : key_(key), previous_signature_(std::move(anchor_signature)) {
  chain_.name = name;
  chain_.file = "chains/" + name + ".jsonl";
}

void ChainBuilder::Add(uint64_t sequence, std::string_view format, std::string_view fields,
                       std::string document, std::string fiscal_id, std::string operation,
                       std::string record_type) {
  archive::ArchiveRecord record;
  record.sequence = static_cast<int64_t>(sequence);
  record.operation = std::move(operation);
  record.record_type = std::move(record_type);
  record.fiscal_id = std::move(fiscal_id);
  record.plugin_version = "1.0.0";
  record.format = format;
  record.payload = std::string(fields) + "," + DocumentDigest(document);
  record.document = std::move(document);
  // In every format the payload timestamp is the first field of 14 digits.
  for (size_t start = 0; start + 14 <= fields.size();) {
    size_t end = fields.find(',', start);
    if (end == std::string_view::npos) end = fields.size();
    std::string_view field = fields.substr(start, end - start);
    if (field.size() == 14 && field.find_first_not_of("0123456789") == std::string_view::npos) {
      record.generated_at = GeneratedAt(field);
      break;
    }
    start = end + 1;
  }
  if (!SignChainRecord(key_, record.payload, previous_signature_, &record.signature).ok()) {
    Abort("signing record " + record.fiscal_id + " failed");
  }
  previous_signature_ = record.signature;
  chain_.records.push_back(std::move(record));
}

std::string PublicKeyPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) Abort("writing the public key PEM failed");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string KeyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  if (length <= 0) Abort("encoding the public key as DER failed");
  std::string id = archive::Sha256Hex(std::string_view(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  return id;
}

archive::ManifestSigner SignerFor(EVP_PKEY* key) {
  return [key](std::string_view manifest) -> fiscal::Result<std::string> {
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    size_t length = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(manifest.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, bytes, manifest.size()) != 1) {
      return fiscal::Status::Internal("test signer: EVP_DigestSign failed");
    }
    std::string der(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &length, bytes,
                       manifest.size()) != 1) {
      return fiscal::Status::Internal("test signer: EVP_DigestSign failed");
    }
    der.resize(length);
    return der;
  };
}

SampleArchive MakeSampleArchive() {
  SampleArchive sample;
  if (!GenerateP256Key(&sample.key).ok()) Abort("P-256 key generation failed");
  EVP_PKEY* key = sample.key.get();

  archive::ArchiveInput& input = sample.input;
  input.archive_id = "ARCH-CAISSE-01-202612";
  input.created_at = std::chrono::sys_days(std::chrono::year(2027) / 1 / 1) + std::chrono::hours(2);
  input.location_json = std::string("{\"id\": \"loc-1\", \"country\": \"FR\", \"siret\": \"") +
                        kSiret + "\", \"register_id\": \"" + kRegister +
                        "\", \"establishment\": \"Boulangerie d'Essai\"}";
  input.plugin_name = "france-nf525";
  input.plugin_version = "1.0.0";
  input.period_from = "2026-12-01";
  input.period_to = "2026-12-31";
  input.key_id = KeyId(key);
  input.public_key_pem = PublicKeyPem(key);
  AddTickets(key, &input);
  AddClosures(key, &input);
  AddJournal(key, &input);
  return sample;
}

}  // namespace fiscal::france::verifier::testing
