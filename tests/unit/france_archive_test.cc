// Host archive writer: zip entries and their order, deterministic bytes, manifest hashes and
// signature, chain lines. Also the failures it returns instead of writing a broken archive.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "archive/archive_writer.h"
#include "common/json_tree.h"
#include "fiscal_verify/zip_reader.h"
#include "signature.h"
#include "testing/sample_archive.h"

namespace fiscal::archive {
namespace {

namespace fv = fiscal::france::verifier;
namespace fvt = fiscal::france::verifier::testing;

// Signs each distinct manifest once, so that two writes of the same input get the same signature
// (ECDSA in OpenSSL 3.0 uses a random nonce).
class MemoSigner {
 public:
  explicit MemoSigner(EVP_PKEY* key) : sign_(fvt::SignerFor(key)) {}

  ManifestSigner signer() {
    return [this](std::string_view manifest) -> Result<std::string> {
      ++calls_;
      last_manifest_ = manifest;
      auto found = cache_.find(last_manifest_);
      if (found != cache_.end()) return found->second;
      Result<std::string> signature = sign_(manifest);
      if (signature.ok()) cache_[last_manifest_] = *signature;
      return signature;
    };
  }

  int calls() const { return calls_; }
  const std::string& last_manifest() const { return last_manifest_; }

 private:
  ManifestSigner sign_;
  std::map<std::string, std::string> cache_;
  std::string last_manifest_;
  int calls_ = 0;
};

std::map<std::string, std::string> ReadEntries(const std::string& zip,
                                               std::vector<std::string>* order = nullptr) {
  std::vector<fv::ZipFile> files;
  std::string error;
  EXPECT_TRUE(fv::ReadZip(zip, fv::ZipLimits(), &files, &error)) << error;
  std::map<std::string, std::string> entries;
  for (fv::ZipFile& file : files) {
    if (order != nullptr) order->push_back(file.path);
    entries[file.path] = std::move(file.data);
  }
  return entries;
}

const json::Node& Member(const json::Node& node, std::string_view name) {
  const json::Node* member = node.Find(name);
  EXPECT_NE(member, nullptr) << "missing member " << name;
  static const json::Node kNull;
  return member != nullptr ? *member : kNull;
}

class ArchiveWriterTest : public ::testing::Test {
 protected:
  ArchiveWriterTest() : sample_(fvt::MakeSampleArchive()), signer_(sample_.key.get()) {}

  Result<ArchiveBytes> Write() { return WriteArchive(sample_.input, signer_.signer()); }

  fvt::SampleArchive sample_;
  MemoSigner signer_;
};

TEST_F(ArchiveWriterTest, EntriesInFixedOrder) {
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();

  std::vector<std::string> order;
  ReadEntries(archive->zip, &order);
  std::vector<std::string> expected = {
      "README.txt",           "manifest.json",         "manifest.sig",        "public_key.pem",
      "chains/tickets.jsonl", "chains/closures.jsonl", "chains/journal.jsonl"};
  EXPECT_EQ(order, expected);
}

TEST_F(ArchiveWriterTest, SameInputGivesSameBytes) {
  Result<ArchiveBytes> first = Write();
  Result<ArchiveBytes> second = Write();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->zip, second->zip);
  EXPECT_EQ(first->manifest_json, second->manifest_json);

  sample_.input.archive_id += "-2";
  Result<ArchiveBytes> changed = Write();
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_NE(changed->zip, first->zip);
}

TEST_F(ArchiveWriterTest, EntryTimesAreCreatedAt) {
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();

  std::unique_ptr<struct archive, int (*)(struct archive*)> reader(archive_read_new(),
                                                                   archive_read_free);
  archive_read_support_format_zip(reader.get());
  ASSERT_EQ(archive_read_open_memory(reader.get(), archive->zip.data(), archive->zip.size()),
            ARCHIVE_OK);
  std::time_t created_at = std::chrono::system_clock::to_time_t(sample_.input.created_at);
  archive_entry* entry = nullptr;
  int count = 0;
  while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
    ++count;
    EXPECT_EQ(archive_entry_mtime(entry), created_at) << archive_entry_pathname(entry);
    EXPECT_EQ(archive_entry_perm(entry), 0644) << archive_entry_pathname(entry);
  }
  EXPECT_EQ(count, 7);
}

TEST_F(ArchiveWriterTest, ManifestListsFileHashes) {
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  std::map<std::string, std::string> entries = ReadEntries(archive->zip);

  EXPECT_EQ(entries["manifest.json"], archive->manifest_json);
  EXPECT_EQ(archive->manifest_sha256_hex, Sha256Hex(archive->manifest_json));
  EXPECT_EQ(signer_.last_manifest(), archive->manifest_json);

  Result<json::Node> manifest = json::Parse(archive->manifest_json, "manifest");
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(Member(*manifest, "format").text(), "fiscal-archive-v1");
  EXPECT_EQ(Member(*manifest, "created_at").text(), "2027-01-01T02:00:00Z");
  EXPECT_EQ(Member(*manifest, "key_id").text(), sample_.input.key_id);
  EXPECT_EQ(Member(Member(*manifest, "location"), "register_id").text(), "CAISSE-01");

  const json::Node& files = Member(*manifest, "files");
  ASSERT_TRUE(files.IsObject());
  EXPECT_EQ(files.members().size(), 5u);
  for (const auto& [path, hash] : files.members()) {
    ASSERT_EQ(entries.count(path), 1u) << path;
    EXPECT_EQ(hash.text(), Sha256Hex(entries[path])) << path;
  }
  EXPECT_EQ(files.Find("manifest.json"), nullptr);
  EXPECT_EQ(files.Find("manifest.sig"), nullptr);
}

TEST_F(ArchiveWriterTest, ManifestSignatureVerifies) {
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  std::map<std::string, std::string> entries = ReadEntries(archive->zip);

  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, sample_.key.get()), 1);
  const std::string& signature = entries["manifest.sig"];
  const std::string& manifest = entries["manifest.json"];
  EXPECT_EQ(
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(manifest.data()),
                       manifest.size()),
      1);
  EXPECT_EQ(entries["public_key.pem"], sample_.input.public_key_pem);
}

TEST_F(ArchiveWriterTest, ChainCountsAndAnchors) {
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  Result<json::Node> manifest = json::Parse(archive->manifest_json, "manifest");
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();

  const json::Node& chains = Member(*manifest, "chains");
  ASSERT_EQ(chains.items().size(), 3u);
  const json::Node& tickets = chains.items()[0];
  EXPECT_EQ(Member(tickets, "name").text(), "tickets");
  EXPECT_EQ(Member(tickets, "file").text(), "chains/tickets.jsonl");
  EXPECT_EQ(Member(tickets, "count").text(), "4");
  EXPECT_EQ(Member(tickets, "first_sequence").text(), "1");
  EXPECT_EQ(Member(tickets, "last_sequence").text(), "4");
  EXPECT_TRUE(Member(tickets, "anchor").IsNull());
  ASSERT_EQ(Member(tickets, "format_ids").items().size(), 1u);
  EXPECT_EQ(Member(tickets, "format_ids").items()[0].text(), "fr-ticket-v1");

  const json::Node& journal = chains.items()[2];
  EXPECT_EQ(Member(journal, "first_sequence").text(), "42");
  const json::Node& anchor = Member(journal, "anchor");
  EXPECT_EQ(Member(anchor, "sequence").text(), "41");
  EXPECT_EQ(Member(anchor, "signature").text(), sample_.input.chains[2].anchor->signature);
  EXPECT_TRUE(Member(anchor, "cumulative").IsNull());
}

TEST_F(ArchiveWriterTest, AnchorCumulativeIsCompacted) {
  sample_.input.chains[0].anchor = ArchiveAnchor{
      5, sample_.input.chains[2].anchor->signature,
      "{ \"total\": \"1.00\",\n \"absolute\": \"3.00\", \"rates\": {\"2000\": \"1.00\"} }"};
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  EXPECT_NE(archive->manifest_json.find(
                "\"cumulative\": "
                "{\"total\":\"1.00\",\"absolute\":\"3.00\",\"rates\":{\"2000\":\"1.00\"}}"),
            std::string::npos)
      << archive->manifest_json;
}

TEST_F(ArchiveWriterTest, EmptyChainHasNullSequences) {
  sample_.input.chains.push_back(ArchiveChain{"duplicates", "chains/duplicates.jsonl", {}, {}});
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  EXPECT_NE(archive->manifest_json.find(
                "{\"name\": \"duplicates\", \"file\": \"chains/duplicates.jsonl\", \"format_ids\": "
                "[], \"count\": 0, \"first_sequence\": null, \"last_sequence\": null, \"anchor\": "
                "null}"),
            std::string::npos)
      << archive->manifest_json;
  std::map<std::string, std::string> entries = ReadEntries(archive->zip);
  ASSERT_EQ(entries.count("chains/duplicates.jsonl"), 1u);
  EXPECT_EQ(entries["chains/duplicates.jsonl"], "");
}

TEST_F(ArchiveWriterTest, ChainLinesKeepRecords) {
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  std::string lines = ReadEntries(archive->zip)["chains/tickets.jsonl"];
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), '\n');

  const std::vector<ArchiveRecord>& records = sample_.input.chains[0].records;
  size_t start = 0;
  for (const ArchiveRecord& record : records) {
    size_t end = lines.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    Result<json::Node> line = json::Parse(lines.substr(start, end - start), "line");
    ASSERT_TRUE(line.ok()) << line.status().ToString();
    std::vector<std::string> keys;
    for (const auto& member : line->members()) keys.push_back(member.first);
    EXPECT_EQ(keys, (std::vector<std::string>{"sequence", "operation", "record_type", "fiscal_id",
                                              "generated_at", "plugin_version", "format", "payload",
                                              "signature", "document"}));
    EXPECT_EQ(Member(*line, "sequence").text(), std::to_string(record.sequence));
    EXPECT_EQ(Member(*line, "payload").text(), record.payload);
    EXPECT_EQ(Member(*line, "signature").text(), record.signature);
    EXPECT_EQ(Member(*line, "document").text(), record.document);
    EXPECT_EQ(Member(*line, "fiscal_id").text(), record.fiscal_id);
    start = end + 1;
  }
  EXPECT_EQ(start, lines.size());
}

TEST_F(ArchiveWriterTest, ReadmeShowsOpensslCommands) {
  Result<ArchiveBytes> archive = Write();
  ASSERT_TRUE(archive.ok()) << archive.status().ToString();
  std::string readme = ReadEntries(archive->zip)["README.txt"];
  const ArchiveRecord& first = sample_.input.chains[0].records[0];
  EXPECT_NE(readme.find("openssl dgst -sha256 -verify public_key.pem -signature manifest.sig "
                        "manifest.json"),
            std::string::npos);
  EXPECT_NE(readme.find("openssl asn1parse -genconf sig.cnf -out sig.der -noout"),
            std::string::npos);
  EXPECT_NE(readme.find("printf '%s' '" + first.payload + ",' > signed.txt"), std::string::npos);
  EXPECT_NE(readme.find("printf '%s==' '" + first.signature + "'"), std::string::npos);
  // The apostrophe of "Menu d'hiver" is quoted for the shell.
  EXPECT_NE(readme.find("Menu d'\\''hiver"), std::string::npos);
}

TEST_F(ArchiveWriterTest, SignerFailurePropagates) {
  int calls = 0;
  ManifestSigner failing = [&calls](std::string_view) -> Result<std::string> {
    ++calls;
    return Status(StatusCode::kUnavailable, "signing_key_unavailable",
                  "signing key nf525-x is unreadable");
  };
  Result<ArchiveBytes> archive = WriteArchive(sample_.input, failing);
  ASSERT_FALSE(archive.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(archive.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(archive.status().error_code(), "signing_key_unavailable");
  EXPECT_EQ(archive.status().message(), "signing key nf525-x is unreadable");
}

TEST_F(ArchiveWriterTest, SignatureOfAnotherKeyIsRejected) {
  france::EvpPkeyPtr other;
  ASSERT_TRUE(france::GenerateP256Key(&other).ok());
  Result<ArchiveBytes> archive = WriteArchive(sample_.input, fvt::SignerFor(other.get()));
  ASSERT_FALSE(archive.ok());
  EXPECT_EQ(archive.status().code(), StatusCode::kInternal);

  ManifestSigner garbage = [](std::string_view) -> Result<std::string> {
    return std::string("not a DER signature");
  };
  archive = WriteArchive(sample_.input, garbage);
  ASSERT_FALSE(archive.ok());
  EXPECT_EQ(archive.status().code(), StatusCode::kInternal);
}

TEST_F(ArchiveWriterTest, MalformedInputIsRejected) {
  struct Case {
    const char* name;
    std::function<void(ArchiveInput*)> change;
  };
  std::vector<Case> cases = {
      {"empty archive id", [](ArchiveInput* input) { input->archive_id.clear(); }},
      {"bad from date", [](ArchiveInput* input) { input->period_from = "2026-13-01"; }},
      {"February 30", [](ArchiveInput* input) { input->period_to = "2026-02-30"; }},
      {"to before from", [](ArchiveInput* input) { input->period_to = "2026-11-30"; }},
      {"location not JSON", [](ArchiveInput* input) { input->location_json = "{\"id\":"; }},
      {"location not an object", [](ArchiveInput* input) { input->location_json = "[]"; }},
      {"location without register",
       [](ArchiveInput* input) { input->location_json = "{\"id\":\"loc-1\"}"; }},
      {"register not a string",
       [](ArchiveInput* input) { input->location_json = "{\"register_id\":7}"; }},
      {"key id of another key", [](ArchiveInput* input) { input->key_id[0] ^= 1; }},
      {"public key not PEM", [](ArchiveInput* input) { input->public_key_pem = "PEM"; }},
      {"duplicate chain", [](ArchiveInput* input) { input->chains.push_back(input->chains[0]); }},
      {"chain file elsewhere",
       [](ArchiveInput* input) { input->chains[0].file = "../tickets.jsonl"; }},
      {"chain name with slash",
       [](ArchiveInput* input) {
         input->chains[0].name = "a/b";
         input->chains[0].file = "chains/a/b.jsonl";
       }},
      {"anchor without signature",
       [](ArchiveInput* input) { input->chains[2].anchor->signature.clear(); }},
      {"anchor sequence 0", [](ArchiveInput* input) { input->chains[2].anchor->sequence = 0; }},
      {"cumulative not JSON",
       [](ArchiveInput* input) { input->chains[2].anchor->cumulative_json = "{total"; }},
  };
  for (const Case& test_case : cases) {
    ArchiveInput input = sample_.input;
    test_case.change(&input);
    int calls_before = signer_.calls();
    Result<ArchiveBytes> archive = WriteArchive(input, signer_.signer());
    ASSERT_FALSE(archive.ok()) << test_case.name;
    EXPECT_EQ(archive.status().code(), StatusCode::kInvalidArgument)
        << test_case.name << ": " << archive.status().ToString();
    EXPECT_EQ(signer_.calls(), calls_before) << test_case.name << ": signed a rejected archive";
  }
}

TEST(ArchiveZipTest, WriteZipRoundTrips) {
  std::vector<ZipEntry> entries = {
      {"a.txt", "alpha"}, {"dir/b.bin", std::string("\0\1\2", 3)}, {"empty", ""}};
  Result<std::string> zip =
      WriteZip(entries, std::chrono::sys_seconds(std::chrono::seconds(1798765432)));
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  std::vector<std::string> order;
  std::map<std::string, std::string> read = ReadEntries(*zip, &order);
  EXPECT_EQ(order, (std::vector<std::string>{"a.txt", "dir/b.bin", "empty"}));
  EXPECT_EQ(read["a.txt"], "alpha");
  EXPECT_EQ(read["dir/b.bin"], std::string("\0\1\2", 3));
  EXPECT_EQ(read["empty"], "");
}

TEST(ArchiveZipTest, Sha256HexOfKnownText) {
  EXPECT_EQ(Sha256Hex("Hello World!"),
            "7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069");
}

}  // namespace
}  // namespace fiscal::archive
