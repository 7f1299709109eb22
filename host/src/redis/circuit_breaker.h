// CircuitBreaker: stops sending to a tax authority that keeps failing, with its state in Redis so
// that every host instance reads the same breaker, and an operator override per authority.
//
// Redis keys, for country "spain" and authority "aeat":
//   circuit_breaker:spain:aeat       operator override. "open" keeps the breaker open on every
//                                    instance and "closed" keeps it closed. DEL returns it to
//                                    automatic control. Any other value is ignored and logged.
//   circuit_breaker:spain:aeat:auto  automatic state, a hash {state, failures, opened_at_ms,
//                                    probe_until_ms}. Missing means closed with no failures.
//
// Automatic rules: closed until failure_threshold consecutive failures, then open for
// open_duration, then half-open: exactly one caller across all instances gets the probe slot and
// the others are denied. A success closes the breaker from any state and resets the failure count,
// and a failure in half-open opens it again. Each change is applied by a Lua script in one round trip.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "redis/redis_client.h"

namespace fiscal::redis {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
// Origin of a decision: the operator override, the shared automatic state in Redis, or the state of
// this process alone while Redis is unreachable.
enum class BreakerSource { kOperator, kAutomatic, kLocal };

// "closed", "open", "half_open": the values used in Redis and in logs.
const char* BreakerStateName(BreakerState state);
// "operator", "automatic", "local".
const char* BreakerSourceName(BreakerSource source);

struct CircuitBreakerConfig {
  // Consecutive failures that open a closed breaker.
  int failure_threshold = 5;
  // How long an open breaker denies every call before it lets one probe through.
  std::chrono::milliseconds open_duration = std::chrono::seconds(30);
  // How long the probe keeps its slot. A probe whose caller never reports (a crashed instance)
  // gives the slot to another caller after this, so it must exceed the authority request timeout
  // (30 s in config/fiscal.example.json).
  std::chrono::milliseconds probe_timeout = std::chrono::seconds(60);
  std::string key_prefix = "circuit_breaker:";
  // Bound on the (country, authority) pairs remembered for KnownBreakers() and local state.
  size_t max_known_breakers = 1000;

  Status Validate() const;
};

// Names a breaker. Both parts are lowercase identifiers such as "spain" and "aeat", without ':'.
struct BreakerKey {
  std::string country;
  std::string authority;

  auto operator<=>(const BreakerKey&) const = default;
};

struct BreakerDecision {
  bool allowed = true;
  BreakerState state = BreakerState::kClosed;
  BreakerSource source = BreakerSource::kAutomatic;
  // True for the one caller allowed through a half-open breaker. It must report its outcome with
  // RecordSuccess or RecordFailure.
  bool probe = false;
};

// State of one breaker for /health.
struct BreakerSnapshot {
  BreakerKey key;
  BreakerState state = BreakerState::kClosed;
  BreakerSource source = BreakerSource::kAutomatic;
  int consecutive_failures = 0;
  // Unix milliseconds when the breaker last opened (Redis clock), 0 when closed. For local state
  // this is the host clock.
  int64_t opened_at_unix_ms = 0;
  // The override key's value ("open", "closed", something unrecognised), or empty when unset.
  std::string operator_override;
  // False when Redis was unreachable and the snapshot shows this process's local state.
  bool shared = true;
};

// Thread-safe. Every instance logs each change of the effective state it observes (country,
// authority, from, to, source), so a change made by one instance is logged by each instance that
// later consults the breaker.
//
// While Redis is unreachable, each instance applies the same rules to its own in-process state
// (source kLocal). A breaker last seen open or half-open starts that local state open.
class CircuitBreaker {
 public:
  // `client` may be null: then every breaker is local and degraded() stays true.
  CircuitBreaker(std::shared_ptr<RedisClient> client, CircuitBreakerConfig config);

  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // Decides whether a call to the authority may go ahead. In half-open, takes the probe slot when
  // it is free.
  BreakerDecision Allow(const std::string& country, const std::string& authority);
  // Reports a successful call. Closes the breaker and resets the failure count.
  void RecordSuccess(const std::string& country, const std::string& authority);
  // Reports a failed call (no response, timeout, server fault). Opens a closed breaker at the
  // threshold and reopens a half-open one.
  void RecordFailure(const std::string& country, const std::string& authority);

  // Reads the state without changing it.
  BreakerSnapshot Snapshot(const std::string& country, const std::string& authority);
  // Breakers this instance has consulted since it started, sorted, at most max_known_breakers.
  std::vector<BreakerKey> KnownBreakers() const;
  // True when the latest call found Redis unreachable and used local state.
  bool degraded() const;

  const CircuitBreakerConfig& config() const { return config_; }

 private:
  using Clock = std::chrono::steady_clock;

  struct LocalBreaker {
    BreakerState state = BreakerState::kClosed;
    int failures = 0;
    Clock::time_point opened_at;
    Clock::time_point probe_until;
    int64_t opened_at_unix_ms = 0;
  };

  // State of a breaker as this instance last observed it, to log changes.
  struct ObservedState {
    // False until the first Observe(): the entry may exist earlier for KnownBreakers().
    bool seen = false;
    BreakerState state = BreakerState::kClosed;
    BreakerSource source = BreakerSource::kAutomatic;
  };

  std::string OverrideKey(const BreakerKey& key) const;
  std::string AutomaticKey(const BreakerKey& key) const;

  void Record(const BreakerKey& key, bool success);

  // The *Redis functions return kUnavailable when there is no client or Redis is unreachable.
  Result<BreakerDecision> AllowRedis(const BreakerKey& key);
  Result<BreakerDecision> RecordRedis(const BreakerKey& key, bool success);
  Result<BreakerSnapshot> SnapshotRedis(const BreakerKey& key);

  BreakerDecision AllowLocal(const BreakerKey& key);
  BreakerDecision RecordLocal(const BreakerKey& key, bool success);
  BreakerSnapshot SnapshotLocal(const BreakerKey& key);
  // Returns the local breaker for `key`, created from the last observed state. Needs mutex_.
  LocalBreaker& LocalBreakerFor(const BreakerKey& key);

  void Observe(const BreakerKey& key, BreakerState state, BreakerSource source);
  // Remembers `key` for KnownBreakers(). Returns false when the bound is reached. Needs mutex_.
  bool RememberLocked(const BreakerKey& key);
  void SetDegraded(bool degraded, const Status& cause);
  void LogUnrecognisedOverride(const BreakerKey& key, const std::string& value);

  const std::shared_ptr<RedisClient> client_;
  const CircuitBreakerConfig config_;

  mutable std::mutex mutex_;
  bool degraded_ = false;
  std::map<BreakerKey, ObservedState> observed_;
  std::map<BreakerKey, LocalBreaker> local_;
  std::map<BreakerKey, std::string> logged_overrides_;
};

}  // namespace fiscal::redis
