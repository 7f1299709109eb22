#include "api/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>

namespace fiscal::api {
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

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  return Hex(digest, size);
}

NewApiKey GenerateApiKey(const std::string& environment) {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) throw std::runtime_error("the system random generator failed");
  NewApiKey key;
  key.key = "fsk_" + environment + "_" + Hex(random, sizeof(random));
  key.prefix = key.key.substr(0, 13);
  key.hash = Sha256Hex(key.key);
  return key;
}

Result<store::Principal> Authenticate(App& app, const http::Request& request) {
  std::string header = request.Header("authorization");
  // The scheme name is case-insensitive (RFC 9110, section 11.1).
  const std::string bearer = "bearer ";
  std::string scheme = header.substr(0, bearer.size());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (header.size() <= bearer.size() || scheme != bearer) {
    return Status::Unauthenticated("missing or invalid Authorization header; send \"Authorization: Bearer <api key>\"");
  }
  std::string key = header.substr(bearer.size());
  bool test = key.rfind("fsk_test_", 0) == 0;
  bool live = key.rfind("fsk_live_", 0) == 0;
  if ((!test && !live) || key.size() != 9 + 64) {
    return Status::Unauthenticated("invalid API key format; keys look like fsk_test_ followed by 64 hex digits");
  }

  Result<std::optional<store::Principal>> principal = app.accounts->FindPrincipal(Sha256Hex(key));
  if (!principal.ok()) return principal.status();
  if (!principal->has_value()) return Status::Unauthenticated("invalid API key: it is unknown or revoked");
  if ((*principal)->account_status != "active") {
    return Status::PermissionDenied("account is " + (*principal)->account_status + "; contact support");
  }
  if ((*principal)->environment == "live" && !app.config->live_mode_enabled) {
    return Status::PermissionDenied("live mode is not enabled on this server; use a test key");
  }
  return **principal;
}

}  // namespace fiscal::api
