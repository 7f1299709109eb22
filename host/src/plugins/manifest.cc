// Verification of signed plugin manifests, before dlopen. See plugins/manifest.h.

#include "plugins/manifest.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include <fiscal/plugin_abi.h>

#include "common/json_tree.h"
#include "common/log.h"
#include "plugins/compatibility.h"
#include "plugins/plugin_loader.h"

namespace fiscal::plugins {
namespace {

// Generous bounds: a manifest is a few hundred bytes, an Ed25519 signature 64 bytes and a DER
// ECDSA P-256 signature at most 72. They keep a wrong path (say, the library itself) from being
// read into memory whole.
constexpr size_t kMaxManifestSize = 64 * 1024;
constexpr size_t kMaxSignatureSize = 1024;
constexpr size_t kMaxPublicKeyPemSize = 16 * 1024;
constexpr size_t kKeyIdLength = 16;

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// A trusted certifier key read from plugin_trust.trusted_keys.
struct TrustedKey {
  std::string path;
  std::string id;
  bool is_ed25519 = false;  // else ECDSA P-256, verified with SHA-256
  PkeyPtr key{nullptr, &EVP_PKEY_free};
};

std::string Hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex += kDigits[data[i] >> 4];
    hex += kDigits[data[i] & 0x0f];
  }
  return hex;
}

bool FileExists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// Reads a whole file of at most `max_size` bytes. `file_kind` ("manifest file") starts each error.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_size, const std::string& file_kind) {
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::Internal("cannot open " + file_kind + " " + path + ": " +
                            (errno != 0 ? std::strerror(errno) : "unknown error"));
  }

  std::string bytes;
  std::vector<char> buffer(4096);
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    bytes.append(buffer.data(), static_cast<size_t>(file.gcount()));
    if (bytes.size() > max_size) {
      return Status::Internal(file_kind + " " + path + " is larger than the maximum of " +
                              std::to_string(max_size) + " bytes");
    }
  }
  if (file.bad()) return Status::Internal("read failed on " + file_kind + " " + path);
  return bytes;
}

// Drops OpenSSL's queued errors after an expected failure, so that they do not show up in an
// unrelated later error report on this thread.
void ClearOpenSslErrors() { ERR_clear_error(); }

Result<std::string> KeyIdOfKey(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int der_size = i2d_PUBKEY(key, &der);
  if (der_size <= 0) {
    ClearOpenSslErrors();
    return Status::Internal("cannot encode the public key as DER");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  int ok = EVP_Digest(der, static_cast<size_t>(der_size), digest, &digest_size, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (ok != 1) {
    ClearOpenSslErrors();
    return Status::Internal("SHA-256 of the public key failed");
  }
  return Hex(digest, digest_size).substr(0, kKeyIdLength);
}

Result<PkeyPtr> ParsePublicKeyPem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                &BIO_free);
  if (!bio) return Status::Internal("cannot allocate an OpenSSL memory buffer");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) {
    ClearOpenSslErrors();
    return Status::Internal("not a PEM public key (expected a \"BEGIN PUBLIC KEY\" block)");
  }
  return key;
}

// Returns true for an ECDSA key on the P-256 curve.
bool IsP256Key(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  char group[64] = {};
  size_t group_size = 0;
  if (EVP_PKEY_get_group_name(key, group, sizeof(group), &group_size) != 1) {
    ClearOpenSslErrors();
    return false;
  }
  std::string_view name(group, group_size);
  return name == "prime256v1" || name == "P-256";
}

Result<TrustedKey> ReadTrustedKey(const std::string& path) {
  Result<std::string> pem = ReadSmallFile(path, kMaxPublicKeyPemSize, "trusted key file");
  if (!pem.ok()) return pem.status();

  Result<PkeyPtr> key = ParsePublicKeyPem(*pem);
  if (!key.ok()) return Status::Internal("trusted key file " + path + ": " + key.status().message());

  TrustedKey trusted;
  trusted.path = path;
  trusted.is_ed25519 = EVP_PKEY_is_a(key->get(), "ED25519") == 1;
  if (!trusted.is_ed25519 && !IsP256Key(key->get())) {
    return Status::Internal("trusted key file " + path +
                            ": unsupported key type: use an Ed25519 or ECDSA P-256 public key");
  }
  Result<std::string> id = KeyIdOfKey(key->get());
  if (!id.ok()) return Status::Internal("trusted key file " + path + ": " + id.status().message());
  trusted.id = std::move(*id);
  trusted.key = std::move(*key);
  return trusted;
}

// Returns true when `signature` is valid for `data` under `key`. Ed25519 signs the message itself
// with no separate digest. ECDSA P-256 signs its SHA-256, and the signature is DER-encoded.
bool SignatureVerifies(const TrustedKey& key, std::string_view data, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!context) return false;
  const EVP_MD* digest = key.is_ed25519 ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(context.get(), nullptr, digest, nullptr, key.key.get()) != 1) {
    ClearOpenSslErrors();
    return false;
  }
  int verified = EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                                  signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                                  data.size());
  ClearOpenSslErrors();
  return verified == 1;
}

// Returns the member `name` of the manifest when it has the expected type.
Result<const json::Node*> ManifestMember(const json::Node& manifest, std::string_view name,
                                         json::Node::Type type, const std::string& manifest_path) {
  const json::Node* member = manifest.Find(name);
  if (member == nullptr) {
    return Status::Internal("manifest " + manifest_path + " has no \"" + std::string(name) + "\" member");
  }
  if (member->type() != type) {
    return Status::Internal("manifest " + manifest_path + ": \"" + std::string(name) + "\" must be " +
                            json::Node::TypeName(type) + ", not " + json::Node::TypeName(member->type()));
  }
  return member;
}

bool IsLowerHexSha256(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    bool digit = c >= '0' && c <= '9';
    bool letter = c >= 'a' && c <= 'f';
    if (!digit && !letter) return false;
  }
  return true;
}

// The manifest fields the host checks, read from the parsed manifest.
struct ManifestFields {
  std::string name;
  std::string abi_major;  // literal text of the JSON number
  std::string library_sha256;
  std::string signed_by;
  std::string certification_json;
};

// Checks that every documented member is present with its type, and returns those the host uses.
Result<ManifestFields> ReadManifestFields(const json::Node& manifest, const std::string& manifest_path) {
  if (!manifest.IsObject()) return Status::Internal("manifest " + manifest_path + " is not a JSON object");

  using Type = json::Node::Type;
  const std::pair<std::string_view, Type> members[] = {
      {"name", Type::kString},        {"country", Type::kString},        {"version", Type::kString},
      {"abi_major", Type::kNumber},   {"abi_minor", Type::kNumber},      {"library_sha256", Type::kString},
      {"certification", Type::kObject}, {"signed_by", Type::kString},
  };
  for (const auto& [name, type] : members) {
    Result<const json::Node*> member = ManifestMember(manifest, name, type, manifest_path);
    if (!member.ok()) return member.status();
  }

  ManifestFields fields;
  fields.name = manifest.Find("name")->text();
  fields.abi_major = manifest.Find("abi_major")->text();
  fields.library_sha256 = manifest.Find("library_sha256")->text();
  fields.signed_by = manifest.Find("signed_by")->text();
  fields.certification_json = manifest.Find("certification")->ToJson();
  if (!IsLowerHexSha256(fields.library_sha256)) {
    return Status::Internal("manifest " + manifest_path + ": \"library_sha256\" must be 64 lower-case hex "
                            "digits, not \"" + fields.library_sha256 + "\"");
  }
  return fields;
}

// Logs the "not certified" warning once per plugin name and library file, so that every reload
// of the same build does not repeat it.
void WarnNotCertifiedOnce(const PluginConfig& config, const std::string& library_path,
                          const std::string& manifest_path) {
  static std::mutex mutex;
  static std::set<std::string> warned;  // grows by one entry per distinct library file
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!warned.insert(config.name + '\n' + library_path).second) return;
  }
  log::Warning("plugin is not certified",
               {{"plugin", config.name}, {"path", library_path}, {"missing_manifest", manifest_path},
                {"trust_mode", config.trust_mode}});
}

// Finds the trusted key that verifies `signature` over `manifest`, or explains why none does.
Result<TrustedKey> FindSigner(const PluginConfig& config, std::string_view manifest,
                              std::string_view signature, const std::string& label) {
  if (config.trusted_keys.empty()) {
    return Status::Internal(label + ": manifest signature cannot be verified because "
                            "plugin_trust.trusted_keys lists no key");
  }

  std::vector<TrustedKey> keys;
  for (const std::string& path : config.trusted_keys) {
    Result<TrustedKey> key = ReadTrustedKey(path);
    if (!key.ok()) return Status::Internal(label + ": " + key.status().message());
    keys.push_back(std::move(*key));
  }

  std::string ids;
  for (TrustedKey& key : keys) {
    if (SignatureVerifies(key, manifest, signature)) return std::move(key);
    ids += (ids.empty() ? "" : ", ") + key.id;
  }
  return Status::Internal(label + ": manifest signature does not verify with any trusted key (trusted key ids: " +
                          ids + ")");
}

}  // namespace

Result<std::string> KeyIdOfPublicKeyPem(std::string_view pem) {
  Result<PkeyPtr> key = ParsePublicKeyPem(pem);
  if (!key.ok()) return key.status();
  return KeyIdOfKey(key->get());
}

Status VerifyCertificationFiles(const PluginConfig& config, const std::string& library_path,
                                const std::string& manifest_path, const std::string& signature_path,
                                ManifestInfo* out) {
  *out = ManifestInfo{};
  const std::string label = PluginLabel(config);
  const bool strict = config.trust_mode == "strict";
  if (!strict && config.trust_mode != "permissive") {
    return Status::Internal(label + ": unknown trust mode \"" + config.trust_mode +
                            "\"; expected \"strict\" or \"permissive\"");
  }

  if (!FileExists(manifest_path)) {
    if (strict) {
      return Status::Internal(label + ": no manifest file " + manifest_path +
                              " (strict mode needs a certified build)");
    }
    // A signature without its manifest means a manifest was removed, not an uncertified build.
    if (FileExists(signature_path)) {
      return Status::Internal(label + ": signature file " + signature_path + " exists but manifest file " +
                              manifest_path + " is missing");
    }
    WarnNotCertifiedOnce(config, library_path, manifest_path);
    return Status::Ok();
  }

  // From here on a manifest exists, so every failure is an error in both modes.
  Result<std::string> manifest = ReadSmallFile(manifest_path, kMaxManifestSize, "manifest file");
  if (!manifest.ok()) return Status::Internal(label + ": " + manifest.status().message());
  if (!FileExists(signature_path)) {
    return Status::Internal(label + ": no signature file " + signature_path + " for manifest " + manifest_path);
  }
  Result<std::string> signature = ReadSmallFile(signature_path, kMaxSignatureSize, "signature file");
  if (!signature.ok()) return Status::Internal(label + ": " + signature.status().message());

  // The signature is checked before the JSON is parsed, so that only signed bytes reach the parser.
  Result<TrustedKey> signer = FindSigner(config, *manifest, *signature, label);
  if (!signer.ok()) return signer.status();

  Result<json::Node> document = json::Parse(*manifest, "manifest " + manifest_path);
  if (!document.ok()) return Status::Internal(label + ": " + document.status().message());
  Result<ManifestFields> fields = ReadManifestFields(*document, manifest_path);
  if (!fields.ok()) return Status::Internal(label + ": " + fields.status().message());

  if (fields->signed_by != signer->id) {
    return Status::Internal(label + ": manifest names signer \"" + fields->signed_by +
                            "\" but was signed by trusted key " + signer->id + " (" + signer->path + ")");
  }
  if (fields->name != config.name) {
    return Status::Internal(label + ": manifest is for plugin \"" + fields->name + "\", not \"" + config.name +
                            "\"");
  }
  if (fields->abi_major != std::to_string(FISCAL_ABI_MAJOR)) {
    return Status::Internal(label + ": manifest abi_major " + fields->abi_major + " does not match host ABI major " +
                            std::to_string(FISCAL_ABI_MAJOR));
  }

  // The hash is taken last and from library_path, the file dlopen opens next.
  Result<std::string> sha256 = Sha256OfFile(library_path);
  if (!sha256.ok()) return Status::Internal(label + ": " + sha256.status().message());
  if (*sha256 != fields->library_sha256) {
    return Status::Internal(label + ": library SHA-256 " + *sha256 + " of " + library_path +
                            " does not match manifest " + fields->library_sha256);
  }

  out->certified = true;
  out->signer_key_id = signer->id;
  out->certification_json = std::move(fields->certification_json);
  return Status::Ok();
}

Status VerifyCertification(const PluginConfig& config, const std::string& library_path, ManifestInfo* out) {
  return VerifyCertificationFiles(config, library_path, library_path + std::string(kManifestSuffix),
                                  library_path + std::string(kSignatureSuffix), out);
}

Status StageManifest(const std::string& source_library, const std::string& staged_library) {
  if (source_library == staged_library) return Status::Ok();

  for (std::string_view suffix : {kManifestSuffix, kSignatureSuffix}) {
    const std::string source = source_library + std::string(suffix);
    const std::string target = staged_library + std::string(suffix);
    std::error_code error;
    if (!FileExists(source)) {
      // A manifest left from an earlier deployment must not outlive its removal at the source.
      std::filesystem::remove(target, error);
      if (error) return Status::Internal("cannot remove stale " + target + ": " + error.message());
      continue;
    }

    const std::string temporary = target + ".tmp." + std::to_string(::getpid());
    std::filesystem::copy_file(source, temporary, std::filesystem::copy_options::overwrite_existing, error);
    if (error) return Status::Internal("cannot copy " + source + " to " + temporary + ": " + error.message());
    std::filesystem::rename(temporary, target, error);
    if (error) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      return Status::Internal("cannot rename " + temporary + " to " + target + ": " + error.message());
    }
  }
  return Status::Ok();
}

void CopyCertification(const ManifestInfo& info, PluginDescriptor* descriptor) {
  descriptor->certified = info.certified;
  descriptor->signer_key_id = info.signer_key_id;
  descriptor->certification_json = info.certification_json;
}

}  // namespace fiscal::plugins
