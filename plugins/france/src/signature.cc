#include "signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cstring>

#include "payload.h"

namespace fiscal::france {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kCoordinateBytes = 32;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};
struct BignumDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};

int DecodeChar(char c) {
  const char* found = std::strchr(kAlphabet, c);
  if (c == '\0' || found == nullptr) return -1;
  return static_cast<int>(found - kAlphabet);
}

bool DecodeHex(std::string_view hex, std::string* bytes) {
  if (hex.size() % 2 != 0) return false;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int value = 0;
    for (size_t j = 0; j < 2; ++j) {
      char c = hex[i + j];
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) return false;
      value = value * 16 + digit;
    }
    out.push_back(static_cast<char>(value));
  }
  *bytes = std::move(out);
  return true;
}

bool IsP256Key(EVP_PKEY* key) {
  if (key == nullptr || !EVP_PKEY_is_a(key, "EC")) return false;
  char group[64] = {0};
  size_t group_length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &group_length) != 1) {
    return false;
  }
  return std::string_view(group, group_length) == "prime256v1";
}

// Encodes 64-byte r||s as a DER ECDSA-Sig-Value, which EVP_DigestVerify expects.
bool RawToDerSignature(std::string_view raw, std::string* der) {
  if (raw.size() != 2 * kCoordinateBytes) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<BIGNUM, BignumDeleter> r(BN_bin2bn(bytes, kCoordinateBytes, nullptr));
  std::unique_ptr<BIGNUM, BignumDeleter> s(
      BN_bin2bn(bytes + kCoordinateBytes, kCoordinateBytes, nullptr));
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return false;
  r.release();  // owned by sig after ECDSA_SIG_set0
  s.release();

  unsigned char* out = nullptr;
  int length = i2d_ECDSA_SIG(sig.get(), &out);
  if (length <= 0) return false;
  der->assign(reinterpret_cast<char*>(out), length);
  OPENSSL_free(out);
  return true;
}

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

}  // namespace

std::string Sha256Base64Url(std::string_view data) { return Base64UrlEncode(Sha256(data)); }

std::string Sha256Hex(std::string_view data) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : Sha256(data)) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

Status PublicKeyId(EVP_PKEY* key, std::string* key_id) {
  if (key == nullptr) return Status::Internal("no key given for the key id");
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return Status::Internal("OpenSSL could not encode the public key as DER");
  *key_id = Sha256Hex(std::string_view(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  return Status::Ok();
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = (static_cast<uint8_t>(bytes[i]) << 16) |
                     (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    text += kAlphabet[(group >> 18) & 63];
    text += kAlphabet[(group >> 12) & 63];
    text += kAlphabet[(group >> 6) & 63];
    text += kAlphabet[group & 63];
  }
  size_t remaining = bytes.size() - i;
  if (remaining == 1) {
    uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
    text += kAlphabet[(group >> 18) & 63];
    text += kAlphabet[(group >> 12) & 63];
  } else if (remaining == 2) {
    uint32_t group = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    text += kAlphabet[(group >> 18) & 63];
    text += kAlphabet[(group >> 12) & 63];
    text += kAlphabet[(group >> 6) & 63];
  }
  return text;
}

bool Base64UrlDecode(std::string_view text, std::string* bytes) {
  if (text.size() % 4 == 1) return false;
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value = DecodeChar(c);
    if (value < 0) return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  // The unused low bits of the last character must be zero, or two texts would decode alike.
  if ((buffer & ((1u << bits) - 1)) != 0) return false;
  *bytes = std::move(out);
  return true;
}

Status GenerateP256Key(EvpPkeyPtr* key) {
  EVP_PKEY* generated = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (generated == nullptr) return Status::Internal("P-256 key generation failed in OpenSSL");
  key->reset(generated);
  return Status::Ok();
}

Status P256PublicKeyFromHex(std::string_view x_hex, std::string_view y_hex, EvpPkeyPtr* key) {
  std::string x;
  std::string y;
  if (!DecodeHex(x_hex, &x) || !DecodeHex(y_hex, &y) || x.size() != kCoordinateBytes ||
      y.size() != kCoordinateBytes) {
    return Status::Invalid("public_key", "P-256 coordinates must be 64 hex characters each");
  }
  std::string point = "\x04" + x + y;

  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1",
                                      0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Status::Internal("building OpenSSL key parameters failed");
  }
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(builder.get()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* imported = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &imported, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Status::Invalid("public_key", "the coordinates are not a point on P-256");
  }
  key->reset(imported);
  return Status::Ok();
}

Status SignMessage(EVP_PKEY* private_key, std::string_view message, std::string* signature) {
  if (!IsP256Key(private_key)) {
    return Status::Internal("signing key is missing or is not a P-256 key; no record was signed");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  size_t der_length = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, private_key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return Status::Internal("ECDSA signing failed in OpenSSL; no record was signed");
  }
  std::string der(der_length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_length,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return Status::Internal("ECDSA signing failed in OpenSSL; no record was signed");
  }
  der.resize(der_length);

  std::string raw;
  if (!DerToRawSignature(der, &raw)) {
    return Status::Internal("OpenSSL returned a malformed ECDSA signature");
  }
  *signature = Base64UrlEncode(raw);
  return Status::Ok();
}

SignatureCheck VerifyMessage(EVP_PKEY* public_key, std::string_view message,
                             std::string_view signature) {
  std::string raw;
  std::string der;
  if (signature.size() != kSignatureLength || !Base64UrlDecode(signature, &raw) ||
      !RawToDerSignature(raw, &der)) {
    return SignatureCheck::kMalformed;
  }
  if (!IsP256Key(public_key)) return SignatureCheck::kMismatch;

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key) != 1) {
    return SignatureCheck::kMismatch;
  }
  int result = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()),
                                der.size(), reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  return result == 1 ? SignatureCheck::kValid : SignatureCheck::kMismatch;
}

Status SignChainRecord(EVP_PKEY* private_key, std::string_view payload,
                       std::string_view previous_signature, std::string* signature) {
  return SignMessage(private_key, ChainedSigningInput(payload, previous_signature), signature);
}

bool DerToRawSignature(std::string_view der, std::string* raw) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter> sig(
      d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!sig || cursor != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return false;
  }
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  std::string out(2 * kCoordinateBytes, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, bytes, kCoordinateBytes) < 0 ||
      BN_bn2binpad(s, bytes + kCoordinateBytes, kCoordinateBytes) < 0) {
    return false;
  }
  *raw = std::move(out);
  return true;
}

std::string SignatureExtract(std::string_view signature) {
  if (signature.size() < 19) return "";
  return {signature[2], signature[6], signature[12], signature[18]};
}

}  // namespace fiscal::france
