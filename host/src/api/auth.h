// API key authentication: "Authorization: Bearer fsk_<environment>_<64 hex digits>".
#pragma once

#include <string>

#include "api/app.h"
#include "http/http_types.h"

namespace fiscal::api {

// Generates a new key for `environment` ("test" or "live"). The plain key is returned once, to be
// shown to the client; only its SHA-256 is stored.
struct NewApiKey {
  std::string key;     // fsk_test_3f2a...
  std::string prefix;  // the first 13 characters, shown in listings
  std::string hash;    // lower-case hex SHA-256 of the whole key
};
NewApiKey GenerateApiKey(const std::string& environment);

// Returns lower-case hex SHA-256 of `text`.
std::string Sha256Hex(const std::string& text);

// Authenticates the request. 401 when the header is missing or the key unknown or revoked, 403 when
// the account is not active or the key is live while live mode is off.
Result<store::Principal> Authenticate(App& app, const http::Request& request);

}  // namespace fiscal::api
