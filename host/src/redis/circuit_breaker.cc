#include "redis/circuit_breaker.h"

#include <utility>

#include "common/log.h"

namespace fiscal::redis {
namespace {

// The scripts read the time from Redis TIME so that every instance measures the open period on one
// clock. KEYS[1] is the operator override, KEYS[2] the automatic state hash.

// ARGV: open duration in ms, probe timeout in ms.
// Returns {allowed (0 or 1), state, source, override value or "", probe (0 or 1)}.
const RedisScript& AllowScript() {
  static const RedisScript script(R"lua(
local override = redis.call('GET', KEYS[1])
if override == 'open' then return {0, 'open', 'operator', override, 0} end
if override == 'closed' then return {1, 'closed', 'operator', override, 0} end
override = override or ''

local fields = redis.call('HMGET', KEYS[2], 'state', 'opened_at_ms', 'probe_until_ms')
local state = fields[1] or 'closed'
if state == 'closed' then return {1, 'closed', 'automatic', override, 0} end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local probe_until = now + tonumber(ARGV[2])

if state == 'open' then
  local opened_at = tonumber(fields[2]) or 0
  if now < opened_at + tonumber(ARGV[1]) then return {0, 'open', 'automatic', override, 0} end
  -- The open period is over: this caller becomes the probe.
  redis.call('HSET', KEYS[2], 'state', 'half_open', 'probe_until_ms', tostring(probe_until))
  return {1, 'half_open', 'automatic', override, 1}
end

-- Half-open: the slot is taken until its probe reports or its timeout passes.
local current_until = tonumber(fields[3]) or 0
if now < current_until then return {0, 'half_open', 'automatic', override, 0} end
redis.call('HSET', KEYS[2], 'probe_until_ms', tostring(probe_until))
return {1, 'half_open', 'automatic', override, 1}
)lua");
  return script;
}

// ARGV: "success" or "failure", failure threshold.
// Returns {automatic state after the call, consecutive failures, override value or ""}.
const RedisScript& RecordScript() {
  static const RedisScript script(R"lua(
local override = redis.call('GET', KEYS[1]) or ''

if ARGV[1] == 'success' then
  -- A closed breaker without failures is the same as a missing hash.
  redis.call('DEL', KEYS[2])
  return {'closed', 0, override}
end

local state = redis.call('HGET', KEYS[2], 'state') or 'closed'
local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
if state == 'half_open' or (state == 'closed' and failures >= tonumber(ARGV[2])) then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('HSET', KEYS[2], 'state', 'open', 'opened_at_ms', tostring(now))
  redis.call('HDEL', KEYS[2], 'probe_until_ms')
  state = 'open'
end
return {state, failures, override}
)lua");
  return script;
}

// Returns {override value or "", automatic state, consecutive failures, opened_at_ms}.
const RedisScript& SnapshotScript() {
  static const RedisScript script(R"lua(
local override = redis.call('GET', KEYS[1]) or ''
local fields = redis.call('HMGET', KEYS[2], 'state', 'failures', 'opened_at_ms')
return {override, fields[1] or 'closed', tonumber(fields[2]) or 0, tonumber(fields[3]) or 0}
)lua");
  return script;
}

bool ParseState(const std::string& name, BreakerState* state) {
  if (name == "closed") {
    *state = BreakerState::kClosed;
  } else if (name == "open") {
    *state = BreakerState::kOpen;
  } else if (name == "half_open") {
    *state = BreakerState::kHalfOpen;
  } else {
    return false;
  }
  return true;
}

bool IsOverride(const std::string& value) { return value == "open" || value == "closed"; }

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status UnexpectedReply(const char* script, const RedisReply& reply) {
  if (reply.is_error())
    return Status::Internal(std::string("circuit breaker ") + script + " script failed: " + reply.text);
  return Status::Internal(std::string("circuit breaker ") + script + " script returned an unexpected reply");
}

}  // namespace

const char* BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half_open";
  }
  return "closed";
}

const char* BreakerSourceName(BreakerSource source) {
  switch (source) {
    case BreakerSource::kOperator: return "operator";
    case BreakerSource::kAutomatic: return "automatic";
    case BreakerSource::kLocal: return "local";
  }
  return "automatic";
}

Status CircuitBreakerConfig::Validate() const {
  if (failure_threshold < 1) {
    return Status::InvalidArgument("circuit_breaker.failure_threshold", "must be at least 1");
  }
  if (open_duration.count() <= 0) {
    return Status::InvalidArgument("circuit_breaker.open_seconds", "must be positive");
  }
  if (probe_timeout.count() <= 0) {
    return Status::InvalidArgument("circuit_breaker.probe_timeout_seconds", "must be positive");
  }
  if (max_known_breakers == 0) {
    return Status::InvalidArgument("circuit_breaker.max_known_breakers", "must be at least 1");
  }
  return Status::Ok();
}

CircuitBreaker::CircuitBreaker(std::shared_ptr<RedisClient> client, CircuitBreakerConfig config)
    : client_(std::move(client)), config_(std::move(config)), degraded_(client_ == nullptr) {}

BreakerDecision CircuitBreaker::Allow(const std::string& country, const std::string& authority) {
  BreakerKey key{country, authority};

  BreakerDecision decision;
  Result<BreakerDecision> shared = AllowRedis(key);
  if (shared.ok()) {
    SetDegraded(false, Status::Ok());
    decision = *shared;
  } else {
    SetDegraded(true, shared.status());
    decision = AllowLocal(key);
  }

  Observe(key, decision.state, decision.source);
  return decision;
}

void CircuitBreaker::RecordSuccess(const std::string& country, const std::string& authority) {
  Record(BreakerKey{country, authority}, /*success=*/true);
}

void CircuitBreaker::RecordFailure(const std::string& country, const std::string& authority) {
  Record(BreakerKey{country, authority}, /*success=*/false);
}

void CircuitBreaker::Record(const BreakerKey& key, bool success) {
  BreakerDecision effective;
  Result<BreakerDecision> shared = RecordRedis(key, success);
  if (shared.ok()) {
    SetDegraded(false, Status::Ok());
    effective = *shared;
  } else {
    SetDegraded(true, shared.status());
    effective = RecordLocal(key, success);
  }

  Observe(key, effective.state, effective.source);
}

BreakerSnapshot CircuitBreaker::Snapshot(const std::string& country, const std::string& authority) {
  BreakerKey key{country, authority};

  Result<BreakerSnapshot> shared = SnapshotRedis(key);
  if (shared.ok()) {
    SetDegraded(false, Status::Ok());
    return *shared;
  }

  SetDegraded(true, shared.status());
  return SnapshotLocal(key);
}

std::vector<BreakerKey> CircuitBreaker::KnownBreakers() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<BreakerKey> keys;
  keys.reserve(observed_.size());
  for (const auto& entry : observed_) keys.push_back(entry.first);
  return keys;
}

bool CircuitBreaker::degraded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return degraded_;
}

std::string CircuitBreaker::OverrideKey(const BreakerKey& key) const {
  return config_.key_prefix + key.country + ":" + key.authority;
}

std::string CircuitBreaker::AutomaticKey(const BreakerKey& key) const { return OverrideKey(key) + ":auto"; }

Result<BreakerDecision> CircuitBreaker::AllowRedis(const BreakerKey& key) {
  if (client_ == nullptr) return Status::Unavailable("no Redis client configured");

  Result<RedisReply> reply = client_->EvalSha(
      AllowScript(), {OverrideKey(key), AutomaticKey(key)},
      {std::to_string(config_.open_duration.count()), std::to_string(config_.probe_timeout.count())});
  if (!reply.ok()) return reply.status();

  const std::vector<RedisReply>& values = reply->elements;
  BreakerDecision decision;
  bool well_formed = reply->is_array() && values.size() == 5 && values[0].is_integer() &&
                     values[1].is_text() && values[2].is_text() && values[3].is_text() &&
                     values[4].is_integer() && ParseState(values[1].text, &decision.state);
  if (!well_formed) return UnexpectedReply("allow", *reply);

  decision.allowed = values[0].integer == 1;
  decision.source = values[2].text == "operator" ? BreakerSource::kOperator : BreakerSource::kAutomatic;
  decision.probe = values[4].integer == 1;
  if (!values[3].text.empty() && !IsOverride(values[3].text)) LogUnrecognisedOverride(key, values[3].text);
  return decision;
}

Result<BreakerDecision> CircuitBreaker::RecordRedis(const BreakerKey& key, bool success) {
  if (client_ == nullptr) return Status::Unavailable("no Redis client configured");

  Result<RedisReply> reply =
      client_->EvalSha(RecordScript(), {OverrideKey(key), AutomaticKey(key)},
                       {success ? "success" : "failure", std::to_string(config_.failure_threshold)});
  if (!reply.ok()) return reply.status();

  const std::vector<RedisReply>& values = reply->elements;
  BreakerState automatic_state;
  bool well_formed = reply->is_array() && values.size() == 3 && values[0].is_text() &&
                     values[1].is_integer() && values[2].is_text() &&
                     ParseState(values[0].text, &automatic_state);
  if (!well_formed) return UnexpectedReply("record", *reply);

  // The effective state, which the override hides the automatic state behind.
  const std::string& override_value = values[2].text;
  BreakerDecision effective;
  if (IsOverride(override_value)) {
    effective.source = BreakerSource::kOperator;
    effective.state = override_value == "open" ? BreakerState::kOpen : BreakerState::kClosed;
  } else {
    effective.source = BreakerSource::kAutomatic;
    effective.state = automatic_state;
    if (!override_value.empty()) LogUnrecognisedOverride(key, override_value);
  }
  effective.allowed = effective.state != BreakerState::kOpen;
  return effective;
}

Result<BreakerSnapshot> CircuitBreaker::SnapshotRedis(const BreakerKey& key) {
  if (client_ == nullptr) return Status::Unavailable("no Redis client configured");

  Result<RedisReply> reply = client_->EvalSha(SnapshotScript(), {OverrideKey(key), AutomaticKey(key)}, {});
  if (!reply.ok()) return reply.status();

  const std::vector<RedisReply>& values = reply->elements;
  BreakerSnapshot snapshot;
  snapshot.key = key;
  BreakerState automatic_state;
  bool well_formed = reply->is_array() && values.size() == 4 && values[0].is_text() && values[1].is_text() &&
                     values[2].is_integer() && values[3].is_integer() &&
                     ParseState(values[1].text, &automatic_state);
  if (!well_formed) return UnexpectedReply("snapshot", *reply);

  snapshot.operator_override = values[0].text;
  snapshot.consecutive_failures = static_cast<int>(values[2].integer);
  if (automatic_state != BreakerState::kClosed) snapshot.opened_at_unix_ms = values[3].integer;
  if (IsOverride(snapshot.operator_override)) {
    snapshot.source = BreakerSource::kOperator;
    snapshot.state = snapshot.operator_override == "open" ? BreakerState::kOpen : BreakerState::kClosed;
  } else {
    snapshot.source = BreakerSource::kAutomatic;
    snapshot.state = automatic_state;
  }
  return snapshot;
}

BreakerDecision CircuitBreaker::AllowLocal(const BreakerKey& key) {
  Clock::time_point now = Clock::now();
  BreakerDecision decision;
  decision.source = BreakerSource::kLocal;

  std::lock_guard<std::mutex> lock(mutex_);
  if (!RememberLocked(key)) return decision;  // NOTE: past the bound, unknown breakers stay closed.
  LocalBreaker& breaker = LocalBreakerFor(key);

  if (breaker.state == BreakerState::kClosed) return decision;

  if (breaker.state == BreakerState::kOpen && now < breaker.opened_at + config_.open_duration) {
    decision.allowed = false;
    decision.state = BreakerState::kOpen;
    return decision;
  }
  if (breaker.state == BreakerState::kHalfOpen && now < breaker.probe_until) {
    decision.allowed = false;
    decision.state = BreakerState::kHalfOpen;
    return decision;
  }

  // The open period or the previous probe's slot is over: this caller becomes the probe.
  breaker.state = BreakerState::kHalfOpen;
  breaker.probe_until = now + config_.probe_timeout;
  decision.state = BreakerState::kHalfOpen;
  decision.probe = true;
  return decision;
}

BreakerDecision CircuitBreaker::RecordLocal(const BreakerKey& key, bool success) {
  BreakerDecision result;
  result.source = BreakerSource::kLocal;

  std::lock_guard<std::mutex> lock(mutex_);
  if (!RememberLocked(key)) return result;
  LocalBreaker& breaker = LocalBreakerFor(key);

  if (success) {
    breaker = LocalBreaker{};
    return result;
  }

  ++breaker.failures;
  bool opens = breaker.state == BreakerState::kHalfOpen ||
               (breaker.state == BreakerState::kClosed && breaker.failures >= config_.failure_threshold);
  if (opens) {
    breaker.state = BreakerState::kOpen;
    breaker.opened_at = Clock::now();
    breaker.opened_at_unix_ms = UnixMillisNow();
  }
  result.state = breaker.state;
  result.allowed = breaker.state != BreakerState::kOpen;
  return result;
}

BreakerSnapshot CircuitBreaker::SnapshotLocal(const BreakerKey& key) {
  BreakerSnapshot snapshot;
  snapshot.key = key;
  snapshot.source = BreakerSource::kLocal;
  snapshot.shared = false;

  std::lock_guard<std::mutex> lock(mutex_);
  auto found = local_.find(key);
  if (found == local_.end()) return snapshot;
  snapshot.state = found->second.state;
  snapshot.consecutive_failures = found->second.failures;
  if (found->second.state != BreakerState::kClosed)
    snapshot.opened_at_unix_ms = found->second.opened_at_unix_ms;
  return snapshot;
}

CircuitBreaker::LocalBreaker& CircuitBreaker::LocalBreakerFor(const BreakerKey& key) {
  auto found = local_.find(key);
  if (found != local_.end()) return found->second;

  // A breaker that Redis last showed open stays open here for a full open period, so that losing
  // Redis does not release calls to an authority known to be failing.
  LocalBreaker breaker;
  auto observed = observed_.find(key);
  if (observed != observed_.end() && observed->second.state != BreakerState::kClosed) {
    breaker.state = BreakerState::kOpen;
    breaker.failures = config_.failure_threshold;
    breaker.opened_at = Clock::now();
    breaker.opened_at_unix_ms = UnixMillisNow();
  }
  return local_.emplace(key, breaker).first->second;
}

void CircuitBreaker::Observe(const BreakerKey& key, BreakerState state, BreakerSource source) {
  ObservedState previous;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!RememberLocked(key)) return;
    ObservedState& observed = observed_[key];
    previous = observed;
    observed.seen = true;
    observed.state = state;
    observed.source = source;
  }

  // Switching between shared and local state is logged once by SetDegraded, not per breaker, so
  // only a change of state or to or from an operator override counts here. A breaker seen for the
  // first time is logged unless it is in the ordinary closed state.
  bool operator_changed =
      (previous.source == BreakerSource::kOperator) != (source == BreakerSource::kOperator);
  bool changed = previous.seen ? previous.state != state || operator_changed
                               : state != BreakerState::kClosed || source == BreakerSource::kOperator;
  if (!changed) return;

  log::Warning("circuit breaker state changed",
               {{"country", key.country},
                {"authority", key.authority},
                {"from", previous.seen ? BreakerStateName(previous.state) : "unknown"},
                {"to", BreakerStateName(state)},
                {"source", BreakerSourceName(source)}});
}

bool CircuitBreaker::RememberLocked(const BreakerKey& key) {
  if (observed_.count(key) != 0) return true;
  if (observed_.size() >= config_.max_known_breakers) return false;
  observed_.emplace(key, ObservedState{});
  return true;
}

void CircuitBreaker::SetDegraded(bool degraded, const Status& cause) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (degraded_ == degraded) return;
    degraded_ = degraded;
    // Local state only matters while Redis is unreachable, so the next outage starts from what Redis
    // showed last.
    if (!degraded) local_.clear();
  }

  if (degraded) {
    log::Warning("circuit breakers using local state: redis unavailable", {{"error", cause.message()}});
  } else {
    log::Info("circuit breakers using redis state again: redis back");
  }
}

void CircuitBreaker::LogUnrecognisedOverride(const BreakerKey& key, const std::string& value) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!RememberLocked(key)) return;
    std::string& logged = logged_overrides_[key];
    if (logged == value) return;
    logged = value;
  }
  log::Error("circuit breaker override ignored: expected 'open' or 'closed'",
             {{"key", OverrideKey(key)}, {"value", value.substr(0, 64)}});
}

}  // namespace fiscal::redis
