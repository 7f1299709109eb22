// CircuitBreaker against the redis-server whose port is in FISCAL_TEST_REDIS_PORT (scripts/test.sh
// starts one), and against a closed loopback port for the local fallback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "redis/circuit_breaker.h"

namespace fiscal::redis {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Returns a loopback port that nothing listens on: bound, read and released again.
int ClosedLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Tests that need no Redis: local state and configuration.
class CircuitBreakerLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.failure_threshold = 3;
    config_.open_duration = milliseconds(200);
    config_.probe_timeout = milliseconds(5000);
  }

  void FailTimes(CircuitBreaker& breaker, int times) {
    for (int i = 0; i < times; ++i) breaker.RecordFailure("spain", "aeat");
  }

  // Waits past config_.open_duration.
  void WaitOpenDuration() { std::this_thread::sleep_for(config_.open_duration + milliseconds(50)); }

  RedisClientOptions options_;
  CircuitBreakerConfig config_;
};

class CircuitBreakerTest : public CircuitBreakerLocalTest {
 protected:
  void SetUp() override {
    const char* port = std::getenv("FISCAL_TEST_REDIS_PORT");
    if (port == nullptr)
      GTEST_SKIP() << "FISCAL_TEST_REDIS_PORT is not set; scripts/test.sh starts Redis and sets it";
    CircuitBreakerLocalTest::SetUp();

    options_.port = std::atoi(port);
    // A slow CI machine must not turn into local decisions.
    options_.command_timeout = milliseconds(1000);
    config_.key_prefix = "fiscal-test:" + std::to_string(getpid()) + ":" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                         ":circuit_breaker:";
    admin_ = std::make_shared<RedisClient>(options_);
  }

  void TearDown() override {
    if (admin_ == nullptr) return;
    Result<RedisReply> keys = admin_->Command({"KEYS", config_.key_prefix + "*"});
    if (!keys.ok()) return;
    for (const RedisReply& key : keys->elements) admin_->Command({"DEL", key.text});
  }

  std::shared_ptr<RedisClient> NewClient() { return std::make_shared<RedisClient>(options_); }

  // Sets or, with an empty value, deletes the operator override as redis-cli would.
  void SetOverride(const std::string& value) {
    std::string key = config_.key_prefix + "spain:aeat";
    Result<RedisReply> reply =
        value.empty() ? admin_->Command({"DEL", key}) : admin_->Command({"SET", key, value});
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  }

  std::shared_ptr<RedisClient> admin_;
};

TEST_F(CircuitBreakerLocalTest, DefaultConfigIsValid) {
  CircuitBreakerConfig defaults;

  EXPECT_TRUE(defaults.Validate().ok());
  EXPECT_EQ(defaults.failure_threshold, 5);
  EXPECT_EQ(defaults.open_duration, std::chrono::seconds(30));
}

TEST_F(CircuitBreakerLocalTest, ValidateRejectsZeroThreshold) {
  config_.failure_threshold = 0;

  EXPECT_EQ(config_.Validate().field(), "circuit_breaker.failure_threshold");
}

TEST_F(CircuitBreakerTest, StartsClosed) {
  CircuitBreaker breaker(NewClient(), config_);

  BreakerDecision decision = breaker.Allow("spain", "aeat");

  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.state, BreakerState::kClosed);
  EXPECT_EQ(decision.source, BreakerSource::kAutomatic);
  EXPECT_FALSE(decision.probe);
  EXPECT_FALSE(breaker.degraded());
}

TEST_F(CircuitBreakerTest, OpensAfterThresholdFailures) {
  CircuitBreaker breaker(NewClient(), config_);

  FailTimes(breaker, 2);
  EXPECT_TRUE(breaker.Allow("spain", "aeat").allowed);

  FailTimes(breaker, 1);
  BreakerDecision decision = breaker.Allow("spain", "aeat");

  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.state, BreakerState::kOpen);
  EXPECT_EQ(decision.source, BreakerSource::kAutomatic);
}

TEST_F(CircuitBreakerTest, SuccessResetsFailureCount) {
  CircuitBreaker breaker(NewClient(), config_);

  FailTimes(breaker, 2);
  breaker.RecordSuccess("spain", "aeat");
  FailTimes(breaker, 2);

  EXPECT_TRUE(breaker.Allow("spain", "aeat").allowed);
  EXPECT_EQ(breaker.Snapshot("spain", "aeat").consecutive_failures, 2);
}

TEST_F(CircuitBreakerTest, OpenStateIsSharedBetweenInstances) {
  CircuitBreaker first(NewClient(), config_);
  CircuitBreaker second(NewClient(), config_);

  FailTimes(first, 2);
  FailTimes(second, 1);

  EXPECT_FALSE(first.Allow("spain", "aeat").allowed);
  EXPECT_FALSE(second.Allow("spain", "aeat").allowed);
}

TEST_F(CircuitBreakerTest, OperatorOpenOverridesSuccesses) {
  CircuitBreaker breaker(NewClient(), config_);
  SetOverride("open");

  breaker.RecordSuccess("spain", "aeat");
  breaker.RecordSuccess("spain", "aeat");
  BreakerDecision decision = breaker.Allow("spain", "aeat");

  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.state, BreakerState::kOpen);
  EXPECT_EQ(decision.source, BreakerSource::kOperator);
}

TEST_F(CircuitBreakerTest, OperatorClosedOverridesFailures) {
  CircuitBreaker breaker(NewClient(), config_);
  FailTimes(breaker, 3);
  ASSERT_FALSE(breaker.Allow("spain", "aeat").allowed);

  SetOverride("closed");
  FailTimes(breaker, 3);
  BreakerDecision decision = breaker.Allow("spain", "aeat");

  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.state, BreakerState::kClosed);
  EXPECT_EQ(decision.source, BreakerSource::kOperator);
}

TEST_F(CircuitBreakerTest, DeletingOverrideReturnsToAutomatic) {
  config_.open_duration = std::chrono::seconds(30);
  CircuitBreaker long_open(NewClient(), config_);
  FailTimes(long_open, 3);
  SetOverride("closed");
  ASSERT_TRUE(long_open.Allow("spain", "aeat").allowed);

  SetOverride("");
  BreakerDecision decision = long_open.Allow("spain", "aeat");

  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.state, BreakerState::kOpen);
  EXPECT_EQ(decision.source, BreakerSource::kAutomatic);
}

TEST_F(CircuitBreakerTest, UnrecognisedOverrideIsIgnored) {
  CircuitBreaker breaker(NewClient(), config_);
  SetOverride("maybe");

  BreakerDecision decision = breaker.Allow("spain", "aeat");

  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.source, BreakerSource::kAutomatic);
  EXPECT_EQ(breaker.Snapshot("spain", "aeat").operator_override, "maybe");
}

TEST_F(CircuitBreakerTest, HalfOpenGivesOneProbeAcrossInstances) {
  CircuitBreaker first(NewClient(), config_);
  CircuitBreaker second(NewClient(), config_);
  FailTimes(first, 3);
  WaitOpenDuration();

  BreakerDecision probe = first.Allow("spain", "aeat");
  BreakerDecision other_instance = second.Allow("spain", "aeat");
  BreakerDecision same_instance = first.Allow("spain", "aeat");

  EXPECT_TRUE(probe.allowed);
  EXPECT_TRUE(probe.probe);
  EXPECT_EQ(probe.state, BreakerState::kHalfOpen);
  EXPECT_FALSE(other_instance.allowed);
  EXPECT_FALSE(other_instance.probe);
  EXPECT_EQ(other_instance.state, BreakerState::kHalfOpen);
  EXPECT_FALSE(same_instance.allowed);
}

TEST_F(CircuitBreakerTest, ConcurrentCallersGetOneProbe) {
  CircuitBreaker first(NewClient(), config_);
  CircuitBreaker second(NewClient(), config_);
  FailTimes(first, 3);
  WaitOpenDuration();
  constexpr int kThreads = 8;
  std::atomic<int> probes{0};
  std::atomic<int> allowed{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    CircuitBreaker& breaker = t % 2 == 0 ? first : second;
    threads.emplace_back([&breaker, &probes, &allowed] {
      BreakerDecision decision = breaker.Allow("spain", "aeat");
      if (decision.probe) ++probes;
      if (decision.allowed) ++allowed;
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(probes.load(), 1);
  EXPECT_EQ(allowed.load(), 1);
}

TEST_F(CircuitBreakerTest, ProbeSuccessCloses) {
  CircuitBreaker first(NewClient(), config_);
  CircuitBreaker second(NewClient(), config_);
  FailTimes(first, 3);
  WaitOpenDuration();
  ASSERT_TRUE(first.Allow("spain", "aeat").probe);

  first.RecordSuccess("spain", "aeat");
  BreakerDecision decision = second.Allow("spain", "aeat");

  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.state, BreakerState::kClosed);
  EXPECT_EQ(second.Snapshot("spain", "aeat").consecutive_failures, 0);
}

TEST_F(CircuitBreakerTest, ProbeFailureReopens) {
  CircuitBreaker breaker(NewClient(), config_);
  FailTimes(breaker, 3);
  WaitOpenDuration();
  ASSERT_TRUE(breaker.Allow("spain", "aeat").probe);

  breaker.RecordFailure("spain", "aeat");
  BreakerDecision decision = breaker.Allow("spain", "aeat");

  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.state, BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, ProbeSlotFreesAfterProbeTimeout) {
  config_.probe_timeout = milliseconds(100);
  CircuitBreaker breaker(NewClient(), config_);
  FailTimes(breaker, 3);
  WaitOpenDuration();
  ASSERT_TRUE(breaker.Allow("spain", "aeat").probe);
  ASSERT_FALSE(breaker.Allow("spain", "aeat").allowed);

  // The probe's caller never reports, as if its instance had crashed.
  std::this_thread::sleep_for(milliseconds(150));
  BreakerDecision decision = breaker.Allow("spain", "aeat");

  EXPECT_TRUE(decision.allowed);
  EXPECT_TRUE(decision.probe);
}

TEST_F(CircuitBreakerTest, SnapshotShowsStateWithoutChangingIt) {
  CircuitBreaker breaker(NewClient(), config_);
  FailTimes(breaker, 3);
  WaitOpenDuration();

  BreakerSnapshot snapshot = breaker.Snapshot("spain", "aeat");

  EXPECT_EQ(snapshot.key.country, "spain");
  EXPECT_EQ(snapshot.key.authority, "aeat");
  EXPECT_EQ(snapshot.state, BreakerState::kOpen);
  EXPECT_EQ(snapshot.source, BreakerSource::kAutomatic);
  EXPECT_EQ(snapshot.consecutive_failures, 3);
  EXPECT_GT(snapshot.opened_at_unix_ms, 0);
  EXPECT_TRUE(snapshot.operator_override.empty());
  EXPECT_TRUE(snapshot.shared);
  // The snapshot did not take the probe slot.
  EXPECT_TRUE(breaker.Allow("spain", "aeat").probe);
}

TEST_F(CircuitBreakerTest, KnownBreakersListsConsultedPairs) {
  CircuitBreaker breaker(NewClient(), config_);

  breaker.Allow("spain", "aeat");
  breaker.RecordFailure("spain", "bizkaia");
  breaker.Allow("spain", "aeat");

  std::vector<BreakerKey> known = breaker.KnownBreakers();
  ASSERT_EQ(known.size(), 2u);
  EXPECT_EQ(known[0].authority, "aeat");
  EXPECT_EQ(known[1].authority, "bizkaia");
}

TEST_F(CircuitBreakerLocalTest, UnreachableRedisUsesLocalBreaker) {
  options_.port = ClosedLoopbackPort();
  options_.command_timeout = milliseconds(200);
  CircuitBreaker breaker(std::make_shared<RedisClient>(options_), config_);

  Clock::time_point start = Clock::now();
  BreakerDecision closed = breaker.Allow("spain", "aeat");
  FailTimes(breaker, 3);
  BreakerDecision open = breaker.Allow("spain", "aeat");
  auto elapsed = Clock::now() - start;

  EXPECT_TRUE(closed.allowed);
  EXPECT_EQ(closed.source, BreakerSource::kLocal);
  EXPECT_FALSE(open.allowed);
  EXPECT_EQ(open.state, BreakerState::kOpen);
  EXPECT_EQ(open.source, BreakerSource::kLocal);
  EXPECT_TRUE(breaker.degraded());
  EXPECT_FALSE(breaker.Snapshot("spain", "aeat").shared);
  // Generous bound: the point is that nothing hangs.
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(CircuitBreakerLocalTest, LocalBreakerFollowsSameRules) {
  CircuitBreaker breaker(nullptr, config_);
  FailTimes(breaker, 3);
  ASSERT_FALSE(breaker.Allow("spain", "aeat").allowed);
  WaitOpenDuration();

  BreakerDecision probe = breaker.Allow("spain", "aeat");
  BreakerDecision denied = breaker.Allow("spain", "aeat");
  breaker.RecordSuccess("spain", "aeat");
  BreakerDecision closed = breaker.Allow("spain", "aeat");

  EXPECT_TRUE(probe.allowed);
  EXPECT_TRUE(probe.probe);
  EXPECT_EQ(probe.state, BreakerState::kHalfOpen);
  EXPECT_FALSE(denied.allowed);
  EXPECT_TRUE(closed.allowed);
  EXPECT_EQ(closed.state, BreakerState::kClosed);
  EXPECT_EQ(closed.source, BreakerSource::kLocal);
}

}  // namespace
}  // namespace fiscal::redis
