// Rate limiting per API key: a token bucket in Redis (see redis/rate_limiter.h) checked before
// every request that carries a bearer key.
#pragma once

#include <string>

#include "http/router.h"

namespace fiscal::redis {
class RateLimiter;
}

namespace fiscal::api {

// Returns a middleware that takes one token from the key's bucket. Every request with a bearer key
// gets X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset; a request over the limit
// gets 429 with Retry-After and {"error", "code": "rate_limit_exceeded", "retry_after"}. Test keys
// use `test_tier`, live keys `live_tier`.
http::Middleware MakeRateLimitMiddleware(redis::RateLimiter& limiter, std::string test_tier, std::string live_tier);

}  // namespace fiscal::api
