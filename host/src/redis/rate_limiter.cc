#include "redis/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "common/log.h"

namespace fiscal::redis {
namespace {

// Token bucket step. KEYS[1] is a hash {tokens, ts}, ts in Unix milliseconds. ARGV: capacity,
// requests per minute, tokens this request costs. Returns {allowed (0 or 1), whole tokens left,
// now in Unix ms, ms until the bucket is full, ms until `cost` tokens are available (0 when
// allowed)}.
//
// The time comes from Redis TIME rather than from the host: every instance then reads one clock,
// so skew between host clocks cannot add or remove tokens. Redis 5 and later replicate a script's
// writes, not the script, which makes TIME usable before writes.
const RedisScript& TokenBucketScript() {
  static const RedisScript script(R"lua(
local capacity = tonumber(ARGV[1])
local rate_per_ms = tonumber(ARGV[2]) / 60000
local cost = tonumber(ARGV[3])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local stored = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(stored[1])
local ts = tonumber(stored[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
-- A clock that went back refills nothing until it passes ts again.
if now > ts then
  tokens = tokens + (now - ts) * rate_per_ms
  ts = now
end
if tokens > capacity then tokens = capacity end

-- The epsilon absorbs rounding in the refill, so that a bucket refilled to exactly 1 is not 0.99999.
local allowed = 0
if tokens + 1e-9 >= cost then
  tokens = math.max(0, tokens - cost)
  allowed = 1
end

local until_full = math.ceil((capacity - tokens) / rate_per_ms)
local until_next = 0
if allowed == 0 then until_next = math.max(1, math.ceil((cost - tokens) / rate_per_ms)) end

redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
-- A missing key reads as a full bucket, so the key can expire once the bucket would be full.
redis.call('PEXPIRE', KEYS[1], until_full + 1000)
return {allowed, math.floor(tokens + 1e-9), now, until_full, until_next}
)lua");
  return script;
}

// Limits used when even the fallback tier is missing from the configuration.
constexpr RateLimitConfig::Tier kBuiltInFallbackTier{100, 200};

int64_t CeilDiv(int64_t numerator, int64_t denominator) {
  return numerator / denominator + (numerator % denominator > 0 ? 1 : 0);
}

int RetryAfterSeconds(int64_t until_next_ms) {
  return static_cast<int>(std::max<int64_t>(1, CeilDiv(until_next_ms, 1000)));
}

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status RateLimitConfig::Validate() const {
  for (const auto& [name, tier] : tiers) {
    if (tier.requests_per_minute <= 0) {
      return Status::InvalidArgument("rate_limits.tiers." + name + ".requests_per_minute",
                                     "must be a positive number of requests per minute");
    }
    if (tier.burst <= 0) {
      return Status::InvalidArgument("rate_limits.tiers." + name + ".burst",
                                     "must be a positive number of requests");
    }
  }
  if (tiers.find(fallback_tier) == tiers.end()) {
    return Status::InvalidArgument("rate_limits.fallback_tier",
                                   "names tier '" + fallback_tier + "', which is not defined");
  }
  if (max_local_buckets == 0) {
    return Status::InvalidArgument("rate_limits.max_local_buckets", "must be at least 1");
  }
  return Status::Ok();
}

RateLimiter::RateLimiter(std::shared_ptr<RedisClient> client, RateLimitConfig config)
    : client_(std::move(client)), config_(std::move(config)), degraded_(client_ == nullptr) {}

RateLimitDecision RateLimiter::Check(const std::string& bucket_id, const std::string& tier_name) {
  RateLimitConfig::Tier tier = ResolveTier(tier_name);
  if (client_ == nullptr) return CheckLocal(bucket_id, tier);

  Result<RateLimitDecision> decision = CheckRedis(bucket_id, tier);
  if (decision.ok()) {
    SetDegraded(false, Status::Ok());
    return *decision;
  }

  SetDegraded(true, decision.status());
  return CheckLocal(bucket_id, tier);
}

bool RateLimiter::degraded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return degraded_;
}

RateLimitConfig::Tier RateLimiter::ResolveTier(const std::string& tier_name) {
  RateLimitConfig::Tier tier = kBuiltInFallbackTier;
  auto found = config_.tiers.find(tier_name);
  if (found != config_.tiers.end()) {
    tier = found->second;
  } else {
    auto fallback = config_.tiers.find(config_.fallback_tier);
    if (fallback != config_.tiers.end()) tier = fallback->second;

    // Logged once per name. The set is bounded in case tier names come from unchecked data.
    bool first_time = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (logged_unknown_tiers_.size() < 100) first_time = logged_unknown_tiers_.insert(tier_name).second;
    }
    if (first_time) {
      log::Warning("unknown rate limit tier, using the fallback tier",
                   {{"tier", tier_name}, {"fallback_tier", config_.fallback_tier}});
    }
  }

  // Guards the bucket arithmetic against an unvalidated configuration.
  tier.requests_per_minute = std::max(1, tier.requests_per_minute);
  tier.burst = std::max(1, tier.burst);
  return tier;
}

Result<RateLimitDecision> RateLimiter::CheckRedis(const std::string& bucket_id,
                                                  const RateLimitConfig::Tier& tier) {
  Result<RedisReply> reply =
      client_->EvalSha(TokenBucketScript(), {config_.key_prefix + bucket_id},
                       {std::to_string(tier.burst), std::to_string(tier.requests_per_minute), "1"});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return Status::Internal("rate limit script failed: " + reply->text);

  const std::vector<RedisReply>& values = reply->elements;
  bool well_formed =
      reply->is_array() && values.size() == 5 &&
      std::all_of(values.begin(), values.end(), [](const RedisReply& v) { return v.is_integer(); });
  if (!well_formed) return Status::Internal("rate limit script returned an unexpected reply");

  int64_t now_ms = values[2].integer;
  int64_t until_full_ms = values[3].integer;
  int64_t until_next_ms = values[4].integer;

  RateLimitDecision decision;
  decision.allowed = values[0].integer == 1;
  decision.limit = tier.requests_per_minute;
  decision.remaining = static_cast<int>(values[1].integer);
  decision.reset_unix = CeilDiv(now_ms + until_full_ms, 1000);
  decision.retry_after_seconds = decision.allowed ? 0 : RetryAfterSeconds(until_next_ms);
  return decision;
}

RateLimitDecision RateLimiter::CheckLocal(const std::string& bucket_id, const RateLimitConfig::Tier& tier) {
  Clock::time_point now = Clock::now();
  double capacity = tier.burst;
  double rate_per_ms = tier.requests_per_minute / 60000.0;

  std::lock_guard<std::mutex> lock(mutex_);
  auto found = local_buckets_.find(bucket_id);
  if (found == local_buckets_.end()) {
    if (local_buckets_.size() >= config_.max_local_buckets) EvictLocalBuckets(now);
    found = local_buckets_.emplace(bucket_id, LocalBucket{capacity, now, now}).first;
  }
  LocalBucket& bucket = found->second;

  // Same arithmetic as the Lua script, on the monotonic clock.
  double elapsed_ms = std::chrono::duration<double, std::milli>(now - bucket.updated).count();
  bucket.tokens = std::min(capacity, bucket.tokens + std::max(0.0, elapsed_ms) * rate_per_ms);
  bucket.updated = now;

  RateLimitDecision decision;
  decision.degraded = true;
  decision.limit = tier.requests_per_minute;
  decision.allowed = bucket.tokens + 1e-9 >= 1.0;
  if (decision.allowed) bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
  decision.remaining = static_cast<int>(std::floor(bucket.tokens + 1e-9));

  auto until_full_ms = static_cast<int64_t>(std::ceil((capacity - bucket.tokens) / rate_per_ms));
  bucket.full_at = now + std::chrono::milliseconds(until_full_ms);
  decision.reset_unix = CeilDiv(UnixMillisNow() + until_full_ms, 1000);
  if (!decision.allowed) {
    decision.retry_after_seconds =
        RetryAfterSeconds(static_cast<int64_t>(std::ceil((1.0 - bucket.tokens) / rate_per_ms)));
  }
  return decision;
}

void RateLimiter::EvictLocalBuckets(Clock::time_point now) {
  // A bucket that has refilled completely is the same as a missing one, so those go first.
  std::erase_if(local_buckets_, [&](const auto& entry) { return entry.second.full_at <= now; });
  if (local_buckets_.size() < config_.max_local_buckets) return;

  // Otherwise drop the least recently used bucket, which then starts full again.
  auto oldest =
      std::min_element(local_buckets_.begin(), local_buckets_.end(),
                       [](const auto& a, const auto& b) { return a.second.updated < b.second.updated; });
  local_buckets_.erase(oldest);
}

void RateLimiter::SetDegraded(bool degraded, const Status& cause) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (degraded_ == degraded) return;
    degraded_ = degraded;
    // Local buckets only matter while degraded, so a later outage starts with full buckets.
    if (!degraded) local_buckets_.clear();
  }

  if (degraded) {
    log::Warning("rate limiter using local buckets: redis unavailable", {{"error", cause.message()}});
  } else {
    log::Info("rate limiter using redis buckets again: redis back");
  }
}

}  // namespace fiscal::redis
