#include "api/rate_limit.h"

#include "api/auth.h"
#include "redis/rate_limiter.h"

namespace fiscal::api {

http::Middleware MakeRateLimitMiddleware(redis::RateLimiter& limiter, std::string test_tier, std::string live_tier) {
  return [&limiter, test_tier, live_tier](http::Request& request, const http::Handler& next) {
    std::string header = request.Header("authorization");
    size_t space = header.find(' ');
    if (space == std::string::npos) return next(request);
    std::string key = header.substr(space + 1);
    if (key.rfind("fsk_", 0) != 0) return next(request);

    // The bucket is named by a digest of the key, so Redis never holds the key itself.
    std::string bucket = Sha256Hex(key).substr(0, 32);
    std::string tier = key.rfind("fsk_live_", 0) == 0 ? live_tier : test_tier;
    redis::RateLimitDecision decision = limiter.Check(bucket, tier);

    http::Response response;
    if (decision.allowed) {
      response = next(request);
    } else {
      std::string seconds = std::to_string(decision.retry_after_seconds);
      response = http::Response::Json(429, "{\"error\":\"rate limit exceeded; retry after " + seconds +
                                               " seconds\",\"code\":\"rate_limit_exceeded\",\"retry_after\":" +
                                               seconds + "}");
      response.headers.emplace_back("Retry-After", seconds);
    }
    response.headers.emplace_back("X-RateLimit-Limit", std::to_string(decision.limit));
    response.headers.emplace_back("X-RateLimit-Remaining", std::to_string(decision.remaining));
    response.headers.emplace_back("X-RateLimit-Reset", std::to_string(decision.reset_unix));
    return response;
  };
}

}  // namespace fiscal::api
