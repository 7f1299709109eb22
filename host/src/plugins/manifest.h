// Certification of plugin builds: the signed manifest that ships next to a plugin library, checked
// before dlopen. docs/certification.md describes the format and the flow.
//
// For a library file LIB the manifest is LIB.manifest.json. It is a JSON object that binds the
// plugin's name, country, version and ABI version to the SHA-256 of the exact library bytes.
// LIB.manifest.sig is a certifier's signature over the exact bytes of that JSON file.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "plugins/plugin_registry.h"

namespace fiscal::plugins {

inline constexpr std::string_view kManifestSuffix = ".manifest.json";
inline constexpr std::string_view kSignatureSuffix = ".manifest.sig";

// The outcome of a successful certification check.
struct ManifestInfo {
  bool certified = false;  // false only in permissive mode when the library has no manifest
  std::string signer_key_id;       // key id of the trusted key that verified the signature
  std::string certification_json;  // the manifest's "certification" object, as compact JSON
};

// Returns the key id of a public key: the first 16 hex digits of the SHA-256 of its DER
// SubjectPublicKeyInfo encoding. `pem` is the PEM text of the public key.
Result<std::string> KeyIdOfPublicKeyPem(std::string_view pem);

// Verifies the certification of the library at `library_path` against config.trust_mode and
// config.trusted_keys, reading the manifest and signature from `manifest_path` and
// `signature_path`. The checks run in this order:
//   1. the signature verifies with one of the trusted keys (Ed25519, or ECDSA P-256 with SHA-256);
//   2. the manifest's "signed_by" is that key's id;
//   3. its "name" is config.name and its "abi_major" is this host's FISCAL_ABI_MAJOR;
//   4. its "library_sha256" is the SHA-256 of the library file.
// The loader checks the compatibility block itself, so the manifest's country, version and
// abi_minor are not compared here.
//
// `library_path` must be the file that dlopen will open afterwards, because the check holds only
// for the bytes it hashed. The registry loads a private copy named by its SHA-256, which nobody
// rewrites, so verifying that copy leaves no gap between the check and the load.
//
// In strict mode every failure is an error. In permissive mode a missing manifest file is allowed
// (out->certified is false and a warning is logged once per library), but a manifest that exists
// and fails any check is an error, because that means a tampered or mismatched build. Each error
// starts with PluginLabel(config) and says which check failed. Never throws.
Status VerifyCertificationFiles(const PluginConfig& config, const std::string& library_path,
                                const std::string& manifest_path, const std::string& signature_path,
                                ManifestInfo* out);

// Calls VerifyCertificationFiles with the manifest and signature next to `library_path`
// (library_path + kManifestSuffix and library_path + kSignatureSuffix).
Status VerifyCertification(const PluginConfig& config, const std::string& library_path,
                           ManifestInfo* out);

// Copies the manifest and signature of `source_library` next to `staged_library`, the registry's
// content-addressed copy that LoadPlugin opens, and removes stale ones there when the source has
// none. Each file is written under a temporary name and renamed. Does nothing when both paths are
// equal. Copying is safe although the source may change meanwhile: the signature covers the whole
// manifest, and the manifest pins the hash of the staged bytes.
Status StageManifest(const std::string& source_library, const std::string& staged_library);

// Copies the certification facts into the descriptor that the admin listing shows.
void CopyCertification(const ManifestInfo& info, PluginDescriptor* descriptor);

}  // namespace fiscal::plugins
