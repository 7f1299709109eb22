#include "webhooks/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace fiscal::webhooks {
namespace {

std::string Hex(const unsigned char* bytes, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xF]);
  }
  return out;
}

}  // namespace

std::string GenerateWebhookSecret() {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) throw std::runtime_error("the system random generator failed");
  return "whsec_" + Hex(random, sizeof(random));
}

std::string SignWebhookPayload(const std::string& secret, int64_t timestamp, const std::string& body) {
  std::string message = std::to_string(timestamp) + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), digest, &size);
  return "sha256=" + Hex(digest, size);
}

bool VerifyWebhookSignature(const std::string& secret, int64_t timestamp, const std::string& body,
                            const std::string& signature) {
  std::string expected = SignWebhookPayload(secret, timestamp, body);
  if (signature.size() != expected.size()) return false;
  return CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

}  // namespace fiscal::webhooks
