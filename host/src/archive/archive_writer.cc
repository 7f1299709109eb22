#include "archive/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <set>

#include "common/json.h"
#include "common/json_tree.h"

namespace fiscal::archive {
namespace {

constexpr char kManifestFormat[] = "fiscal-archive-v1";

struct ArchiveWriteDeleter {
  void operator()(struct archive* handle) const { archive_write_free(handle); }
};
struct ArchiveEntryDeleter {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

la_ssize_t AppendToString(struct archive*, void* client_data, const void* buffer, size_t length) {
  static_cast<std::string*>(client_data)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

std::string HexEncode(const unsigned char* bytes, size_t length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (size_t i = 0; i < length; ++i) {
    hex.push_back(kDigits[bytes[i] >> 4]);
    hex.push_back(kDigits[bytes[i] & 0x0f]);
  }
  return hex;
}

std::string FormatUtc(std::chrono::sys_seconds time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

bool IsValidDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  int year = std::stoi(std::string(text.substr(0, 4)));
  unsigned month = static_cast<unsigned>(std::stoi(std::string(text.substr(5, 2))));
  unsigned day = static_cast<unsigned>(std::stoi(std::string(text.substr(8, 2))));
  return std::chrono::year_month_day(std::chrono::year(year), std::chrono::month(month),
                                     std::chrono::day(day))
      .ok();
}

bool IsValidChainName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// Quotes `text` for a POSIX shell: single quotes, each embedded ' written as '\''.
std::string ShellQuote(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

// Parses `text` as a JSON object and returns it in compact form, so that the manifest embeds
// well-formed JSON whatever whitespace the caller used.
Result<std::string> CompactJsonObject(std::string_view text, const std::string& field) {
  Result<json::Node> parsed = json::Parse(text, field);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->IsObject()) return Status::InvalidArgument(field, field + " must be a JSON object");
  return parsed->ToJson();
}

Result<PkeyPtr> ReadP256PublicKey(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("OpenSSL could not allocate a memory BIO");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return Status::InvalidArgument("public_key_pem",
                                   "public_key_pem is not a PEM \"PUBLIC KEY\" block");
  }
  char group[64] = {0};
  size_t group_length = 0;
  if (!EVP_PKEY_is_a(key.get(), "EC") ||
      EVP_PKEY_get_utf8_string_param(key.get(), "group", group, sizeof(group), &group_length) !=
          1 ||
      std::string_view(group, group_length) != "prime256v1") {
    return Status::InvalidArgument("public_key_pem", "public_key_pem is not an ECDSA P-256 key");
  }
  return key;
}

std::string PublicKeyId(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return "";
  std::string id = Sha256Hex(std::string_view(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  return id;
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

Status ValidateInput(const ArchiveInput& input) {
  if (input.archive_id.empty())
    return Status::InvalidArgument("archive_id", "archive_id is missing");
  if (input.plugin_name.empty() || input.plugin_version.empty()) {
    return Status::InvalidArgument("plugin", "plugin name and version are required");
  }
  if (!IsValidDate(input.period_from) || !IsValidDate(input.period_to)) {
    return Status::InvalidArgument("period", "period from and to must be dates YYYY-MM-DD, got \"" +
                                                 input.period_from + "\" and \"" + input.period_to +
                                                 "\"");
  }
  // Dates in YYYY-MM-DD compare correctly as text.
  if (input.period_to < input.period_from) {
    return Status::InvalidArgument(
        "period", "period to " + input.period_to + " is before period from " + input.period_from);
  }

  std::set<std::string> names;
  for (const ArchiveChain& chain : input.chains) {
    if (!IsValidChainName(chain.name)) {
      return Status::InvalidArgument(
          "chains", "chain name \"" + chain.name + "\" must be 1 to 64 characters [a-z0-9_-]");
    }
    if (!names.insert(chain.name).second) {
      return Status::InvalidArgument("chains", "chain " + chain.name + " is listed twice");
    }
    if (chain.file != "chains/" + chain.name + ".jsonl") {
      return Status::InvalidArgument("chains", "file of chain " + chain.name + " must be chains/" +
                                                   chain.name + ".jsonl, got \"" + chain.file +
                                                   "\"");
    }
    if (chain.anchor && (chain.anchor->signature.empty() || chain.anchor->sequence < 1)) {
      return Status::InvalidArgument(
          "chains", "anchor of chain " + chain.name + " needs a signature and a sequence >= 1");
    }
  }
  return Status::Ok();
}

std::string RecordLine(const ArchiveRecord& record) {
  std::string line = "{\"sequence\":" + std::to_string(record.sequence);
  line += ",\"operation\":" + json::Quote(record.operation);
  line += ",\"record_type\":" + json::Quote(record.record_type);
  line += ",\"fiscal_id\":" + json::Quote(record.fiscal_id);
  line += ",\"generated_at\":" + json::Quote(record.generated_at);
  line += ",\"plugin_version\":" + json::Quote(record.plugin_version);
  line += ",\"format\":" + json::Quote(record.format);
  line += ",\"payload\":" + json::Quote(record.payload);
  line += ",\"signature\":" + json::Quote(record.signature);
  line += ",\"document\":" + json::Quote(record.document);
  line += "}\n";
  return line;
}

Result<std::string> ChainManifestEntry(const ArchiveChain& chain) {
  std::set<std::string> formats;
  for (const ArchiveRecord& record : chain.records) formats.insert(record.format);

  std::string entry = "    {\"name\": " + json::Quote(chain.name) +
                      ", \"file\": " + json::Quote(chain.file) + ", \"format_ids\": [";
  bool first = true;
  for (const std::string& format : formats) {
    if (!first) entry += ", ";
    entry += json::Quote(format);
    first = false;
  }
  entry += "], \"count\": " + std::to_string(chain.records.size());
  if (chain.records.empty()) {
    entry += ", \"first_sequence\": null, \"last_sequence\": null";
  } else {
    entry += ", \"first_sequence\": " + std::to_string(chain.records.front().sequence);
    entry += ", \"last_sequence\": " + std::to_string(chain.records.back().sequence);
  }

  if (!chain.anchor) return entry + ", \"anchor\": null}";
  entry += ", \"anchor\": {\"sequence\": " + std::to_string(chain.anchor->sequence) +
           ", \"signature\": " + json::Quote(chain.anchor->signature) + ", \"cumulative\": ";
  if (chain.anchor->cumulative_json.empty()) return entry + "null}}";
  Result<std::string> cumulative =
      CompactJsonObject(chain.anchor->cumulative_json, "anchor cumulative of chain " + chain.name);
  if (!cumulative.ok()) return cumulative.status();
  return entry + *cumulative + "}}";
}

Result<std::string> ManifestJson(const ArchiveInput& input, const std::string& location,
                                 const std::map<std::string, std::string>& file_hashes) {
  std::string manifest = "{\n";
  manifest += "  \"format\": " + json::Quote(kManifestFormat) + ",\n";
  manifest += "  \"archive_id\": " + json::Quote(input.archive_id) + ",\n";
  manifest += "  \"created_at\": " + json::Quote(FormatUtc(input.created_at)) + ",\n";
  manifest += "  \"location\": " + location + ",\n";
  manifest += "  \"plugin\": {\"name\": " + json::Quote(input.plugin_name) +
              ", \"version\": " + json::Quote(input.plugin_version) + "},\n";
  manifest += "  \"period\": {\"from\": " + json::Quote(input.period_from) +
              ", \"to\": " + json::Quote(input.period_to) + "},\n";
  manifest += "  \"key_id\": " + json::Quote(input.key_id) + ",\n";

  manifest += "  \"chains\": [";
  for (size_t i = 0; i < input.chains.size(); ++i) {
    Result<std::string> entry = ChainManifestEntry(input.chains[i]);
    if (!entry.ok()) return entry.status();
    manifest += i == 0 ? "\n" : ",\n";
    manifest += *entry;
  }
  manifest += input.chains.empty() ? "],\n" : "\n  ],\n";

  manifest += "  \"files\": {";
  bool first = true;
  for (const auto& [path, hash] : file_hashes) {
    manifest += first ? "\n" : ",\n";
    manifest += "    " + json::Quote(path) + ": " + json::Quote(hash);
    first = false;
  }
  manifest += file_hashes.empty() ? "}\n" : "\n  }\n";
  manifest += "}\n";
  return manifest;
}

// Appends the openssl commands that check the first archived record, with its values filled in.
void AppendRecordExample(const ArchiveInput& input, std::string* readme) {
  const ArchiveChain* chain = nullptr;
  for (const ArchiveChain& candidate : input.chains) {
    if (!candidate.records.empty()) {
      chain = &candidate;
      break;
    }
  }
  if (chain == nullptr) {
    *readme += "   This archive holds no record, so there is no record signature to check.\n";
    return;
  }

  const ArchiveRecord& record = chain->records.front();
  std::string previous = chain->anchor ? chain->anchor->signature : "";
  *readme += "   The first record of " + chain->file + " (sequence " +
             std::to_string(record.sequence) + "), signed " +
             (chain->anchor ? "after the anchor signature of chain " + chain->name
                            : std::string("as the first record of chain ") + chain->name +
                                  " (empty previous signature)") +
             ":\n\n";

  *readme += "   printf '%s' " + ShellQuote(record.payload + "," + previous) + " > signed.txt\n";
  *readme += "   printf '%s==' " + ShellQuote(record.signature) +
             " | basenc --base64url -d | od -An -v -tx1 | tr -d ' \\n' > rs.hex\n";
  *readme += "   R=$(cut -c1-64 rs.hex); S=$(cut -c65-128 rs.hex)\n";
  *readme +=
      "   printf 'asn1=SEQUENCE:sig\\n[sig]\\nr=INTEGER:0x%s\\ns=INTEGER:0x%s\\n' \"$R\" \"$S\" "
      "> sig.cnf\n";
  *readme += "   openssl asn1parse -genconf sig.cnf -out sig.der -noout\n";
  *readme += "   openssl dgst -sha256 -verify public_key.pem -signature sig.der signed.txt\n\n";

  *readme +=
      "   The last command prints \"Verified OK\". The last payload field is the digest of\n";
  *readme += "   the record's document, which this command prints again:\n\n";
  *readme += "   printf '%s' " + ShellQuote(record.document) +
             " | openssl dgst -sha256 -binary | basenc --base64url | tr -d '='\n";
}

std::string ReadmeText(const ArchiveInput& input) {
  std::string readme;
  readme += "Fiscal archive " + input.archive_id + "\n";
  readme += "Period " + input.period_from + " to " + input.period_to + ", created " +
            FormatUtc(input.created_at) + " by " + input.plugin_name + " " + input.plugin_version +
            ".\n\n";

  readme +=
      "This zip holds the signed record chains of one register. manifest.json lists every file\n"
      "with its SHA-256 and is signed with the register's ECDSA P-256 key (public_key.pem).\n"
      "Each line of chains/<name>.jsonl is one record: its \"payload\" is signed together with\n"
      "the previous record's signature, so a changed, removed or reordered record breaks the\n"
      "chain.\n\n";

  readme +=
      "1. Check everything with fiscal-verify, pinned to the register's published key id\n"
      "   (the location's signing_key_id), so that an archive re-signed with another key\n"
      "   is rejected:\n\n"
      "   fiscal-verify --key-id KEY_ID ARCHIVE.zip\n\n"
      "   or with the register's public key in PEM, from a copy you trust:\n\n"
      "   fiscal-verify --public-key REGISTER_KEY.pem ARCHIVE.zip\n\n"
      "   Without either option fiscal-verify only checks that the archive agrees with the\n"
      "   public_key.pem it contains, and prints a note saying so.\n\n";

  readme +=
      "2. Or check with openssl (1.1 or 3.x) and GNU coreutils alone, in the directory where the\n"
      "   zip was extracted.\n\n";
  readme +=
      "   The manifest signature (DER ECDSA over SHA-256 of the exact manifest.json bytes):\n\n"
      "   openssl dgst -sha256 -verify public_key.pem -signature manifest.sig manifest.json\n\n";
  readme +=
      "   The key id: \"key_id\" in manifest.json is the SHA-256 of the DER public key. It must\n"
      "   also equal the register's published key id, because anyone can re-sign an archive\n"
      "   with a key of their own:\n\n"
      "   openssl pkey -pubin -in public_key.pem -outform DER | openssl dgst -sha256 -r\n\n";
  readme +=
      "   The files: compare with \"files\" in manifest.json:\n\n"
      "   openssl dgst -sha256 -r README.txt public_key.pem chains/*.jsonl\n\n";
  readme +=
      "   A record signature: \"signature\" is the base64url (no padding) of the 64-byte r||s.\n"
      "   The signed bytes are \"payload\", a comma and the previous record's signature. On the\n"
      "   first line of a file the previous signature is the chain's anchor signature in\n"
      "   manifest.json, or nothing when the anchor is null. openssl needs the signature in\n"
      "   DER, which asn1parse builds from r and s.\n\n";
  AppendRecordExample(input, &readme);
  return readme;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return HexEncode(digest, sizeof(digest));
}

Result<std::string> WriteZip(const std::vector<ZipEntry>& entries, std::chrono::sys_seconds mtime) {
  std::string zip;
  std::unique_ptr<struct archive, ArchiveWriteDeleter> writer(archive_write_new());
  if (!writer) return Status::Internal("libarchive could not allocate a writer");
  auto fail = [&writer](const std::string& step) {
    const char* reason = archive_error_string(writer.get());
    return Status::Internal("writing the archive zip failed at " + step + ": " +
                            (reason != nullptr ? reason : "unknown libarchive error"));
  };
  if (archive_write_set_format_zip(writer.get()) != ARCHIVE_OK) return fail("zip format");
  if (archive_write_set_options(writer.get(), "zip:compression=deflate") != ARCHIVE_OK) {
    return fail("deflate option");
  }
  // Unbuffered output: no padding after the end of the zip.
  if (archive_write_set_bytes_per_block(writer.get(), 0) != ARCHIVE_OK) return fail("block size");
  if (archive_write_open(writer.get(), &zip, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return fail("open");
  }

  std::time_t seconds = std::chrono::system_clock::to_time_t(mtime);
  for (const ZipEntry& file : entries) {
    std::unique_ptr<archive_entry, ArchiveEntryDeleter> entry(archive_entry_new());
    if (!entry) return Status::Internal("libarchive could not allocate an entry");
    archive_entry_set_pathname(entry.get(), file.path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(file.data.size()));
    archive_entry_set_mtime(entry.get(), seconds, 0);
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
      return fail("header of " + file.path);
    }
    if (!file.data.empty() &&
        archive_write_data(writer.get(), file.data.data(), file.data.size()) !=
            static_cast<la_ssize_t>(file.data.size())) {
      return fail("data of " + file.path);
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) return fail("close");
  return zip;
}

Result<ArchiveBytes> WriteArchive(const ArchiveInput& input, const ManifestSigner& sign_manifest) {
  FISCAL_RETURN_IF_ERROR(ValidateInput(input));

  Result<std::string> location = CompactJsonObject(input.location_json, "location");
  if (!location.ok()) return location.status();
  Result<json::Node> location_tree = json::Parse(*location, "location");
  const json::Node* register_id = location_tree->Find("register_id");
  if (register_id == nullptr || !register_id->IsString() || register_id->text().empty()) {
    return Status::InvalidArgument("location",
                                   "location must contain a non-empty string "
                                   "\"register_id\"; fiscal-verify checks every "
                                   "record's register against it");
  }

  Result<PkeyPtr> public_key = ReadP256PublicKey(input.public_key_pem);
  if (!public_key.ok()) return public_key.status();
  std::string computed_key_id = PublicKeyId(public_key->get());
  if (computed_key_id != input.key_id) {
    return Status::InvalidArgument("key_id", "key_id " + input.key_id +
                                                 " is not the SHA-256 of public_key_pem (" +
                                                 computed_key_id + ")");
  }

  // Every file except the manifest and its signature is listed with its hash.
  std::vector<ZipEntry> listed;
  listed.push_back({"README.txt", ReadmeText(input)});
  listed.push_back({"public_key.pem", input.public_key_pem});
  for (const ArchiveChain& chain : input.chains) {
    std::string lines;
    for (const ArchiveRecord& record : chain.records) lines += RecordLine(record);
    listed.push_back({chain.file, std::move(lines)});
  }
  std::map<std::string, std::string> file_hashes;
  for (const ZipEntry& entry : listed) file_hashes[entry.path] = Sha256Hex(entry.data);

  Result<std::string> manifest = ManifestJson(input, *location, file_hashes);
  if (!manifest.ok()) return manifest.status();

  Result<std::string> signature = sign_manifest(*manifest);
  if (!signature.ok()) return signature.status();
  // A signature from another key would make the archive fail verification; stop here instead.
  if (!VerifyDerSignature(public_key->get(), *manifest, *signature)) {
    return Status::Internal(
        "the manifest signature returned by the signer does not verify with "
        "public_key_pem (key " +
        input.key_id + ")");
  }

  std::vector<ZipEntry> entries;
  entries.push_back(std::move(listed[0]));  // README.txt first, for people who open the zip
  entries.push_back({"manifest.json", *manifest});
  entries.push_back({"manifest.sig", *signature});
  for (size_t i = 1; i < listed.size(); ++i) entries.push_back(std::move(listed[i]));

  Result<std::string> zip = WriteZip(entries, input.created_at);
  if (!zip.ok()) return zip.status();

  ArchiveBytes bytes;
  bytes.zip = std::move(*zip);
  bytes.manifest_sha256_hex = Sha256Hex(*manifest);
  bytes.manifest_json = std::move(*manifest);
  return bytes;
}

}  // namespace fiscal::archive
