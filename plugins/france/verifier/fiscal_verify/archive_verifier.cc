#include "fiscal_verify/archive_verifier.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "fiscal_verify/closure_totals.h"
#include "fiscal_verify/json_util.h"
#include "fiscal_verify/manifest.h"
#include "fiscal_verify/payload_fields.h"
#include "signature.h"

namespace fiscal::france::verifier {
namespace {

constexpr char kManifestPath[] = "manifest.json";
constexpr char kManifestSignaturePath[] = "manifest.sig";
constexpr char kPublicKeyPath[] = "public_key.pem";
constexpr char kKeyNotPinnedNote[] =
    "key not pinned; compare the key id with the register's published key id (--key-id)";

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string Sha256Hex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  for (unsigned char byte : digest) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

// Returns the key in `pem` when it is an ECDSA P-256 public key, else nullptr.
EvpPkeyPtr ReadP256PublicKey(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || !EVP_PKEY_is_a(key.get(), "EC")) return nullptr;
  char group[64] = {0};
  size_t group_length = 0;
  if (EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof(group), &group_length) !=
          1 ||
      std::string_view(group, group_length) != "prime256v1") {
    return nullptr;
  }
  return key;
}

bool VerifyDerSignature(EVP_PKEY* key, std::string_view message, std::string_view der) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

// Returns the DER SubjectPublicKeyInfo of `key`, or "" when it cannot be encoded.
std::string PublicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return "";
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return bytes;
}

std::string PublicKeyId(EVP_PKEY* key) {
  std::string der = PublicKeyDer(key);
  return der.empty() ? "" : Sha256Hex(der);
}

// "1 record", "3 records".
std::string CountOf(uint64_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

// One line of chains/<name>.jsonl.
struct RecordLine {
  uint64_t sequence = 0;
  std::string fiscal_id;
  std::string format;
  std::string payload;
  std::string signature;
  std::string document;
};

std::string ParseRecordLine(std::string_view text, RecordLine* line) {
  rapidjson::Document parsed;
  std::string error = ParseStrictJson(text, &parsed);
  if (!error.empty()) return error;
  error = CheckMembers(parsed, {"sequence", "operation", "record_type", "fiscal_id", "generated_at",
                                "plugin_version", "format", "payload", "signature", "document"});
  if (!error.empty()) return error;
  if (!parsed["sequence"].IsUint64()) return "\"sequence\" is not a non-negative integer";
  line->sequence = parsed["sequence"].GetUint64();
  for (const char* name : {"operation", "record_type", "fiscal_id", "generated_at",
                           "plugin_version", "format", "payload", "signature", "document"}) {
    if (StringMember(parsed, name) == nullptr) {
      return "member \"" + std::string(name) + "\" is not a string";
    }
  }
  line->fiscal_id = StringValue(parsed["fiscal_id"]);
  line->format = StringValue(parsed["format"]);
  line->payload = StringValue(parsed["payload"]);
  line->signature = StringValue(parsed["signature"]);
  line->document = StringValue(parsed["document"]);
  return "";
}

// Splits a chain file into lines. Returns false when the last line is not terminated by '\n'.
bool SplitLines(std::string_view data, std::vector<std::string_view>* lines) {
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string_view::npos) {
      lines->push_back(data.substr(start));
      return false;
    }
    lines->push_back(data.substr(start, end - start));
    start = end + 1;
  }
  return true;
}

// Record count, sequences and formats of one chain file, compared with the manifest afterwards.
struct ChainSummary {
  uint64_t count = 0;
  std::optional<uint64_t> first_sequence;
  std::optional<uint64_t> last_sequence;
  std::set<std::string> formats;
};

class ArchiveChecker {
 public:
  ArchiveChecker(std::vector<ZipFile> files, ExpectedKey expected)
      : files_(std::move(files)), expected_(std::move(expected)) {}

  Report Run() {
    if (!ReadPublicKey() || !CheckExpectedKey() || !CheckManifestSignature() || !CheckKeyId()) {
      return std::move(report_);
    }
    for (const ManifestChain& chain : manifest_.chains) {
      if (!CheckChain(chain)) return std::move(report_);
    }
    if (!CheckFileHashes() || !CheckCounts() || !CheckTotals()) return std::move(report_);
    report_.outcome = Outcome::kValid;
    return std::move(report_);
  }

 private:
  const ZipFile* Find(std::string_view path) const {
    for (const ZipFile& file : files_) {
      if (file.path == path) return &file;
    }
    return nullptr;
  }

  bool Fail(Failure failure) {
    report_.outcome = Outcome::kInvalid;
    report_.failure = std::move(failure);
    return false;
  }

  bool FailFile(std::string path, std::string reason, std::string expected = "",
                std::string found = "") {
    Failure failure;
    failure.file = std::move(path);
    failure.reason = std::move(reason);
    failure.expected = std::move(expected);
    failure.found = std::move(found);
    return Fail(std::move(failure));
  }

  bool FailChain(const ManifestChain& chain, std::string reason, std::string expected = "",
                 std::string found = "") {
    Failure failure;
    failure.chain = chain.name;
    failure.file = chain.file;
    failure.reason = std::move(reason);
    failure.expected = std::move(expected);
    failure.found = std::move(found);
    return Fail(std::move(failure));
  }

  void Pass(std::string check) { report_.checks.push_back(std::move(check)); }

  bool ReadPublicKey() {
    const ZipFile* public_key = Find(kPublicKeyPath);
    if (public_key == nullptr) return FailFile(kPublicKeyPath, "missing from the archive");
    public_key_ = ReadP256PublicKey(public_key->data);
    if (!public_key_) return FailFile(kPublicKeyPath, "not a PEM ECDSA P-256 public key");
    return true;
  }

  // Runs before every other check, because an archive re-signed throughout with another key
  // passes all of them. Only the key the register published distinguishes it.
  bool CheckExpectedKey() {
    if (expected_.empty()) {
      report_.notes.push_back(kKeyNotPinnedNote);
      return true;
    }
    std::string der = PublicKeyDer(public_key_.get());
    std::string found = Sha256Hex(der);
    std::string expected_id;
    if (!expected_.public_key_der.empty() && der != expected_.public_key_der) {
      expected_id = Sha256Hex(expected_.public_key_der);
    } else if (!expected_.key_id.empty() && found != expected_.key_id) {
      expected_id = expected_.key_id;
    }
    if (!expected_id.empty()) {
      return FailFile(kPublicKeyPath,
                      "the archive is signed by key " + found + ", expected " + expected_id);
    }
    Pass("pinned key " + found);
    return true;
  }

  bool CheckManifestSignature() {
    const ZipFile* manifest = Find(kManifestPath);
    const ZipFile* signature = Find(kManifestSignaturePath);
    for (auto [file, path] :
         {std::pair{manifest, kManifestPath}, std::pair{signature, kManifestSignaturePath}}) {
      if (file == nullptr) return FailFile(path, "missing from the archive");
    }
    if (!VerifyDerSignature(public_key_.get(), manifest->data, signature->data)) {
      return FailFile(kManifestSignaturePath,
                      "not a valid signature of manifest.json under public_key.pem");
    }
    std::string error = ParseManifest(manifest->data, &manifest_);
    if (!error.empty()) return FailFile(kManifestPath, "malformed manifest: " + error);
    Pass("manifest signature");
    return true;
  }

  bool CheckKeyId() {
    std::string key_id = PublicKeyId(public_key_.get());
    if (key_id != manifest_.key_id) {
      return FailFile(kPublicKeyPath, "key id differs from the manifest's key_id", manifest_.key_id,
                      key_id);
    }
    Pass("key id " + key_id);
    return true;
  }

  bool CheckChain(const ManifestChain& chain) {
    const ZipFile* file = Find(chain.file);
    if (file == nullptr) return FailChain(chain, "file " + chain.file + " is missing");
    std::vector<std::string_view> lines;
    bool terminated = SplitLines(file->data, &lines);

    ChainSummary& summary = summaries_[chain.name];
    uint64_t expected_sequence = chain.anchor ? chain.anchor->sequence + 1 : 1;
    std::string previous_signature = chain.anchor ? chain.anchor->signature : "";
    for (size_t i = 0; i < lines.size(); ++i) {
      RecordLine record;
      if (!CheckRecord(chain, lines[i], i + 1, expected_sequence, previous_signature, &record)) {
        return false;
      }
      previous_signature = record.signature;
      ++expected_sequence;
      ++summary.count;
      if (!summary.first_sequence) summary.first_sequence = record.sequence;
      summary.last_sequence = record.sequence;
      summary.formats.insert(record.format);
    }
    if (!terminated) {
      Failure failure;
      failure.chain = chain.name;
      failure.file = chain.file;
      failure.line = lines.size();
      failure.reason = "the file does not end with a newline";
      return Fail(std::move(failure));
    }

    std::string check = "chain " + chain.name + ": " + CountOf(summary.count, "record");
    if (summary.count > 0) {
      check += " " + std::to_string(*summary.first_sequence) + ".." +
               std::to_string(*summary.last_sequence);
    }
    if (chain.anchor) check += " after anchor " + std::to_string(chain.anchor->sequence);
    Pass(check);
    return true;
  }

  // Checks one line of a chain file and, on success, keeps what the totals check needs.
  bool CheckRecord(const ManifestChain& chain, std::string_view text, size_t line_number,
                   uint64_t expected_sequence, const std::string& previous_signature,
                   RecordLine* record) {
    Failure failure;
    failure.chain = chain.name;
    failure.file = chain.file;
    failure.line = line_number;
    auto fail = [&](std::string reason, std::string expected = "", std::string found = "") {
      failure.reason = std::move(reason);
      failure.expected = std::move(expected);
      failure.found = std::move(found);
      return Fail(failure);
    };

    std::string error = ParseRecordLine(text, record);
    if (!error.empty()) return fail("the line is not a valid record: " + error);
    failure.sequence = record->sequence;
    failure.fiscal_id = record->fiscal_id;

    std::string digest = DocumentDigest(record->document);
    std::string_view digest_field = DigestField(record->payload);
    if (digest_field != digest) {
      return fail("the payload's digest is not the SHA-256 of the document", digest,
                  std::string(digest_field));
    }

    std::string_view chain_format = ChainFormat(chain.name);
    if (record->format != chain_format) {
      return fail("format is not the format of chain " + chain.name, std::string(chain_format),
                  record->format);
    }
    PayloadFields fields;
    error = ParsePayload(record->format, record->payload, &fields);
    if (!error.empty()) return fail("malformed " + record->format + " payload: " + error);

    if (fields.sequence != record->sequence) {
      return fail("the payload's sequence differs from the record's sequence",
                  std::to_string(record->sequence), std::to_string(fields.sequence));
    }
    if (record->sequence != expected_sequence) {
      return fail("sequence does not follow the previous record", std::to_string(expected_sequence),
                  std::to_string(record->sequence));
    }
    bool expected_first = !chain.anchor && record->sequence == 1;
    if (fields.first != expected_first) {
      return fail("wrong first flag", expected_first ? "Y" : "N", fields.first ? "Y" : "N");
    }
    if (fields.has_register && fields.register_id != manifest_.register_id) {
      return fail("register differs from the location's register", manifest_.register_id,
                  fields.register_id);
    }

    SignatureCheck signature = VerifyMessage(
        public_key_.get(), record->payload + "," + previous_signature, record->signature);
    if (signature == SignatureCheck::kMalformed) {
      return fail("signature is not 86 base64url characters of a 64-byte r||s");
    }
    if (signature != SignatureCheck::kValid) {
      return fail(previous_signature.empty()
                      ? "signature does not verify over payload + \",\""
                      : "signature does not verify over payload + \",\" + previous signature");
    }

    KeepForTotals(chain, line_number, *record, std::move(fields));
    return true;
  }

  void KeepForTotals(const ManifestChain& chain, size_t line_number, const RecordLine& record,
                     PayloadFields fields) {
    if (chain.name == "tickets") {
      totals_.tickets.push_back(
          {record.sequence, fields.total_cents, std::move(fields.rate_totals), record.signature});
      return;
    }
    if (chain.name == "closures") {
      totals_.closures.push_back(
          {record.sequence, record.fiscal_id, line_number, std::move(fields), record.document});
    }
  }

  bool CheckFileHashes() {
    size_t checked = 0;
    for (const ZipFile& file : files_) {
      if (file.path == kManifestPath || file.path == kManifestSignaturePath) continue;
      auto listed = manifest_.files.find(file.path);
      if (listed == manifest_.files.end()) {
        return FailFile(file.path, "not listed in the manifest's files");
      }
      std::string hash = Sha256Hex(file.data);
      if (hash != listed->second) {
        return FailFile(file.path, "SHA-256 differs from the manifest", listed->second, hash);
      }
      ++checked;
    }
    for (const auto& [path, hash] : manifest_.files) {
      if (Find(path) == nullptr) return FailFile(path, "listed in the manifest but missing");
    }
    Pass("file hashes: " + CountOf(checked, "file"));
    return true;
  }

  bool CheckCounts() {
    for (const ManifestChain& chain : manifest_.chains) {
      const ChainSummary& summary = summaries_[chain.name];
      if (summary.count != chain.count) {
        return FailChain(chain, "record count differs from the manifest",
                         std::to_string(chain.count), std::to_string(summary.count));
      }
      auto text = [](const std::optional<uint64_t>& sequence) {
        return sequence ? std::to_string(*sequence) : std::string("null");
      };
      if (summary.first_sequence != chain.first_sequence) {
        return FailChain(chain, "first sequence differs from the manifest",
                         text(chain.first_sequence), text(summary.first_sequence));
      }
      if (summary.last_sequence != chain.last_sequence) {
        return FailChain(chain, "last sequence differs from the manifest",
                         text(chain.last_sequence), text(summary.last_sequence));
      }
      std::set<std::string> listed(chain.format_ids.begin(), chain.format_ids.end());
      if (listed != summary.formats || listed.size() != chain.format_ids.size()) {
        auto join = [](const auto& formats) {
          std::string joined;
          for (const std::string& format : formats) joined += (joined.empty() ? "" : ",") + format;
          return joined.empty() ? std::string("(none)") : joined;
        };
        return FailChain(chain, "format_ids differ from the formats of the records",
                         join(summary.formats), join(chain.format_ids));
      }
    }
    size_t chains = manifest_.chains.size();
    Pass("counts: " + CountOf(chains, "chain") + (chains == 1 ? " matches" : " match") +
         " the manifest");
    return true;
  }

  bool CheckTotals() {
    for (const ManifestChain& chain : manifest_.chains) {
      if (chain.name != "tickets") continue;
      totals_.has_tickets_chain = true;
      if (!chain.anchor) break;
      totals_.ticket_base_sequence = chain.anchor->sequence;
      totals_.base_signature = chain.anchor->signature;
      if (chain.anchor->cumulative) {
        totals_.base = *chain.anchor->cumulative;
      } else if (!totals_.closures.empty()) {
        return FailChain(chain,
                         "the tickets anchor in the manifest has no cumulative totals, "
                         "which the closure totals start from");
      }
    }

    TotalsResult result = CheckClosureTotals(totals_);
    if (!result.ok) {
      const ManifestChain* chain = nullptr;
      for (const ManifestChain& candidate : manifest_.chains) {
        if (candidate.name == result.failure.chain) chain = &candidate;
      }
      if (chain != nullptr) result.failure.file = chain->file;
      return Fail(std::move(result.failure));
    }

    std::string check = "closure totals: ";
    if (totals_.closures.empty()) {
      check += "no closure to check";
    } else {
      check += std::to_string(result.closures_checked) + " of " +
               CountOf(totals_.closures.size(), "closure") +
               (result.closures_checked == 1 ? " matches " : " match ") +
               CountOf(totals_.tickets.size(), "ticket");
      if (result.closures_perpetual_only > 0) {
        check += ", " + std::to_string(result.closures_perpetual_only) +
                 (result.closures_perpetual_only == 1 ? " starts" : " start") +
                 " before the archive (perpetual total checked)";
      }
      if (result.closures_before_archive > 0) {
        check += ", " + std::to_string(result.closures_before_archive) +
                 (result.closures_before_archive == 1 ? " covers" : " cover") +
                 " only tickets before the archive (not checkable)";
      }
    }
    Pass(check);
    return true;
  }

  std::vector<ZipFile> files_;
  ExpectedKey expected_;
  Report report_;
  Manifest manifest_;
  EvpPkeyPtr public_key_;
  std::map<std::string, ChainSummary> summaries_;
  TotalsInput totals_;
};

}  // namespace

Report VerifyArchive(std::string_view zip, const ZipLimits& limits) {
  return VerifyArchive(zip, ExpectedKey(), limits);
}

Report VerifyArchive(std::string_view zip, const ExpectedKey& expected, const ZipLimits& limits) {
  std::vector<ZipFile> files;
  std::string error;
  if (!ReadZip(zip, limits, &files, &error)) {
    Report report;
    report.outcome = Outcome::kInvalid;
    report.failure.reason = error;
    return report;
  }
  return ArchiveChecker(std::move(files), expected).Run();
}

Report VerifyArchiveFile(const std::string& path, const ZipLimits& limits) {
  return VerifyArchiveFile(path, ExpectedKey(), limits);
}

Report VerifyArchiveFile(const std::string& path, const ExpectedKey& expected,
                         const ZipLimits& limits) {
  Report report;
  report.outcome = Outcome::kReadError;

  std::error_code error;
  std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error) {
    report.error = "cannot open " + path + ": " + error.message();
    return report;
  }
  if (!std::filesystem::is_regular_file(status)) {
    report.error = "cannot read " + path + ": not a regular file";
    return report;
  }

  uintmax_t size = std::filesystem::file_size(path, error);
  if (error) {
    report.error = "cannot read " + path + ": " + error.message();
    return report;
  }
  // A zip is its contents, compressed or stored, plus headers, so the limit on the contents also
  // bounds the file.
  if (size > limits.max_total_bytes) {
    report.error = path + " is " + std::to_string(size) + " bytes, over the limit of " +
                   std::to_string(limits.max_total_bytes);
    return report;
  }

  std::ifstream input(path, std::ios::binary);
  std::string zip(static_cast<size_t>(size), '\0');
  if (!input || !input.read(zip.data(), static_cast<std::streamsize>(size))) {
    report.error = "cannot read " + path + ": " + std::strerror(errno);
    return report;
  }
  return VerifyArchive(zip, expected, limits);
}

bool IsKeyId(std::string_view text) {
  return text.size() == 2 * SHA256_DIGEST_LENGTH &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool P256PublicKeyDer(std::string_view pem, std::string* der) {
  EvpPkeyPtr key = ReadP256PublicKey(pem);
  if (!key) return false;
  *der = PublicKeyDer(key.get());
  return !der->empty();
}

std::string KeyIdOfDer(std::string_view der) { return Sha256Hex(der); }

}  // namespace fiscal::france::verifier
