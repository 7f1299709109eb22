// Signing keys of the tenants, kept by the host so that plugins never see private key material.
//
// Each key is an ECDSA P-256 private key stored as an unencrypted PKCS#8 PEM file at
// <directory>/<account_id>/<key_ref>.pem (directories 0700, files 0600). Keys are scoped by account:
// two accounts using the same key_ref have two different keys.
//
// Fail closed: every Sign and PublicKeyPem call reads the key file again, so a key that an operator
// deletes, makes unreadable or corrupts stops signing at the next call instead of being served
// from memory. A missing key is never created implicitly by Sign; only EnsureKey creates keys.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace fiscal::keys {

// Error code of the Status returned when a key cannot be used (StatusCode::kUnavailable, HTTP 503).
inline constexpr char kSigningKeyUnavailable[] = "signing_key_unavailable";

// One ECDSA signature and the public key that verifies it.
struct Signature {
  std::string raw;             // 64 bytes r||s, each big-endian and zero-padded to 32 bytes
  std::string der;             // DER ECDSA-Sig-Value of the same signature
  std::string key_id;          // hex SHA-256 of the DER SubjectPublicKeyInfo
  std::string public_key_pem;  // PEM "PUBLIC KEY" block
};

// Returns true when `key_ref` matches [A-Za-z0-9._-]{1,128} and does not start with '.'. Every
// KeyStore function rejects another key_ref, and an account_id that is not a UUID, with
// InvalidArgument.
bool IsValidKeyRef(std::string_view key_ref);

// Thread-safe: Sign and PublicKeyPem keep no state; EnsureKey serializes key creation. Several
// host processes may share one directory, because a new key is published with a rename that never
// replaces an existing file.
class KeyStore {
 public:
  // `directory` is the root of the key files. It is created (0700) on the first EnsureKey.
  explicit KeyStore(std::string directory);

  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  const std::string& directory() const { return directory_; }

  // Creates an ECDSA P-256 key for (account, key_ref) when none exists; leaves an existing one
  // untouched, even when it is unreadable (Sign then reports it). InvalidArgument for a malformed
  // account_id or key_ref; Internal when the directory or the file cannot be written.
  Status EnsureKey(std::string_view account_id, std::string_view key_ref);

  // Signs SHA-256(data) with ECDSA. Unavailable (StatusCode::kUnavailable, error code
  // "signing_key_unavailable") when the key file is missing, unreadable or not a P-256 private key.
  // The message names the key_ref, never any key material, and states what the operator must fix.
  // A non-empty `expected_key_id` pins the key: a file holding another key (copied from another
  // register, say) is unavailable too, because its signatures would not verify under the key the
  // register's records name.
  Result<Signature> Sign(std::string_view account_id, std::string_view key_ref, std::string_view data,
                         std::string_view expected_key_id = {}) const;

  // Returns the key id (hex SHA-256 of the DER public key) of the key. Fails like Sign.
  Result<std::string> KeyIdOf(std::string_view account_id, std::string_view key_ref) const;

  // Returns the PEM "PUBLIC KEY" block of the key. Fails like Sign.
  Result<std::string> PublicKeyPem(std::string_view account_id, std::string_view key_ref) const;

 private:
  std::string directory_;
  std::mutex create_mutex_;  // serializes EnsureKey within this process
};

}  // namespace fiscal::keys
