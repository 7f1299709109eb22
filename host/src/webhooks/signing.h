// Webhook secrets and request signatures.
//
// Every delivery carries X-Webhook-Timestamp (Unix seconds) and
//   X-Webhook-Signature: sha256=<lower-case hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
// The key is the whole secret text, "whsec_" included. A receiver recomputes the HMAC over the raw
// body bytes it received, compares in constant time, and rejects timestamps far from its own clock
// to limit replays.
#pragma once

#include <cstdint>
#include <string>

namespace fiscal::webhooks {

// Returns a new secret: "whsec_" and 64 hex digits (32 bytes from OpenSSL's RAND_bytes). Throws
// std::runtime_error when the random generator fails, which only happens on a broken system.
std::string GenerateWebhookSecret();

// Returns the X-Webhook-Signature value for `body` sent at `timestamp`: "sha256=<hex>".
std::string SignWebhookPayload(const std::string& secret, int64_t timestamp, const std::string& body);

// Returns true when `signature` is the X-Webhook-Signature value of `body` at `timestamp`. The
// comparison takes the same time wherever the first difference is.
bool VerifyWebhookSignature(const std::string& secret, int64_t timestamp, const std::string& body,
                            const std::string& signature);

}  // namespace fiscal::webhooks
