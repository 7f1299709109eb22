// RateLimiter: a token bucket per API key, kept in Redis so that every host instance draws from the
// same bucket, with an in-process fallback while Redis is unreachable.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "common/status.h"
#include "redis/redis_client.h"

namespace fiscal::redis {

struct RateLimitConfig {
  struct Tier {
    int requests_per_minute = 0;
    // Bucket capacity: the most requests accepted at once after a quiet period.
    int burst = 0;
  };

  // Defaults are the Zyntem plan tiers.
  std::map<std::string, Tier> tiers = {
      {"sandbox", {100, 200}},
      {"starter", {1000, 2000}},
      {"growth", {5000, 10000}},
      {"enterprise", {20000, 40000}},
  };
  // Used for a tier name missing from `tiers`.
  std::string fallback_tier = "sandbox";
  // Redis key of a bucket: key_prefix + bucket_id.
  std::string key_prefix = "rate_limit:";
  // Buckets kept in process while Redis is unreachable. Past this, full and then least recently
  // used buckets are dropped, which lets their keys start again with a full bucket.
  size_t max_local_buckets = 10000;

  // Rejects tiers with a non-positive rate or burst and a fallback tier missing from `tiers`.
  Status Validate() const;
};

struct RateLimitDecision {
  bool allowed = false;
  // Requests per minute of the tier, for the X-RateLimit-Limit header.
  int limit = 0;
  // Whole tokens left after this request.
  int remaining = 0;
  // Unix time in seconds when the bucket is full again (the current time when it is full now).
  int64_t reset_unix = 0;
  // Seconds until one token is available: at least 1 when denied, and 0 when allowed.
  int retry_after_seconds = 0;
  // True when Redis was unreachable and a bucket of this process decided.
  bool degraded = false;
};

// Thread-safe. Each Check takes one token in one Redis round trip: a Lua script refills the
// bucket from the time elapsed, takes the token and sets the key's TTL atomically.
//
// While Redis is unreachable, each host instance decides with its own buckets, so N instances
// together accept up to N times the tier's rate.
class RateLimiter {
 public:
  // `client` may be null: then every decision is local and degraded() stays true.
  RateLimiter(std::shared_ptr<RedisClient> client, RateLimitConfig config);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes one token from the bucket `bucket_id` (an API key id, never the key itself) under the
  // limits of `tier`. An unknown tier gets the limits of config.fallback_tier, and is logged.
  RateLimitDecision Check(const std::string& bucket_id, const std::string& tier);

  // True when the latest decision came from a local bucket because Redis was unreachable.
  bool degraded() const;

  const RateLimitConfig& config() const { return config_; }

 private:
  using Clock = std::chrono::steady_clock;

  struct LocalBucket {
    double tokens = 0;
    Clock::time_point updated;
    // Time when the bucket is full again if no request comes. From then on it can be dropped.
    Clock::time_point full_at;
  };

  RateLimitConfig::Tier ResolveTier(const std::string& tier);
  Result<RateLimitDecision> CheckRedis(const std::string& bucket_id, const RateLimitConfig::Tier& tier);
  RateLimitDecision CheckLocal(const std::string& bucket_id, const RateLimitConfig::Tier& tier);
  void EvictLocalBuckets(Clock::time_point now);
  void SetDegraded(bool degraded, const Status& cause);

  const std::shared_ptr<RedisClient> client_;
  const RateLimitConfig config_;

  mutable std::mutex mutex_;
  bool degraded_ = false;
  std::unordered_map<std::string, LocalBucket> local_buckets_;
  std::set<std::string> logged_unknown_tiers_;
};

}  // namespace fiscal::redis
