// NF525 record signatures: ECDSA P-256 over SHA-256 with OpenSSL 3 EVP, encoded as base64url
// (no padding) of the raw 64-byte r||s, 86 characters. The ticket prints a 4-character extract.
#ifndef FISCAL_FRANCE_SIGNATURE_H_
#define FISCAL_FRANCE_SIGNATURE_H_

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "status.h"

namespace fiscal::france {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

// Length of a signature: base64url of 64 bytes without padding.
inline constexpr size_t kSignatureLength = 86;

// Result of checking one signature.
enum class SignatureCheck {
  kValid,
  kMalformed,  // not 86 canonical base64url characters
  kMismatch,   // well formed but does not verify under the public key
};

// Encodes bytes as base64url without padding.
std::string Base64UrlEncode(std::string_view bytes);

// Decodes base64url without padding. Rejects '=', characters outside the base64url alphabet, a
// length of 1 modulo 4 and non-zero unused bits in the last character, so every byte string has
// exactly one accepted encoding.
bool Base64UrlDecode(std::string_view text, std::string* bytes);

// Returns the SHA-256 of `data` as base64url without padding (43 characters).
std::string Sha256Base64Url(std::string_view data);

// Returns the SHA-256 of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// Computes the key id the host reports with each signature: the SHA-256 hex of the public key's
// DER SubjectPublicKeyInfo.
Status PublicKeyId(EVP_PKEY* key, std::string* key_id);

// Generates a new P-256 key pair.
Status GenerateP256Key(EvpPkeyPtr* key);

// Builds a P-256 public key from the affine coordinates as 64 hex characters each.
Status P256PublicKeyFromHex(std::string_view x_hex, std::string_view y_hex, EvpPkeyPtr* key);

// Signs `message` (SHA-256, then ECDSA with a random nonce) and stores the 86-character
// signature. Fails without touching *signature when the key is missing, is not a P-256 private
// key, or OpenSSL fails.
Status SignMessage(EVP_PKEY* private_key, std::string_view message, std::string* signature);

// Checks a base64url r||s signature of `message` under a P-256 public key. Also accepts a key
// pair. A missing or non-P-256 key makes every signature kMismatch.
SignatureCheck VerifyMessage(EVP_PKEY* public_key, std::string_view message,
                             std::string_view signature);

// Signs a chain record: payload + "," + previous signature (empty on the first record).
Status SignChainRecord(EVP_PKEY* private_key, std::string_view payload,
                       std::string_view previous_signature, std::string* signature);

// Converts a DER ECDSA-Sig-Value to the 64-byte r||s form. Returns false on malformed DER or
// on r or s longer than 32 bytes.
bool DerToRawSignature(std::string_view der, std::string* raw);

// Returns characters 3, 7, 13 and 19 (1-based) of the signature, printed on the ticket, or an
// empty string when the signature is shorter than 19 characters.
std::string SignatureExtract(std::string_view signature);

}  // namespace fiscal::france

#endif  // FISCAL_FRANCE_SIGNATURE_H_
