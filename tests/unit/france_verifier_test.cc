// fiscal-verify's checks on archives written by the host's archive writer, with records signed by
// a local key, built by hand or issued by the france-nf525 plugin. Valid archives pass, and every
// kind of tampering is rejected at the right chain and sequence.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "archive/archive_writer.h"
#include "fiscal_verify/archive_verifier.h"
#include "fiscal_verify/payload_fields.h"
#include "fiscal_verify/report.h"
#include "fiscal_verify/zip_reader.h"
#include "issuer.h"
#include "signature.h"
#include "signer.h"
#include "testing/sample_archive.h"

namespace fiscal::france::verifier {
namespace {

using archive::ArchiveChain;
using archive::ArchiveInput;
using archive::ArchiveRecord;
using testing::ChainBuilder;
using testing::SampleArchive;

std::string WriteZipOrDie(const ArchiveInput& input, EVP_PKEY* key) {
  fiscal::Result<archive::ArchiveBytes> bytes =
      archive::WriteArchive(input, testing::SignerFor(key));
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? bytes->zip : "";
}

std::vector<ZipFile> Entries(const std::string& zip) {
  std::vector<ZipFile> files;
  std::string error;
  EXPECT_TRUE(ReadZip(zip, ZipLimits(), &files, &error)) << error;
  return files;
}

std::string Repack(const std::vector<ZipFile>& files) {
  std::vector<archive::ZipEntry> entries;
  for (const ZipFile& file : files) entries.push_back({file.path, file.data});
  fiscal::Result<std::string> zip =
      archive::WriteZip(entries, std::chrono::sys_seconds(std::chrono::seconds(1798765200)));
  EXPECT_TRUE(zip.ok()) << zip.status().ToString();
  return zip.ok() ? *zip : "";
}

std::string& EntryData(std::vector<ZipFile>& files, const std::string& path) {
  for (ZipFile& file : files) {
    if (file.path == path) return file.data;
  }
  ADD_FAILURE() << "no entry " << path;
  static std::string missing;
  return missing;
}

// Replaces the first occurrence of `from`. Fails the test when there is none.
void ReplaceOnce(std::string* text, const std::string& from, const std::string& to) {
  size_t at = text->find(from);
  ASSERT_NE(at, std::string::npos) << "\"" << from << "\" not found";
  text->replace(at, from.size(), to);
}

// Signs manifest.json again with `key`, as someone holding the key could.
void Resign(std::vector<ZipFile>& files, EVP_PKEY* key) {
  fiscal::Result<std::string> signature =
      testing::SignerFor(key)(EntryData(files, "manifest.json"));
  ASSERT_TRUE(signature.ok());
  EntryData(files, "manifest.sig") = *signature;
}

// A printable replacement that differs from `c` and stays in the same character class where it
// can, so that payloads often stay well formed and the signature check is what rejects them.
char Flipped(char c) {
  if (c >= '0' && c <= '9') return c == '9' ? '0' : static_cast<char>(c + 1);
  if (c >= 'a' && c <= 'z') return c == 'z' ? 'a' : static_cast<char>(c + 1);
  if (c >= 'A' && c <= 'Z') return c == 'Z' ? 'A' : static_cast<char>(c + 1);
  return c == 'x' ? 'y' : 'x';
}

std::string Describe(const Report& report) { return FormatText(report); }

// A closure document with only the covered tickets from..to (both included), in the plugin's
// shape {"tickets": {...}}.
std::string Coverage(int from, int to) {
  return "{\"tickets\":{\"from_sequence\":" + std::to_string(from) +
         ",\"to_sequence\":" + std::to_string(to) + "}}";
}

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest() : sample_(testing::MakeSampleArchive()) {}

  EVP_PKEY* key() { return sample_.key.get(); }
  ArchiveInput& input() { return sample_.input; }
  ArchiveChain& chain(const std::string& name) {
    for (ArchiveChain& candidate : sample_.input.chains) {
      if (candidate.name == name) return candidate;
    }
    ADD_FAILURE() << "no chain " << name;
    return sample_.input.chains.front();
  }

  std::string Zip() { return WriteZipOrDie(sample_.input, key()); }
  Report VerifyInput() { return VerifyArchive(Zip()); }

  // Replaces the chain's records with new ones signed by `build`, keeping its name and anchor.
  void Rebuild(const std::string& name, const std::function<void(ChainBuilder&)>& build) {
    ArchiveChain& target = chain(name);
    ChainBuilder builder(key(), name, target.anchor ? target.anchor->signature : "");
    build(builder);
    target.records = builder.chain().records;
  }

  SampleArchive sample_;
};

void ExpectInvalidAt(const Report& report, const std::string& chain, uint64_t sequence,
                     const std::string& reason_part) {
  ASSERT_EQ(report.outcome, Outcome::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure.chain, chain) << Describe(report);
  ASSERT_TRUE(report.failure.sequence.has_value()) << Describe(report);
  EXPECT_EQ(*report.failure.sequence, sequence) << Describe(report);
  EXPECT_NE(report.failure.reason.find(reason_part), std::string::npos) << Describe(report);
}

void ExpectInvalidFile(const Report& report, const std::string& file,
                       const std::string& reason_part) {
  ASSERT_EQ(report.outcome, Outcome::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure.chain, "") << Describe(report);
  EXPECT_EQ(report.failure.file, file) << Describe(report);
  EXPECT_NE(report.failure.reason.find(reason_part), std::string::npos) << Describe(report);
}

TEST_F(VerifierTest, SampleArchiveIsValid) {
  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  std::vector<std::string> expected = {
      "manifest signature",
      "key id " + input().key_id,
      "chain tickets: 4 records 1..4",
      "chain closures: 3 records 1..3",
      "chain journal: 3 records 42..44 after anchor 41",
      "file hashes: 5 files",
      "counts: 3 chains match the manifest",
      "closure totals: 3 of 3 closures match 4 tickets",
  };
  EXPECT_EQ(report.checks, expected);
  EXPECT_EQ(ExitCode(report), 0);
  EXPECT_EQ(FormatText(report).substr(FormatText(report).size() - 6), "VALID\n");
}

TEST_F(VerifierTest, CountsOfOneAreSingular) {
  ChainBuilder tickets(key(), "tickets");
  tickets.Add(1, "fr-ticket-v1", "2000:12.00,12.00,20261204091500,CAISSE-01,000001,VENTE,Y",
              "{\"one\":1}", "CAISSE-01-T-000001", "sale", "ticket");
  input().chains = {tickets.chain()};
  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  std::vector<std::string> expected = {
      "manifest signature",
      "key id " + input().key_id,
      "chain tickets: 1 record 1..1",
      "file hashes: 3 files",
      "counts: 1 chain matches the manifest",
      "closure totals: no closure to check",
  };
  EXPECT_EQ(report.checks, expected);
}

// Without a pinned key the report notes what VALID does not prove.
TEST_F(VerifierTest, UnpinnedKeyAddsNote) {
  const std::string note =
      "key not pinned; compare the key id with the register's published key id (--key-id)";
  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  EXPECT_EQ(report.notes, std::vector<std::string>{note});
  std::string text = FormatText(report);
  EXPECT_NE(text.find("\nnote: " + note + "\nVALID\n"), std::string::npos) << text;
  std::string json = FormatJson(report);
  EXPECT_NE(json.find("\"notes\":[\"" + note + "\"]"), std::string::npos) << json;
}

// Someone holding another key can rebuild and re-sign a whole archive, which then agrees with
// the public_key.pem it carries. Only the register's published key distinguishes it.
TEST_F(VerifierTest, ArchiveOfAnotherKeyFailsPinnedKey) {
  const std::string register_key_id = input().key_id;
  std::string register_der;
  ASSERT_TRUE(P256PublicKeyDer(input().public_key_pem, &register_der));
  EXPECT_EQ(KeyIdOfDer(register_der), register_key_id);

  SampleArchive forged = testing::MakeSampleArchive();
  const std::string forged_key_id = forged.input.key_id;
  ASSERT_NE(forged_key_id, register_key_id);
  const std::string zip = WriteZipOrDie(forged.input, forged.key.get());
  ASSERT_EQ(VerifyArchive(zip).outcome, Outcome::kValid);

  const std::string reason =
      "the archive is signed by key " + forged_key_id + ", expected " + register_key_id;
  ExpectedKey by_id;
  by_id.key_id = register_key_id;
  ExpectedKey by_pem;
  by_pem.public_key_der = register_der;
  for (const ExpectedKey& expected : {by_id, by_pem}) {
    Report report = VerifyArchive(zip, expected);
    ExpectInvalidFile(report, "public_key.pem", reason);
    EXPECT_EQ(report.failure.reason, reason);
    EXPECT_TRUE(report.checks.empty()) << Describe(report);
    EXPECT_TRUE(report.notes.empty()) << Describe(report);
    EXPECT_EQ(FormatText(report), "INVALID: file public_key.pem: " + reason + "\n");
  }
}

TEST_F(VerifierTest, PinnedKeyComesFirst) {
  ExpectedKey expected;
  expected.key_id = input().key_id;
  ASSERT_TRUE(P256PublicKeyDer(input().public_key_pem, &expected.public_key_der));
  Report report = VerifyArchive(Zip(), expected);
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  EXPECT_EQ(report.checks.front(), "pinned key " + input().key_id);
  EXPECT_EQ(report.checks[1], "manifest signature");
  EXPECT_TRUE(report.notes.empty());

  // A wrong key is named before the broken manifest signature.
  std::vector<ZipFile> files = Entries(Zip());
  ReplaceOnce(&EntryData(files, "manifest.json"), "\"count\": 4", "\"count\": 5");
  expected.public_key_der.clear();
  expected.key_id = std::string(64, '0');
  report = VerifyArchive(Repack(files), expected);
  ExpectInvalidFile(report, "public_key.pem", "the archive is signed by key " + input().key_id);
}

TEST(VerifierKeyTest, KeyIdAndPemReaders) {
  EXPECT_TRUE(IsKeyId(std::string(64, 'a')));
  EXPECT_FALSE(IsKeyId(std::string(64, 'A')));
  EXPECT_FALSE(IsKeyId(std::string(63, 'a')));
  EXPECT_FALSE(IsKeyId(std::string(63, 'a') + "g"));

  EvpPkeyPtr key;
  ASSERT_TRUE(GenerateP256Key(&key).ok());
  std::string der;
  ASSERT_TRUE(P256PublicKeyDer(testing::PublicKeyPem(key.get()), &der));
  EXPECT_EQ(KeyIdOfDer(der), testing::KeyId(key.get()));
  EXPECT_FALSE(P256PublicKeyDer("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                                &der));
  EXPECT_FALSE(P256PublicKeyDer("not a key", &der));
}

TEST_F(VerifierTest, EveryChainKindIsAccepted) {
  ChainBuilder training_builder(key(), "training");
  training_builder.Add(1, "fr-training-v1",
                       "2000:5.00,5.00,20261204120000,CAISSE-01,000001,FORMATION-VENTE,Y",
                       "{\"training\":true}", "CAISSE-01-F-000001", "sale", "training");
  training_builder.Add(2, "fr-training-v1",
                       "2000:-5.00,-5.00,20261204120500,CAISSE-01,000002,FORMATION-REMBOURSEMENT,N",
                       "{\"training\":true,\"refund\":true}", "CAISSE-01-F-000002", "refund",
                       "training");
  ChainBuilder duplicates(key(), "duplicates");
  duplicates.Add(1, "fr-duplicate-v1",
                 "CAISSE-01,000001,VENTE,1,Zo\xc3\xa9 Dupont,20261204130000,CAISSE-01,000001,Y",
                 "{\"copy\":1}", "CAISSE-01-D-000001", "duplicate", "duplicate");
  ChainBuilder archives(key(), "archives");
  archives.Add(
      1, "fr-archive-v1",
      "000001,2026-11-01|2026-11-30," + std::string(64, 'a') + ",20261201020000,CAISSE-01,Y",
      "{\"archive_id\":\"ARCH-1\"}", "CAISSE-01-A-000001", "archive", "archive");
  input().chains.push_back(training_builder.chain());
  input().chains.push_back(duplicates.chain());
  input().chains.push_back(archives.chain());

  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  EXPECT_EQ(report.checks[5], "chain training: 2 records 1..2");
  EXPECT_EQ(report.checks[6], "chain duplicates: 1 record 1..1");
  EXPECT_EQ(report.checks[7], "chain archives: 1 record 1..1");
}

// No byte of any signed field can change without the verifier naming the record. Each altered
// archive is written again by the writer, so its manifest, file hashes and manifest signature are
// consistent, and only the record checks can catch the change.
TEST_F(VerifierTest, EveryByteFlipOfRecordsIsRejected) {
  const ArchiveInput original = input();
  size_t altered = 0;
  std::vector<std::string> misses;
  for (size_t c = 0; c < original.chains.size(); ++c) {
    for (size_t r = 0; r < original.chains[c].records.size(); ++r) {
      for (const char* field : {"payload", "signature", "document"}) {
        const ArchiveRecord& record = original.chains[c].records[r];
        const std::string& value = std::string(field) == "payload"     ? record.payload
                                   : std::string(field) == "signature" ? record.signature
                                                                       : record.document;
        for (size_t i = 0; i < value.size(); ++i) {
          ArchiveInput changed = original;
          ArchiveRecord& target = changed.chains[c].records[r];
          std::string& text = std::string(field) == "payload"     ? target.payload
                              : std::string(field) == "signature" ? target.signature
                                                                  : target.document;
          bool ascii = static_cast<unsigned char>(text[i]) < 0x80;
          text[i] = Flipped(text[i]);
          ++altered;

          Report report = VerifyArchive(WriteZipOrDie(changed, key()));
          // Replacing one byte of a UTF-8 sequence makes the line invalid JSON. The record is
          // then named by its line, because its sequence cannot be read.
          bool named = report.outcome == Outcome::kInvalid &&
                       report.failure.chain == original.chains[c].name &&
                       (ascii ? report.failure.sequence == static_cast<uint64_t>(record.sequence)
                              : report.failure.line == r + 1);
          if (!named && misses.size() < 10) {
            misses.push_back(original.chains[c].name + " sequence " +
                             std::to_string(record.sequence) + " " + field + " byte " +
                             std::to_string(i) + ": " + Describe(report));
          }
        }
      }
    }
  }
  EXPECT_GT(altered, 2000u);
  EXPECT_TRUE(misses.empty()) << [&misses] {
    std::string all;
    for (const std::string& miss : misses) all += miss + "\n";
    return all;
  }();
}

// A flip anywhere in the zip either is rejected or touches only zip metadata (times, attributes),
// in which case every file reads back unchanged.
TEST_F(VerifierTest, RawZipByteFlipsAreRejectedOrHarmless) {
  const std::string zip = Zip();
  const std::vector<ZipFile> original = Entries(zip);
  size_t rejected = 0;
  std::vector<std::string> misses;
  for (size_t i = 0; i < zip.size(); ++i) {
    std::string changed = zip;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    Report report = VerifyArchive(changed);
    if (report.outcome == Outcome::kInvalid) {
      ++rejected;
      continue;
    }
    std::vector<ZipFile> files;
    std::string error;
    bool same = ReadZip(changed, ZipLimits(), &files, &error) && files.size() == original.size();
    for (size_t f = 0; same && f < files.size(); ++f) {
      same = files[f].path == original[f].path && files[f].data == original[f].data;
    }
    if ((!same || report.outcome != Outcome::kValid) && misses.size() < 10) {
      misses.push_back("byte " + std::to_string(i) + ": " + Describe(report));
    }
  }
  EXPECT_GT(rejected, zip.size() / 2);
  EXPECT_TRUE(misses.empty()) << misses.front();
}

TEST_F(VerifierTest, DeletedRecordIsAGap) {
  auto& records = chain("tickets").records;
  records.erase(records.begin() + 2);
  Report report = VerifyInput();
  ExpectInvalidAt(report, "tickets", 4, "sequence does not follow the previous record");
  EXPECT_EQ(report.failure.expected, "3");
  EXPECT_EQ(report.failure.found, "4");
  EXPECT_EQ(report.failure.fiscal_id, "CAISSE-01-T-000004");
  EXPECT_EQ(ExitCode(report), 1);
}

TEST_F(VerifierTest, ReorderedRecordsAreRejected) {
  auto& records = chain("closures").records;
  std::swap(records[1], records[2]);
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 3, "sequence does not follow the previous record");
  EXPECT_EQ(report.failure.expected, "2");
}

TEST_F(VerifierTest, RecordMovedToAnotherChainIsRejected) {
  chain("journal").records.push_back(chain("tickets").records[0]);
  Report report = VerifyInput();
  ExpectInvalidAt(report, "journal", 1, "format is not the format of chain journal");
}

TEST_F(VerifierTest, DeletedFirstRecordIsRejected) {
  auto& records = chain("tickets").records;
  records.erase(records.begin());
  Report report = VerifyInput();
  ExpectInvalidAt(report, "tickets", 2, "sequence does not follow the previous record");
  EXPECT_EQ(report.failure.expected, "1");
}

TEST_F(VerifierTest, DroppedAnchorIsRejected) {
  chain("journal").anchor.reset();
  Report report = VerifyInput();
  ExpectInvalidAt(report, "journal", 42, "sequence does not follow the previous record");
}

TEST_F(VerifierTest, WrongAnchorSignatureIsRejected) {
  chain("journal").anchor->signature = chain("tickets").records[0].signature;
  Report report = VerifyInput();
  ExpectInvalidAt(report, "journal", 42, "signature does not verify");
}

TEST_F(VerifierTest, TruncatedTailFailsTheFileHash) {
  std::vector<ZipFile> files = Entries(Zip());
  std::string& tickets = EntryData(files, "chains/tickets.jsonl");
  tickets.erase(tickets.rfind('\n', tickets.size() - 2) + 1);
  Report report = VerifyArchive(Repack(files));
  ExpectInvalidFile(report, "chains/tickets.jsonl", "SHA-256 differs from the manifest");
  EXPECT_EQ(report.checks.back(), "chain journal: 3 records 42..44 after anchor 41");
}

TEST_F(VerifierTest, ResignedTruncationIsCountMismatch) {
  std::vector<ZipFile> files = Entries(Zip());
  std::string& tickets = EntryData(files, "chains/tickets.jsonl");
  std::string old_hash = archive::Sha256Hex(tickets);
  tickets.erase(tickets.rfind('\n', tickets.size() - 2) + 1);
  ReplaceOnce(&EntryData(files, "manifest.json"), old_hash, archive::Sha256Hex(tickets));
  Resign(files, key());

  Report report = VerifyArchive(Repack(files));
  ASSERT_EQ(report.outcome, Outcome::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure.chain, "tickets");
  EXPECT_EQ(report.failure.reason, "record count differs from the manifest");
  EXPECT_EQ(report.failure.expected, "4");
  EXPECT_EQ(report.failure.found, "3");
}

TEST_F(VerifierTest, TruncatedLineIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  std::string& tickets = EntryData(files, "chains/tickets.jsonl");
  tickets.resize(tickets.size() - 40);
  Report report = VerifyArchive(Repack(files));
  ASSERT_EQ(report.outcome, Outcome::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure.chain, "tickets");
  EXPECT_EQ(report.failure.line, 4u);
  EXPECT_FALSE(report.failure.sequence.has_value());
  EXPECT_NE(report.failure.reason.find("the line is not a valid record"), std::string::npos);
}

TEST_F(VerifierTest, WrongClosurePeriodTotalIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "1000:9.50|0550:2.11,11.61,34.61,20261204230000,day:2026-12-04,000001,Y",
                 Coverage(1, 3), "CAISSE-01-C-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "period total differs from the sum of tickets 1..3");
  EXPECT_EQ(report.failure.expected, "10.61");
  EXPECT_EQ(report.failure.found, "11.61");
  EXPECT_EQ(FormatText(report).substr(FormatText(report).rfind("INVALID")),
            "INVALID: chain closures, sequence 1 (fiscal id CAISSE-01-C-000001): period total "
            "differs from the sum of tickets 1..3: expected 10.61, found 11.61\n");
}

TEST_F(VerifierTest, WrongClosureRateSplitIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "1000:8.61|0550:2.00,10.61,34.61,20261204230000,day:2026-12-04,000001,Y",
                 Coverage(1, 3), "CAISSE-01-C-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "per-rate totals differ");
  EXPECT_EQ(report.failure.expected, "1000:8.50|0550:2.11");
  EXPECT_EQ(report.failure.found, "1000:8.61|0550:2.00");
}

TEST_F(VerifierTest, WrongPerpetualTotalIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "1000:8.50|0550:2.11,10.61,10.61,20261204230000,day:2026-12-04,000001,Y",
                 Coverage(1, 3), "CAISSE-01-C-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "perpetual total differs");
  EXPECT_EQ(report.failure.expected, "34.61");
  EXPECT_EQ(report.failure.found, "10.61");
}

TEST_F(VerifierTest, WrongMonthClosureIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "1000:8.50|0550:2.11,10.61,34.61,20261204230000,day:2026-12-04,000001,Y",
                 Coverage(1, 3), "CAISSE-01-C-000001");
    // Counts only the first day.
    closures.Add(2, "fr-closure-v1",
                 "1000:8.50|0550:2.11,10.61,64.61,20261231230000,month:2026-12,000002,N",
                 Coverage(1, 4), "CAISSE-01-C-000002");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 2, "period total differs from the sum of tickets 1..4");
}

TEST_F(VerifierTest, ClosureGapBetweenDaysIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "2000:12.00|0550:2.11,14.11,14.11,20261204230000,day:2026-12-04,000001,Y",
                 Coverage(1, 1), "CAISSE-01-C-000001");
    closures.Add(2, "fr-closure-v1",
                 "2000:30.00,30.00,64.61,20261205230000,day:2026-12-05,000002,N", Coverage(4, 4),
                 "CAISSE-01-C-000002");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 2, "does not continue the previous day closure");
  EXPECT_EQ(report.failure.expected, "2");
  EXPECT_EQ(report.failure.found, "4");
}

TEST_F(VerifierTest, ClosureBeyondArchivedTicketsIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(
        1, "fr-closure-v1", "2000:30.00,30.00,64.61,20261205230000,day:2026-12-05,000001,Y",
        "{\"tickets\":{\"from_sequence\":\"4\",\"to_sequence\":\"5\"}}", "CAISSE-01-C-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "covers tickets missing from the archive");
}

TEST_F(VerifierTest, ClosureWithoutCoverageIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "2000:30.00,30.00,64.61,20261205230000,day:2026-12-05,000001,Y",
                 "{\"level\":\"day\"}", "CAISSE-01-C-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "no \"tickets\" object");
}

TEST_F(VerifierTest, WrongLastSignatureIsRejected) {
  const std::string ticket_2 = chain("tickets").records[1].signature;
  Rebuild("closures", [&ticket_2](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "1000:8.50|0550:2.11,10.61,34.61,20261204230000,day:2026-12-04,000001,Y",
                 "{\"tickets\":{\"from_sequence\":1,\"to_sequence\":3,\"last_signature\":\"" +
                     ticket_2 + "\"}}",
                 "CAISSE-01-C-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "tickets.last_signature is not the signature of ticket 3");
  EXPECT_EQ(report.failure.expected, chain("tickets").records[2].signature);
  EXPECT_EQ(report.failure.found, ticket_2);
}

TEST_F(VerifierTest, EmptyPeriodClosureIsAccepted) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1", "0000:0.00,0.00,0.00,20261203230000,day:2026-12-03,000001,Y",
                 Coverage(1, 0), "CAISSE-01-C-000001");
  });
  Report report = VerifyInput();
  EXPECT_EQ(report.outcome, Outcome::kValid) << Describe(report);
}

// A tickets chain that continues an earlier archive: sums start from the anchor's cumulative
// totals, and a month closure that started before the archive has only its perpetual total
// checked.
TEST_F(VerifierTest, AnchoredTicketsUseCumulativeTotals) {
  ChainBuilder before(key(), "tickets");
  before.Add(10, "fr-ticket-v1", "2000:100.00,100.00,20261130100000,CAISSE-01,000010,VENTE,N", "{}",
             "CAISSE-01-T-000010");
  ArchiveChain& tickets = chain("tickets");
  ChainBuilder builder(key(), "tickets", before.last_signature());
  builder.Add(11, "fr-ticket-v1", "2000:12.00,12.00,20261204100000,CAISSE-01,000011,VENTE,N",
              "{\"n\":11}", "CAISSE-01-T-000011");
  builder.Add(12, "fr-ticket-v1", "2000:-2.00,-2.00,20261204110000,CAISSE-01,000012,ANNULATION,N",
              "{\"n\":12}", "CAISSE-01-T-000012");
  tickets.records = builder.chain().records;
  tickets.anchor = archive::ArchiveAnchor{
      10, before.last_signature(),
      "{\"total\":\"90.00\",\"absolute\":\"130.00\",\"rates\":{\"2000\":\"90.00\"}}"};

  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "2000:10.00,10.00,144.00,20261204230000,day:2026-12-04,000001,Y", Coverage(11, 12),
                 "CAISSE-01-C-000001");
    closures.Add(2, "fr-closure-v1",
                 "2000:40.00,40.00,144.00,20261231230000,month:2026-12,000002,N", Coverage(8, 12),
                 "CAISSE-01-C-000002");
  });
  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  EXPECT_EQ(report.checks.back(),
            "closure totals: 1 of 2 closures matches 2 tickets, 1 starts before the archive "
            "(perpetual total checked)");

  // The same month closure with a wrong perpetual total.
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "2000:40.00,40.00,143.00,20261231230000,month:2026-12,000001,Y", Coverage(8, 12),
                 "CAISSE-01-C-000001");
  });
  report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "perpetual total differs");
  EXPECT_EQ(report.failure.expected, "144.00");
}

TEST_F(VerifierTest, TicketsAnchorWithoutCumulativeIsRejected) {
  ChainBuilder before(key(), "tickets");
  before.Add(1, "fr-ticket-v1", "2000:1.00,1.00,20261130100000,CAISSE-01,000001,VENTE,Y", "{}",
             "CAISSE-01-T-000001");
  ArchiveChain& tickets = chain("tickets");
  ChainBuilder builder(key(), "tickets", before.last_signature());
  builder.Add(2, "fr-ticket-v1", "2000:1.00,1.00,20261204100000,CAISSE-01,000002,VENTE,N", "{}",
              "CAISSE-01-T-000002");
  tickets.records = builder.chain().records;
  tickets.anchor = archive::ArchiveAnchor{1, before.last_signature(), ""};
  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure.chain, "tickets");
  EXPECT_NE(report.failure.reason.find("no cumulative totals"), std::string::npos);
}

TEST_F(VerifierTest, ClosuresWithoutTicketsChainAreRejected) {
  input().chains.erase(input().chains.begin());
  Report report = VerifyInput();
  ExpectInvalidAt(report, "closures", 1, "no tickets chain");
}

TEST_F(VerifierTest, ForeignRegisterIsRejected) {
  Rebuild("tickets", [](ChainBuilder& tickets) {
    tickets.Add(1, "fr-ticket-v1", "2000:12.00,12.00,20261204091500,CAISSE-02,000001,VENTE,Y", "{}",
                "CAISSE-02-T-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "tickets", 1, "register differs from the location's register");
  EXPECT_EQ(report.failure.expected, "CAISSE-01");
  EXPECT_EQ(report.failure.found, "CAISSE-02");
}

TEST_F(VerifierTest, WrongFirstFlagIsRejected) {
  Rebuild("tickets", [](ChainBuilder& tickets) {
    tickets.Add(1, "fr-ticket-v1", "2000:12.00,12.00,20261204091500,CAISSE-01,000001,VENTE,N", "{}",
                "CAISSE-01-T-000001");
  });
  Report report = VerifyInput();
  ExpectInvalidAt(report, "tickets", 1, "wrong first flag");
  EXPECT_EQ(report.failure.expected, "Y");

  Rebuild("journal", [](ChainBuilder& journal) {
    journal.Add(42, "fr-event-v1", "000042,10,start,20261204080000,,CAISSE-01,Y", "{}",
                "CAISSE-01-J-000042");
  });
  Rebuild("tickets", [](ChainBuilder& tickets) {
    tickets.Add(1, "fr-ticket-v1", "2000:12.00,12.00,20261204091500,CAISSE-01,000001,VENTE,Y", "{}",
                "CAISSE-01-T-000001");
  });
  report = VerifyInput();
  ExpectInvalidAt(report, "journal", 42, "wrong first flag");
  EXPECT_EQ(report.failure.expected, "N");
}

TEST_F(VerifierTest, ManifestEditIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  ReplaceOnce(&EntryData(files, "manifest.json"), "\"count\": 4", "\"count\": 5");
  ExpectInvalidFile(VerifyArchive(Repack(files)), "manifest.sig", "not a valid signature");
}

TEST_F(VerifierTest, SwappedManifestSignatureIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  input().archive_id = "ARCH-OTHER";
  std::vector<ZipFile> other = Entries(Zip());
  EntryData(files, "manifest.sig") = EntryData(other, "manifest.sig");
  ExpectInvalidFile(VerifyArchive(Repack(files)), "manifest.sig", "not a valid signature");
}

TEST_F(VerifierTest, SwappedPublicKeyIsRejected) {
  EvpPkeyPtr other;
  ASSERT_TRUE(GenerateP256Key(&other).ok());
  std::vector<ZipFile> files = Entries(Zip());
  EntryData(files, "public_key.pem") = testing::PublicKeyPem(other.get());
  ExpectInvalidFile(VerifyArchive(Repack(files)), "manifest.sig", "not a valid signature");

  // Re-signing the manifest with the new key still leaves the manifest's key_id.
  Resign(files, other.get());
  Report report = VerifyArchive(Repack(files));
  ExpectInvalidFile(report, "public_key.pem", "key id differs");
  EXPECT_EQ(report.failure.expected, input().key_id);

  // With key_id, file hash and manifest signature all replaced, the records still carry the
  // register key's signatures.
  std::string& manifest = EntryData(files, "manifest.json");
  ReplaceOnce(&manifest, input().key_id, testing::KeyId(other.get()));
  ReplaceOnce(&manifest, archive::Sha256Hex(input().public_key_pem),
              archive::Sha256Hex(testing::PublicKeyPem(other.get())));
  Resign(files, other.get());
  report = VerifyArchive(Repack(files));
  ExpectInvalidAt(report, "tickets", 1, "signature does not verify");
}

TEST_F(VerifierTest, NonP256KeyIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  EntryData(files, "public_key.pem") =
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
  ExpectInvalidFile(VerifyArchive(Repack(files)), "public_key.pem", "not a PEM ECDSA P-256");
}

TEST_F(VerifierTest, AddedFileIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  files.push_back({"notes.txt", "added later"});
  ExpectInvalidFile(VerifyArchive(Repack(files)), "notes.txt", "not listed in the manifest");
}

TEST_F(VerifierTest, MissingFileIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  files.erase(files.begin());  // README.txt
  ExpectInvalidFile(VerifyArchive(Repack(files)), "README.txt",
                    "listed in the manifest but missing");

  files = Entries(Zip());
  std::erase_if(files, [](const ZipFile& file) { return file.path == "manifest.sig"; });
  ExpectInvalidFile(VerifyArchive(Repack(files)), "manifest.sig", "missing from the archive");
}

TEST_F(VerifierTest, UnsafeEntryNamesAreRejected) {
  for (const char* path : {"../evil.txt", "/etc/evil", "chains/../../evil", "./x", "a//b"}) {
    std::vector<ZipFile> files = Entries(Zip());
    files.push_back({path, "x"});
    Report report = VerifyArchive(Repack(files));
    ASSERT_EQ(report.outcome, Outcome::kInvalid) << path;
    EXPECT_EQ(FailureLocation(report.failure), "archive") << path;
    EXPECT_NE(report.failure.reason.find("unsafe"), std::string::npos) << Describe(report);
  }
}

// libarchive reads a backslash in a zip entry name as '/', so "a\\b" arrives as the safe name
// "a/b", which the manifest does not list.
TEST_F(VerifierTest, BackslashEntryNameIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  files.push_back({"a\\b", "x"});
  Report report = VerifyArchive(Repack(files));
  ASSERT_EQ(report.outcome, Outcome::kInvalid) << Describe(report);
  EXPECT_EQ(report.failure.reason, "not listed in the manifest's files");
}

TEST_F(VerifierTest, DuplicateEntryIsRejected) {
  std::vector<ZipFile> files = Entries(Zip());
  files.push_back(files[1]);
  Report report = VerifyArchive(Repack(files));
  ASSERT_EQ(report.outcome, Outcome::kInvalid);
  EXPECT_NE(report.failure.reason.find("appears twice"), std::string::npos) << Describe(report);
}

TEST_F(VerifierTest, LimitsAreEnforced) {
  std::string zip = Zip();
  ZipLimits few_entries;
  few_entries.max_entries = 3;
  Report report = VerifyArchive(zip, few_entries);
  ASSERT_EQ(report.outcome, Outcome::kInvalid);
  EXPECT_NE(report.failure.reason.find("more than 3 entries"), std::string::npos);

  ZipLimits small;
  small.max_total_bytes = 1000;
  report = VerifyArchive(zip, small);
  ASSERT_EQ(report.outcome, Outcome::kInvalid);
  EXPECT_NE(report.failure.reason.find("expands to more than 1000 bytes"), std::string::npos);
}

TEST_F(VerifierTest, NotAZipIsInvalid) {
  Report report = VerifyArchive("this is not a zip");
  ASSERT_EQ(report.outcome, Outcome::kInvalid);
  EXPECT_EQ(FailureLocation(report.failure), "archive");
  report = VerifyArchive("");
  EXPECT_EQ(report.outcome, Outcome::kInvalid);
}

TEST_F(VerifierTest, UnreadableFileIsAReadError) {
  Report report = VerifyArchiveFile("/nonexistent/archive.zip");
  EXPECT_EQ(report.outcome, Outcome::kReadError);
  EXPECT_EQ(ExitCode(report), 2);
  EXPECT_NE(report.error.find("/nonexistent/archive.zip"), std::string::npos);
  EXPECT_EQ(FormatText(report), "ERROR: " + report.error + "\n");
}

TEST_F(VerifierTest, JsonReportNamesTheFailure) {
  auto& records = chain("tickets").records;
  records.erase(records.begin() + 2);
  std::string json = FormatJson(VerifyInput());
  EXPECT_NE(json.find("\"valid\":false"), std::string::npos) << json;
  EXPECT_NE(json.find("\"chain\":\"tickets\",\"sequence\":4,\"fiscal_id\":\"CAISSE-01-T-000004\","
                      "\"line\":3,\"file\":\"chains/tickets.jsonl\""),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"expected\":\"3\",\"found\":\"4\""), std::string::npos) << json;
}

TEST_F(VerifierTest, ClosureRangeOutOfOrderIsRejected) {
  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1",
                 "2000:30.00,30.00,64.61,20261205230000,day:2026-12-05,000001,Y", Coverage(0, 4),
                 "CAISSE-01-C-000001");
  });
  ExpectInvalidAt(VerifyInput(), "closures", 1, "from_sequence is not between 1 and to_sequence");

  Rebuild("closures", [](ChainBuilder& closures) {
    closures.Add(1, "fr-closure-v1", "0000:0.00,0.00,0.00,20261205230000,day:2026-12-05,000001,Y",
                 Coverage(3, 1), "CAISSE-01-C-000001");
  });
  ExpectInvalidAt(VerifyInput(), "closures", 1, "from_sequence is not between 1 and to_sequence");
}

// A register whose records the france-nf525 plugin issues itself, as the host stores them.
class PluginRegister {
 public:
  explicit PluginRegister(EVP_PKEY* key) : signer_(MakeLocalKeySigner(key)) {}

  // Issues the next record of `chain` through the plugin's issue_record.
  void Issue(const std::string& operation, const std::string& chain, const std::string& now,
             const std::string& members) {
    std::vector<Stored>& records = chains_[chain];
    std::string previous = records.empty() ? "null" : records.back().chain_state;
    std::string key = "FR-73282932000074-CAISSE-01" + (chain == "tickets" ? "" : "#" + chain);
    std::string input = R"({"operation":")" + operation + R"(","environment":"test","now":")" +
                        now + R"(","location":)" + kLocation + R"(,"chain":{"name":")" + chain +
                        R"(","key":")" + key + R"(","sequence":)" +
                        std::to_string(records.size() + 1) + R"(,"previous":)" + previous + "}," +
                        members + "}";
    std::string result;
    Status status = IssueRecord(input, signer_, &result);
    ASSERT_TRUE(status.ok()) << chain << " " << operation << ": " << status.message();

    rapidjson::Document document;
    document.Parse(result.data(), result.size());
    ASSERT_FALSE(document.HasParseError()) << result;
    Stored stored;
    stored.record.sequence = static_cast<int64_t>(records.size() + 1);
    stored.record.operation = operation;
    stored.record.record_type = document["record_type"].GetString();
    stored.record.fiscal_id = document["fiscal_id"].GetString();
    stored.record.generated_at = now;
    stored.record.plugin_version = "1.0.0";
    stored.record.format = document["record_data"]["format"].GetString();
    stored.record.payload = document["record_data"]["payload"].GetString();
    stored.record.signature = document["hash"].GetString();
    stored.record.document = document["document"].GetString();
    stored.record_data = Serialize(document["record_data"]);
    stored.chain_state = Serialize(document["chain_state"]);
    if (document["chain_state"].HasMember("cumulative")) {
      stored.cumulative = Serialize(document["chain_state"]["cumulative"]);
    }
    records.push_back(std::move(stored));
  }

  // The "original" member of a refund, void or reprint of ticket `sequence`.
  std::string Original(size_t sequence) {
    const Stored& ticket = chains_["tickets"][sequence - 1];
    return R"("original":{"fiscal_id":")" + ticket.record.fiscal_id + R"(","hash":")" +
           ticket.record.signature + R"(","record_type":"ticket","record_data":)" +
           ticket.record_data + "}";
  }

  // The "closure" member of a closure up to ticket `sequence`.
  std::string Closure(const std::string& period, const std::string& label, size_t sequence) {
    std::string state = chains_["tickets"][sequence - 1].chain_state;
    return R"("closure":{"period":")" + period + R"(","label":")" + label +
           R"(","tickets":{"sequence":)" + std::to_string(sequence) + R"(,"state":)" + state + "}}";
  }

  // Returns the archive chain `name` from record `first` on. The record before it is the anchor.
  archive::ArchiveChain Chain(const std::string& name, size_t first = 1) {
    archive::ArchiveChain chain{name, "chains/" + name + ".jsonl", {}, {}};
    const std::vector<Stored>& records = chains_[name];
    for (size_t i = first - 1; i < records.size(); ++i) chain.records.push_back(records[i].record);
    if (first > 1) {
      const Stored& anchor = records[first - 2];
      chain.anchor = archive::ArchiveAnchor{anchor.record.sequence, anchor.record.signature,
                                            anchor.cumulative};
    }
    return chain;
  }

 private:
  static constexpr char kLocation[] =
      R"({"siret":"73282932000074","register_id":"CAISSE-01","establishment":"Librairie"})";

  struct Stored {
    archive::ArchiveRecord record;
    std::string record_data;
    std::string chain_state;
    std::string cumulative;  // tickets only
  };

  static std::string Serialize(const rapidjson::Value& value) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    value.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize());
  }

  Signer signer_;
  std::map<std::string, std::vector<Stored>> chains_;
};

std::string PluginTransaction(const std::string& id, const std::string& type,
                              const std::string& items, const std::string& breakdown,
                              const std::string& pretax, const std::string& tax,
                              const std::string& total) {
  return R"("transaction":{"id":")" + id + R"(","type":")" + type +
         R"(","invoice_number":"","timestamp":"2026-12-04T11:15:00+01:00","currency":"EUR",)"
         R"("description":"","payment_method":"card","items":[)" +
         items + R"(],"breakdown":[)" + breakdown + R"(],"pretax_amount":")" + pretax +
         R"(","tax_amount":")" + tax + R"(","total_amount":")" + total + R"(","customer":null})";
}

// A book at 5.5 % and two pens at 20 %.
std::string BookAndPens() {
  return PluginTransaction(
      "t-1", "sale",
      R"({"description":"Livre","quantity":"1","unit_price":"10.55","tax_rate":"5.50",)"
      R"("amount":"10.55"},{"description":"Stylo","quantity":"2","unit_price":"6.00",)"
      R"("tax_rate":"20.00","amount":"12.00"})",
      R"({"tax_rate":"5.50","base":"10.00","tax":"0.55"},)"
      R"({"tax_rate":"20.00","base":"10.00","tax":"2.00"})",
      "20.00", "2.55", "22.55");
}

std::string Notebook(const std::string& id, const std::string& type, const std::string& sign) {
  return PluginTransaction(
      id, type,
      R"({"description":"Cahier","quantity":")" + sign +
          R"(1","unit_price":"12.00","tax_rate":"20.00","amount":")" + sign + R"(12.00"})",
      R"({"tax_rate":"20.00","base":")" + sign + R"(10.00","tax":")" + sign + R"(2.00"})",
      sign + "10.00", sign + "2.00", sign + "12.00");
}

// Five tickets over three days (sales, a refund, a void), four closures, a reprint, journal events
// with free text and an archive record, all issued by the plugin.
void IssuePluginRecords(PluginRegister& till) {
  till.Issue("sale", "tickets", "2026-12-04T10:15:00Z", BookAndPens());
  till.Issue("sale", "tickets", "2026-12-04T10:20:00Z", Notebook("t-2", "sale", ""));
  till.Issue("closure", "closures", "2026-12-04T23:00:00Z", till.Closure("day", "2026-12-04", 2));
  till.Issue("refund", "tickets", "2026-12-05T09:00:00Z",
             Notebook("t-3", "refund", "-") + "," + till.Original(2));
  till.Issue("cancel", "tickets", "2026-12-05T09:10:00Z",
             R"("transaction":{"id":"t-1","type":"sale","invoice_number":""},)" + till.Original(1));
  till.Issue("closure", "closures", "2026-12-05T23:00:00Z", till.Closure("day", "2026-12-05", 4));
  till.Issue("sale", "tickets", "2026-12-06T09:00:00Z", Notebook("t-5", "sale", ""));
  till.Issue("closure", "closures", "2026-12-06T23:00:00Z", till.Closure("day", "2026-12-06", 5));
  till.Issue("closure", "closures", "2026-12-31T23:00:00Z", till.Closure("month", "2026-12", 5));
  till.Issue("duplicate", "duplicates", "2026-12-04T11:30:00Z",
             BookAndPens() + "," + till.Original(1) + R"(,"operator":"Marie","copy_number":1)");
  till.Issue("event", "journal", "2026-12-04T08:00:00Z",
             R"("event":{"code":30,"name":"login","description":"Ouverture, poste|2",)"
             R"("operator":"Dupont, Marie|caisse"})");
  till.Issue("event", "journal", "2026-12-04T23:00:01Z",
             R"("event":{"code":70,"name":"closure","description":"","operator":""})");
  till.Issue("archive", "archives", "2026-12-07T03:00:00Z",
             R"("archive":{"id":"arc-1","from":"2026-11-01","to":"2026-11-30",)"
             R"("manifest_sha256":")" +
                 std::string(64, 'b') + R"("})");
}

// The plugin and this verifier are two readings of docs/france.md: what one issues, the other
// accepts, totals included.
TEST_F(VerifierTest, PluginRecordsAreAccepted) {
  PluginRegister till(key());
  IssuePluginRecords(till);
  input().chains = {till.Chain("tickets"), till.Chain("duplicates"), till.Chain("closures"),
                    till.Chain("journal"), till.Chain("archives")};
  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  EXPECT_EQ(report.checks.back(), "closure totals: 4 of 4 closures match 5 tickets");
}

// The same records archived from the third ticket and the second closure on: the sums start from
// the plugin's cumulative totals in the tickets anchor.
TEST_F(VerifierTest, PluginRecordsAfterAnchorAreAccepted) {
  PluginRegister till(key());
  IssuePluginRecords(till);
  input().chains = {till.Chain("tickets", 3), till.Chain("closures", 2), till.Chain("journal", 2)};
  Report report = VerifyInput();
  ASSERT_EQ(report.outcome, Outcome::kValid) << Describe(report);
  EXPECT_EQ(report.checks.back(),
            "closure totals: 2 of 3 closures match 3 tickets, 1 starts before the archive "
            "(perpetual total checked)");

  // Dropping the refund from the archive leaves a gap after the tickets anchor.
  input().chains[0].records.erase(input().chains[0].records.begin());
  report = VerifyInput();
  ExpectInvalidAt(report, "tickets", 4, "sequence does not follow the previous record");
}

// Payload parsing on its own: one valid payload per format, then malformed variants.
TEST(VerifierPayloadTest, WellFormedPayloadsParse) {
  const std::string digest = DocumentDigest("{}");
  struct Case {
    const char* format;
    std::string payload;
  };
  std::vector<Case> cases = {
      {"fr-ticket-v1", "2000:12.00|0550:-2.11,9.89,20261204091500,CAISSE-01,000001,VENTE,Y,"},
      {"fr-training-v1", "1000:1.00,1.00,20240229235959,R_1,1000000,FORMATION-ANNULATION,N,"},
      {"fr-duplicate-v1", "CAISSE-01,000002,REMBOURSEMENT,12,,20261204091500,CAISSE-01,000001,N,"},
      {"fr-closure-v1", "0000:0.00,0.00,12.00,20261204230000,year:2026,000003,N,"},
      {"fr-event-v1", "000001,999,custom_event,20261204080000,Jean Luc,CAISSE-01,Y,"},
      {"fr-archive-v1",
       "000001,2026-01-01|2026-12-31," + std::string(64, '0') + ",20270101000000,CAISSE-01,Y,"},
  };
  for (const Case& test_case : cases) {
    PayloadFields fields;
    EXPECT_EQ(ParsePayload(test_case.format, test_case.payload + digest, &fields), "")
        << test_case.format;
    EXPECT_EQ(fields.digest, digest) << test_case.format;
  }

  PayloadFields ticket;
  ASSERT_EQ(
      ParsePayload("fr-ticket-v1",
                   "2000:12.00|0550:-2.11,9.89,20261204091500,CAISSE-01,000001,VENTE,Y," + digest,
                   &ticket),
      "");
  EXPECT_EQ(ticket.sequence, 1u);
  EXPECT_TRUE(ticket.first);
  EXPECT_EQ(ticket.total_cents, 989);
  EXPECT_EQ(ticket.rate_totals, (RateTotals{{2000, 1200}, {550, -211}}));
  EXPECT_EQ(ticket.register_id, "CAISSE-01");
  EXPECT_EQ(FormatRateTotals(ticket.rate_totals), "2000:12.00|0550:-2.11");
}

TEST(VerifierPayloadTest, MalformedPayloadsAreRejected) {
  const std::string digest = DocumentDigest("{}");
  struct Case {
    const char* format;
    std::string payload;
    const char* reason_part;
  };
  const std::string ticket_tail = ",CAISSE-01,000001,VENTE,Y," + digest;
  std::vector<Case> cases = {
      {"fr-ticket-v1", "2000:12.00,12.00,20261304091500" + ticket_tail, "timestamp"},
      {"fr-ticket-v1", "2000:12.00,12.00,20260230091500" + ticket_tail, "timestamp"},
      {"fr-ticket-v1", "2000:12.00,12.00,20261204246000" + ticket_tail, "timestamp"},
      {"fr-ticket-v1", "2000:12.0,12.0,20261204091500" + ticket_tail, "amount"},
      {"fr-ticket-v1", "2000:-0.00,0.00,20261204091500" + ticket_tail, "amount"},
      {"fr-ticket-v1", "2000:012.00,12.00,20261204091500" + ticket_tail, "amount"},
      {"fr-ticket-v1", "200:12.00,12.00,20261204091500" + ticket_tail, "rate"},
      {"fr-ticket-v1", "2000:1.00|2000:1.00,2.00,20261204091500" + ticket_tail, "repeated"},
      {"fr-ticket-v1", "2000:12.00,12.01,20261204091500" + ticket_tail, "differs from the sum"},
      {"fr-ticket-v1", ",0.00,20261204091500" + ticket_tail, "empty"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE 01,000001,VENTE,Y," + digest,
       "register"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,00001,VENTE,Y," + digest,
       "sequence"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,0000001,VENTE,Y," + digest,
       "sequence"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,000000,VENTE,Y," + digest,
       "sequence"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,000001,SALE,Y," + digest, "type"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,000001,VENTE,O," + digest,
       "first flag"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,000001,VENTE,Y," + digest + "A",
       "digest"},
      {"fr-ticket-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,000001,VENTE,Y", "fields"},
      {"fr-training-v1", "2000:1.00,1.00,20261204091500,CAISSE-01,000001,VENTE,Y," + digest,
       "type"},
      {"fr-duplicate-v1", "CAISSE-01,000002,VENTE,0,,20261204091500,CAISSE-01,000001,N," + digest,
       "copy number"},
      {"fr-duplicate-v1",
       "CAISSE-01,000002,VENTE,1,a|b,20261204091500,CAISSE-01,000001,N," + digest, "operator"},
      {"fr-closure-v1", "0000:0.00,0.00,-1.00,20261204230000,day:2026-12-04,000001,Y," + digest,
       "perpetual"},
      {"fr-closure-v1", "0000:0.00,0.00,0.00,20261204230000,week:2026-49,000001,Y," + digest,
       "period"},
      {"fr-closure-v1", "0000:0.00,0.00,0.00,20261204230000,month:2026-13,000001,Y," + digest,
       "period"},
      {"fr-event-v1", "000001,10,stop,20261204080000,,CAISSE-01,Y," + digest, "event name"},
      {"fr-event-v1", "000001,010,start,20261204080000,,CAISSE-01,Y," + digest, "event code"},
      {"fr-archive-v1",
       "000001,2026-12-31|2026-01-01," + std::string(64, '0') + ",20270101000000,CAISSE-01,Y," +
           digest,
       "period"},
      {"fr-archive-v1",
       "000001,2026-01-01|2026-12-31," + std::string(64, 'A') + ",20270101000000,CAISSE-01,Y," +
           digest,
       "manifest SHA-256"},
      {"fr-invoice-v1", "x", "unknown"},
  };
  for (const Case& test_case : cases) {
    PayloadFields fields;
    std::string reason = ParsePayload(test_case.format, test_case.payload, &fields);
    EXPECT_NE(reason.find(test_case.reason_part), std::string::npos)
        << test_case.format << " " << test_case.payload << ": got \"" << reason << "\"";
  }
}

TEST(VerifierPayloadTest, DigestIsBase64UrlSha256) {
  // base64url of SHA-256("Hello World!"), which is 7f83b1657ff1fc53...4addd200126d9069 in hex.
  EXPECT_EQ(DocumentDigest("Hello World!"), "f4OxZX_x_FO5LcGBSKHWXfwtSx-j1ncoSt3SABJtkGk");
  EXPECT_EQ(DigestField("a,b,c"), "c");
}

}  // namespace
}  // namespace fiscal::france::verifier
